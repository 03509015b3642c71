"""Who may run which campaign in the admin: the queryset form of ``campaigns.policy.can_manage``.

``can_manage`` answers for one campaign; the admin also needs the list of them (the listing, and every lookup by
id, so that a campaign the user may not run answers 404 and never leaks). ``manageable_campaigns`` builds that
list in one query with the same rule, and every view checks the row again with ``can_manage`` itself, so the
service's rule always has the last word.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from wagtail.permission_policies.base import BasePermissionPolicy

from campaigns.models import Campaign
from campaigns.policy import can_manage
from points.models import District, StaffRole, Township, Village
from points.scope import SUPERUSER, Capability, scope_for

Level = Campaign.Level
ABOVE_VILLAGE = (StaffRole.Role.TOWNSHIP_STAFF, StaffRole.Role.DISTRICT_ADMIN)


def manageable_townships(user) -> QuerySet[Township]:
    """Townships whose every village the user covers, for township staff and district admins."""
    scope = scope_for(user)
    if Capability.MANAGE_POINTS not in scope.capabilities:
        return Township.objects.none()
    if scope.role == SUPERUSER:
        return Township.objects.all()
    if scope.role not in ABOVE_VILLAGE:
        return Township.objects.none()
    outside = Village.objects.exclude(id__in=scope.village_ids)
    return Township.objects.filter(villages__id__in=scope.village_ids).exclude(villages__in=outside).distinct()


def manageable_districts(user) -> QuerySet[District]:
    """Districts whose every village the user covers, for district admins."""
    scope = scope_for(user)
    if Capability.MANAGE_POINTS not in scope.capabilities:
        return District.objects.none()
    if scope.role == SUPERUSER:
        return District.objects.all()
    if scope.role != StaffRole.Role.DISTRICT_ADMIN:
        return District.objects.none()
    outside = Village.objects.exclude(id__in=scope.village_ids)
    return (
        District.objects.filter(townships__villages__id__in=scope.village_ids)
        .exclude(townships__villages__in=outside)
        .distinct()
    )


def manageable_campaigns(user) -> QuerySet[Campaign]:
    """Campaigns ``user`` may run: village ones of their villages, township ones of a township they hold whole
    (township staff, the district admin), district ones of their district (the district admin)."""
    scope = scope_for(user)
    if Capability.MANAGE_POINTS not in scope.capabilities:
        return Campaign.objects.none()
    if scope.role == SUPERUSER:
        return Campaign.objects.all()
    condition = Q(level=Level.VILLAGE, village_id__in=scope.village_ids)
    if scope.role in ABOVE_VILLAGE:
        condition |= Q(level=Level.TOWNSHIP, township__in=manageable_townships(user))
    if scope.role == StaffRole.Role.DISTRICT_ADMIN:
        condition |= Q(level=Level.DISTRICT, district__in=manageable_districts(user))
    return Campaign.objects.filter(condition)


class CampaignPermissionPolicy(BasePermissionPolicy):
    """The admin's view of campaigns: anyone with ``MANAGE_POINTS`` may list and create (in their own scope);
    a row is seen and changed only by those who may run it. Campaigns are never deleted (their history and
    ballots are kept), so no action grants "delete"."""

    ACTIONS = ("view", "add", "change")

    def __init__(self):
        super().__init__(Campaign)

    def user_has_permission(self, user, action):
        return action in self.ACTIONS and Capability.MANAGE_POINTS in scope_for(user).capabilities

    def users_with_any_permission(self, actions):
        # Only used by Wagtail for notifications, which campaigns do not send.
        return get_user_model().objects.none()

    def user_has_permission_for_instance(self, user, action, instance):
        if action not in ("view", "change"):
            return False
        return can_manage(user, instance)

    def instances_user_has_any_permission_for(self, user, actions):
        if not any(a in ("view", "change") for a in actions):
            return Campaign.objects.none()
        return manageable_campaigns(user)

    def users_with_any_permission_for_instance(self, actions, instance):
        return get_user_model().objects.none()
