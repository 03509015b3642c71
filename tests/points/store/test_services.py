"""The store's promises: stock and points move together, every line or none, once per key."""

import datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from points import clock
from points.exceptions import InsufficientPoints, InvalidAmount, OutOfScope, OutOfStock, StoreError
from points.ledger.awards import points_award
from points.ledger.selectors import household_balance
from points.ledger.verify import verify_ledger
from points.models import Product, Redemption, RubricCategory, RubricItem, StockMovement, Transfer
from points.store.selectors import public_donors, store_report
from points.store.services import (
    redemption_create,
    reservation_cancel,
    reservation_fulfil,
    reservations_expire,
    stock_receive,
    stock_write_off,
    stocktake_record,
)


@pytest.fixture
def store(cast):
    """Village A's store with soap (2 pts) and oil (30 pts); household_a holds 100 points."""
    soap = Product.objects.create(village=cast.village_a, name="肥皂", price=2, unit="块")
    oil = Product.objects.create(village=cast.village_a, name="菜籽油", price=30, unit="桶")
    stock_receive(actor=cast.storekeeper_a, product=soap, quantity=50, idempotency_key="in-soap")
    stock_receive(
        actor=cast.storekeeper_a,
        product=oil,
        quantity=3,
        idempotency_key="in-oil",
        donor_name="青山粮油店",
        donor_public=True,
    )
    item = RubricItem.objects.create(
        category=RubricCategory.objects.create(name="孝老爱亲"), district=cast.district, name="照顾老人", points=100
    )
    points_award(
        actor=cast.committee_a,
        village=cast.village_a,
        rubric_item=item,
        households=[cast.household_a],
        idempotency_key="seed",
    )
    soap.refresh_from_db()
    oil.refresh_from_db()
    return {"soap": soap, "oil": oil}


def counts():
    return (Redemption.objects.count(), Transfer.objects.count(), StockMovement.objects.count())


def redeem(cast, lines, key="r1", actor=None, household=None, reserve=False):
    return redemption_create(
        actor=actor or cast.storekeeper_a,
        household=household or cast.household_a,
        lines=lines,
        idempotency_key=key,
        reserve=reserve,
    )


def test_counter_redemption_moves_points_and_stock_together(cast, store):
    redemption = redeem(cast, [(store["soap"].pk, 5), (store["oil"], 2)])
    assert redemption.status == Redemption.Status.COMPLETED
    assert redemption.total_points == 5 * 2 + 2 * 30
    assert household_balance(cast.household_a) == 30
    store["soap"].refresh_from_db()
    store["oil"].refresh_from_db()
    assert (store["soap"].stock, store["oil"].stock) == (45, 1)
    assert redemption.receipt_number == f"QS01-{redemption.transfer.seq:06d}"
    lines = {line.product_name: (line.quantity, line.unit_price) for line in redemption.lines.all()}
    assert lines == {"肥皂": (5, 2), "菜籽油": (2, 30)}
    assert verify_ledger().ok


def test_a_price_change_never_changes_past_redemptions(cast, store):
    redemption = redeem(cast, [(store["soap"].pk, 1)])
    Product.objects.filter(pk=store["soap"].pk).update(price=9)
    assert redemption.lines.get().unit_price == 2


def test_one_short_line_changes_nothing_and_names_the_product(cast, store):
    before = counts()
    with pytest.raises(OutOfStock, match="菜籽油 库存不足：需要 4桶，只剩 3桶"):
        redeem(cast, [(store["soap"].pk, 1), (store["oil"].pk, 4)])
    assert counts() == before
    store["soap"].refresh_from_db()
    assert store["soap"].stock == 50
    assert household_balance(cast.household_a) == 100


def test_not_enough_points_says_how_many(cast, store):
    before = counts()
    with pytest.raises(InsufficientPoints, match="需要 120 分，余额 100 分"):
        redeem(cast, [(store["oil"].pk, 3), (store["soap"].pk, 15)])
    assert counts() == before
    store["oil"].refresh_from_db()
    assert store["oil"].stock == 3


