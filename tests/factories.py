"""Small fixtures built in code: a district with two villages and the cast of users who act in them."""

import copy
import itertools

from django.contrib.auth import get_user_model
from django.db import transaction

from points.ledger import books
from points.models import Account, District, Household, Member, StaffRole, Township, Transfer, Village, VillageGroup
from points.register.services import household_save, resident_password_issue, staff_role_save

_seq = itertools.count(1)


def make_village(township, name, code):
    village = Village.objects.create(township=township, name=name, code=code)
    for group in ("一组", "二组"):
        VillageGroup.objects.create(village=village, name=group)
    return village


def make_household(village, *, number=None, head="张三丰", actor=None, members=(), group=None, phone=""):
    """A household saved through the service, with its head and any extra (name, relation, gender) members."""
    actor = actor or superuser()
    household = Household(
        village=village, number=number or f"{next(_seq):03d}", group=group or village.groups.first(), address="幸福路"
    )
    household.members = [
        Member(name=head, relation="head", gender="M", birth_year=1960, phone=phone),
        *[Member(name=n, relation=r, gender=g, birth_year=1990) for n, r, g in members],
    ]
    return household_save(household=household, actor=actor)


def redeem(household, amount, actor):
    """A plain guarded debit of ``amount`` from the household to its village's store account: the ledger's part of a
    redemption, without the store (its tests build real redemptions through ``redemption_create``)."""
    with transaction.atomic():
        village = household.village
        return books.post(
            village=village,
            postings=[
                books.Posting(
                    debit=books.household_account(household),
                    credit=books.system_account(village, Account.Kind.STORE),
                    amount=amount,
                    code=Transfer.Code.REDEMPTION,
                    household=household,
                    guard=True,
                )
            ],
            actor=actor,
        )


def superuser():
    User = get_user_model()
    user = User.objects.filter(username="root").first()
    return user or User.objects.create_superuser(username="root", password="pw-root-123")


def make_staff(username, role, *, district=None, township=None, village=None):
    user = get_user_model().objects.create_user(username=username, password="pw-staff-123")
    staff_role_save(
        role=StaffRole(user=user, role=role, district=district, township=township, village=village),
        actor=superuser(),
    )
    return user


def build_cast():
    """Village A and B in one township, village C in another; one user per role."""
    district = District.objects.create(name="和安区", code="HA")
    township = Township.objects.create(district=district, name="青山镇", code="QSZ")
    other_township = Township.objects.create(district=district, name="白水乡", code="BSX")
    village_a = make_village(township, "青山村", "QS01")
    village_b = make_village(township, "柳溪村", "LX02")
    village_c = make_village(other_township, "白水村", "BS01")
    household_a = make_household(
        village_a, number="001", head="张三丰", phone="13800138001", members=[("李秀英", "spouse", "F")]
    )
    household_a2 = make_household(village_a, number="002", head="王建国")
    household_b = make_household(village_b, number="001", head="陈玉兰")
    household_c = make_household(village_c, number="001", head="刘德明")
    resident = resident_password_issue(household=household_a, actor=superuser())
    household_a.refresh_from_db()
    resident_user = household_a.account.user
    resident_user.set_password("pw-resident-123")
    resident_user.save()
    assert resident  # the issued password is returned once
    return {
        "district": district,
        "township": township,
        "village_a": village_a,
        "village_b": village_b,
        "village_c": village_c,
        "household_a": household_a,
        "household_a2": household_a2,
        "household_b": household_b,
        "household_c": household_c,
        "district_admin": make_staff("district_admin", StaffRole.Role.DISTRICT_ADMIN, district=district),
        "township_staff": make_staff("township_staff", StaffRole.Role.TOWNSHIP_STAFF, township=township),
        "committee_a": make_staff("committee_a", StaffRole.Role.COMMITTEE, village=village_a),
        "committee_b": make_staff("committee_b", StaffRole.Role.COMMITTEE, village=village_b),
        "grid_worker_a": make_staff("grid_worker_a", StaffRole.Role.GRID_WORKER, village=village_a),
        "storekeeper_a": make_staff("storekeeper_a", StaffRole.Role.STOREKEEPER, village=village_a),
        "resident_a": resident_user,
        "stranger": get_user_model().objects.create_user(username="stranger", password="pw-stranger-123"),
    }


def share_cast(objects: dict, *, empty: str, built: str) -> None:
    """Keep the cast built once in this worker's test database (``tests/conftest.py``'s ``django_db_setup``), with
    the database serialized without it (``empty``) and with it (``built``)."""
    shared_cast.objects = objects
    shared_cast.empty = empty
    shared_cast.built = built


def shared_cast() -> dict:
    """The shared cast as fresh copies (one deep copy of the whole dict, so objects that shared a related object
    still do): what a test changes in memory stays in that test, as with Django's ``setUpTestData``."""
    if shared_cast.objects is None:
        raise RuntimeError("the cast is built by tests/conftest.py's django_db_setup: use a database test")
    return copy.deepcopy(shared_cast.objects)


shared_cast.objects = None
