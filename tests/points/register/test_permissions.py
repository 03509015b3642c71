"""The permission matrix: each member of the cast sees and changes exactly its scope, in the admin and views."""

import pytest
from django.urls import reverse
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from points.exceptions import OutOfScope
from points.models import Household, HouseholdEvent, StaffRole
from points.register.selectors import household_detail
from points.register.services import household_archive, household_save, resident_password_issue
from points.scope import Capability, scope_for

LIST = "/admin/snippets/points/household/"
ROLES = [
    "district_admin",
    "township_staff",
    "committee_a",
    "committee_b",
    "grid_worker_a",
    "storekeeper_a",
    "resident_a",
    "stranger",
    None,
]
# Which villages' households each role sees in the admin listing.
SEES = {
    "district_admin": {"QS01", "LX02", "BS01"},
    "township_staff": {"QS01", "LX02"},
    "committee_a": {"QS01"},
    "committee_b": {"LX02"},
    "grid_worker_a": {"QS01"},
    "storekeeper_a": {"QS01"},
}
CAN_EDIT_A = {"district_admin", "township_staff", "committee_a", "grid_worker_a"}
VILLAGE_MANAGER = {
    "view_register",
    "change_register",
    "import_register",
    "issue_resident_password",
    "manage_points",
    "submit_claims",
    "view_ledger",
    "operate_store",
}
HEADS = {"QS01": "张三丰", "LX02": "陈玉兰", "BS01": "刘德明"}


@pytest.mark.parametrize("role", ROLES)
def test_household_listing_shows_exactly_the_scope(client_for, role):
    response = client_for(role).get(LIST)
    if role not in SEES:
        assert response.status_code == 302
        assert "张三丰" not in response.content.decode()
        return
    assert response.status_code == 200
    page = response.content.decode()
    for code, head in HEADS.items():
        assert (head in page) == (code in SEES[role]), (role, code)


@pytest.mark.parametrize("role", ROLES)
def test_edit_view_of_village_a_household(client_for, cast, role):
    response = client_for(role).get(f"{LIST}edit/{cast.household_a.pk}/")
    if role in CAN_EDIT_A:
        assert response.status_code == 200
        assert "13800138001" in response.content.decode()  # staff who may edit see the private phone
    elif role == "committee_b":
        assert response.status_code == 404  # another village's row: not even its existence leaks
    elif role == "storekeeper_a":
        assert response.status_code == 404  # may view the row, not change it
    else:
        assert response.status_code == 302  # no admin access: to the login page


@pytest.mark.parametrize("role", ["committee_b", "storekeeper_a", "resident_a", "stranger"])
def test_inspect_view_refuses_outside_scope(client_for, cast, role):
    response = client_for(role).get(f"{LIST}inspect/{cast.household_a.pk}/")
    assert response.status_code in (302, 404) if role != "storekeeper_a" else response.status_code == 200
    if role != "storekeeper_a":
        assert "13800138001" not in response.content.decode()


def test_it_refuses_other_village_on_post(client_for, cast):
    household = cast.household_b
    data = _household_form(cast.village_b, household.group_id, number="999", head="改名")
    response = client_for("committee_a").post(f"{LIST}edit/{household.pk}/", data)
    assert response.status_code == 404
    household.refresh_from_db()
    assert household.number == "001"
    assert household.head_name == "陈玉兰"


def _household_form(village, group_id, *, number, head, phone=""):
    return nested_form_data(
        {
            "village": village.pk,
            "number": number,
            "group": group_id,
            "address": "幸福路 8 号",
            "members": inline_formset(
                [
                    {
                        "name": head,
                        "relation": "head",
                        "gender": "M",
                        "birth_year": 1965,
                        "phone": phone,
                        "id_number": "",
                    }
                ],
                min=1,
            ),
        }
    )


