"""points/fastsql.py: the hot paths' INSERT and SELECT give exactly what the ORM gives.

(points never imports campaigns; the ballot path through fastsql is covered by tests/campaigns.)"""

import sys

import pytest
from django.db import IntegrityError

from points import fastsql
from points.models import Household, IdempotencyKey, Product, Village


def _fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


@pytest.mark.parametrize("model", [Household, Village])
def test_fetch_reads_every_field_as_the_orm_does(cast, model):
    instance = cast.household_a if model is Household else cast.village_a
    fast = fastsql.fetch(model, [instance.pk])[instance.pk]
    assert _fields(fast) == _fields(model.objects.get(pk=instance.pk))
    assert not fast._state.adding


def test_fetch_converts_booleans_dates_and_json(cast):
    product = Product.objects.create(village=cast.village_a, name="肥皂", price=2, unit="块", active=False)
    fast = fastsql.fetch(Product, [product.pk, product.pk, 10**9])
    assert list(fast) == [product.pk]  # duplicates once, missing ids left out
    assert fast[product.pk].active is False and fast[product.pk].name == "肥皂"


def test_fetch_of_missing_rows_is_empty(db):
    assert fastsql.fetch(Household, [10**9]) == {}
    assert fastsql.fetch(Household, []) == {}


def test_insert_sets_keys_and_skips_conflicts_when_asked(cast):
    first = IdempotencyKey(actor=cast.committee_a, key="k1", operation="op", request_hash="h", result={"a": 1})
    assert fastsql.insert([first]) is True
    assert first.pk and IdempotencyKey.objects.get(pk=first.pk).result == {"a": 1}
    again = IdempotencyKey(actor=cast.committee_a, key="k1", operation="op", request_hash="x", result={})
    assert fastsql.insert([again], on_conflict_do_nothing=("actor_id", "key")) is False
    assert again.pk is None
    assert IdempotencyKey.objects.filter(key="k1").count() == 1
    assert IdempotencyKey.objects.get(key="k1").request_hash == "h"


def test_get_with_reads_the_row_and_its_foreign_key_in_one_statement(cast, django_assert_num_queries):
    with django_assert_num_queries(1):
        household = fastsql.get_with(Household, cast.household_a.pk, "village")
        assert household.village.name == cast.village_a.name
    assert _fields(household) == _fields(Household.objects.get(pk=cast.household_a.pk))
    assert _fields(household.village) == _fields(Village.objects.get(pk=cast.village_a.pk))
    with pytest.raises(Household.DoesNotExist):
        fastsql.get_with(Household, 10**9, "village")


def test_get_and_scalar_reads_the_row_and_a_subquery_in_one_statement(cast, django_assert_num_queries):
    with django_assert_num_queries(1):
        village, count = fastsql.get_and_scalar(
            Village,
            cast.village_a.pk,
            "SELECT COUNT(*) FROM points_household h WHERE h.village_id = t.id AND h.number IN (%s, %s)",
            [cast.household_a.number, "no-such-number"],
        )
    assert count == 1
    assert _fields(village) == _fields(Village.objects.get(pk=cast.village_a.pk))
    with pytest.raises(Village.DoesNotExist):
        fastsql.get_and_scalar(Village, 10**9, "SELECT 1", [])


def test_insert_chain_writes_every_step_and_answers_for_the_last(cast, django_assert_num_queries):
    from django.db import connection, transaction

    def key(name):
        return {"actor_id": cast.committee_a.pk, "key": name, "operation": "op", "request_hash": "h", "result": {}}

    first = [(IdempotencyKey, [key("c1"), key("c2")]), (IdempotencyKey, [key("c3")])]
    # PostgreSQL: one statement (the first steps as data-modifying WITHs); SQLite: one per step.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
        (pk,) = fastsql.insert_chain(first, IdempotencyKey, [key("c4")], on_conflict_do_nothing=("actor_id", "key"))
    assert IdempotencyKey.objects.get(pk=pk).key == "c4"
    assert set(IdempotencyKey.objects.filter(key__startswith="c").values_list("key", flat=True)) == {
        "c1", "c2", "c3", "c4",
    }  # fmt: skip
    # The last step skipped (a conflict): None, and the caller rolls back what the first steps wrote.
    with transaction.atomic():
        found = fastsql.insert_chain(
            [(IdempotencyKey, [key("c5")])], IdempotencyKey, [key("c4")], on_conflict_do_nothing=("actor_id", "key")
        )
        assert found is None
        transaction.set_rollback(True)
    assert not IdempotencyKey.objects.filter(key="c5").exists()
    # Nothing to answer for: the first steps are still written.
    assert fastsql.insert_chain([(IdempotencyKey, [key("c7")])], IdempotencyKey, []) == []
    assert IdempotencyKey.objects.filter(key="c7").exists()
    # A conflict in a first step is an error, as with a plain INSERT.
    with pytest.raises(IntegrityError), transaction.atomic():
        fastsql.insert_chain([(IdempotencyKey, [key("c1")])], IdempotencyKey, [key("c6")])


def test_only_plain_values_skip_adaptation():
    from campaigns.models import BallotChoice  # a foreign key to a UUID key must be adapted (SQLite stores hex)

    plain = dict(zip([f.name for f in fastsql._fields(BallotChoice)], fastsql._plain(BallotChoice), strict=True))
    assert plain["ballot"] is False and plain["nomination"] is True and plain["id"] is False
    created = dict(zip([f.name for f in fastsql._fields(IdempotencyKey)], fastsql._plain(IdempotencyKey), strict=True))
    assert created["created_at"] is False and created["result"] is False and created["key"] is True


def test_a_hot_service_call_sends_its_fast_path_through_one_cursor(cast, monkeypatch):
    """points_award (as redemption_create and ballot_cast) runs under fastsql.shared_cursor_for_call: its ~10
    statements share one cursor instead of opening one each; the next call opens its own."""
    from django.db import connections

    from points.ledger.awards import points_award
    from points.models import RubricCategory, RubricItem

    item = RubricItem.objects.create(
        category=RubricCategory.objects.create(name="孝老爱亲"), district=cast.district, name="照顾老人", points=10
    )
    db = connections["default"]
    real_cursor = db.cursor
    opened = []

    def counting_cursor(*args):
        caller = sys._getframe(1).f_code.co_name
        if not caller.startswith("_savepoint"):  # the test's own transaction makes the service's atomic a savepoint
            opened.append(caller)
        return real_cursor(*args)

    monkeypatch.setattr(db, "cursor", counting_cursor)

    def award(key):
        opened.clear()
        points_award(
            actor=cast.committee_a, village=cast.village_a, rubric_item=item, households=[cast.household_a],
            idempotency_key=key,
        )  # fmt: skip
        return len(opened)

    award("warm")  # creates the accounts and the head (the ORM's own cursors)
    assert award("one-cursor") == 1
    assert award("next-call") == 1
    # Outside such a call every fast-path statement opens its own.
    opened.clear()
    fastsql.fetch(Household, [cast.household_a.pk])
    fastsql.get_with(Household, cast.household_a.pk, "village")
    assert len(opened) == 2
