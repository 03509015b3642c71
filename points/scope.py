"""Who may see and change what: the one place that decides it.

Every view, admin view, API endpoint and command asks this module. A scope is computed from the user's
``StaffRole`` (or ``ResidentAccount``) and answers in two forms: querysets already filtered to what the user may
see, and yes/no questions about one village or household. Anything not granted here is refused.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db import connections, router
from django.db.models import QuerySet

from points.models import Household, StaffRole, Township, Village
from points.register import sql


class Capability(StrEnum):
    VIEW_REGISTER = "view_register"  # list and read households and members
    CHANGE_REGISTER = "change_register"  # create, edit, move, archive households
    IMPORT_REGISTER = "import_register"  # all-or-nothing file import and export
    ISSUE_RESIDENT_PASSWORD = "issue_resident_password"
    MANAGE_STAFF = "manage_staff"  # assign staff roles
    MANAGE_POINTS = "manage_points"  # award, deduct, reverse, review claims, answer objections, publish, close
    SUBMIT_CLAIMS = "submit_claims"  # submit a claim for a household of the village (grid workers for elders)
    VIEW_LEDGER = "view_ledger"  # read statements and balances of the village's households
    OPERATE_STORE = "operate_store"  # counter redemptions, stock, stock-takes, reservations, the catalogue


ROLE_CAPABILITIES = {
    StaffRole.Role.DISTRICT_ADMIN: set(Capability),
    StaffRole.Role.TOWNSHIP_STAFF: {
        Capability.VIEW_REGISTER,
        Capability.CHANGE_REGISTER,
        Capability.IMPORT_REGISTER,
        Capability.ISSUE_RESIDENT_PASSWORD,
        Capability.MANAGE_POINTS,
        Capability.SUBMIT_CLAIMS,
        Capability.VIEW_LEDGER,
        Capability.OPERATE_STORE,
    },
    StaffRole.Role.COMMITTEE: {
        Capability.VIEW_REGISTER,
        Capability.CHANGE_REGISTER,
        Capability.IMPORT_REGISTER,
        Capability.ISSUE_RESIDENT_PASSWORD,
        Capability.MANAGE_POINTS,
        Capability.SUBMIT_CLAIMS,
        Capability.VIEW_LEDGER,
        Capability.OPERATE_STORE,
    },
    StaffRole.Role.GRID_WORKER: {
        Capability.VIEW_REGISTER,
        Capability.CHANGE_REGISTER,
        Capability.SUBMIT_CLAIMS,
        Capability.VIEW_LEDGER,
    },
    StaffRole.Role.STOREKEEPER: {Capability.VIEW_REGISTER, Capability.VIEW_LEDGER, Capability.OPERATE_STORE},
}

SUPERUSER = "superuser"
RESIDENT = "resident"
NOBODY = "nobody"


@dataclass(frozen=True)
class Scope:
    """What one user may reach. ``village_ids`` is None for "every village"."""

    role: str
    village_ids: frozenset[int] | None
    household_id: int | None = None
    capabilities: frozenset[Capability] = frozenset()

    @property
    def is_staff_role(self) -> bool:
        return self.role not in (RESIDENT, NOBODY)

    def can(self, capability: Capability, village_id: int | None = None) -> bool:
        if capability not in self.capabilities:
            return False
        return village_id is None or self.covers_village(village_id)

    def covers_village(self, village_id: int) -> bool:
        return self.village_ids is None or village_id in self.village_ids

    def villages(self) -> QuerySet[Village]:
        qs = Village.objects.select_related("township")
        if self.role == NOBODY:
            return qs.none()
        if self.village_ids is None:
            return qs
        return qs.filter(id__in=self.village_ids)

    def townships(self) -> QuerySet[Township]:
        return Township.objects.filter(villages__in=self.villages()).distinct()

    def households(self) -> QuerySet[Household]:
        """Households this user may see: a resident only their own, staff those of their villages."""
        qs = Household.objects.select_related("village", "group")
        if self.role == NOBODY:
            return qs.none()
        if self.role == RESIDENT:
            return qs.filter(id=self.household_id)
        if self.village_ids is None:
            return qs
        return qs.filter(village_id__in=self.village_ids)

    def can_see_household(self, household: Household) -> bool:
        if self.role == RESIDENT:
            return household.id == self.household_id
        return Capability.VIEW_REGISTER in self.capabilities and self.covers_village(household.village_id)


NO_SCOPE = Scope(role=NOBODY, village_ids=frozenset())


def scope_for(user) -> Scope:
    """The scope of ``user``; cached on the user object for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, "_hehe_scope", None)
    if cached is not None:
        return cached
    scope = _compute(user)
    user._hehe_scope = scope
    return scope


def _compute(user) -> Scope:
    if user.is_superuser:
        return Scope(role=SUPERUSER, village_ids=None, capabilities=frozenset(Capability))
    # One named statement for both kinds of user (``points/register/sql.py``): this runs on every request.
    roles = sql.user_roles(connections[router.db_for_read(StaffRole)], user_id=user.pk)
    role, district_id, township_id, village_id, household_id, resident_village_id = roles
    if role is not None:
        capabilities = frozenset(ROLE_CAPABILITIES[StaffRole.Role(role)])
        if role == StaffRole.Role.DISTRICT_ADMIN:
            ids = Village.objects.filter(township__district_id=district_id).values_list("id", flat=True)
        elif role == StaffRole.Role.TOWNSHIP_STAFF:
            ids = Village.objects.filter(township_id=township_id).values_list("id", flat=True)
        else:
            ids = [village_id]
        return Scope(role=role, village_ids=frozenset(ids), capabilities=capabilities)
    if household_id is not None:
        return Scope(role=RESIDENT, village_ids=frozenset([resident_village_id]), household_id=household_id)
    return NO_SCOPE
