"""Counter redemptions per second: ``points.store.redemption_create`` against raw SQL making the same writes.

Not a test. Run from the project root::

    .venv/bin/python bench/store.py            # full run (real migrations, 3 interleaved rounds), ~4-5 minutes
    .venv/bin/python bench/store.py --quick    # smoke run (schema from the models, 1 short round), < 1 minute
    .venv/bin/python bench/store.py --profile  # also profile the single-threaded service path

Each backend runs in a child process of its own (Django is configured once per process): SQLite in a temporary
file with the project's options (WAL, IMMEDIATE transactions), then PostgreSQL in a scratch database
``hehe_bench_store`` that the child creates and drops (skipped with a message if the server is unreachable).

Per backend and mode (1 worker, then 8 workers, threads with their own connections, all on ONE hot product) the
service and the baseline run for the same time, interleaved over rounds so that a change of machine load hits
both alike. The baseline does only the writes a redemption needs (guarded stock UPDATE, the redemption, line and
stock-movement inserts, the transfer insert with its sha256 chain hash, the two balance updates and the head
update) through the same Django connection; the service additionally re-reads the household, products, accounts
and the actor's scope, checks the month is open, and records the idempotency key. Anomalies (expected zero): a
redemption that failed, negative stock, stock or redemption counts that disagree with the successes counted, or
books that ``verify_ledger`` refuses. Exit status: 0 all PASS, 1 a throughput target missed, 2 an anomaly.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_DATABASE = "hehe_bench_store"
PG_SERVER = {"HOST": "127.0.0.1", "PORT": "5432", "USER": "root"}
PG_ADMIN_URL = "postgresql://root@127.0.0.1:5432/postgres"
WORKERS = 8
TARGET = 0.50  # service throughput at least half the baseline's
HOUSEHOLDS_PER_VILLAGE = 32  # 4 per worker when 8 redeem at once
AWARD_POINTS = 1000  # the largest rubric item; a redemption costs 1 point
AWARDS = 4  # so every household can redeem 4000 times
HOT_STOCK = 1_000_000
PROFILE_OPS = 100


# --- parent: one child per backend, then the table --------------------------------------------------------------


def pg_unreachable() -> str | None:
    """None if the PostgreSQL server answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure to connect means: skip PostgreSQL
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return None


