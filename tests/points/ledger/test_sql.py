"""points/ledger/sql.py: each named statement does what its comment says, on SQLite and on PostgreSQL (the suite's
second run), checked against what the ORM reads back."""

import datetime

import pytest
from django.db import connection, transaction

from points import clock
from points.ledger import sql
from points.ledger.awards import points_award
from points.ledger.verify import verify_ledger
from points.models import (
    Account,
    Household,
    IdempotencyKey,
    LedgerHead,
    MonthlyNotice,
    PeriodSummary,
    RubricCategory,
    RubricItem,
    Transfer,
)

MONTH = datetime.date(2026, 12, 1)


@pytest.fixture
def awarded(cast):
    """Household A awarded 10 points once: its account, the issuance account and the head exist."""
    item = RubricItem.objects.create(
        category=RubricCategory.objects.create(name="孝老爱亲"), district=cast.district, name="照顾老人", points=10
    )
    (transfer,) = points_award(
        actor=cast.committee_a, village=cast.village_a, rubric_item=item, households=[cast.household_a],
        idempotency_key="seed",
    )  # fmt: skip
    return transfer


def test_transfer_columns_are_the_models_fields_in_order():
    assert list(sql.TRANSFER_COLUMNS) == [f.column for f in Transfer._meta.concrete_fields if not f.primary_key]


def test_lock_head_reads_the_head_and_whether_the_month_is_closed(cast, awarded):
    head = LedgerHead.objects.get(village=cast.village_a)
    with transaction.atomic():
        assert sql.lock_head(connection, village_id=cast.village_a.pk, period=MONTH) == (head.seq, head.hash, False)
        assert sql.lock_head(connection, village_id=cast.village_b.pk, period=MONTH) is None  # no head row yet
    MonthlyNotice.objects.create(
        village=cast.village_a, period=MONTH, published_at=clock.now(), published_by=cast.committee_a,
        objection_deadline=MONTH, head_hash=head.hash, closed_at=clock.now(),
    )  # fmt: skip
    with transaction.atomic():
        assert sql.lock_head(connection, village_id=cast.village_a.pk, period=MONTH)[2] is True
        assert sql.lock_head(connection, village_id=cast.village_a.pk, period=MONTH.replace(month=11))[2] is False


def test_move_head_sets_seq_and_hash(cast, awarded):
    sql.move_head(connection, village_id=cast.village_a.pk, seq=99, hash="f" * 64)
    assert LedgerHead.objects.filter(village=cast.village_a).values_list("seq", "hash").get() == (99, "f" * 64)


def test_move_balances_moves_every_account_and_a_guard_refuses_an_overdraft(cast, awarded):
    mine = Account.objects.get(household=cast.household_a)  # balance 10
    issuance = Account.objects.get(village=cast.village_a, kind=Account.Kind.ISSUANCE)  # balance -10
    with transaction.atomic():
        assert sql.move_balances(connection, [(mine.pk, 4, 0, True), (issuance.pk, 0, 4, False)])
    mine.refresh_from_db()
    issuance.refresh_from_db()
    assert (mine.debits, mine.credits, mine.balance) == (4, 10, 6)
    assert (issuance.debits, issuance.credits, issuance.balance) == (10, 4, -6)
    # Guarded: 7 > 6 is refused in the statement itself; unguarded, the same debit lands (a deduction may go below 0).
    with transaction.atomic():
        assert sql.move_balances(connection, [(mine.pk, 7, 0, True)]) is False
        transaction.set_rollback(True)
    mine.refresh_from_db()
    assert mine.balance == 6
    with transaction.atomic():
        assert sql.move_balances(connection, [(mine.pk, 7, 0, False)])
    mine.refresh_from_db()
    assert mine.balance == -1


def test_insert_transfers_writes_the_rows_as_given_and_returns_their_ids_in_order(cast, awarded):
    values = list(Transfer.objects.filter(pk=awarded.pk).values_list(*sql.TRANSFER_COLUMNS).get())
    rows = []
    for seq in (awarded.seq + 1, awarded.seq + 2):
        row = list(values)
        row[sql.TRANSFER_COLUMNS.index("seq")] = seq
        row[sql.TRANSFER_COLUMNS.index("period")] = connection.ops.adapt_datefield_value(awarded.period)
        row[sql.TRANSFER_COLUMNS.index("created_at")] = connection.ops.adapt_datetimefield_value(awarded.created_at)
        rows.append(row)
    with transaction.atomic():
        ids = sql.insert_transfers(connection, rows)
    assert len(ids) == 2 and ids[0] < ids[1]
    for transfer_id, seq in zip(ids, (awarded.seq + 1, awarded.seq + 2), strict=True):
        stored = Transfer.objects.values_list(*sql.TRANSFER_COLUMNS).get(pk=transfer_id)
        assert stored == tuple(values[:1] + [seq] + values[2:])


