"""Ballots per second: ``campaigns.services.ballot_cast`` against raw SQL making the same writes.

Not a test. Run from the project root::

    .venv/bin/python bench/campaigns.py            # full run (real migrations, 3 interleaved rounds), ~4 minutes
    .venv/bin/python bench/campaigns.py --quick    # smoke run (schema from the models, 1 short round), < 1 minute
    .venv/bin/python bench/campaigns.py --profile  # also profile the single-threaded service path

Each backend runs in a child process of its own (Django is configured once per process): SQLite in a temporary
file with the project's options (WAL, IMMEDIATE transactions), then PostgreSQL in a scratch database
``hehe_bench_campaigns`` that the child creates and drops (skipped with a message if the server is unreachable).

Every ballot is cast by the resident user of a different household (one ballot per household per campaign), in a
village-level campaign in phase voting, and earns the participation credit through the ledger. Per backend and
mode (1 worker, then 8 workers, threads with their own connections, all in ONE village) the service and the
baseline run for the same time, interleaved over rounds so that a change of machine load hits both alike. The
baseline makes the same writes in one transaction (ballot record, ballot with a random UUID and receipt, its
choices, the transfer with its sha256 hash chained on the village's head, the two balance updates, the head
update, the idempotency row and the record's credit) through the same Django connection; the service additionally
re-reads the campaign, household and nominees, computes the actor's scope, checks the window and the month, and
looks up the idempotency key. Anomalies (expected zero): a ballot that failed, BallotRecord and Ballot counts that
disagree with the ballots counted, or books that ``verify_ledger`` refuses. Exit status: 0 all PASS, 1 a
throughput target missed, 2 an anomaly.
"""

import argparse
import datetime
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_DATABASE = "hehe_bench_campaigns"
PG_SERVER = {"HOST": "127.0.0.1", "PORT": "5432", "USER": "root"}
PG_ADMIN_URL = "postgresql://root@127.0.0.1:5432/postgres"
WORKERS = 8
TARGET = 0.50  # service throughput at least half the baseline's
HOUSEHOLDS_PER_VILLAGE = 400  # each casts one ballot per campaign
CAMPAIGNS_PER_VILLAGE = 100  # so a side can cast 40,000 ballots before the pool is used up
NOMINEES = 4  # approved nominations per campaign
CHOICES = 2  # nominees chosen on every ballot
PARTICIPATION_POINTS = 2
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
    header = ("backend", "mode", "service ballots/s", "baseline ballots/s", "ratio", "target", "anomalies", "result")
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
            "NAME": str(Path(workdir) / "bench_campaigns.sqlite3"),
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
    """One side of the comparison: its own village, campaigns, and households with resident sign-ins."""

    def __init__(self, name, village, campaigns, nominees, actors, households, accounts, issuance_account):
        self.name = name
        self.village = village
        self.campaigns = campaigns  # ballot n goes to campaign n // households, household n % households
        self.nominees = nominees  # campaign id -> approved nomination ids
        self.actors = actors  # household id -> its resident user
        self.households = households
        self.accounts = accounts  # household id -> account id
        self.issuance_account = issuance_account
        self.expected_ballots = 0
        self.cursor = itertools.count()  # the next (campaign, household) slot, shared by the side's workers
        self.lock = threading.Lock()

    def slot(self):
        """The next unused (campaign, household) pair: every household votes once per campaign."""
        with self.lock:
            n = next(self.cursor)
        campaign = self.campaigns[n // len(self.households)]  # IndexError: the pool is used up (not expected)
        household = self.households[n % len(self.households)]
        return n, campaign, household


def seed(prefix: str, code: str, township, root):
    from django.contrib.auth import get_user_model

    from campaigns.models import Campaign, Nomination
    from points import clock
    from points.ledger import household_accounts, lock_head, system_account
    from points.models import Account, Household, ResidentAccount, Village, VillageGroup

    village = Village.objects.create(township=township, name=f"{prefix}村", code=code)
    group = VillageGroup.objects.create(village=village, name="一组")
    lock_head(village)  # creates the ledger head, as the village's first award would
    # Households and resident sign-ins in bulk: resident_password_issue hashes a password per household, which
    # would take minutes for hundreds of them. The user and ResidentAccount rows are the ones it writes (with an
    # unusable password); its HouseholdEvent audit row is left out, as ballot_cast does not read it.
    households = Household.objects.bulk_create(
        [
            Household(village=village, number=f"{n + 1:04d}", group=group, address="幸福路", head_name=f"户主{n:03d}")
            for n in range(HOUSEHOLDS_PER_VILLAGE)
        ]
    )
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"resident-{code}-{h.pk}", password="!") for h in households]
    )
    now = clock.now()
    ResidentAccount.objects.bulk_create(
        [
            ResidentAccount(user=u, household=h, village=village, issued_at=now, issued_by=root)
            for u, h in zip(users, households, strict=True)
        ]
    )
    accounts = {hid: a.id for hid, a in household_accounts(households).items()}
    issuance = system_account(village, Account.Kind.ISSUANCE).id
    campaigns = Campaign.objects.bulk_create(
        [
            Campaign(
                kind=Campaign.Kind.BEAUTIFUL_FAMILY,
                title=f"{prefix}最美家庭评选{n + 1}",
                level=Campaign.Level.VILLAGE,
                district_id=township.district_id,
                township=township,
                village=village,
                nominee_type=Campaign.NomineeType.HOUSEHOLD,
                choices_per_ballot=CHOICES,
                winners_count=1,
                participation_points=PARTICIPATION_POINTS,
                nominating_starts=now - datetime.timedelta(days=10),
                voting_starts=now - datetime.timedelta(days=1),
                voting_ends=now + datetime.timedelta(days=7),
                phase=Campaign.Phase.VOTING,
                created_by=root,
            )
            for n in range(CAMPAIGNS_PER_VILLAGE)
        ]
    )
    Nomination.objects.bulk_create(
        [
            Nomination(
                campaign=c,
                village=village,
                household=households[k],
                story="基准候选",
                status=Nomination.Status.APPROVED,
                nominated_by=root,
                reviewed_by=root,
                reviewed_at=now,
            )
            for c in campaigns
            for k in range(NOMINEES)
        ]
    )
    nominees = {}
    for campaign_id, pk in Nomination.objects.filter(village=village).values_list("campaign_id", "pk"):
        nominees.setdefault(campaign_id, []).append(pk)
    actors = {h.pk: u for u, h in zip(users, households, strict=True)}
    return Side(prefix, village, campaigns, nominees, actors, households, accounts, issuance)


