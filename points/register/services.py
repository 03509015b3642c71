"""Services that change the register: households, members, archive, move, resident passwords.

Each is one transaction, checks the actor's scope through ``points.scope`` and records a ``HouseholdEvent``.
"""

import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from points import clock
from points.exceptions import OutOfScope, RegisterError
from points.models import Household, HouseholdEvent, Member, ResidentAccount
from points.register import validators
from points.register.pinyin import initials
from points.scope import Capability, scope_for

MSG_NEEDS_ONE_HEAD = gettext_noop("每户必须有且只有一位户主")
MSG_GROUP_OTHER_VILLAGE = gettext_noop("所选的组不属于该村")
MSG_NUMBER_TAKEN = gettext_noop("该村已有此户号")
MSG_ARCHIVED = gettext_noop("该户已归档，不能修改")

# Unambiguous characters for passwords an elderly resident may have to type from a slip of paper.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
PASSWORD_LENGTH = 8


def _require(actor, capability: Capability, village_id: int) -> None:
    if not scope_for(actor).can(capability, village_id):
        raise OutOfScope()


def household_validate(*, household: Household, members: list[Member]) -> dict[str, list[str]]:
    """Every problem with a household and its members, keyed by field ('members' for the set)."""
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(str(message))

    if message := validators.household_number_error(household.number):
        add("number", message)
    if household.group_id and household.village_id and household.group.village_id != household.village_id:
        add("group", _(MSG_GROUP_OTHER_VILLAGE))
    heads = [m for m in members if m.relation == Member.Relation.HEAD]
    if len(heads) != 1:
        add("members", _(MSG_NEEDS_ONE_HEAD))
    for member in members:
        label = member.name or _("（未填姓名）")
        for check, value in (
            (validators.phone_error, member.phone),
            (validators.id_number_error, member.id_number),
            (validators.birth_year_error, member.birth_year),
        ):
            if message := check(value):
                add("members", f"{label}：{message}")
    if household.village_id and household.number:
        taken = Household.objects.filter(village_id=household.village_id, number=household.number)
        if household.pk:
            taken = taken.exclude(pk=household.pk)
        if taken.exists():
            add("number", _(MSG_NUMBER_TAKEN))
    return errors


def _derive(household: Household, members: list[Member]) -> None:
    for member in members:
        member.village_id = household.village_id
        member.name = member.name.strip()
        member.name_initials = initials(member.name)
        member.id_number = (member.id_number or "").upper()
    head = next((m for m in members if m.relation == Member.Relation.HEAD), None)
    household.head_name = head.name if head else ""
    household.head_initials = initials(household.head_name)


@transaction.atomic
def household_save(*, household: Household, actor) -> Household:
    """Create or edit a household with its in-memory members (a ClusterableModel), or move it to a village.

    Raises ``ValidationError`` (field → messages) for bad values and ``OutOfScope`` outside the actor's villages.
    """
    members = [m for m in household.members.all()]
    creating = household.pk is None
    previous = None
    if not creating:
        previous = Household.objects.select_for_update(of=("self",), no_key=True).get(pk=household.pk)
        _require(actor, Capability.CHANGE_REGISTER, previous.village_id)
        if previous.is_archived:
            raise RegisterError(_(MSG_ARCHIVED))
    _require(actor, Capability.CHANGE_REGISTER, household.village_id)
    errors = household_validate(household=household, members=members)
    if errors:
        raise ValidationError(errors)
    _derive(household, members)
    try:
        with transaction.atomic():
            household.save()
    except IntegrityError as exc:
        # A concurrent save took the number between our check and our insert.
        raise ValidationError({"number": [_(MSG_NUMBER_TAKEN)]}) from exc
    if creating:
        _event(household, HouseholdEvent.Kind.CREATED, actor)
    elif previous.village_id != household.village_id:
        detail = _("从%(old)s迁入%(new)s") % {"old": previous.village.name, "new": household.village.name}
        _event(household, HouseholdEvent.Kind.MOVED, actor, detail)
        # Its resident sign-in follows it: the login number carries the village code.
        ResidentAccount.objects.filter(household=household).update(village_id=household.village_id)
    else:
        _event(household, HouseholdEvent.Kind.UPDATED, actor)
    return household


