"""Counter redemptions per second: ``points.store.redemption_create`` against raw SQL making the same writes.

Not a test. Run from the project root::

    .venv/bin/python bench/store.py            # full run (real migrations, 3 interleaved rounds), ~4-5 minutes
    .venv/bin/python bench/store.py --quick    # smoke run (schema from the models, 1 short round), < 1 minute
    .venv/bin/python bench/store.py --profile  # also profile the single-threaded service path

Each backend runs in a child process of its own (Django is configured once per process; ``harness`` runs them):
SQLite in a temporary file with the project's options (WAL, IMMEDIATE transactions), then PostgreSQL in a scratch
database ``hehe_bench_store`` (or ``BENCH_POSTGRES_URL``) created before the child and dropped after it (skipped
with a message if the server is unreachable).

Per backend and mode (1 worker, then 8 workers, threads with their own connections, all on ONE hot product) the
service and the baseline run for the same time, interleaved over rounds so that a change of machine load hits
both alike. The baseline does only the writes a redemption needs (the idempotency record taken first and
answered last, guarded stock UPDATE, the redemption, line and stock-movement inserts, the transfer insert with its
sha256 chain hash, the two balance updates and the head update) through the same Django connection; the service
additionally re-reads the household, village, products, accounts and the actor's scope and checks the month is
open. Anomalies (expected zero): a redemption that failed, negative stock, stock or redemption counts that
disagree with the successes counted, or books that ``verify_ledger`` refuses. Exit status: 0 all PASS, 1 a
throughput target missed, 2 an anomaly.
"""

import json
import sys
import uuid

import harness

WORKERS = 8
HOUSEHOLDS_PER_VILLAGE = 32  # 4 per worker when 8 redeem at once
AWARD_POINTS = 1000  # the largest rubric item; a redemption costs 1 point
AWARDS = 4  # so every household can redeem 4000 times
HOT_STOCK = 1_000_000


# --- child: the world -------------------------------------------------------------------------------------------


class Side:
    """One side of the comparison: its own village, hot product, storekeepers and households."""

    def __init__(self, name, village, product, actors, households, accounts, store_account):
        self.name = name
        self.village = village
        self.product = product
        self.actors = actors
        self.households = households
        self.accounts = accounts  # household id -> account id
        self.store_account = store_account
        self.counted = 0  # redemptions that succeeded (the harness counts them)


def seed(prefix: str, code: str, township, root):
    from django.contrib.auth import get_user_model

    from points.ledger.awards import points_award
    from points.ledger.books import household_account, system_account
    from points.models import (
        Account,
        Household,
        Member,
        Product,
        RubricCategory,
        RubricItem,
        StaffRole,
        Village,
        VillageGroup,
    )
    from points.register.services import household_save, staff_role_save
    from points.store.services import stocktake_record

    village = Village.objects.create(township=township, name=f"{prefix}村", code=code)
    group = VillageGroup.objects.create(village=village, name="一组")
    actors = []
    for n in range(WORKERS):
        user = get_user_model().objects.create_user(username=f"{code}-keeper-{n}", password="bench-pw-123")
        staff_role_save(role=StaffRole(user=user, role=StaffRole.Role.STOREKEEPER, village=village), actor=root)
        actors.append(user)
    households = []
    for n in range(HOUSEHOLDS_PER_VILLAGE):
        household = Household(village=village, number=f"{n + 1:03d}", group=group, address="幸福路")
        household.members = [Member(name=f"户主{n:02d}", relation="head", gender="M", birth_year=1960)]
        households.append(household_save(household=household, actor=root))
    category, _ = RubricCategory.objects.get_or_create(name="基准")
    item = RubricItem.objects.create(category=category, village=village, name="基准奖励", points=AWARD_POINTS)
    for n in range(AWARDS):
        points_award(
            actor=root, village=village, rubric_item=item, households=households, idempotency_key=f"{code}-{n}"
        )
    product = Product.objects.create(village=village, name="热销肥皂", price=1, unit="块")
    stocktake_record(actor=root, village=village, counts={product.pk: HOT_STOCK}, idempotency_key=f"{code}-stock")
    product.refresh_from_db()
    accounts = {h.id: household_account(h).id for h in households}
    store_account = system_account(village, Account.Kind.STORE).id
    return Side(prefix, village, product, actors, households, accounts, store_account)


