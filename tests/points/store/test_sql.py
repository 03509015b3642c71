"""points/store/sql.py: the guarded stock statements and the counter's writes, on SQLite and on PostgreSQL (the suite's
second run), and the store's one write path for stock movements."""

# ruff: noqa: F811  (the fixtures imported from test_services are the tests' parameters)

import datetime

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from points import clock
from points.models import Product, Redemption, RedemptionLine, StockMovement, Transfer
from points.store import sql
from points.store.services import stock_movements_record

from .test_services import redeem, store  # noqa: F401  (the village A store: soap ×50 at 2, oil ×3 at 30)


def stock(product):
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


def test_move_stock_adds_takes_and_refuses_below_zero(cast, store):
    soap = store["soap"]
    with transaction.atomic():
        assert sql.move_stock(connection, product_id=soap.pk, delta=5) == 55
        assert sql.move_stock(connection, product_id=soap.pk, delta=-55) == 0
        assert sql.move_stock(connection, product_id=soap.pk, delta=-1) is None  # nothing changed
    assert stock(soap) == 0
    assert sql.move_stock(connection, product_id=10**9, delta=1) is None


def test_take_lines_takes_every_line_and_answers_what_a_redemption_records(cast, store):
    soap, oil = store["soap"], store["oil"]
    with transaction.atomic():
        rows = sql.take_lines(connection, village_id=cast.village_a.pk, quantities={soap.pk: 4, oil.pk: 3})
    assert sorted(rows) == sorted([(soap.pk, "肥皂", 2, "块", 46), (oil.pk, "菜籽油", 30, "桶", 0)])
    assert (stock(soap), stock(oil)) == (46, 0)


def test_take_lines_leaves_out_a_short_off_sale_or_foreign_line(cast, store):
    soap, oil = store["soap"], store["oil"]
    elsewhere = Product.objects.create(village=cast.village_b, name="毛巾", price=5, unit="条", stock=9)
    with transaction.atomic():
        taken = sql.take_lines(connection, village_id=cast.village_a.pk, quantities={soap.pk: 1, oil.pk: 4})
        assert [row[0] for row in taken] == [soap.pk]  # oil is short: left out, the caller rolls back
        foreign = sql.take_lines(connection, village_id=cast.village_a.pk, quantities={elsewhere.pk: 1})
        assert foreign == []
        Product.objects.filter(pk=soap.pk).update(active=False)
        assert sql.take_lines(connection, village_id=cast.village_a.pk, quantities={soap.pk: 1}) == []
        transaction.set_rollback(True)
    assert (stock(soap), stock(oil), stock(elsewhere)) == (50, 3, 9)


@pytest.mark.parametrize("lines", [[("soap", 1)], [("soap", 2), ("oil", 1)]])
def test_a_redemption_is_the_rows_the_orm_reads_back(cast, store, lines):
    redemption = redeem(cast, [(store[name], quantity) for name, quantity in lines])
    redemption = type(redemption).objects.get(pk=redemption.pk)
    assert redemption.transfer.amount == redemption.total_points == sum(store[n].price * q for n, q in lines)
    assert sorted(redemption.lines.values_list("product__name", "quantity", "points")) == sorted(
        (store[n].name, q, store[n].price * q) for n, q in lines
    )
    for name, quantity in lines:
        movement = StockMovement.objects.get(redemption=redemption, product=store[name])
        assert (movement.quantity, movement.stock_after, movement.kind) == (-quantity, stock(store[name]), "redemption")
        assert movement.created_at == redemption.created_at


def test_every_stock_movement_is_written_alike(cast, store):
    """One write path (``stock_movements_record``): receipts, redemptions, returns, write-offs and stock-takes are
    all written by bulk_create, so none sends post_save and another does."""
    from points.store.services import redemption_create, reservation_cancel, stock_write_off, stocktake_record

    saved = []

    def heard(sender, instance, **kwargs):
        saved.append(instance.kind)

    post_save.connect(heard, sender=StockMovement)
    try:
        before = StockMovement.objects.count()
        reserved = redemption_create(
            actor=cast.storekeeper_a, household=cast.household_a, lines=[(store["soap"], 1)], idempotency_key="r",
            reserve=True,
        )  # fmt: skip
        reservation_cancel(actor=cast.storekeeper_a, redemption=reserved)
        stock_write_off(actor=cast.storekeeper_a, product=store["soap"], quantity=1, reason="破损", idempotency_key="w")
        stocktake_record(
            actor=cast.storekeeper_a, village=cast.village_a, counts={store["oil"].pk: 2}, idempotency_key="t"
        )
    finally:
        post_save.disconnect(heard, sender=StockMovement)
    assert StockMovement.objects.count() == before + 4
    assert saved == []


@pytest.fixture
def award(cast, store):
    """A transfer of village A that no redemption names yet (a redemption row needs one of its own)."""
    return Transfer.objects.get(code=Transfer.Code.AWARD, household=cast.household_a)


