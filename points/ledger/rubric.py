"""The rubric (积分细则): saving an item, and who may change which items.

A rubric item belongs either to a village (``village_id`` set) or to a whole district (``village_id`` null,
``district_id`` set). A village item is created and changed with ``Capability.MANAGE_POINTS`` in that village; a
district item only by those who may manage the district's staff (``Capability.MANAGE_STAFF``: the district admin)
and whose villages lie in the district. The admin's permission policy (``admin_ledger_policy``) offers the same
edits in its menus and listings; this service is what enforces them. Reading the rubric in force in a village is
``awards.rubric_for_village``.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
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
    """Whether ``actor`` may create or change ``item`` as it stands (see the module's docstring)."""
    scope = scope_for(actor)
    if item.village_id is not None:
        return scope.can(Capability.MANAGE_POINTS, item.village_id)
    return scope.can(Capability.MANAGE_STAFF) and covers_district(actor, item.district_id)


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
