"""Permission policies of the rubric in the admin: who may see, change and delete categories and items.

A rubric item belongs either to a village (``village_id`` set) or to a whole district (``village_id`` null,
``district_id`` set). Items are seen with ``VIEW_LEDGER`` in their village, or (district items) by anyone whose
villages lie in the district. Who may add, change or delete one is the rubric service's rule
(``points.ledger.rubric.rubric_item_changeable`` and ``rubric_items_changeable``), asked here, never restated.
An item or category that anything refers to (a transfer, a claim, an override, an item) is never offered for
deletion: the database would refuse it (PROTECT).
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from points.admin.policy import ScopedPermissionPolicy
from points.ledger.rubric import (
    covers_district,
    rubric_item_changeable,
    rubric_items_changeable,
    scope_district_ids,
)
from points.models import Claim, RubricCategory, RubricItem, Transfer
from points.scope import Capability, Scope, scope_for

RUBRIC_ITEM_ACTIONS = {
    "view": Capability.VIEW_LEDGER,
    "add": Capability.MANAGE_POINTS,
    "change": Capability.MANAGE_POINTS,
    "delete": Capability.MANAGE_POINTS,
}
RUBRIC_CATEGORY_ACTIONS = {
    "view": Capability.VIEW_LEDGER,
    # Categories are shared by every district: only a district admin (or a superuser) edits them.
    "add": Capability.MANAGE_STAFF,
    "change": Capability.MANAGE_STAFF,
    "delete": Capability.MANAGE_STAFF,
}


def with_in_use(items: QuerySet[RubricItem]) -> QuerySet[RubricItem]:
    """Annotate ``in_use``: a transfer, a claim or a village override refers to the item (one query per listing)."""
    return items.annotate(
        in_use=Exists(Transfer.objects.filter(rubric_item=OuterRef("pk")))
        | Exists(Claim.objects.filter(rubric_item=OuterRef("pk")))
        | Exists(RubricItem.objects.filter(overrides=OuterRef("pk")))
    )


def rubric_item_in_use(item: RubricItem) -> bool:
    annotated = getattr(item, "in_use", None)
    if annotated is not None:
        return bool(annotated)
    return (
        Transfer.objects.filter(rubric_item=item).exists()
        or Claim.objects.filter(rubric_item=item).exists()
        or RubricItem.objects.filter(overrides=item).exists()
    )


class RubricItemPermissionPolicy(ScopedPermissionPolicy):
    """``ScopedPermissionPolicy`` for a model whose ``village_id`` may be null (a district-wide item)."""

    def __init__(self):
        super().__init__(RubricItem, actions=RUBRIC_ITEM_ACTIONS)

    def user_has_permission_for_instance(self, user, action, instance):
        capability = self._capability(action)
        if capability is None:
            return False
        if action != "view":
            allowed = rubric_item_changeable(user, instance)
            return allowed and not (action == "delete" and rubric_item_in_use(instance))
        scope = scope_for(user)
        if instance.village_id is not None:
            return scope.can(capability, instance.village_id)
        return scope.can(capability) and covers_district(user, instance.district_id)

    def instances_user_has_any_permission_for(self, user, actions):
        scope = scope_for(user)
        found = self.model.objects.none()
        if "view" in actions and Capability.VIEW_LEDGER in scope.capabilities:
            found = self.model.objects.filter(self._village_condition(scope) | self._district_condition(user))
        if any(self._capability(a) is not None for a in actions if a != "view"):
            found = found | rubric_items_changeable(user)
        return found

    def visible_items(self, user) -> QuerySet[RubricItem]:
        """The listing: what the user may view, with ``in_use`` for the per-row buttons."""
        return with_in_use(self.instances_user_has_any_permission_for(user, ["view"])).select_related(
            "category", "village", "district", "overrides"
        )

    @staticmethod
    def _village_condition(scope: Scope) -> Q:
        if scope.village_ids is None:
            return Q(village__isnull=False)
        return Q(village_id__in=scope.village_ids)

    @staticmethod
    def _district_condition(user) -> Q:
        districts = scope_district_ids(user)
        if districts is None:
            return Q(village__isnull=True)
        return Q(village__isnull=True, district_id__in=districts)


class RubricCategoryPermissionPolicy(ScopedPermissionPolicy):
    """Categories have no village: the capability alone decides; a category with items is never deletable."""

    def __init__(self):
        super().__init__(RubricCategory, actions=RUBRIC_CATEGORY_ACTIONS)

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if action == "delete":
            return not RubricItem.objects.filter(category=instance).exists()
        return True

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return self.model.objects.none()
        return self.model.objects.all()