def test_insert_redemption_writes_an_open_redemption(cast, store, award):
    now = clock.now()
    with transaction.atomic():
        redemption_id = sql.insert_redemption(
            connection, village_id=cast.village_a.pk, number=999, household_id=cast.household_a.pk,
            status="reserved", total_points=2, transfer_id=award.pk, created_by_id=cast.storekeeper_a.pk,
            created_at=now, pickup_deadline=now + datetime.timedelta(days=3),
        )  # fmt: skip
    stored = Redemption.objects.get(pk=redemption_id)
    assert (stored.village_id, stored.number, stored.household_id, stored.status, stored.total_points) == (
        cast.village_a.pk, 999, cast.household_a.pk, "reserved", 2,
    )  # fmt: skip
    assert (stored.transfer_id, stored.created_by_id, stored.created_at) == (award.pk, cast.storekeeper_a.pk, now)
    assert stored.pickup_deadline == now + datetime.timedelta(days=3)
    assert (stored.refund_id, stored.closed_by_id, stored.closed_at) == (None, None, None)


def movement_row(cast, product, quantity, stock_after, *, kind="receipt", redemption_id=None):
    """A row in ``sql.STOCK_MOVEMENT_COLUMNS`` order, as the database takes it."""
    created_at = connection.ops.adapt_datetimefield_value(clock.now())
    return [cast.village_a.pk, product.pk, kind, quantity, stock_after, "", False, "", redemption_id, None,
            cast.storekeeper_a.pk, created_at]  # fmt: skip


def test_insert_stock_movements_writes_a_redemptions_lines_with_its_movements(cast, store, award):
    soap, oil = store["soap"], store["oil"]
    with transaction.atomic():
        redemption_id = sql.insert_redemption(
            connection, village_id=cast.village_a.pk, number=998, household_id=cast.household_a.pk,
            status="completed", total_points=32, transfer_id=award.pk, created_by_id=cast.storekeeper_a.pk,
            created_at=clock.now(), pickup_deadline=None,
        )  # fmt: skip
        ids = sql.insert_stock_movements(
            connection,
            [movement_row(cast, soap, -1, 49, kind="redemption", redemption_id=redemption_id),
             movement_row(cast, oil, -1, 2, kind="redemption", redemption_id=redemption_id)],
            lines=[[redemption_id, cast.village_a.pk, soap.pk, "肥皂", 1, 2, 2],
                   [redemption_id, cast.village_a.pk, oil.pk, "菜籽油", 1, 30, 30]],
        )  # fmt: skip
    stored = StockMovement.objects.filter(redemption_id=redemption_id).order_by("id")
    assert [(m.id, m.product_id, m.quantity, m.stock_after) for m in stored] == [
        (ids[0], soap.pk, -1, 49), (ids[1], oil.pk, -1, 2),
    ]  # fmt: skip
    lines = RedemptionLine.objects.filter(redemption_id=redemption_id).order_by("product_id")
    assert sorted(lines.values_list("product_name", "quantity", "unit_price", "points")) == [
        ("肥皂", 1, 2, 2), ("菜籽油", 1, 30, 30),
    ]  # fmt: skip


def test_insert_stock_movements_beyond_one_statement_keeps_the_row_order(cast, store):
    soap = store["soap"]
    rows = [movement_row(cast, soap, 1, 51 + n) for n in range(sql.CHUNK + 2)]
    with transaction.atomic():
        ids = sql.insert_stock_movements(connection, rows)
    assert len(ids) == sql.CHUNK + 2
    assert list(StockMovement.objects.filter(pk__in=ids).order_by("id").values_list("id", "stock_after")) == [
        (movement_id, 51 + n) for n, movement_id in enumerate(ids)
    ]


def test_stock_movements_record_answers_the_movements_saved(cast, store):
    soap = store["soap"]
    movement = StockMovement(
        village_id=cast.village_a.pk, product=soap, kind=StockMovement.Kind.DONATION, quantity=2, stock_after=52,
        donor_name="张三", donor_public=True, actor=cast.storekeeper_a,
    )  # fmt: skip
    with transaction.atomic():
        (saved,) = stock_movements_record([movement])
    assert saved is movement and not movement._state.adding and movement._state.db == "default"
    stored = StockMovement.objects.get(pk=movement.pk)
    assert (stored.kind, stored.donor_name, stored.donor_public, stored.created_at) == (
        "donation", "张三", True, movement.created_at,
    )  # fmt: skip
    assert stock_movements_record([]) == []


def test_a_redemptions_lines_and_movements_are_one_round_trip_on_postgresql(cast, store):
    with CaptureQueriesContext(connection) as captured:
        redeem(cast, [(store["soap"], 1), (store["oil"], 1)])
    writes = [q["sql"] for q in captured if "points_redemptionline" in q["sql"] or "points_stockmovement" in q["sql"]]
    if connection.vendor == "postgresql":
        assert len(writes) == 1 and "points_redemptionline" in writes[0] and "points_stockmovement" in writes[0]
    else:  # SQLite has no data-modifying WITH (and no round trip to save)
        assert len(writes) == 2
