"""The rubric (积分细则): saving an item, and who may change which items.

A rubric item belongs either to a village (``village_id`` set) or to a whole district (``village_id`` null,
``district_id`` set). A village item is created and changed with ``Capability.MANAGE_POINTS`` in that village; a
district item only by those who may manage the district's staff (``Capability.MANAGE_STAFF``: the district admin)
and whose villages lie in the district. That rule is written once, here: ``rubric_item_changeable`` for one
item and ``rubric_items_changeable`` for a listing. The service enforces it; the admin's permission policy
(``points.ledger.admin.policy``) asks the same two functions for its buttons and listings. Reading the rubric in
force in a village is ``awards.rubric_for_village``.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from points.exceptions import OutOfScope
from points.models import RubricItem, Village
from points.scope import Capability, scope_for


def scope_district_ids(user) -> frozenset[int] | None:
    """Districts the user's villages lie in (None: every district). Cached on the user for the request."""
    cached = getattr(user, "_hehe_rubric_districts", False)
    if cached is not False:
        return cached
    scope = scope_for(user)
    if scope.village_ids is None:
        ids = None
    else:
        ids = frozenset(
            Village.objects.filter(id__in=scope.village_ids).values_list("township__district_id", flat=True)
        )
    if user is not None and getattr(user, "is_authenticated", False):
        user._hehe_rubric_districts = ids
    return ids


def covers_district(user, district_id: int | None) -> bool:
    districts = scope_district_ids(user)
    return districts is None or district_id in districts


def rubric_item_changeable(actor, item: RubricItem) -> bool:
    """Whether ``actor`` may create, change or delete ``item`` as it stands (see the module's docstring)."""
    scope = scope_for(actor)
    if item.village_id is not None:
        return scope.can(Capability.MANAGE_POINTS, item.village_id)
    return scope.can(Capability.MANAGE_STAFF) and covers_district(actor, item.district_id)


def rubric_items_changeable(actor) -> QuerySet[RubricItem]:
    """Every item ``rubric_item_changeable`` allows ``actor``, as one query (the admin's listings)."""
    scope = scope_for(actor)
    condition = Q(pk__in=[])
    if Capability.MANAGE_POINTS in scope.capabilities:
        if scope.village_ids is None:
            condition |= Q(village__isnull=False)
        else:
            condition |= Q(village_id__in=scope.village_ids)
    if Capability.MANAGE_STAFF in scope.capabilities:
        districts = scope_district_ids(actor)
        if districts is None:
            condition |= Q(village__isnull=True)
        else:
            condition |= Q(village__isnull=True, district_id__in=districts)
    return RubricItem.objects.filter(condition)


@transaction.atomic
def rubric_item_save(*, item: RubricItem, actor) -> RubricItem:
    """Create or change a rubric item: a village item with MANAGE_POINTS there, a district item with MANAGE_STAFF.

    A change is checked twice, against the stored item (read under a row lock) and against the item as it would
    be saved: nobody moves an item into or out of their reach. Past transfers keep the name and points they were
    made with, so a change never rewrites them.
    """
    if item.pk:
        stored = RubricItem.objects.select_for_update().filter(pk=item.pk).first()
        if stored is None or not rubric_item_changeable(actor, stored):
            raise OutOfScope()
    if not rubric_item_changeable(actor, item):
        raise OutOfScope()
    if item.overrides_id is not None:
        base = item.overrides
        same_district = item.village_id is not None and base.district_id == item.village.township.district_id
        if base.village_id is not None or not same_district:
            raise ValidationError({"overrides": [_("只能替代本区的全区细则")]})
    item.full_clean()
    item.save()
    return item