def pg_drop_scratch() -> None:
    """Drop the scratch database even if a child died holding it (best effort)."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
    except Exception:  # the server may be gone; nothing left to clean then
        pass


def parent(args) -> int:
    started = time.perf_counter()
    rows, notes = [], []
    for backend in ("sqlite", "postgresql"):
        if backend == "postgresql":
            reason = pg_unreachable()
            if reason:
                print(f"\n[postgresql] SKIPPED: server at 127.0.0.1:5432 unreachable ({reason})", flush=True)
                notes.append(f"postgresql skipped: {reason}")
                continue
        command = [sys.executable, str(Path(__file__).resolve()), "--child", backend]
        command += [flag for flag, on in (("--quick", args.quick), ("--profile", args.profile)) if on]
        print(f"\n[{backend}] starting ...", flush=True)
        child_started = time.perf_counter()
        try:
            child = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=900)
        finally:
            if backend == "postgresql":
                pg_drop_scratch()
        result = None
        for line in child.stdout.splitlines():
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT ") :])
            else:
                print(line, flush=True)
        print(f"[{backend}] finished in {time.perf_counter() - child_started:.0f}s", flush=True)
        if child.returncode != 0 or result is None:
            print(f"[{backend}] FAILED (exit {child.returncode}); see the output above", flush=True)
            rows.append({"backend": backend, "mode": "-", "error": f"child exited {child.returncode}"})
            continue
        rows.extend(result["rows"])
        notes.extend(f"{backend}: {note}" for note in result["notes"])
    print_table(rows, notes, time.perf_counter() - started)
    if any(row.get("error") or row.get("anomalies") for row in rows):
        return 2
    return 0 if all(row["ratio"] >= TARGET for row in rows) else 1


def print_table(rows, notes, elapsed) -> None:
    header = ("backend", "mode", "service/s", "baseline/s", "ratio", "target", "anomalies", "result")
    lines = []
    for row in rows:
        if row.get("error"):
            lines.append((row["backend"], row["mode"], "-", "-", "-", f">= {TARGET:.0%}", "-", "ERROR"))
            continue
        ok = row["ratio"] >= TARGET and not row["anomalies"]
        lines.append(
            (
                row["backend"],
                row["mode"],
                f"{row['service']:.0f}",
                f"{row['baseline']:.0f}",
                f"{row['ratio']:.0%}",
                f">= {TARGET:.0%}",
                str(row["anomalies"]),
                "PASS" if ok else "MISS",
            )
        )
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=False)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))
    for note in notes:
        print(f"  * {note}")
    print(f"(total {elapsed:.0f}s)", flush=True)


# --- child: configure Django for one backend --------------------------------------------------------------------


def configure(backend: str, workdir: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.test"
    os.environ.pop("TEST_DATABASE_URL", None)  # the test settings would point "default" elsewhere
    from django.conf import settings

    from portal.settings.env import SQLITE_OPTIONS

    if backend == "sqlite":
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(Path(workdir) / "bench_store.sqlite3"),
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    else:
        database = {"ENGINE": "django.db.backends.postgresql", "NAME": PG_DATABASE, **PG_SERVER}
    settings.DATABASES = {"default": database}
    settings.MEDIA_ROOT = workdir

    import django

    django.setup()


def build_schema(backend: str, use_migrations: bool) -> str:
    """Create the scratch database and its schema; returns how."""
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if backend == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {PG_DATABASE}")
    if use_migrations:
        call_command("migrate", verbosity=0, interactive=False)
        return "migrations"
    # The tables straight from the models (what Django's test runner does with MIGRATE=False), plus the
    # append-only triggers that the migrations install, from the same SQL files. `make test` checks that the
    # models and the migrations agree, so this is the same schema without replaying ~300 migrations.
    saved = settings.MIGRATION_MODULES
    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    try:
        call_command("migrate", verbosity=0, interactive=False, run_syncdb=True)
    finally:
        settings.MIGRATION_MODULES = saved
    from points import sql

    with connection.schema_editor() as editor:
        sql.run(editor, "transfer_immutable")
        sql.run(editor, "stock_immutable")
    return "models + trigger SQL"


def drop_schema(backend: str) -> None:
    from django.db import connections

    connections.close_all()
    if backend == "postgresql":
        pg_drop_scratch()


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
        self.expected_redemptions = 0


def seed(prefix: str, code: str, township, root):
    from django.contrib.auth import get_user_model

    from points.awards import points_award
    from points.ledger import household_account, system_account
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
    from points.register import household_save, staff_role_save
    from points.store import stocktake_record

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


def world():
    """Both villages, in one transaction (one commit instead of hundreds: seeding is not what is measured)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from points.models import District, Township
    from points.scope import scope_for

    root = get_user_model().objects.create_superuser(username="bench-root", password="bench-pw-123")
    scope_for(root)
    district = District.objects.create(name="基准区", code="BENCH")
    township = Township.objects.create(district=district, name="基准镇", code="BENCHT")
    with transaction.atomic():
        return seed("服务", "SVC01", township, root), seed("基线", "RAW01", township, root)


# --- child: the two ways of redeeming ---------------------------------------------------------------------------


def service_op(side: Side, worker: int, workers: int, run_id: str):
    """A callable doing one counter redemption through the service, as worker ``worker`` of ``workers``."""
    from points.store import redemption_create

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


def baseline_op(side: Side, worker: int, workers: int, run_id: str):
    """The same redemption as raw SQL: the writes and the reads they need, nothing else. Keeps the chain valid."""
    from django.db import connection, transaction
    from django.utils import timezone

    from points import ledger

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
            period = ledger.month_of(now)
            seq += 1
            fields = {
                "village": village_id,
                "seq": seq,
                "debit": account_id,
                "credit": side.store_account,
                "amount": amount,
                "code": "redemption",
                "household": household.id,
                "member": None,
                "item": None,
                "item_name": item_name,
                "conduct": 0,
                "period": period.isoformat(),
                "actor": actor_id,
                "acted_for": None,
                "memo": "",
                "photo": None,
                "reverses": None,
                "reason": "",
                "created_at": now.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
            }
            digest = ledger.transfer_hash(prev_hash, fields)
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

    return op