def test_the_same_key_twice_redeems_once(cast, store):
    first = redeem(cast, [(store["soap"].pk, 1)], key="double-click")
    again = redeem(cast, [(store["soap"].pk, 1)], key="double-click")
    assert first.pk == again.pk
    assert Redemption.objects.count() == 1
    assert household_balance(cast.household_a) == 98


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "请至少选择一件商品"),
        ([("SOAP", 0)], "数量应为 1 到 999"),
        ([("SOAP", -3)], "数量应为 1 到 999"),
        ([("SOAP", 10**9)], "数量应为 1 到 999"),
        ([("SOAP", "2")], "数量应为 1 到 999"),
        ([("SOAP", 2.0)], "数量应为 1 到 999"),
        ([(999999, 1)], "不是本村超市的商品"),
        ([("abc", 1)], "商品编号无效"),
        ([(-1, 1)], "商品编号无效"),
        ([("SOAP", 600), ("SOAP", 600)], "数量应为 1 到 999"),
    ],
)
def test_bad_lines_are_refused_with_a_message(cast, store, lines, message):
    lines = [(store["soap"].pk if p == "SOAP" else p, q) for p, q in lines]
    before = counts()
    with pytest.raises(StoreError, match=message):
        redeem(cast, lines)
    assert counts() == before


def test_merged_lines_over_the_limit_are_refused_even_with_the_stock_there(cast, store):
    stock_receive(actor=cast.storekeeper_a, product=store["soap"], quantity=999, idempotency_key="lots-1")
    stock_receive(actor=cast.storekeeper_a, product=store["soap"], quantity=999, idempotency_key="lots-2")
    before = counts()
    with pytest.raises(StoreError, match="肥皂 的数量应为 1 到 999"):
        redeem(cast, [(store["soap"].pk, 600), (store["soap"].pk, 600)])
    assert counts() == before
    store["soap"].refresh_from_db()
    assert store["soap"].stock == 2048


def test_inactive_and_foreign_products_are_refused(cast, store):
    Product.objects.filter(pk=store["oil"].pk).update(active=False)
    with pytest.raises(StoreError, match="菜籽油 已下架"):
        redeem(cast, [(store["oil"].pk, 1)])
    foreign = Product.objects.create(village=cast.village_b, name="洗衣粉", price=5)
    with pytest.raises(StoreError, match="不是本村超市的商品"):
        redeem(cast, [(foreign.pk, 1)])


def test_a_redemption_too_large_for_the_ledger_is_refused(cast, store):
    expensive = Product.objects.create(village=cast.village_a, name="电视机", price=100_000)
    stock_receive(actor=cast.storekeeper_a, product=expensive, quantity=2, idempotency_key="tv")
    with pytest.raises(InvalidAmount):
        redeem(cast, [(expensive.pk, 2)])


def test_who_may_redeem(cast, store):
    with pytest.raises(OutOfScope):
        redeem(cast, [(store["soap"].pk, 1)], actor=cast.committee_b)
    with pytest.raises(OutOfScope):
        redeem(cast, [(store["soap"].pk, 1)], actor=cast.grid_worker_a)
    with pytest.raises(OutOfScope):
        redeem(cast, [(store["soap"].pk, 1)], actor=cast.resident_a)  # residents reserve, not redeem
    with pytest.raises(OutOfScope):
        redeem(cast, [(store["soap"].pk, 1)], actor=cast.resident_a, household=cast.household_a2, reserve=True)
    assert Redemption.objects.count() == 0


def test_reservation_cancel_refunds_and_restocks_exactly_once(cast, store):
    reservation = redeem(cast, [(store["oil"].pk, 2)], actor=cast.resident_a, reserve=True, key="res")
    assert reservation.status == Redemption.Status.RESERVED
    assert household_balance(cast.household_a) == 40
    reservation_cancel(actor=cast.resident_a, redemption=reservation)
    assert household_balance(cast.household_a) == 100
    store["oil"].refresh_from_db()
    assert store["oil"].stock == 3
    with pytest.raises(StoreError, match="已取消"):
        reservation_cancel(actor=cast.resident_a, redemption=reservation)
    with pytest.raises(StoreError, match="不能领取"):
        reservation_fulfil(actor=cast.storekeeper_a, redemption=reservation)
    assert household_balance(cast.household_a) == 100
    assert verify_ledger().ok


def test_another_household_cannot_cancel_my_reservation(cast, store):
    reservation = redeem(cast, [(store["soap"].pk, 1)], actor=cast.resident_a, reserve=True, key="mine")
    from points.register.services import resident_password_issue

    resident_password_issue(household=cast.household_a2, actor=cast.committee_a)
    neighbour = cast.household_a2.__class__.objects.get(pk=cast.household_a2.pk).account.user
    with pytest.raises(OutOfScope):
        reservation_cancel(actor=neighbour, redemption=reservation)
    with pytest.raises(OutOfScope):
        reservation_fulfil(actor=cast.committee_b, redemption=reservation)


