"""Wagtail permission policies that ask ``points.scope`` instead of Django's model permissions.

Wagtail's generic views consult a policy for the menu, the listing and every object view; routing them through
the scope module means the admin can never show or change a row the scope does not cover (an edit URL of
another village's household answers 403, and its listing never contains it).
"""

from django.contrib.auth import get_user_model
from wagtail.permission_policies.base import BasePermissionPolicy

from points.scope import Capability, scope_for


class ScopedPermissionPolicy(BasePermissionPolicy):
    def __init__(self, model, *, village_field: str = "village_id", actions: dict[str, Capability]):
        super().__init__(model)
        self.village_field = village_field
        self.actions = actions

    def _capability(self, action):
        return self.actions.get(action)

    def user_has_permission(self, user, action):
        capability = self._capability(action)
        return capability is not None and capability in scope_for(user).capabilities

    def users_with_any_permission(self, actions):
        # Only used by Wagtail for notifications, which the register does not send.
        return get_user_model().objects.none()

    def user_has_permission_for_instance(self, user, action, instance):
        capability = self._capability(action)
        if capability is None:
            return False
        return scope_for(user).can(capability, getattr(instance, self.village_field))

    def instances_user_has_any_permission_for(self, user, actions):
        scope = scope_for(user)
        if not any(self._capability(a) in scope.capabilities for a in actions):
            return self.model.objects.none()
        if scope.village_ids is None:
            return self.model.objects.all()
        return self.model.objects.filter(**{f"{self.village_field}__in": scope.village_ids})

    def users_with_any_permission_for_instance(self, actions, instance):
        return get_user_model().objects.none()