# --- child: the two ways of redeeming ---------------------------------------------------------------------------


def service_op(side: Side, worker: int, workers: int, run_id: str):
    """A callable doing one counter redemption through the service, as worker ``worker`` of ``workers``."""
    from points.store.services import redemption_create

    actor = type(side.actors[worker]).objects.get(pk=side.actors[worker].pk)
    households = side.households[worker::workers]

    def op(n: int) -> None:
        actor.__dict__.pop("_hehe_scope", None)  # a request computes the scope afresh; so does each call here
        redemption_create(
            actor=actor,
            household=households[n % len(households)],
            lines=[(side.product.pk, 1)],
            idempotency_key=f"{run_id}-{worker}-{n}",
        )

    return op


TRANSFER_SQL = (
    "INSERT INTO points_transfer (village_id, seq, debit_account_id, credit_account_id, amount, code, household_id,"
    " member_id, rubric_item_id, item_name, conduct_delta, period, actor_id, acted_for_id, memo, photo_id,"
    " reverses_id, reason, created_at, prev_hash, hash)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, NULL, NULL, %s, 0, %s, %s, NULL, '', NULL, NULL, '', %s, %s, %s)"
    " RETURNING id"
)
REDEMPTION_SQL = (
    "INSERT INTO points_redemption (village_id, number, household_id, status, total_points, transfer_id,"
    " refund_id, created_by_id, created_at, pickup_deadline, closed_by_id, closed_at)"
    " VALUES (%s, (SELECT COALESCE(MAX(number), 0) + 1 FROM points_redemption WHERE village_id = %s),"
    " %s, 'completed', %s, %s, NULL, %s, %s, NULL, NULL, NULL) RETURNING id"
)
LINE_SQL = (
    "INSERT INTO points_redemptionline (redemption_id, village_id, product_id, product_name, quantity, unit_price,"
    " points) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
MOVEMENT_SQL = (
    "INSERT INTO points_stockmovement (village_id, product_id, kind, quantity, stock_after, donor_name,"
    " donor_public, reason, redemption_id, stocktake_id, actor_id, created_at)"
    " VALUES (%s, %s, 'redemption', %s, %s, '', %s, '', %s, NULL, %s, %s)"
)


KEY_SQL = (
    "INSERT INTO points_idempotencykey (actor_id, key, operation, request_hash, result, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (actor_id, key) DO NOTHING RETURNING id"
)
KEY_RESULT_SQL = "UPDATE points_idempotencykey SET result = %s WHERE id = %s"


def baseline_op(side: Side, worker: int, workers: int, run_id: str):
    """The same redemption as raw SQL: the writes and the reads they need, nothing else. Keeps the chain valid."""
    from django.db import connection, transaction
    from django.utils import timezone

    from points.ledger import books

    ops = connection.ops
    head_sql = "SELECT seq, hash FROM points_ledgerhead WHERE village_id = %s"
    if connection.vendor == "postgresql":
        head_sql += " FOR UPDATE"  # SQLite: the IMMEDIATE transaction already holds the write lock
    village_id, product = side.village.id, side.product
    actor_id = side.actors[worker].pk
    households = side.households[worker::workers]
    quantity = 1
    amount = product.price * quantity
    item_name = f"{product.name}×{quantity}"

    def op(n: int) -> None:
        household = households[n % len(households)]
        account_id = side.accounts[household.id]
        with transaction.atomic(), connection.cursor() as cursor:
            # The idempotency record, as the service keeps it: taken first (a retry waits on it), answered last.
            cursor.execute(KEY_SQL, [actor_id, uuid.uuid4().hex, "redemption_create", "0" * 64, "{}", key_at()])
            key_id = cursor.fetchone()[0]
            cursor.execute(head_sql, [village_id])
            seq, prev_hash = cursor.fetchone()
            cursor.execute(
                "UPDATE points_product SET stock = stock - %s WHERE id = %s AND stock >= %s RETURNING stock",
                [quantity, product.pk, quantity],
            )
            row = cursor.fetchone()
            if row is None:
                raise RuntimeError("baseline: out of stock")
            stock_after = row[0]
            cursor.execute(
                "UPDATE points_account SET debits = debits + %s, balance = balance - %s"
                " WHERE id = %s AND balance >= %s",
                [amount, amount, account_id, amount],
            )
            if cursor.rowcount != 1:
                raise RuntimeError("baseline: not enough points")
            cursor.execute(
                "UPDATE points_account SET credits = credits + %s, balance = balance + %s WHERE id = %s",
                [amount, amount, side.store_account],
            )
            now = timezone.now()
            period = books.month_of(now)
            seq += 1
            fields = harness.transfer_fields(
                village=village_id, seq=seq, debit=account_id, credit=side.store_account, amount=amount,
                code="redemption", household=household.id, item=None, item_name=item_name, conduct=0,
                period=period, actor=actor_id, created_at=now,
            )  # fmt: skip
            digest = books.transfer_hash(prev_hash, fields)
            at = ops.adapt_datetimefield_value(now)
            cursor.execute(
                TRANSFER_SQL,
                [
                    village_id,
                    seq,
                    account_id,
                    side.store_account,
                    amount,
                    "redemption",
                    household.id,
                    item_name,
                    ops.adapt_datefield_value(period),
                    actor_id,
                    at,
                    prev_hash,
                    digest,
                ],
            )
            transfer_id = cursor.fetchone()[0]
            cursor.execute(REDEMPTION_SQL, [village_id, village_id, household.id, amount, transfer_id, actor_id, at])
            redemption_id = cursor.fetchone()[0]
            cursor.execute(
                LINE_SQL, [redemption_id, village_id, product.pk, product.name, quantity, product.price, amount]
            )
            cursor.execute(
                MOVEMENT_SQL, [village_id, product.pk, -quantity, stock_after, False, redemption_id, actor_id, at]
            )
            cursor.execute(
                "UPDATE points_ledgerhead SET seq = %s, hash = %s WHERE village_id = %s", [seq, digest, village_id]
            )
            cursor.execute(KEY_RESULT_SQL, [json.dumps({"redemption": redemption_id}), key_id])

    def key_at():
        return ops.adapt_datetimefield_value(timezone.now())

    return op


# --- child: the books after each mode ---------------------------------------------------------------------------


def check_books(side: Side) -> list[str]:
    """What is wrong with the side's village after a phase (expected: nothing); the harness adds
    ``verify_ledger``'s verdict."""
    from django.db.models import Min

    from points.models import Product, Redemption, StockMovement

    problems = []
    stock = Product.objects.values_list("stock", flat=True).get(pk=side.product.pk)
    lowest = StockMovement.objects.filter(product=side.product).aggregate(low=Min("stock_after"))["low"]
    if stock < 0 or (lowest is not None and lowest < 0):
        problems.append(f"negative stock ({stock}, lowest movement {lowest})")
    want = side.product.stock - side.counted
    if stock != want:
        problems.append(f"stock {stock} but {side.counted} redemptions counted (want {want})")
    count = Redemption.objects.filter(village=side.village).count()
    if count != side.counted:
        problems.append(f"{count} redemptions stored but {side.counted} counted")
    return problems


BENCH = harness.Throughput(
    name="store",
    doc=__doc__,
    unit="redemption",
    rate_header=("service/s", "baseline/s"),
    seed=seed,
    seeded=f"{HOUSEHOLDS_PER_VILLAGE} households",
    service_op=service_op,
    baseline_op=baseline_op,
    check_books=check_books,
    workers=WORKERS,
)


if __name__ == "__main__":
    sys.exit(harness.throughput_main(BENCH))