# --- child: measuring -------------------------------------------------------------------------------------------


def run_phase(make_op, side: Side, workers: int, seconds: float, run_id: str) -> dict:
    """``workers`` threads, each with its own connection, redeem for ``seconds``; returns counts and the time."""
    from django.db import connections

    barrier = threading.Barrier(workers + 1)
    done = [0] * workers
    failed = [0] * workers
    first_error: list[str] = []
    deadline = [0.0]

    def work(index: int) -> None:
        try:
            op = make_op(side, index, workers, run_id)
            connections["default"].ensure_connection()
            barrier.wait(timeout=60)
            n = 0
            while time.perf_counter() < deadline[0] and failed[index] < 100:
                try:
                    op(n)
                    done[index] += 1
                except Exception as exc:  # counted as an anomaly; the first one is shown
                    failed[index] += 1
                    if not first_error:
                        first_error.append(f"{type(exc).__name__}: {exc}")
                n += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds + 0.05
    barrier.wait(timeout=60)
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - started
    hung = sum(thread.is_alive() for thread in threads)
    side.expected_redemptions += sum(done)
    return {"ops": sum(done), "failed": sum(failed) + hung, "elapsed": elapsed, "errors": first_error}


def check_books(side: Side) -> list[str]:
    """What is wrong with the side's village after a phase (expected: nothing)."""
    from django.db.models import Min

    from points.models import Product, Redemption, StockMovement
    from points.verify import verify_ledger

    problems = []
    stock = Product.objects.values_list("stock", flat=True).get(pk=side.product.pk)
    lowest = StockMovement.objects.filter(product=side.product).aggregate(low=Min("stock_after"))["low"]
    if stock < 0 or (lowest is not None and lowest < 0):
        problems.append(f"negative stock ({stock}, lowest movement {lowest})")
    want = side.product.stock - side.expected_redemptions
    if stock != want:
        problems.append(f"stock {stock} but {side.expected_redemptions} redemptions counted (want {want})")
    count = Redemption.objects.filter(village=side.village).count()
    if count != side.expected_redemptions:
        problems.append(f"{count} redemptions stored but {side.expected_redemptions} counted")
    result = verify_ledger(village=side.village, record=False)
    if not result.ok:
        problems.append(f"verify_ledger: {result.problem}")
    return problems


