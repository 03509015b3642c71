"""The ledger's promises, as worked examples read top to bottom, plus the database's own refusals."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from points.exceptions import (
    AlreadyReversed,
    CapExceeded,
    IdempotencyConflict,
    IdempotencyKeyInvalid,
    InactiveItem,
    InsufficientPoints,
    InvalidAmount,
    LedgerError,
    MonthClosed,
    NotReversible,
    OutOfScope,
)
from points.ledger import books
from points.ledger.awards import points_award, transfer_reverse
from points.ledger.selectors import conduct_score, household_balance, household_statement, period_range
from points.ledger.verify import verify_ledger
from points.models import Account, MonthlyNotice, PeriodSummary, RubricCategory, RubricItem, Transfer
from tests.factories import redeem


@pytest.fixture
def rubric(cast):
    category = RubricCategory.objects.create(name="孝老爱亲")
    return {
        "care": RubricItem.objects.create(category=category, district=cast.district, name="照顾老人", points=10),
        "litter": RubricItem.objects.create(
            category=category, district=cast.district, name="乱扔垃圾", points=5, kind="deduction"
        ),
        "capped": RubricItem.objects.create(
            category=category, district=cast.district, name="志愿服务", points=10, cap_period="month", cap_points=20
        ),
    }


def award(cast, item, households, key, actor=None):
    return points_award(
        actor=actor or cast.committee_a,
        village=cast.village_a,
        rubric_item=item,
        households=households,
        idempotency_key=key,
    )


def test_award_redeem_reverse_worked_example(cast, rubric):
    household = cast.household_a
    (first,) = award(cast, rubric["care"], [household], "k1")
    assert household_balance(household) == 10
    award(cast, rubric["care"], [household], "k2")
    assert household_balance(household) == 20

    redeem(household, 15, cast.storekeeper_a)
    assert household_balance(household) == 5
    # Redemptions do not lower the conduct score.
    month = books.month_of()
    assert conduct_score(household, month, month) == 20

    (deduction,) = award(cast, rubric["litter"], [household], "k3")
    assert household_balance(household) == 0
    assert conduct_score(household, month, month) == 15

    reversal = transfer_reverse(actor=cast.committee_a, transfer=first, reason="重复录入", idempotency_key="r1")
    assert reversal.reverses == first
    assert reversal.code == Transfer.Code.REVERSAL
    assert household_balance(household) == -10  # a reversal of an award, like a deduction, may go below zero
    assert conduct_score(household, month, month) == 5

    with pytest.raises(InsufficientPoints):
        redeem(household, 1, cast.storekeeper_a)
    with pytest.raises(AlreadyReversed):
        transfer_reverse(actor=cast.committee_a, transfer=first, reason="又一次", idempotency_key="r2")
    with pytest.raises(NotReversible):
        transfer_reverse(actor=cast.committee_a, transfer=reversal, reason="反冲", idempotency_key="r3")

    statement = household_statement(household)
    assert [t.signed for t in statement.object_list] == [-10, -5, -15, 10, 10]
    assert "重复录入" in statement.object_list[0].explanation
    assert verify_ledger().ok
    assert sum(Account.objects.values_list("balance", flat=True)) == 0
    assert deduction.conduct_delta == -5


def test_the_same_idempotency_key_returns_the_first_result(cast, rubric):
    first = award(cast, rubric["care"], [cast.household_a, cast.household_a2], "batch-1")
    again = award(cast, rubric["care"], [cast.household_a2, cast.household_a], "batch-1")
    assert [t.id for t in again] == [t.id for t in first]
    assert Transfer.objects.count() == 2
    with pytest.raises(IdempotencyConflict):
        award(cast, rubric["care"], [cast.household_a], "batch-1")
    assert Transfer.objects.count() == 2


def test_batch_is_all_or_nothing_when_one_household_hits_the_cap(cast, rubric):
    award(cast, rubric["capped"], [cast.household_a], "c1")
    award(cast, rubric["capped"], [cast.household_a], "c2")
    before = Transfer.objects.count()
    with pytest.raises(CapExceeded, match="张三丰"):
        award(cast, rubric["capped"], [cast.household_a2, cast.household_a], "c3")
    assert Transfer.objects.count() == before
    assert household_balance(cast.household_a2) == 0


def test_a_reversed_award_frees_its_cap(cast, rubric):
    (one,) = award(cast, rubric["capped"], [cast.household_a], "c1")
    award(cast, rubric["capped"], [cast.household_a], "c2")
    transfer_reverse(actor=cast.committee_a, transfer=one, reason="录错", idempotency_key="rv")
    award(cast, rubric["capped"], [cast.household_a], "c3")
    assert household_balance(cast.household_a) == 20


def test_refusals_change_nothing(cast, rubric):
    rubric["care"].active = False
    rubric["care"].save()
    with pytest.raises(InactiveItem):
        award(cast, rubric["care"], [cast.household_a], "x1")
    with pytest.raises(OutOfScope):
        award(cast, rubric["litter"], [cast.household_b], "x2")
    with pytest.raises(OutOfScope):
        award(cast, rubric["litter"], [cast.household_a], "x3", actor=cast.committee_b)
    with pytest.raises(OutOfScope):
        award(cast, rubric["litter"], [cast.household_a], "x4", actor=cast.grid_worker_a)
    with pytest.raises(LedgerError):
        award(cast, rubric["litter"], [], "x5")
    with pytest.raises(IdempotencyKeyInvalid):
        award(cast, rubric["litter"], [cast.household_a], "")
    assert Transfer.objects.count() == 0


@pytest.mark.parametrize("amount", [0, -5, 100_001, 10**18, 2.5, True, "10"])
def test_the_ledger_refuses_bad_amounts(cast, amount):
    with pytest.raises(InvalidAmount), transaction.atomic():
        books.post(
            village=cast.village_a,
            postings=[
                books.Posting(
                    debit=books.system_account(cast.village_a, Account.Kind.ISSUANCE),
                    credit=books.household_account(cast.household_a),
                    amount=amount,
                    code=Transfer.Code.AWARD,
                )
            ],
            actor=cast.committee_a,
        )
    assert Transfer.objects.count() == 0


@pytest.mark.any_day
def test_no_transfer_lands_in_a_closed_month(cast, rubric):
    (transfer,) = award(cast, rubric["care"], [cast.household_a], "m1")
    MonthlyNotice.objects.create(
        village=cast.village_a,
        period=books.month_of(),
        published_at=transfer.created_at,
        published_by=cast.committee_a,
        objection_deadline=transfer.created_at.date(),
        closed_at=transfer.created_at,
        head_hash="x",
    )
    with pytest.raises(MonthClosed):
        award(cast, rubric["care"], [cast.household_a], "m2")
    with pytest.raises(MonthClosed):
        transfer_reverse(actor=cast.committee_a, transfer=transfer, reason="晚了", idempotency_key="m3")
    assert Transfer.objects.count() == 1


def test_editing_an_item_never_changes_past_transfers(cast, rubric):
    (transfer,) = award(cast, rubric["care"], [cast.household_a], "e1")
    rubric["care"].name = "照顾孤寡老人"
    rubric["care"].points = 30
    rubric["care"].save()
    transfer.refresh_from_db()
    assert (transfer.item_name, transfer.amount) == ("照顾老人", 10)


def test_village_override_replaces_the_district_item(cast, rubric):
    from points.ledger.awards import rubric_for_village

    override = RubricItem.objects.create(
        category=rubric["care"].category, village=cast.village_a, overrides=rubric["care"], name="照顾老人", points=15
    )
    items_a = list(rubric_for_village(cast.village_a))
    assert override in items_a and rubric["care"] not in items_a
    assert rubric["care"] in list(rubric_for_village(cast.village_b))
    with pytest.raises(LedgerError):
        award(cast, rubric["care"], [cast.household_a], "o1")  # the overridden district item no longer applies


def test_raw_sql_update_and_delete_of_a_transfer_are_refused(cast, rubric):
    (transfer,) = award(cast, rubric["care"], [cast.household_a], "t1")
    table = Transfer._meta.db_table
    for sql in (f"UPDATE {table} SET amount = 1000 WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
            c.execute(sql, [transfer.id])
    with pytest.raises(DatabaseError), transaction.atomic():
        Transfer.objects.filter(pk=transfer.pk).update(memo="改")
    transfer.refresh_from_db()
    assert transfer.amount == 10


def _disable_triggers():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER points_transfer_no_update")
        else:
            # For this transaction only: user triggers do not fire (rolled back with the test).
            cursor.execute("SET LOCAL session_replication_role = replica")


def test_verify_ledger_names_a_row_altered_behind_the_triggers_back(cast, rubric):
    award(cast, rubric["care"], [cast.household_a, cast.household_a2], "v1")
    (target,) = award(cast, rubric["litter"], [cast.household_a], "v2")
    call_command("verify_ledger")  # clean books pass
    _disable_triggers()  # inside the test's transaction: rolled back afterwards
    Transfer.objects.filter(pk=target.pk).update(memo="悄悄改了")
    with pytest.raises(CommandError, match=f"#{target.seq}.*altered"):
        call_command("verify_ledger")


def test_verify_ledger_catches_a_balance_changed_directly(cast, rubric):
    award(cast, rubric["care"], [cast.household_a], "b1")
    Account.objects.filter(household=cast.household_a).update(credits=99, balance=99)
    result = verify_ledger()
    assert not result.ok
    assert "balance 99 but transfers give 10" in result.problem


def test_verify_ledger_catches_a_summary_changed_directly(cast, rubric):
    award(cast, rubric["care"], [cast.household_a], "s1")
    PeriodSummary.objects.update(conduct=50)
    assert "conduct summary 50" in verify_ledger().problem


@pytest.mark.any_day
def test_period_ranges():
    import datetime

    assert period_range("quarter", 2026, 2) == (datetime.date(2026, 4, 1), datetime.date(2026, 6, 1))
    assert period_range("year", 2026) == (datetime.date(2026, 1, 1), datetime.date(2026, 12, 1))


def test_a_retry_gets_its_first_answer_even_after_the_item_is_deactivated(cast, rubric):
    first = award(cast, rubric["care"], [cast.household_a], "again")
    RubricItem.objects.filter(pk=rubric["care"].pk).update(active=False)
    rubric["care"].refresh_from_db()
    assert [t.id for t in award(cast, rubric["care"], [cast.household_a], "again")] == [t.id for t in first]
    with pytest.raises(InactiveItem):
        award(cast, rubric["care"], [cast.household_a], "fresh")


def test_a_capped_item_must_name_its_cap_and_a_village_overrides_an_item_once(cast, rubric):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        RubricItem.objects.create(
            category=rubric["care"].category, district=cast.district, name="无上限", points=5, cap_period="month"
        )
    RubricItem.objects.create(
        category=rubric["care"].category, village=cast.village_a, overrides=rubric["care"], name="照顾老人", points=12
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        RubricItem.objects.create(
            category=rubric["care"].category, village=cast.village_a, overrides=rubric["care"], name="再替代", points=9
        )


@pytest.mark.any_day
def test_ranking_uses_standard_competition_ranking_and_stars(cast, rubric):
    from points.ledger.selectors import ranking
    from tests.factories import make_household

    third = make_household(cast.village_a, number="003", head="赵桂英")
    fourth = make_household(cast.village_a, number="004", head="孙丽")
    cast.village_a.star_thresholds = [10, 20]
    cast.village_a.save()
    award(cast, rubric["care"], [cast.household_a, cast.household_a2, third], "r1")
    award(cast, rubric["care"], [cast.household_a], "r2")
    award(cast, rubric["litter"], [third], "r3")
    month = books.month_of()
    rows = ranking(villages=[cast.village_a], start=month, end=month)
    assert [(r["head_name"], r["score"], r["rank"], r["stars"]) for r in rows] == [
        ("张三丰", 20, 1, 2),
        ("王建国", 10, 2, 1),
        ("赵桂英", 5, 3, 0),
        ("孙丽", 0, 4, 0),
    ]
    award(cast, rubric["care"], [fourth], "r4")
    award(cast, rubric["care"], [cast.household_a2], "r5")
    rows = ranking(villages=[cast.village_a], start=month, end=month)
    assert [(r["head_name"], r["rank"]) for r in rows][:3] == [("张三丰", 1), ("王建国", 1), ("孙丽", 3)]
    last_year = month.replace(year=month.year - 1)
    assert {r["score"] for r in ranking(villages=[cast.village_a], start=last_year, end=last_year)} == {0}


@pytest.mark.django_db(transaction=True)
def test_ledger_and_store_changes_are_announced_once_after_commit_and_never_on_rollback(cast):
    from django.db import transaction

    from points.ledger import books
    from points.signals import ledger_changed, send_after_commit, store_changed

    heard, batches = [], []

    def listen(sender, village_id, batch, **kwargs):
        heard.append((sender, village_id))
        batches.append(batch)

    ledger_changed.connect(listen)
    store_changed.connect(listen)
    try:
        village = cast.household_a.village
        with transaction.atomic():
            send_after_commit(ledger_changed, village.pk)
            send_after_commit(ledger_changed, village.pk)
            send_after_commit(store_changed, village.pk)
            assert heard == []  # nothing before the commit
        assert heard == [(ledger_changed, village.pk), (store_changed, village.pk)]
        assert batches[0] is batches[1]  # one commit, one batch: a receiver may do its work once
        first_batch = batches[0]
        heard.clear()
        with pytest.raises(RuntimeError), transaction.atomic():
            send_after_commit(ledger_changed, village.pk)
            raise RuntimeError
        assert heard == []
        with transaction.atomic():
            books.post(
                village=village,
                postings=[
                    books.Posting(
                        debit=books.system_account(village, "issuance"),
                        credit=books.household_account(cast.household_a),
                        amount=5,
                        code="award",
                    )
                ],
                actor=None,
            )
        assert heard == [(ledger_changed, village.pk)]
        assert batches[-1] is not first_batch  # another commit, another batch
    finally:
        ledger_changed.disconnect(listen)
        store_changed.disconnect(listen)
