"""points/store/sql.py: the guarded stock statements, on SQLite and on PostgreSQL (the suite's second run), and the
store's one write path for stock movements."""

# ruff: noqa: F811  (the fixtures imported from test_services are the tests' parameters)

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save

from points.models import Product, StockMovement
from points.store import sql

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