def test_add_to_summaries_creates_then_adds(cast):
    household = cast.household_a
    with transaction.atomic():
        sql.add_to_summaries(connection, village_id=cast.village_a.pk, period=MONTH, totals=[(household.pk, 10, 10, 0)])
        sql.add_to_summaries(connection, village_id=cast.village_a.pk, period=MONTH, totals=[(household.pk, -3, 0, 3)])
        sql.add_to_summaries(
            connection, village_id=cast.village_a.pk, period=MONTH.replace(month=11), totals=[(household.pk, 1, 1, 0)]
        )
    rows = PeriodSummary.objects.filter(household=household).order_by("period")
    assert list(rows.values_list("period", "conduct", "awarded", "deducted")) == [
        (MONTH.replace(month=11), 1, 1, 0),
        (MONTH, 7, 10, 3),
    ]


def test_take_idempotency_key_inserts_once_and_keeps_the_result_as_json(cast):
    now = clock.now()
    taken = dict(
        actor_id=cast.committee_a.pk, key="k1", operation="op", request_hash="h", result={"seqs": [1, 2], "名": "张"}
    )
    with transaction.atomic():
        first = sql.take_idempotency_key(connection, created_at=now, **taken)
        assert sql.take_idempotency_key(connection, created_at=now, **{**taken, "request_hash": "other"}) is None
    record = IdempotencyKey.objects.get(pk=first)
    assert (record.key, record.request_hash, record.result, record.created_at) == ("k1", "h", taken["result"], now)
    assert IdempotencyKey.objects.filter(key="k1").count() == 1


def test_a_batch_larger_than_one_statement_keeps_the_books(cast):
    """More transfers than ``sql.CHUNK`` in one post: every statement is split, and the books still verify."""
    village = cast.village_a
    households = Household.objects.bulk_create(
        [
            Household(village=village, number=f"B{i:04}", group=village.groups.first(), address="幸福路")
            for i in range(sql.CHUNK + 3)
        ]
    )
    item = RubricItem.objects.create(
        category=RubricCategory.objects.create(name="环境卫生"), district=cast.district, name="门前三包", points=2
    )
    written = points_award(
        actor=cast.committee_a, village=cast.village_a, rubric_item=item, households=households, idempotency_key="big"
    )
    assert len(written) == sql.CHUNK + 3 and len({t.id for t in written}) == len(written)
    assert Account.objects.get(village=cast.village_a, kind=Account.Kind.ISSUANCE).balance == -2 * len(written)
    assert PeriodSummary.objects.filter(village=cast.village_a, awarded=2).count() == len(written)
    assert verify_ledger(village=cast.village_a).ok


def test_accounts_reads_the_households_and_the_villages_system_accounts(cast, awarded):
    mine = Account.objects.get(household=cast.household_a)
    issuance = Account.objects.get(village=cast.village_a, kind=Account.Kind.ISSUANCE)
    rows = sql.accounts(
        connection, household_ids=[cast.household_a.pk, cast.household_a2.pk], village_id=cast.village_a.pk,
        kinds=[Account.Kind.ISSUANCE, Account.Kind.STORE],
    )  # fmt: skip
    assert sorted(rows) == sorted(
        [
            (mine.pk, cast.village_a.pk, "household", cast.household_a.pk),
            (issuance.pk, cast.village_a.pk, "issuance", None),
        ]
    )  # household A2 and the store have no account yet
    assert sql.accounts(connection, household_ids=[], village_id=cast.village_b.pk, kinds=["issuance"]) == []


def test_rubric_item_applies_in_the_items_district_unless_overridden(cast):
    category = RubricCategory.objects.create(name="孝老爱亲")
    item = RubricItem.objects.create(category=category, district=cast.district, name="照顾老人", points=10)

    def applies(village_id, district_id):
        return sql.rubric_item_applies(connection, village_id=village_id, district_id=district_id, item_id=item.pk)

    assert applies(cast.village_a.pk, cast.district.pk) is True
    assert applies(cast.village_a.pk, cast.district.pk + 1000) is False  # another district's item
    RubricItem.objects.create(category=category, village=cast.village_a, overrides=item, name="照顾老人", points=12)
    assert applies(cast.village_a.pk, cast.district.pk) is False
    assert applies(cast.village_b.pk, cast.district.pk) is True
