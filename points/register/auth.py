"""Residents sign in with their login number (``QS01-023``) or a member's phone, and the issued password."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from points.models import Household, Member, ResidentAccount
from points.register.identifiers import parse_login_number, parse_phone, sign_in_key


def resident_account_for(identifier: str) -> ResidentAccount | None:
    """The account an identifier names (a login number or a member's mobile, read by ``identifiers``), or None
    (also when a phone is shared by two households, or the number has no village code)."""
    accounts = ResidentAccount.objects.select_related("user")
    phone = parse_phone(identifier)
    if phone is not None:
        household_ids = set(
            Member.objects.filter(phone=phone, household__account__isnull=False).values_list("household_id", flat=True)
        )
        if len(household_ids) != 1:
            return None
        return accounts.filter(household_id=household_ids.pop()).first()
    parsed = parse_login_number(identifier)
    if parsed is None or parsed[0] is None:
        return None
    code, number = parsed
    household = Household.objects.filter(village__code__iexact=code, number__iexact=number).only("id").first()
    if household is None:
        return None
    return accounts.filter(household_id=household.id).first()


class ResidentBackend(ModelBackend):
    """Authenticates residents only; staff sign in with their username through ModelBackend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        account = resident_account_for(username)
        if account is None:
            # Spend the same time as a real check so that timing does not tell which numbers exist.
            get_user_model()().set_password(password)
            return None
        user = account.user
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def axes_username(request, credentials=None) -> str:
    """``AXES_USERNAME_CALLABLE``: failures are counted per identifier however it was typed (see ``sign_in_key``);
    otherwise each spelling of one login number would get its own five attempts."""
    if credentials:
        username = credentials.get("username")
    else:
        username = getattr(request, "data", request.POST).get("username")
    return sign_in_key(username)
