"""The store under real concurrency (PostgreSQL only): many counters, one stock, one balance, one key.

Each test starts its threads together on a ``threading.Barrier``; every thread opens its own database connection
and closes it when done (``connections.close_all()``), and every join has a timeout so a deadlock or a lost wake-up
fails the test instead of hanging the suite. SQLite serializes writers at BEGIN (IMMEDIATE), so these races only
exist on PostgreSQL; without TEST_DATABASE_URL the tests are skipped.
"""

import datetime
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from points import clock
from points.exceptions import StoreError
from points.ledger.awards import points_award
from points.ledger.selectors import household_balance
from points.ledger.verify import verify_ledger
from points.models import (
    Account,
    IdempotencyKey,
    Product,
    Redemption,
    RubricCategory,
    RubricItem,
    StockMovement,
    Transfer,
)
from points.store import services
from points.store.services import redemption_create, reservation_cancel, reservations_expire, stock_receive
from tests.concurrency import JOIN_TIMEOUT, error_types, errors, race, values  # noqa: F401
from tests.factories import make_household

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PRICE = 2
START_POINTS = 100


# --- running threads together -------------------------------------------------------------------------------


def fresh_user(user):
    """The same user loaded on the calling thread's connection (no scope cached from another thread)."""
    return get_user_model().objects.get(pk=user.pk)


def later_than_every_deadline(cast):
    return clock.now() + datetime.timedelta(days=cast.village_a.pickup_days, hours=1)


# --- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture
def shop(cast):
    """Village A's store: soap (2 pts, 10 left) and rice (2 pts, 1000 in stock); 30 households of 100 points."""
    soap = Product.objects.create(village=cast.village_a, name="肥皂", price=PRICE, unit="块")
    rice = Product.objects.create(village=cast.village_a, name="大米", price=PRICE, unit="袋")
    stock_receive(actor=cast.storekeeper_a, product=soap, quantity=10, idempotency_key="in-soap")
    for n in range(2):  # at most 999 per receipt
        stock_receive(actor=cast.storekeeper_a, product=rice, quantity=500, idempotency_key=f"in-rice-{n}")
    households = [make_household(cast.village_a, number=f"1{i:02d}", head=f"户主{i:02d}") for i in range(30)]
    item = RubricItem.objects.create(
        category=RubricCategory.objects.create(name="孝老爱亲"),
        district=cast.district,
        name="照顾老人",
        points=START_POINTS,
    )
    points_award(
        actor=cast.committee_a, village=cast.village_a, rubric_item=item, households=households, idempotency_key="seed"
    )
    return {"soap": soap, "rice": rice, "households": households, "item": item}


def stock_of(product):
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


def balance_history(household):
    """The household's balance after each of its transfers, in chain order."""
    account = Account.objects.get(household=household)
    running, history = 0, []
    for t in Transfer.objects.filter(village_id=household.village_id).order_by("seq"):
        if account.id in (t.debit_account_id, t.credit_account_id):
            running += t.amount if t.credit_account_id == account.id else -t.amount
            history.append(running)
    return history


def assert_books_verify():
    result = verify_ledger()
    assert result.ok, result.problem


# --- (a) the last items in stock --------------------------------------------------------------------------------


def test_thirty_counters_race_for_the_last_ten_items(cast, shop):
    soap, households = shop["soap"], shop["households"]
    assert stock_of(soap) == 10

    def counter(household, n):
        def call():
            return redemption_create(
                actor=fresh_user(cast.storekeeper_a),
                household=household,
                lines=[(soap.pk, 1)],
                idempotency_key=f"last-ten-{n}",
            )

        return call

    outcomes = race(*[counter(h, n) for n, h in enumerate(households)])

    assert len(values(outcomes)) == 10, error_types(outcomes)
    assert error_types(outcomes) == {"OutOfStock": 20}
    assert all("肥皂 库存不足" in str(exc) for exc in errors(outcomes))
    assert stock_of(soap) == 0
    # Each winner took a different item: the movements left 9, 8, ..., 0, and never went below zero.
    after = sorted(StockMovement.objects.filter(product=soap, kind="redemption").values_list("stock_after", flat=True))
    assert after == list(range(10))
    # Receipt numbers (the redemption's transfer sequence number) are unique; every winner paid once, every loser
    # kept its points.
    numbers = [r.number for r in values(outcomes)]
    assert len(set(numbers)) == 10
    assert numbers and all(r.number == r.transfer.seq for r in values(outcomes))
    winners = {r.household_id for r in values(outcomes)}
    for household in households:
        want = START_POINTS - PRICE if household.id in winners else START_POINTS
        assert household_balance(household) == want
    store_account = Account.objects.get(village=cast.village_a, kind=Account.Kind.STORE)
    assert store_account.balance == 10 * PRICE
    assert Transfer.objects.filter(code=Transfer.Code.REDEMPTION).count() == 10
    assert_books_verify()