@pytest.mark.any_day
def test_fulfilment_within_the_window(cast, store):
    reservation = redeem(cast, [(store["soap"].pk, 3)], actor=cast.resident_a, reserve=True, key="pick")
    reservation_fulfil(actor=cast.storekeeper_a, redemption=reservation)
    reservation.refresh_from_db()
    assert reservation.status == Redemption.Status.FULFILLED
    assert household_balance(cast.household_a) == 94


@pytest.mark.any_day
def test_expiry_refunds_once_even_when_run_twice(cast, store):
    reservation = redeem(cast, [(store["oil"].pk, 1)], actor=cast.resident_a, reserve=True, key="late")
    later = clock.now() + datetime.timedelta(days=cast.village_a.pickup_days, hours=1)
    with clock.frozen_at(later):
        assert reservations_expire() == 1
        assert reservations_expire() == 0
        with pytest.raises(StoreError, match="不能领取"):
            reservation_fulfil(actor=cast.storekeeper_a, redemption=reservation)
    reservation.refresh_from_db()
    assert reservation.status == Redemption.Status.EXPIRED
    assert household_balance(cast.household_a) == 100
    assert Transfer.objects.filter(code=Transfer.Code.REFUND).count() == 1
    assert verify_ledger().ok


@pytest.mark.any_day
def test_expiry_happens_lazily_when_the_storekeeper_opens_it(cast, store):
    reservation = redeem(cast, [(store["oil"].pk, 1)], actor=cast.resident_a, reserve=True, key="lazy")
    with clock.frozen_at(clock.now() + datetime.timedelta(days=30)):
        with pytest.raises(StoreError, match="已过领取期限"):
            reservation_fulfil(actor=cast.storekeeper_a, redemption=reservation)
    reservation.refresh_from_db()
    assert reservation.status == Redemption.Status.EXPIRED
    assert household_balance(cast.household_a) == 100


def test_write_off_and_stocktake_are_movements(cast, store):
    with pytest.raises(StoreError, match="报损原因"):
        stock_write_off(actor=cast.storekeeper_a, product=store["soap"], quantity=2, reason="", idempotency_key="w0")
    stock_write_off(actor=cast.storekeeper_a, product=store["soap"], quantity=2, reason="受潮", idempotency_key="w1")
    with pytest.raises(OutOfStock):
        stock_write_off(actor=cast.storekeeper_a, product=store["oil"], quantity=9, reason="漏", idempotency_key="w2")
    take = stocktake_record(
        actor=cast.storekeeper_a,
        village=cast.village_a,
        counts={store["soap"].pk: 47, store["oil"].pk: 3},
        idempotency_key="st1",
    )
    variances = {m.product.name: m.quantity for m in take.movements.all()}
    assert variances == {"肥皂": -1}
    store["soap"].refresh_from_db()
    assert store["soap"].stock == 47
    with pytest.raises(StoreError):
        stocktake_record(
            actor=cast.storekeeper_a, village=cast.village_a, counts={store["oil"].pk: -1}, idempotency_key="st2"
        )
    assert verify_ledger().ok


def test_the_database_refuses_negative_stock_and_changed_movements(cast, store):
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=store["oil"].pk).update(stock=-1)
    movement = StockMovement.objects.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE points_stockmovement SET quantity = 99 WHERE id = %s", [movement.pk])


def test_verify_ledger_catches_stock_changed_behind_the_books(cast, store):
    Product.objects.filter(pk=store["soap"].pk).update(stock=70)
    result = verify_ledger()
    assert not result.ok
    assert "stock 70 but movements give 50" in result.problem


def test_report_and_public_donors(cast, store):
    redeem(cast, [(store["oil"].pk, 1)])
    report = store_report(cast.village_a)
    assert report["stock_value"] == 50 * 2 + 2 * 30
    assert report["points_outstanding"] == 70
    assert [p.name for p in report["low_stock"]] == ["菜籽油"]
    assert report["top_products"][0]["product__name"] == "菜籽油"
    assert public_donors(cast.village_a) == [
        {"donor_name": "青山粮油店", "product__name": "菜籽油", "product__unit": "桶", "quantity": 3}
    ]
