"""Residents sign in with their login number (``QS01-023``) or a member's phone, and the issued password."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from points.models import Household, Member, ResidentAccount
from points.register.validators import PHONE_RE


def resident_account_for(identifier: str) -> ResidentAccount | None:
    """The account an identifier names, or None (also when a phone is shared by two households)."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    accounts = ResidentAccount.objects.select_related("user")
    if PHONE_RE.match(identifier):
        household_ids = set(
            Member.objects.filter(phone=identifier, household__account__isnull=False).values_list(
                "household_id", flat=True
            )
        )
        if len(household_ids) != 1:
            return None
        return accounts.filter(household_id=household_ids.pop()).first()
    code, sep, number = identifier.rpartition("-")
    if not sep or not code or not number:
        return None
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