def breakdown(make_op, side: Side, run_id: str, n: int = 40) -> dict:
    """Where one redemption's time goes, single-threaded: SQL statements (driver + server), commit, the rest.

    The rest is Python in the calling process: building and compiling queries, making model instances, hashing.
    """
    from django.db import connection

    op = make_op(side, 0, 1, run_id)
    op(0)  # warm
    side.expected_redemptions += 1
    clock = {"sql": 0.0, "statements": 0, "commit": 0.0}

    def timed_execute(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            clock["sql"] += time.perf_counter() - started
            clock["statements"] += 1

    real_commit = connection._commit

    def timed_commit():
        started = time.perf_counter()
        try:
            return real_commit()
        finally:
            clock["commit"] += time.perf_counter() - started

    connection._commit = timed_commit
    try:
        with connection.execute_wrapper(timed_execute):
            started = time.perf_counter()
            for i in range(1, n + 1):
                op(i)
            total = time.perf_counter() - started
    finally:
        del connection._commit
    side.expected_redemptions += n
    return {
        "ms": 1000 * total / n,
        "statements": clock["statements"] / n,
        "sql_ms": 1000 * clock["sql"] / n,
        "commit_ms": 1000 * clock["commit"] / n,
        "python_ms": 1000 * (total - clock["sql"] - clock["commit"]) / n,
    }


def describe(name: str, b: dict) -> str:
    return (
        f"{name}: {b['ms']:.1f} ms per redemption = {b['statements']:.0f} SQL statements {b['sql_ms']:.1f} ms"
        f" + commit {b['commit_ms']:.1f} ms + Python {b['python_ms']:.1f} ms ({b['python_ms'] / b['ms']:.0%})"
    )


def profile_service(side: Side, backend: str) -> None:
    """cProfile of single-threaded service redemptions: the points functions, then the hottest overall."""
    import cProfile
    import io
    import pstats

    op = service_op(side, 0, 1, "profile")
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(PROFILE_OPS):
        op(n)
    profiler.disable()
    side.expected_redemptions += PROFILE_OPS
    for title, order, restriction in (
        ("the service's own functions, by cumulative time", "cumulative", ("/points/", 20)),
        ("everything, by own time", "tottime", (20,)),
    ):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(*restriction)
        text = out.getvalue().replace(str(ROOT) + "/", "").replace(sys.prefix + "/lib/", "")
        print(f"\n[{backend}] profile of {PROFILE_OPS} service redemptions: {title}", file=sys.stderr)
        print("\n".join(line for line in text.splitlines() if line.strip())[:6000], file=sys.stderr, flush=True)


def child(args) -> int:
    backend = args.child
    rounds, seconds, samples = (1, 1.5, 15) if args.quick else (3, 3.0, 40)
    workdir = tempfile.mkdtemp(prefix="hehe-bench-store-")
    began = time.perf_counter()
    log = lambda message: print(f"[{backend}] {message}", file=sys.stderr, flush=True)  # noqa: E731
    configure(backend, workdir)
    log(f"Django ready in {time.perf_counter() - began:.1f}s")
    rows, notes = [], []
    try:
        t = time.perf_counter()
        how = build_schema(backend, use_migrations=not args.quick)
        log(f"schema ({how}) in {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        service, baseline = world()
        log(f"seeded 2 villages x {HOUSEHOLDS_PER_VILLAGE} households in {time.perf_counter() - t:.1f}s")
        sides = {"service": (service_op, service), "baseline": (baseline_op, baseline)}
        for name, (make, side) in sides.items():
            notes.append(describe(name, breakdown(make, side, f"split-{name}", samples)))
        for name, (make, side) in sides.items():
            run_phase(make, side, 1, 0.3, f"warm-{name}")
        if args.profile:
            profile_service(service, backend)
        for mode, workers in (("1 worker", 1), (f"{WORKERS} workers", WORKERS)):
            totals = {name: {"ops": 0, "failed": 0, "elapsed": 0.0, "errors": []} for name in sides}
            for round_ in range(rounds):
                order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
                for name in order:
                    make, side = sides[name]
                    phase = run_phase(make, side, workers, seconds, f"{mode[0]}-{round_}-{name}")
                    for key in ("ops", "failed", "elapsed"):
                        totals[name][key] += phase[key]
                    totals[name]["errors"] += phase["errors"]
            anomalies = 0
            for name, (_make, side) in sides.items():
                problems = check_books(side)
                anomalies += totals[name]["failed"] + len(problems)
                for problem in totals[name]["errors"][:1] + problems:
                    notes.append(f"{mode} {name}: {problem}")
            rate = {name: totals[name]["ops"] / totals[name]["elapsed"] for name in sides}
            row = {
                "backend": backend,
                "mode": mode,
                "service": rate["service"],
                "baseline": rate["baseline"],
                "ratio": rate["service"] / rate["baseline"] if rate["baseline"] else 0.0,
                "anomalies": anomalies,
            }
            log(
                f"{mode}: service {row['service']:.0f}/s, baseline {row['baseline']:.0f}/s, "
                f"ratio {row['ratio']:.0%}, anomalies {anomalies}"
            )
            rows.append(row)
        log(f"measured; {time.perf_counter() - began:.0f}s since start")
    finally:
        drop_schema(backend)
    print("RESULT " + json.dumps({"rows": rows, "notes": notes}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="schema from the models and one short round")
    parser.add_argument("--profile", action="store_true", help="profile the single-threaded service side")
    parser.add_argument("--child", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    return child(args) if args.child else parent(args)


if __name__ == "__main__":
    sys.exit(main())