def world():
    """Both villages, in one transaction (one commit instead of thousands: seeding is not what is measured)."""
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


def choices_for(side: Side, campaign, n: int) -> list[int]:
    """CHOICES of the campaign's nominees, rotating with the ballot number."""
    pool = side.nominees[campaign.pk]
    return [pool[(n + k) % len(pool)] for k in range(CHOICES)]


# --- child: the two ways of casting a ballot --------------------------------------------------------------------


def service_op(side: Side, worker: int, workers: int, run_id: str):
    """A callable casting one ballot through the service, as the resident of the next unused household."""
    from campaigns.services import ballot_cast

    def op(n: int) -> None:
        slot, campaign, household = side.slot()
        actor = side.actors[household.pk]
        actor.__dict__.pop("_hehe_scope", None)  # a request computes the scope afresh; so does each call here
        ballot_cast(
            actor=actor,
            campaign=campaign,
            nominee_ids=choices_for(side, campaign, slot),
            idempotency_key=f"{run_id}-{worker}-{n}",
        )

    return op


def baseline_op(side: Side, worker: int, workers: int, run_id: str):
    """The same ballot as raw SQL: the writes and the reads they need, nothing else. Keeps the chain valid."""
    import uuid

    from django.db import connection, transaction
    from django.utils import timezone

    from campaigns.models import Ballot, BallotChoice, BallotRecord, new_receipt
    from campaigns.services import _keyed, _seal
    from points import ledger
    from points.models import Account, IdempotencyKey, LedgerHead, Transfer

    ops = connection.ops
    head_sql = f"SELECT seq, hash FROM {LedgerHead._meta.db_table} WHERE village_id = %s"
    if connection.vendor == "postgresql":
        head_sql += " FOR NO KEY UPDATE"  # SQLite: the IMMEDIATE transaction already holds the write lock
    record_sql = (
        f"INSERT INTO {BallotRecord._meta.db_table} (campaign_id, village_id, household_id, channel, entered_by_id,"
        " cast_at, credit_id) VALUES (%s, %s, %s, 'phone', %s, %s, NULL) RETURNING id"
    )
    ballot_sql = f"INSERT INTO {Ballot._meta.db_table} (id, campaign_id, receipt) VALUES (%s, %s, %s)"
    choice_sql = f"INSERT INTO {BallotChoice._meta.db_table} (id, ballot_id, nomination_id) VALUES (%s, %s, %s)"
    account_sql = (
        f"UPDATE {Account._meta.db_table} SET debits = debits + %s, credits = credits + %s,"
        " balance = balance + %s WHERE id = %s"
    )
    transfer_sql = (
        f"INSERT INTO {Transfer._meta.db_table} (village_id, seq, debit_account_id, credit_account_id, amount, code,"
        " household_id, member_id, rubric_item_id, item_name, conduct_delta, period, actor_id, acted_for_id, memo,"
        " photo_id, reverses_id, reason, created_at, prev_hash, hash)"
        " VALUES (%s, %s, %s, %s, %s, 'vote', %s, NULL, NULL, %s, 0, %s, %s, NULL, '', NULL, NULL, '', %s, %s, %s)"
        " RETURNING id"
    )
    head_update_sql = f"UPDATE {LedgerHead._meta.db_table} SET seq = %s, hash = %s WHERE village_id = %s"
    key_sql = (
        f"INSERT INTO {IdempotencyKey._meta.db_table} (actor_id, key, operation, request_hash, result, created_at)"
        " VALUES (%s, %s, 'ballot_cast', %s, %s, %s)"
    )
    credit_sql = f"UPDATE {BallotRecord._meta.db_table} SET credit_id = %s WHERE id = %s"
    uuid_field = Ballot._meta.pk
    result_field = IdempotencyKey._meta.get_field("result")
    village_id = side.village.id
    issuance = side.issuance_account
    amount = PARTICIPATION_POINTS

    def op(n: int) -> None:
        slot, campaign, household = side.slot()
        actor_id = side.actors[household.pk].pk
        account_id = side.accounts[household.pk]
        ids = choices_for(side, campaign, slot)
        key = f"{run_id}-{worker}-{n}"
        lookup = "ballot:" + hashlib.sha256(key.encode()).hexdigest()
        digest = _keyed(key, {"campaign": campaign.pk, "household": household.pk, "nominees": sorted(ids)})
        item_name = f"参与「{campaign.title[:60]}」投票"[:80]
        receipt = new_receipt()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(head_sql, [village_id])
            seq, prev_hash = cursor.fetchone()
            now = timezone.now()
            at = ops.adapt_datetimefield_value(now)
            cursor.execute(record_sql, [campaign.pk, village_id, household.pk, actor_id, at])
            record_id = cursor.fetchone()[0]
            ballot_id = uuid_field.get_db_prep_value(uuid.uuid4(), connection)
            cursor.execute(ballot_sql, [ballot_id, campaign.pk, receipt])
            for nomination_id in sorted(ids):
                cursor.execute(
                    choice_sql, [uuid_field.get_db_prep_value(uuid.uuid4(), connection), ballot_id, nomination_id]
                )
            # ledger.post: one UPDATE per account in id order, then the transfer, then the head. A vote credit
            # has no conduct effect, so post() writes no PeriodSummary row for it (neither does this).
            for account, delta_out, delta_in in sorted([(issuance, amount, 0), (account_id, 0, amount)]):
                cursor.execute(account_sql, [delta_out, delta_in, delta_in - delta_out, account])
            period = ledger.month_of(now)
            seq += 1
            fields = {
                "village": village_id,
                "seq": seq,
                "debit": issuance,
                "credit": account_id,
                "amount": amount,
                "code": "vote",
                "household": household.pk,
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
            chained = ledger.transfer_hash(prev_hash, fields)
            cursor.execute(
                transfer_sql,
                [
                    village_id,
                    seq,
                    issuance,
                    account_id,
                    amount,
                    household.pk,
                    item_name,
                    ops.adapt_datefield_value(period),
                    actor_id,
                    at,
                    prev_hash,
                    chained,
                ],
            )
            transfer_id = cursor.fetchone()[0]
            cursor.execute(head_update_sql, [seq, chained, village_id])
            cursor.execute(credit_sql, [transfer_id, record_id])
            result = result_field.get_db_prep_save({"sealed": _seal(key, receipt)}, connection)
            cursor.execute(key_sql, [actor_id, lookup, digest, result, at])

    return op


# --- child: measuring -------------------------------------------------------------------------------------------


def run_phase(make_op, side: Side, workers: int, seconds: float, run_id: str) -> dict:
    """``workers`` threads, each with its own connection, cast ballots for ``seconds``; returns counts and the time."""
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
    side.expected_ballots += sum(done)
    return {"ops": sum(done), "failed": sum(failed) + hung, "elapsed": elapsed, "errors": first_error}


def check_books(side: Side) -> list[str]:
    """What is wrong with the side's village after a phase (expected: nothing)."""
    from campaigns.models import Ballot, BallotRecord
    from points.verify import verify_ledger

    problems = []
    records = BallotRecord.objects.filter(village=side.village).count()
    ballots = Ballot.objects.filter(campaign__village=side.village).count()
    if not records == ballots == side.expected_ballots:
        problems.append(f"{records} ballot records, {ballots} ballots, but {side.expected_ballots} ballots cast")
    uncredited = BallotRecord.objects.filter(village=side.village, credit__isnull=True).count()
    if uncredited:
        problems.append(f"{uncredited} ballot records without their participation credit")
    result = verify_ledger(village=side.village, record=False)
    if not result.ok:
        problems.append(f"verify_ledger: {result.problem}")
    return problems


def breakdown(make_op, side: Side, run_id: str, n: int = 40) -> dict:
    """Where one ballot's time goes, single-threaded: SQL statements (driver + server), commit, the rest.

    The rest is Python in the calling process: building and compiling queries, making model instances, hashing.
    """
    from django.db import connection

    op = make_op(side, 0, 1, run_id)
    op(0)  # warm
    side.expected_ballots += 1
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
    side.expected_ballots += n
    return {
        "ms": 1000 * total / n,
        "statements": clock["statements"] / n,
        "sql_ms": 1000 * clock["sql"] / n,
        "commit_ms": 1000 * clock["commit"] / n,
        "python_ms": 1000 * (total - clock["sql"] - clock["commit"]) / n,
    }


def describe(name: str, b: dict) -> str:
    return (
        f"{name}: {b['ms']:.1f} ms per ballot = {b['statements']:.0f} SQL statements {b['sql_ms']:.1f} ms"
        f" + commit {b['commit_ms']:.1f} ms + Python {b['python_ms']:.1f} ms ({b['python_ms'] / b['ms']:.0%})"
    )


def profile_service(side: Side, backend: str) -> None:
    """cProfile of single-threaded service ballots: the points functions, then the hottest overall."""
    import cProfile
    import io
    import pstats

    op = service_op(side, 0, 1, "profile")
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(PROFILE_OPS):
        op(n)
    profiler.disable()
    side.expected_ballots += PROFILE_OPS
    for title, order, restriction in (
        ("the service's own functions, by cumulative time", "cumulative", ("/points/", 20)),
        ("everything, by own time", "tottime", (20,)),
    ):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(*restriction)
        text = out.getvalue().replace(str(ROOT) + "/", "").replace(sys.prefix + "/lib/", "")
        print(f"\n[{backend}] profile of {PROFILE_OPS} service ballots: {title}", file=sys.stderr)
        print("\n".join(line for line in text.splitlines() if line.strip())[:6000], file=sys.stderr, flush=True)


def child(args) -> int:
    backend = args.child
    rounds, seconds, samples = (1, 1.5, 15) if args.quick else (3, 3.0, 40)
    workdir = tempfile.mkdtemp(prefix="hehe-bench-campaigns-")
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
        seeded = f"{HOUSEHOLDS_PER_VILLAGE} households and {CAMPAIGNS_PER_VILLAGE} campaigns"
        log(f"seeded 2 villages x {seeded} in {time.perf_counter() - t:.1f}s")
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
        shutil.rmtree(workdir, ignore_errors=True)  # the SQLite file and its WAL
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