# --- (b) one household at two counters --------------------------------------------------------------------------


@pytest.mark.parametrize("rounds", [5])
def test_one_household_at_two_counters_can_spend_its_points_once(cast, shop, rounds):
    rice = shop["rice"]
    cart = [(rice.pk, 30)]  # 60 points: a household of 100 affords one such cart, not two
    for n, household in enumerate(shop["households"][:rounds]):
        counters = [
            lambda h=household, n=n: redemption_create(
                actor=fresh_user(cast.storekeeper_a), household=h, lines=cart, idempotency_key=f"counter-1-{n}"
            ),
            lambda h=household, n=n: redemption_create(
                actor=fresh_user(cast.committee_a), household=h, lines=cart, idempotency_key=f"counter-2-{n}"
            ),
        ]
        outcomes = race(*counters)

        assert len(values(outcomes)) == 1, error_types(outcomes)
        assert error_types(outcomes) == {"InsufficientPoints": 1}
        (refusal,) = errors(outcomes)
        assert "需要 60 分，余额 40 分" in str(refusal)
        assert household_balance(household) == START_POINTS - 60
        assert min(balance_history(household)) >= 0
    assert stock_of(rice) == 1000 - rounds * 30
    assert Redemption.objects.count() == rounds
    assert_books_verify()


# --- (c) expiry, concurrent sweeps and cancels ------------------------------------------------------------------


def reserve(cast, household, product, quantity, key):
    return redemption_create(
        actor=cast.storekeeper_a, household=household, lines=[(product.pk, quantity)], idempotency_key=key, reserve=True
    )


@pytest.mark.parametrize("sweepers", [2, 3, 4])
def test_concurrent_expiry_sweeps_refund_each_reservation_once(cast, shop, sweepers):
    rice, households = shop["rice"], shop["households"][:6]
    reservations = [reserve(cast, h, rice, 5, f"hold-{n}") for n, h in enumerate(households)]
    assert all(household_balance(h) == START_POINTS - 10 for h in households)
    assert stock_of(rice) == 1000 - 6 * 5
    later = later_than_every_deadline(cast)

    def sweep():
        with clock.frozen_at(later):  # a contextvar: each thread sets its own
            return reservations_expire(village=cast.village_a)

    outcomes = race(*[sweep] * sweepers)

    assert not errors(outcomes), errors(outcomes)
    assert sum(values(outcomes)) == len(reservations)  # each expired by exactly one sweeper
    assert Transfer.objects.filter(code=Transfer.Code.REFUND).count() == len(reservations)
    for reservation in reservations:
        reservation.refresh_from_db()
        assert reservation.status == Redemption.Status.EXPIRED
        assert reservation.refund is not None
        assert StockMovement.objects.filter(redemption=reservation, kind="return").count() == 1
    assert all(household_balance(h) == START_POINTS for h in households)
    assert stock_of(rice) == 1000
    with clock.frozen_at(later):
        assert reservations_expire() == 0
    assert_books_verify()