@transaction.atomic
def household_archive(*, household: Household, actor, reason: str) -> Household:
    """Archive (迁出、销户): kept with its history, hidden from daily lists, its sign-in disabled."""
    household = Household.objects.select_for_update(of=("self",), no_key=True).get(pk=household.pk)
    _require(actor, Capability.CHANGE_REGISTER, household.village_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写归档原因")]})
    if household.is_archived:
        raise RegisterError(_("该户已经归档"))
    household.status = Household.Status.ARCHIVED
    household.archived_at = clock.now()
    household.archived_reason = reason[:200]
    household.save(update_fields=["status", "archived_at", "archived_reason", "updated_at"])
    get_user_model().objects.filter(resident__household=household).update(is_active=False)
    _event(household, HouseholdEvent.Kind.ARCHIVED, actor, reason[:300])
    return household


@transaction.atomic
def household_restore(*, household: Household, actor) -> Household:
    household = Household.objects.select_for_update(of=("self",), no_key=True).get(pk=household.pk)
    _require(actor, Capability.CHANGE_REGISTER, household.village_id)
    if not household.is_archived:
        raise RegisterError(_("该户未归档"))
    household.status = Household.Status.ACTIVE
    household.archived_at = None
    household.archived_reason = ""
    household.save(update_fields=["status", "archived_at", "archived_reason", "updated_at"])
    get_user_model().objects.filter(resident__household=household).update(is_active=True)
    _event(household, HouseholdEvent.Kind.RESTORED, actor)
    return household


@transaction.atomic
def resident_password_issue(*, household: Household, actor) -> str:
    """Issue or reset a household's sign-in password; returns it once, in clear, and stores only its hash."""
    household = (
        Household.objects.select_for_update(of=("self",), no_key=True).select_related("village").get(pk=household.pk)
    )
    _require(actor, Capability.ISSUE_RESIDENT_PASSWORD, household.village_id)
    if household.is_archived:
        raise RegisterError(_(MSG_ARCHIVED))
    password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))
    account = ResidentAccount.objects.select_related("user").filter(household=household).first()
    if account is None:
        user = get_user_model().objects.create_user(username=f"resident-{household.pk}", password=password)
        ResidentAccount.objects.create(
            user=user, household=household, village=household.village, issued_at=clock.now(), issued_by=actor
        )
    else:
        account.user.set_password(password)
        account.user.is_active = True
        account.user.save(update_fields=["password", "is_active"])
        account.issued_at = clock.now()
        account.issued_by = actor
        account.save(update_fields=["issued_at", "issued_by"])
    _event(household, HouseholdEvent.Kind.PASSWORD_ISSUED, actor)
    return password


def _event(household: Household, kind: str, actor, detail: str = "") -> None:
    HouseholdEvent.objects.create(
        household=household,
        village_id=household.village_id,
        kind=kind,
        actor=actor if actor is not None and actor.is_authenticated else None,
        detail=str(detail)[:300],
    )


STAFF_GROUP = "工作人员"


@transaction.atomic
def staff_role_save(*, role, actor):
    """Give a user a staff role (and with it access to the admin). Only a district admin may."""

    scope = scope_for(actor)
    if not scope.can(Capability.MANAGE_STAFF):
        raise OutOfScope()
    unit_village_ids = _role_village_ids(role)
    if scope.village_ids is not None and not unit_village_ids <= scope.village_ids:
        raise OutOfScope()
    try:
        with transaction.atomic():
            role.full_clean()
            role.save()
    except IntegrityError as exc:
        raise ValidationError(_("角色与所属单位不匹配：区管理员选区，乡镇干部选乡镇，村级角色选村")) from exc
    role.user.groups.add(staff_group())
    return role


def staff_group():
    """The group every staff user is in: it carries Wagtail's permission to enter the admin, nothing else.

    Made here (not only by the data migration) so it is whole again after a test flush empties the tables.
    """
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.get_or_create(name=STAFF_GROUP)
    access = Permission.objects.filter(content_type__app_label="wagtailadmin", codename="access_admin").first()
    if access is not None:
        group.permissions.add(access)
    return group


def _role_village_ids(role) -> set[int]:
    from points.models import Village

    if role.district_id:
        qs = Village.objects.filter(township__district_id=role.district_id)
    elif role.township_id:
        qs = Village.objects.filter(township_id=role.township_id)
    elif role.village_id:
        return {role.village_id}
    else:
        return set()
    return set(qs.values_list("id", flat=True))
