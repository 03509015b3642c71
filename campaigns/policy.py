"""Who may run a campaign and which campaigns a user sees; who is eligible to be nominated."""

from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from points import clock
from points.exceptions import OutOfScope
from points.ledger.selectors import household_stars
from points.models import Household, PeriodSummary, StaffRole
from points.scope import SUPERUSER, Capability, scope_for

from .models import (
    Campaign,
)


def can_manage(actor, campaign: Campaign) -> bool:
    """Village campaigns: the village's committee (and those above). Township: township staff of it (and the
    district). District: the district admin."""
    scope = scope_for(actor)
    if Capability.MANAGE_POINTS not in scope.capabilities:
        return False
    if scope.role == SUPERUSER:
        return True
    if campaign.level == Campaign.Level.VILLAGE:
        return scope.covers_village(campaign.village_id)
    if campaign.level == Campaign.Level.TOWNSHIP:
        return scope.role in (StaffRole.Role.TOWNSHIP_STAFF, StaffRole.Role.DISTRICT_ADMIN) and all(
            scope.covers_village(v) for v in campaign.villages().values_list("id", flat=True)
        )
    return scope.role == StaffRole.Role.DISTRICT_ADMIN and all(
        scope.covers_village(v) for v in campaign.villages().values_list("id", flat=True)
    )


def visible_campaigns(actor):
    """Campaigns covering any of the user's villages (all of them for a superuser)."""
    scope = scope_for(actor)
    if scope.village_ids is None:
        return Campaign.objects.all()
    villages = scope.villages()
    return Campaign.objects.filter(
        Q(level=Campaign.Level.VILLAGE, village__in=villages)
        | Q(level=Campaign.Level.TOWNSHIP, township_id__in=villages.values("township_id"))
        | Q(level=Campaign.Level.DISTRICT, district_id__in=villages.values("township__district_id"))
    ).distinct()


def require_manage(actor, campaign: Campaign) -> None:
    if not can_manage(actor, campaign):
        raise OutOfScope(_("您无权管理这项评选"))


def eligibility_problem(campaign: Campaign, household: Household) -> str | None:
    """The first rule the household fails, in words, or None. Checked against the ledger."""
    if household.is_archived:
        return _("该户已归档")
    if not campaign.covers_village(household.village):
        return _("该户不在本次评选的范围内")
    year = clock.localdate().year
    if campaign.rule_no_deduction:
        deducted = (
            PeriodSummary.objects.filter(household=household, period__year=year).aggregate(total=Sum("deducted"))[
                "total"
            ]
            or 0
        )
        if deducted:
            return _("今年有扣分记录（%(points)s 分），不符合「今年无扣分」的条件") % {"points": deducted}
    if campaign.rule_min_stars:
        stars = household_stars(household, year)
        if stars < campaign.rule_min_stars:
            return _("今年为 %(stars)s 星，不符合「至少 %(min)s 星」的条件") % {
                "stars": stars,
                "min": campaign.rule_min_stars,
            }
    return None
