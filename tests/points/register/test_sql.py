"""points/register/sql.py: who a user is, in one statement, on SQLite and on PostgreSQL (the suite's second run)."""

from django.db import connection

from points.register import sql
from points.scope import RESIDENT, scope_for


def test_user_roles_reads_a_staff_role_a_resident_account_or_neither(cast):
    assert sql.user_roles(connection, user_id=cast.district_admin.pk) == (
        "district_admin", cast.district.pk, None, None, None, None,
    )  # fmt: skip
    assert sql.user_roles(connection, user_id=cast.township_staff.pk) == (
        "township_staff", None, cast.township.pk, None, None, None,
    )  # fmt: skip
    assert sql.user_roles(connection, user_id=cast.storekeeper_a.pk) == (
        "storekeeper", None, None, cast.village_a.pk, None, None,
    )  # fmt: skip
    assert sql.user_roles(connection, user_id=cast.resident_a.pk) == (
        None, None, None, None, cast.household_a.pk, cast.village_a.pk,
    )  # fmt: skip
    assert sql.user_roles(connection, user_id=cast.stranger.pk) == (None, None, None, None, None, None)
    assert sql.user_roles(connection, user_id=10**9) == (None, None, None, None, None, None)


def test_a_residents_scope_is_one_statement(cast, django_assert_num_queries):
    cast.resident_a.__dict__.pop("_hehe_scope", None)
    with django_assert_num_queries(1):
        scope = scope_for(cast.resident_a)
    assert (scope.role, scope.household_id, scope.village_ids) == (
        RESIDENT, cast.household_a.pk, frozenset([cast.village_a.pk]),
    )  # fmt: skip