def test_committee_creates_a_household_in_its_village(client_for, cast):
    data = _household_form(cast.village_a, cast.village_a.groups.first().pk, number="050", head="曾国藩")
    response = client_for("committee_a").post(f"{LIST}add/", data)
    assert response.status_code == 302
    household = Household.objects.get(village=cast.village_a, number="050")
    assert household.head_name == "曾国藩"
    assert "zgf" in household.head_initials.split()
    assert household.members.get().village_id == cast.village_a.pk
    assert household.events.filter(kind=HouseholdEvent.Kind.CREATED, actor=cast.committee_a).exists()


def test_committee_cannot_create_in_another_village(client_for, cast):
    data = _household_form(cast.village_b, cast.village_b.groups.first().pk, number="050", head="曾国藩")
    response = client_for("committee_a").post(f"{LIST}add/", data)
    assert response.status_code == 200  # the form again, with the village refused
    assert not Household.objects.filter(number="050").exists()


@pytest.mark.parametrize(
    ("number", "phone", "message"),
    [
        ("001", "", "该村已有此户号"),
        ("05-0", "", "户号只能由字母和数字组成"),
        ("051", "12345", "手机号应为 11 位数字"),
    ],
)
def test_bad_household_input_is_shown_on_the_form_and_changes_nothing(client_for, cast, number, phone, message):
    before = Household.objects.count()
    data = _household_form(cast.village_a, cast.village_a.groups.first().pk, number=number, head="赵六", phone=phone)
    response = client_for("committee_a").post(f"{LIST}add/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Household.objects.count() == before


def test_search_by_pinyin_initials_number_and_name(client_for, cast):
    client = client_for("committee_a")
    for query in ("zsf", "001", "张三", "lxy"):  # lxy: a member (李秀英), not the head
        page = client.get(LIST, {"q": query}).content.decode()
        assert "张三丰" in page, query
        assert "王建国" not in page, query


def test_search_never_reaches_another_village(client_for, cast):
    page = client_for("committee_a").get(LIST, {"q": "cyl"}).content.decode()
    assert "陈玉兰" not in page


@pytest.mark.parametrize("role", ["committee_b", "storekeeper_a", "grid_worker_a", "resident_a", "stranger"])
def test_resident_password_refused_outside_capability(client_for, cast, role):
    response = client_for(role).post(reverse("points_resident_password", args=[cast.household_a.pk]))
    assert response.status_code in (302, 404)
    assert 'data-testid="password"' not in response.content.decode()


def test_committee_issues_a_password_shown_once_and_stored_hashed(client_for, cast):
    client = client_for("committee_a")
    url = reverse("points_resident_password", args=[cast.household_a2.pk])
    assert 'data-testid="password"' not in client.get(url).content.decode()  # GET only asks to confirm
    response = client.post(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    password = page.split('data-testid="password">')[1].split("<")[0]
    account = Household.objects.get(pk=cast.household_a2.pk).account
    assert password not in account.user.password
    assert account.user.check_password(password)
    assert password not in client.get(url).content.decode()  # never shown again


@pytest.mark.parametrize("role", ["committee_b", "storekeeper_a", "resident_a"])
def test_archive_refused_outside_scope(client_for, cast, role):
    response = client_for(role).post(
        reverse("points_household_archive", args=[cast.household_a.pk]), {"reason": "迁出"}
    )
    assert response.status_code in (302, 404)
    cast.household_a.refresh_from_db()
    assert not cast.household_a.is_archived


def test_archive_and_restore(client_for, cast):
    client = client_for("committee_a")
    url = reverse("points_household_archive", args=[cast.household_a.pk])
    assert client.post(url, {"reason": ""}).status_code == 200  # a reason is required
    assert client.post(url, {"reason": "全家迁出"}).status_code == 302
    cast.household_a.refresh_from_db()
    assert cast.household_a.is_archived
    assert not cast.resident_a.__class__.objects.get(pk=cast.resident_a.pk).is_active  # sign-in disabled
    client.post(reverse("points_household_restore", args=[cast.household_a.pk]))
    cast.household_a.refresh_from_db()
    assert not cast.household_a.is_archived


def test_a_household_with_history_cannot_be_deleted(cast):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        Household.objects.filter(pk=cast.household_a.pk).delete()


@pytest.mark.parametrize("role", ["committee_a", "township_staff", "grid_worker_a", "storekeeper_a"])
def test_staff_below_district_never_manage_users_or_roles(client_for, cast, role):
    client = client_for(role)
    for url in ("/admin/users/", "/admin/groups/", "/admin/snippets/points/staffrole/"):
        assert client.get(url).status_code == 302, url
    user = cast[role]
    assert not user.has_perm("auth.change_user")
    assert not user.has_perm("auth.add_user")
    assert not user.is_superuser


def test_district_admin_manages_staff_roles(client_for):
    assert client_for("district_admin").get("/admin/snippets/points/staffrole/").status_code == 200


@pytest.mark.parametrize(
    ("role", "village_codes", "capabilities"),
    [
        ("district_admin", {"QS01", "LX02", "BS01"}, set(Capability)),
        ("township_staff", {"QS01", "LX02"}, VILLAGE_MANAGER),
        ("committee_a", {"QS01"}, VILLAGE_MANAGER),
        ("grid_worker_a", {"QS01"}, {"view_register", "change_register", "submit_claims", "view_ledger"}),
        ("storekeeper_a", {"QS01"}, {"view_register", "view_ledger", "operate_store"}),
        ("resident_a", {"QS01"}, set()),
        ("stranger", set(), set()),
    ],
)
def test_scope_for_each_role(cast, role, village_codes, capabilities):
    scope = scope_for(cast[role])
    assert {v.code for v in scope.villages()} == village_codes
    assert set(scope.capabilities) == set(capabilities)


def test_resident_sees_only_its_household(cast):
    scope = scope_for(cast.resident_a)
    assert list(scope.households()) == [cast.household_a]
    assert household_detail(scope=scope, household_id=cast.household_a2.pk) is None


def test_services_refuse_out_of_scope_actors(cast):
    household = Household.objects.get(pk=cast.household_a.pk)
    household.members = list(household.members.all())
    household.address = "改过的地址"
    with pytest.raises(OutOfScope):
        household_save(household=household, actor=cast.committee_b)
    with pytest.raises(OutOfScope):
        household_archive(household=household, actor=cast.storekeeper_a, reason="x")
    with pytest.raises(OutOfScope):
        resident_password_issue(household=household, actor=cast.grid_worker_a)
    household.refresh_from_db()
    assert household.address == "幸福路"
    assert not household.is_archived


def test_committee_cannot_move_a_household_out_of_its_villages(cast):
    household = Household.objects.get(pk=cast.household_a2.pk)
    household.members = list(household.members.all())
    household.village = cast.village_b
    household.group = cast.village_b.groups.first()
    with pytest.raises(OutOfScope):
        household_save(household=household, actor=cast.committee_a)


def test_township_staff_moves_a_household_between_its_villages(cast):
    household = Household.objects.get(pk=cast.household_a.pk)
    household.members = list(household.members.all())
    household.village = cast.village_b
    household.group = cast.village_b.groups.first()
    household.number = "077"
    household_save(household=household, actor=cast.township_staff)
    household.refresh_from_db()
    assert household.village == cast.village_b
    assert household.members.first().village_id == cast.village_b.pk
    assert household.account.village_id == cast.village_b.pk
    assert household.events.filter(kind=HouseholdEvent.Kind.MOVED).exists()
    assert scope_for(cast.committee_a).can_see_household(household) is False


def test_staff_role_unit_must_match_role(cast):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        StaffRole.objects.create(user=cast.stranger, role=StaffRole.Role.COMMITTEE, township=cast.township)


def test_the_household_form_offers_only_the_users_villages_and_groups(client_for, cast):
    page = client_for("committee_a").get(f"{LIST}add/").content.decode()
    assert "青山村" in page
    assert "柳溪村" not in page
    assert "白水村" not in page
