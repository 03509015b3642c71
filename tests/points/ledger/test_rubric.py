"""The rubric service (``points/rubric.py``): who may create and change which items, and what an override may
replace. The admin's rubric screens go through it (tests/points/test_admin_ledger.py); these call it directly."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from points.exceptions import OutOfScope
from points.ledger.admin.views import RUBRIC_POLICY
from points.ledger.rubric import rubric_item_changeable, rubric_item_save
from points.models import District, RubricCategory, RubricItem, Township
from tests.factories import make_village, superuser


@pytest.fixture
def items(cast):
    """A district item, one item of village A, and the same of another district (with its own village)."""
    category = RubricCategory.objects.create(name="孝老爱亲")
    other = District.objects.create(name="外区", code="WQ")
    other_village = make_village(Township.objects.create(district=other, name="外镇", code="WZ"), "外村", "WC01")
    return {
        "category": category,
        "district": RubricItem.objects.create(category=category, district=cast.district, name="照顾老人", points=10),
        "own_a": RubricItem.objects.create(category=category, village=cast.village_a, name="门前三包", points=2),
        "other_district": RubricItem.objects.create(category=category, district=other, name="外区细则", points=3),
        "other_village": RubricItem.objects.create(category=category, village=other_village, name="外村细则", points=4),
    }


def test_a_committee_creates_and_changes_its_own_villages_items(cast, items):
    item = rubric_item_save(
        item=RubricItem(category=items["category"], village=cast.village_a, name="清扫河道", points=5),
        actor=cast.committee_a,
    )
    assert item.pk and item.village == cast.village_a
    items["own_a"].points = 3
    rubric_item_save(item=items["own_a"], actor=cast.committee_a)
    items["own_a"].refresh_from_db()
    assert items["own_a"].points == 3


def test_it_refuses_other_village(cast, items):
    items["own_a"].points = 9
    with pytest.raises(OutOfScope):
        rubric_item_save(item=items["own_a"], actor=cast.committee_b)
    new = RubricItem(category=items["category"], village=cast.village_a, name="柳溪想加", points=1)
    with pytest.raises(OutOfScope):
        rubric_item_save(item=new, actor=cast.committee_b)
    items["own_a"].refresh_from_db()
    assert items["own_a"].points == 2


def test_an_item_is_not_moved_out_of_reach_nor_into_it(cast, items):
    moved = RubricItem.objects.get(pk=items["own_a"].pk)
    moved.village = cast.village_b
    with pytest.raises(OutOfScope):  # committee A does not reach village B
        rubric_item_save(item=moved, actor=cast.committee_a)
    with pytest.raises(OutOfScope):  # committee B does not reach the stored item in village A
        rubric_item_save(item=moved, actor=cast.committee_b)
    assert RubricItem.objects.get(pk=items["own_a"].pk).village == cast.village_a


@pytest.mark.parametrize("role", ["township_staff", "committee_a", "grid_worker_a", "resident_a", "stranger"])
def test_only_the_district_admin_changes_district_items(cast, items, role):
    items["district"].points = 12
    with pytest.raises(OutOfScope):
        rubric_item_save(item=items["district"], actor=cast[role])
    rubric_item_save(item=items["district"], actor=cast.district_admin)
    items["district"].refresh_from_db()
    assert items["district"].points == 12


def test_a_district_admin_does_not_reach_another_district(cast, items):
    for key in ("other_district", "other_village"):
        items[key].points = 7
        with pytest.raises(OutOfScope):
            rubric_item_save(item=items[key], actor=cast.district_admin)
    items["other_district"].points = 7
    assert rubric_item_save(item=items["other_district"], actor=superuser()).points == 7


def test_an_override_replaces_a_district_item_of_the_villages_own_district(cast, items):
    override = rubric_item_save(
        item=RubricItem(
            category=items["category"], village=cast.village_a, overrides=items["district"], name="照顾老人", points=15
        ),
        actor=cast.committee_a,
    )
    assert override.overrides == items["district"]
    for base in (items["own_a"], items["other_district"]):
        bad = RubricItem(category=items["category"], village=cast.village_a, overrides=base, name="替代", points=1)
        with pytest.raises(ValidationError) as refused:
            rubric_item_save(item=bad, actor=cast.committee_a)
        assert refused.value.message_dict == {"overrides": ["只能替代本区的全区细则"]}


def test_the_service_and_the_admin_policy_agree_on_every_item(cast, items):
    """The admin offers exactly the edits the service accepts."""
    users = {role: user for role, user in cast.items() if isinstance(user, get_user_model())}
    assert len(users) == 8
    for role, user in users.items():
        for key in ("district", "own_a", "other_district", "other_village"):
            allowed = RUBRIC_POLICY.user_has_permission_for_instance(user, "change", items[key])
            assert rubric_item_changeable(user, items[key]) == allowed, (role, key)


@pytest.mark.parametrize("action", ["change", "delete"])
def test_the_admin_listings_hold_exactly_the_items_the_service_lets_change(cast, items, action):
    users = {role: user for role, user in cast.items() if isinstance(user, get_user_model())}
    users["superuser"] = superuser()
    keys = ("district", "own_a", "other_district", "other_village")
    for role, user in users.items():
        listed = set(RUBRIC_POLICY.instances_user_has_any_permission_for(user, [action]))
        changeable = {items[key] for key in keys if rubric_item_changeable(user, items[key])}
        assert listed & {items[key] for key in keys} == changeable, role


def test_district_items_follow_the_staff_capability_alone(cast, items, monkeypatch):
    """One rule, not two: before, the service let a user who manages staff but not points change the district's
    items, while the admin listing also demanded MANAGE_POINTS and showed them none."""
    import points.ledger.admin.policy as policy_module
    import points.ledger.rubric as rubric_module
    from points.scope import Capability, Scope

    staff_only = Scope(
        role="district_admin",
        village_ids=frozenset({cast.village_a.id, cast.village_b.id, cast.village_c.id}),
        capabilities=frozenset({Capability.MANAGE_STAFF, Capability.VIEW_LEDGER}),
    )
    monkeypatch.setattr(rubric_module, "scope_for", lambda user: staff_only)
    monkeypatch.setattr(policy_module, "scope_for", lambda user: staff_only)
    user = get_user_model().objects.create_user(username="staff_only")
    assert rubric_item_changeable(user, items["district"])
    assert not rubric_item_changeable(user, items["own_a"])  # village items need MANAGE_POINTS
    assert RUBRIC_POLICY.user_has_permission_for_instance(user, "change", items["district"])
    assert set(RUBRIC_POLICY.instances_user_has_any_permission_for(user, ["change"])) == {items["district"]}