@pytest.mark.parametrize("cancel_when", ["before_deadline", "after_deadline"])
def test_cancel_racing_the_expiry_sweep_refunds_once(cast, shop, cancel_when):
    """The resident cancels at the moment the sweep runs. Before the deadline either may win; after it the cancel
    itself expires the reservation. Either way: one refund, one restock, and the loser is told or does nothing."""
    rice, households = shop["rice"], shop["households"][:8]
    reservations = [reserve(cast, h, rice, 5, f"race-{n}") for n, h in enumerate(households)]
    later = later_than_every_deadline(cast)
    cancel_at = clock.now() if cancel_when == "before_deadline" else later

    for reservation in reservations:

        def cancel(reservation=reservation):
            with clock.frozen_at(cancel_at):
                return reservation_cancel(actor=fresh_user(cast.storekeeper_a), redemption=reservation)

        def sweep(reservation=reservation):
            with clock.frozen_at(later):
                return reservations_expire(village=cast.village_a, household=reservation.household)

        (cancel_outcome, sweep_outcome) = race(cancel, sweep)

        assert sweep_outcome[0] == "ok", sweep_outcome
        reservation.refresh_from_db()
        assert reservation.status in (Redemption.Status.CANCELLED, Redemption.Status.EXPIRED)
        if cancel_when == "after_deadline":
            assert reservation.status == Redemption.Status.EXPIRED
        if reservation.status == Redemption.Status.CANCELLED:
            assert cancel_outcome[0] == "ok" and sweep_outcome[1] == 0
        elif cancel_outcome[0] == "error":  # the sweep got there first
            assert isinstance(cancel_outcome[1], StoreError) and "已过期" in str(cancel_outcome[1])
            assert sweep_outcome[1] == 1
        else:  # the cancel came first but found the reservation overdue, and expired it itself
            assert sweep_outcome[1] == 0
        assert Transfer.objects.filter(code=Transfer.Code.REFUND, household=reservation.household).count() == 1
        assert StockMovement.objects.filter(redemption=reservation, kind="return").count() == 1
        assert household_balance(reservation.household) == START_POINTS
    assert stock_of(rice) == 1000
    assert_books_verify()


# --- (d) one key, eight callers ---------------------------------------------------------------------------------


def test_one_idempotency_key_from_eight_threads_redeems_once(cast, shop):
    rice, household = shop["rice"], shop["households"][0]

    def click():
        return redemption_create(
            actor=fresh_user(cast.storekeeper_a),
            household=household,
            lines=[(rice.pk, 3)],
            idempotency_key="scanner-double-fire",
        )

    outcomes = race(*[click] * 8)

    assert not errors(outcomes), errors(outcomes)
    assert len({r.pk for r in values(outcomes)}) == 1
    assert Redemption.objects.count() == 1
    assert IdempotencyKey.objects.filter(key="scanner-double-fire").count() == 1
    assert household_balance(household) == START_POINTS - 3 * PRICE
    assert stock_of(rice) == 1000 - 3
    assert_books_verify()


# --- lock order: a reservation's row lock and the village's ledger head ----------------------------------------


def test_a_reservation_lock_does_not_deadlock_a_counter_redemption(cast, shop):
    """Deterministic form of 'an expiry sweep while the counter is busy': the sweeper holds the reservation's row
    lock (as ``reservations_expire`` does) while a counter redemption holds the village's ledger head."""
    rice, (resident, shopper) = shop["rice"], shop["households"][:2]
    reservation = reserve(cast, resident, rice, 5, "held")
    later = later_than_every_deadline(cast)
    row_locked = threading.Event()

    def sweeper():
        with transaction.atomic(), clock.frozen_at(later):
            locked = services._locked_reservation(reservation)  # what reservations_expire does first
            row_locked.set()
            threading.Event().wait(1.0)  # the counter takes the head meanwhile
            return services._expire_if_overdue(locked)

    def counter():
        assert row_locked.wait(10)
        return redemption_create(
            actor=fresh_user(cast.storekeeper_a), household=shopper, lines=[(rice.pk, 1)], idempotency_key="busy"
        )

    outcomes = race(sweeper, counter)

    assert not errors(outcomes), [f"{type(e).__name__}: {e}" for e in errors(outcomes)]
    assert_books_verify()


def test_expiry_sweeps_and_counter_redemptions_in_one_village_all_succeed(cast, shop):
    """The realistic mix: two sweepers expiring six reservations while six counters redeem in the same village."""
    rice, households = shop["rice"], shop["households"]
    reservations = [reserve(cast, h, rice, 5, f"mix-{n}") for n, h in enumerate(households[:6])]
    later = later_than_every_deadline(cast)

    def sweep():
        with clock.frozen_at(later):
            return reservations_expire(village=cast.village_a)

    def counter(household, n):
        return lambda: redemption_create(
            actor=fresh_user(cast.storekeeper_a), household=household, lines=[(rice.pk, 2)], idempotency_key=f"c{n}"
        )

    outcomes = race(sweep, sweep, *[counter(h, n) for n, h in enumerate(households[10:16])])

    bad = [f"{type(e).__name__}: {e}" for e in errors(outcomes)]
    assert not bad, bad
    assert sum(values(outcomes)[:2]) == len(reservations)
    assert stock_of(rice) == 1000 - 6 * 2
    assert_books_verify()
