"""Ledger benchmark: the points services against raw SQL making the same row writes, and the ledger's read
queries at 1× and 10× the data. One run measures SQLite (a temp file with the project's settings: WAL,
synchronous=NORMAL, BEGIN IMMEDIATE) and PostgreSQL (a scratch database created and dropped by this script).

    .venv/bin/python bench/books.py            # full run, a few minutes
    .venv/bin/python bench/books.py --quick    # smaller counts, about a minute
    .venv/bin/python bench/books.py --only sqlite --profile   # and where the service's time goes (cProfile)

What is compared (see bench/README.md for the targets and how to read them):

(i)   single awards per second: ``points_award`` for one household, against one transaction per award that takes
      the idempotency record, reads the chain head, inserts the transfer row (with its sha256 chain hash),
      updates the two balances, upserts the month's summary, moves the chain head and answers the idempotency
      record: the rows the service writes (and the head they hang on), without its checks or other reads.
(ii)  one batch award to 5,000 households: ``points_award`` against the same writes, the row-per-household ones
      as ``executemany``.
(iii) the balance, one statement page and the village ranking, with 1× and 10× the data: the same village
      while ten times as many villages fill the database, and a village of the same size with ten years of
      history instead of one.

Each backend runs in a child process (Django's settings are per process); the parent prints one table. The
PostgreSQL server comes from BENCH_POSTGRES_URL (default postgres://root@127.0.0.1:5432/hehe_bench_ledger); if it
cannot be reached that half is skipped with a message.
"""

import argparse
import json
import statistics
import sys
import time
import uuid

import harness

DEFAULT_DATABASE = "hehe_bench_ledger"  # on harness.PG_SERVER, unless BENCH_POSTGRES_URL names another

FULL = {"single": 1000, "batch": 5000, "batch_reps": 3, "village": 400, "samples": 60, "rounds": 9}
QUICK = {"single": 100, "batch": 5000, "batch_reps": 1, "village": 60, "samples": 20, "rounds": 5}

TARGET_SINGLE = 0.50  # service ≥ 50% of raw
TARGET_BATCH = 0.40  # service ≥ 40% of raw
TARGET_FLAT = 1.50  # 10× data ≤ 1.5× time


# === the parent: scratch databases, children, the table ========================================================


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (about a minute)")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="measure one backend")
    parser.add_argument(
        "--schema",
        choices=["models", "migrate"],
        default="models",
        help="build the scratch schema from the models plus the points migrations' triggers (default, seconds), "
        "or by running every migration (about 40 s per backend, Wagtail's mostly)",
    )
    parser.add_argument("--profile", action="store_true", help="also print a cProfile summary of the service calls")
    harness.child_arguments(parser, ["sqlite", "postgres"])
    args = parser.parse_args()
    if args.child:
        return child(args)

    started = time.perf_counter()
    results, skipped, failed = [], [], []
    flags = ["--schema", args.schema] + ["--quick"] * args.quick + ["--profile"] * args.profile
    pg_url = harness.postgres_url(DEFAULT_DATABASE)
    for backend in [args.only] if args.only else ["sqlite", "postgres"]:
        vendor = "sqlite" if backend == "sqlite" else "postgresql"
        try:
            with harness.scratch(vendor, pg_url) as (url, workdir):
                results.append(harness.run_child(__file__, backend, url, workdir, flags))
        except harness.Unreachable as exc:
            skipped.append(f"[{backend}] skipped: cannot reach PostgreSQL at {exc.admin_url} ({exc.detail})")
        except harness.ChildFailed:
            failed.append(f"[{backend}] the benchmark failed (see above)")
    if results:
        print_table(results, args, time.perf_counter() - started)
    for message in skipped + failed:
        print(message)
    return 1 if failed else 0


def print_table(results: list[dict], args, elapsed: float) -> None:
    rows = []
    for r in results:
        b = r["backend"]
        s, raw = r["single"]["service"], r["single"]["raw"]
        rows.append((b, "single award (awards/s)", f"{s:,.0f}", f"{raw:,.0f}", s / raw, TARGET_SINGLE, ">="))
        s, raw = r["batch"]["service"], r["batch"]["raw"]
        label = f"batch award, {r['batch']['households']:,} households (s)"
        rows.append((b, label, f"{s:.3f}", f"{raw:.3f}", raw / s, TARGET_BATCH, ">="))
        for name, figures in r["queries"].items():
            for scale, (base, grown) in figures.items():
                rows.append(
                    (b, f"{name}: {scale} (ms)", f"{grown:.3f}", f"{base:.3f}", grown / base, TARGET_FLAT, "<=")
                )
    headers = ("backend", "operation", "service", "baseline", "ratio", "target", "result")
    table = [
        (b, op, svc, base, f"{ratio:.2f}", f"{sign} {target:.2f}", "PASS" if _meets(ratio, target, sign) else "MISS")
        for b, op, svc, base, ratio, target, sign in rows
    ]
    harness.print_columns(headers, table)
    print()
    print(
        "single/batch: service = the points services, baseline = raw SQL making the same row writes; ratio = "
        "service throughput / raw throughput.\nqueries: service = time with 10× the data, baseline = time at 1× "
        "(same run); ratio = 10× / 1×. Medians."
    )
    for r in results:
        print(f"[{r['backend']}] {r['note']}")
    print(f"mode: {'quick' if args.quick else 'full'}, schema: {args.schema}, total {elapsed:.0f} s")


def _meets(ratio: float, target: float, sign: str) -> bool:
    return ratio >= target if sign == ">=" else ratio <= target


# === the child: one backend ====================================================================================


def child(args) -> int:
    harness.configure(args.url, args.workdir)
    sizes = QUICK if args.quick else FULL
    bench = Bench(args.child, sizes, profile=args.profile)
    harness.write_result(args.workdir, bench.run(args.schema))
    return 0


class Bench:
    def __init__(self, backend: str, sizes: dict, *, profile: bool):
        self.backend = backend
        self.sizes = sizes
        self.profile = profile
        self.t0 = time.perf_counter()

    def log(self, message: str) -> None:
        print(f"[{self.backend} {time.perf_counter() - self.t0:6.1f}s] {message}", file=sys.stderr, flush=True)

    # --- set-up ----------------------------------------------------------------------------------------------

    def run(self, schema: str) -> dict:
        from django.db import connection

        harness.build_schema(migrations=schema == "migrate")
        if connection.vendor == "sqlite":
            import sqlite3

            version = sqlite3.sqlite_version
        else:
            version = connection.pg_version
        self.log(f"schema ready ({schema}); {connection.vendor} {version}")
        self.setup_cast()
        single = self.bench_single()
        batch = self.bench_batch()
        self.check_books()
        statements = self.count_statements()
        queries = self.bench_queries()
        return {
            "backend": self.backend,
            "single": single,
            "batch": batch,
            "queries": queries,
            "note": f"{statements} {self.note}",
        }

    def setup_cast(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db import transaction

        from points.ledger import books
        from points.models import Account, District, RubricCategory, RubricItem, StaffRole, Township
        from points.register.services import staff_role_save

        n = self.sizes["batch"]
        district = District.objects.create(name="基准区", code="BENCH")
        self.township = Township.objects.create(district=district, name="基准镇", code="BENCHT")
        self.service_village, self.service_households = self.make_village("BS01", n)
        self.raw_village, self.raw_households = self.make_village("BR01", n)
        root = get_user_model().objects.create_superuser(username="bench-root", password="x")
        self.actor = get_user_model().objects.create_user(username="bench-committee", password="x")
        staff_role_save(
            role=StaffRole(user=self.actor, role=StaffRole.Role.TOWNSHIP_STAFF, township=self.township), actor=root
        )
        category = RubricCategory.objects.create(name="基准")
        self.item = RubricItem.objects.create(category=category, district=district, name="照顾老人", points=10)
        # Accounts, heads and issuance accounts exist before timing: a village's first award is not the case
        # to measure.
        with transaction.atomic():
            for village, households in (
                (self.service_village, self.service_households),
                (self.raw_village, self.raw_households),
            ):
                books.household_accounts(households)
                books.system_account(village, Account.Kind.ISSUANCE)
                books.lock_head(village)
        self.raw_accounts = {
            a.household_id: a.id for a in Account.objects.filter(village=self.raw_village, kind="household")
        }
        self.raw_issuance = Account.objects.get(village=self.raw_village, kind="issuance").id
        self.log(f"two villages of {n:,} households each")

    def make_village(self, code: str, count: int, *, name: str = "基准村"):
        from points.models import Household, Village, VillageGroup

        village = Village.objects.create(township=self.township, name=name, code=code)
        group = VillageGroup.objects.create(village=village, name="一组")
        households = Household.objects.bulk_create(
            [
                Household(village=village, number=f"{i + 1:05d}", group=group, head_name=f"户主{i}", head_initials="hz")
                for i in range(count)
            ],
            batch_size=2000,
        )
        return village, households

    # --- raw SQL: the rows the ledger writes, nothing else ----------------------------------------------------

    def raw_sql(self):
        from django.db import connection

        from points.models import Account, IdempotencyKey, LedgerHead, PeriodSummary, Transfer

        key = IdempotencyKey._meta.db_table
        columns = [f.column for f in Transfer._meta.concrete_fields if not f.primary_key]
        placeholders = ", ".join(["%s"] * len(columns))
        account, head, summary = Account._meta.db_table, LedgerHead._meta.db_table, PeriodSummary._meta.db_table
        return {
            "columns": columns,
            "insert": f"INSERT INTO {Transfer._meta.db_table} ({', '.join(columns)}) VALUES ({placeholders})",
            "account": f"UPDATE {account} SET debits = debits + %s, credits = credits + %s, "
            f"balance = balance + %s WHERE id = %s",
            "summary": (
                f"INSERT INTO {summary} (village_id, household_id, period, conduct, awarded, deducted) "
                f"VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (household_id, period) DO UPDATE SET "
                f"conduct = {summary}.conduct + excluded.conduct, awarded = {summary}.awarded + excluded.awarded, "
                f"deducted = {summary}.deducted + excluded.deducted"
            ),
            "head": f"UPDATE {head} SET seq = %s, hash = %s WHERE village_id = %s",
            "head_read": f"SELECT seq, hash FROM {head} WHERE village_id = %s"
            + (" FOR NO KEY UPDATE" if connection.vendor == "postgresql" else ""),
            # The idempotency record the service keeps: taken first (a retry waits on it), answered last.
            "key": f"INSERT INTO {key} (actor_id, {connection.ops.quote_name('key')}, operation, request_hash, "
            f"result, created_at) VALUES (%s, %s, 'points_award', %s, '{{}}', %s) RETURNING id",
            "key_result": f"UPDATE {key} SET result = %s WHERE id = %s",
            "ops": connection.ops,
        }

    def transfer_row(self, sql, *, village_id, seq, debit, credit, amount, code, household_id, item, conduct,
                     period, actor_id, created_at, prev_hash, chained=True):  # fmt: skip
        """The column values of one transfer and its hash, computed as ``books.post`` computes them.

        ``chained=False`` (bulk data for the read queries only) stores a placeholder of the same length instead
        of hashing: loading is then twice as fast, and those villages are not verified."""
        from points.ledger.books import transfer_hash

        item_id, item_name = (item.id, item.name) if item else (None, "")
        if chained:
            fields = harness.transfer_fields(
                village=village_id, seq=seq, debit=debit, credit=credit, amount=amount, code=code,
                household=household_id, item=item_id, item_name=item_name, conduct=conduct, period=period,
                actor=actor_id, created_at=created_at,
            )  # fmt: skip
            digest = transfer_hash(prev_hash, fields)
        else:
            digest = f"{seq:064x}"
        ops = sql["ops"]
        values = {
            "village_id": village_id,
            "seq": seq,
            "debit_account_id": debit,
            "credit_account_id": credit,
            "amount": amount,
            "code": code,
            "household_id": household_id,
            "member_id": None,
            "rubric_item_id": item_id,
            "item_name": item_name,
            "conduct_delta": conduct,
            "period": ops.adapt_datefield_value(period),
            "actor_id": actor_id,
            "acted_for_id": None,
            "memo": "",
            "photo_id": None,
            "reverses_id": None,
            "reason": "",
            "created_at": ops.adapt_datetimefield_value(created_at),
            "prev_hash": prev_hash,
            "hash": digest,
        }
        return [values[c] for c in sql["columns"]], digest

    def raw_head(self, village):
        from points.models import LedgerHead

        head = LedgerHead.objects.get(village=village)
        return head.seq, head.hash

    def raw_award(self, sql, cursor, state, household, amount=10) -> None:
        """One award in one transaction: the transfer, two balances, the summary, the head."""
        from django.db import transaction
        from django.utils import timezone

        from points.ledger.books import month_of

        now = timezone.now()
        period = month_of(now)
        seq = state["seq"] + 1
        account = self.raw_accounts[household.id]
        row, digest = self.transfer_row(
            sql, village_id=self.raw_village.id, seq=seq, debit=self.raw_issuance, credit=account, amount=amount,
            code="award", household_id=household.id, item=self.item, conduct=amount, period=period,
            actor_id=self.actor.id, created_at=now, prev_hash=state["hash"],
        )  # fmt: skip
        with transaction.atomic():
            key_id = self.raw_key(sql, cursor)
            cursor.execute(sql["head_read"], [self.raw_village.id])
            cursor.fetchone()  # the hash was computed from ``state``: the same values
            cursor.execute(sql["insert"], row)
            cursor.execute(sql["account"], [amount, 0, -amount, self.raw_issuance])
            cursor.execute(sql["account"], [0, amount, amount, account])
            cursor.execute(sql["summary"], [self.raw_village.id, household.id, period, amount, amount, 0])
            cursor.execute(sql["head"], [seq, digest, self.raw_village.id])
            cursor.execute(sql["key_result"], [json.dumps({"transfers": [seq]}), key_id])
        state["seq"], state["hash"] = seq, digest

    def raw_key(self, sql, cursor) -> int:
        from django.utils import timezone

        at = sql["ops"].adapt_datetimefield_value(timezone.now())
        cursor.execute(sql["key"], [self.actor.id, uuid.uuid4().hex, "0" * 64, at])
        return cursor.fetchone()[0]

    def raw_batch(self, sql, cursor, households, amount=10) -> None:
        """One batch in one transaction, as executemany: transfers, balances, summaries, the head."""
        from django.db import transaction
        from django.utils import timezone

        from points.ledger.books import month_of

        now = timezone.now()
        period = month_of(now)
        seq, prev = self.raw_head(self.raw_village)
        rows = []
        for household in households:
            seq += 1
            row, prev = self.transfer_row(
                sql, village_id=self.raw_village.id, seq=seq, debit=self.raw_issuance,
                credit=self.raw_accounts[household.id], amount=amount, code="award", household_id=household.id,
                item=self.item, conduct=amount, period=period, actor_id=self.actor.id, created_at=now,
                prev_hash=prev,
            )  # fmt: skip
            rows.append(row)
        with transaction.atomic():
            key_id = self.raw_key(sql, cursor)
            cursor.execute(sql["head_read"], [self.raw_village.id])
            cursor.fetchone()
            cursor.executemany(sql["insert"], rows)
            cursor.executemany(sql["account"], [[0, amount, amount, self.raw_accounts[h.id]] for h in households])
            total = amount * len(households)
            cursor.execute(sql["account"], [total, 0, -total, self.raw_issuance])
            cursor.executemany(
                sql["summary"], [[self.raw_village.id, h.id, period, amount, amount, 0] for h in households]
            )
            cursor.execute(sql["head"], [seq, prev, self.raw_village.id])
            cursor.execute(
                sql["key_result"], [json.dumps({"transfers": list(range(seq - len(rows) + 1, seq + 1))}), key_id]
            )

    # --- (i) single awards ------------------------------------------------------------------------------------

    def bench_single(self) -> dict:
        from django.db import connection

        from points.ledger.awards import points_award

        n = self.sizes["single"]
        sql = self.raw_sql()
        service_households = self.service_households
        raw_households = self.raw_households
        timings = {"service": 0.0, "raw": 0.0}
        state = dict(zip(("seq", "hash"), self.raw_head(self.raw_village), strict=True))

        def service(i):
            points_award(
                actor=self.actor,
                village=self.service_village,
                rubric_item=self.item,
                households=[service_households[i % len(service_households)]],
                idempotency_key=f"single-{i}",
            )

        with connection.cursor() as cursor:
            for i in range(-10, 0):  # warm-up, untimed
                service(i)
                self.raw_award(sql, cursor, state, raw_households[i])
            # Interleaved blocks, so that drift (other load, caches, a checkpoint) hits both sides alike.
            blocks = 5
            per_block = n // blocks
            profiler = self.profiler()
            for block in range(blocks):
                start = time.perf_counter()
                if profiler:
                    profiler.enable()
                for i in range(block * per_block, (block + 1) * per_block):
                    service(i)
                if profiler:
                    profiler.disable()
                timings["service"] += time.perf_counter() - start
                start = time.perf_counter()
                for i in range(block * per_block, (block + 1) * per_block):
                    self.raw_award(sql, cursor, state, raw_households[i % len(raw_households)])
                timings["raw"] += time.perf_counter() - start
        done = per_block * blocks
        result = {"service": done / timings["service"], "raw": done / timings["raw"], "count": done}
        self.log(f"single awards: service {result['service']:,.0f}/s, raw {result['raw']:,.0f}/s ({done} each)")
        self.report_profile(profiler, "single awards (service)")
        return result

    # --- (ii) a batch of 5,000 --------------------------------------------------------------------------------

    def bench_batch(self) -> dict:
        from django.db import connection

        from points.ledger.awards import points_award

        sql = self.raw_sql()
        service_times, raw_times = [], []
        profiler = self.profiler()
        with connection.cursor() as cursor:
            for rep in range(self.sizes["batch_reps"]):
                start = time.perf_counter()
                if profiler:
                    profiler.enable()
                made = points_award(
                    actor=self.actor,
                    village=self.service_village,
                    rubric_item=self.item,
                    households=self.service_households,
                    idempotency_key=f"batch-{rep}",
                )
                if profiler:
                    profiler.disable()
                service_times.append(time.perf_counter() - start)
                assert len(made) == len(self.service_households)
                start = time.perf_counter()
                self.raw_batch(sql, cursor, self.raw_households)
                raw_times.append(time.perf_counter() - start)
        result = {
            "service": statistics.median(service_times),
            "raw": statistics.median(raw_times),
            "households": len(self.service_households),
        }
        self.log(f"batch of {result['households']:,}: service {result['service']:.3f}s, raw {result['raw']:.3f}s")
        self.report_profile(profiler, "batch award (service)")
        return result

    def check_books(self) -> None:
        """The raw baseline wrote the very rows the ledger would: both villages verify, chain and balances."""
        from points.ledger.verify import verify_ledger

        for village in (self.service_village, self.raw_village):
            result = verify_ledger(village=village, record=False)
            assert result.ok, f"{village.code}: {result.problem}"
        self.log("both villages verify (hash chain, balances, summaries)")

    def count_statements(self) -> str:
        """How many SQL statements the service sends, against the raw baseline's (not timed)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from points.ledger.awards import points_award

        counts = {}
        for n in (1, 100):
            with CaptureQueriesContext(connection) as captured:
                points_award(
                    actor=self.actor,
                    village=self.service_village,
                    rubric_item=self.item,
                    households=self.service_households[:n],
                    idempotency_key=f"count-{n}",
                )
            savepoints = sum("SAVEPOINT" in q["sql"] for q in captured.captured_queries)
            counts[n] = (len(captured.captured_queries) - savepoints, savepoints)
        # The raw baseline's, counted the same way (an executemany is one entry).
        sql = self.raw_sql()
        state = dict(zip(("seq", "hash"), self.raw_head(self.raw_village), strict=True))
        with CaptureQueriesContext(connection) as captured, connection.cursor() as cursor:
            self.raw_award(sql, cursor, state, self.raw_households[0])
        raw_one = len(captured.captured_queries)
        with CaptureQueriesContext(connection) as captured, connection.cursor() as cursor:
            self.raw_batch(sql, cursor, self.raw_households[:100])
        raw_hundred = len(captured.captured_queries)
        self.log(f"statements: service {counts}, raw {raw_one} / {raw_hundred}")
        (one, one_sp), (hundred, hundred_sp) = counts[1], counts[100]
        return (
            f"SQL statements per award: service {one} (+{one_sp} savepoint statements), raw {raw_one}; for a batch "
            f"of 100: service {hundred} (+{hundred_sp}), raw {raw_hundred} (three of them executemany)."
        )

    # --- (iii) queries at 1× and 10× --------------------------------------------------------------------------

    def bench_queries(self) -> dict:
        import datetime
        import random

        from django.utils import timezone

        from points.ledger.books import month_of
        from points.models import Account, Transfer

        size = self.sizes["village"]
        this_year = month_of(timezone.now()).year
        one_year = [datetime.date(this_year, m, 1) for m in range(1, 13)]
        ten_years = [datetime.date(y, m, 1) for y in range(this_year - 9, this_year + 1) for m in range(1, 13)]

        # 1×: one village, one year of history.
        small, small_households = self.make_village("Q1", size, name="一年村")
        per_village = self.load_history(small, small_households, one_year, chained=True)
        self.analyze()
        rng = random.Random(7)
        picks = sorted(rng.sample(range(size), self.sizes["samples"]))
        (base,) = self.time_queries([(small, [small_households[i] for i in picks])], this_year)
        self.log(f"1×: {size:,} households, {per_village:,} transfers: {self.fmt(base)}")

        # 10×: nine more villages like it, and one of the same size with ten years of history.
        for n in range(9):
            village, households = self.make_village(f"QV{n}", size, name="邻村")
            self.load_history(village, households, one_year)
        deep, deep_households = self.make_village("Q10", size, name="十年村")
        self.load_history(deep, deep_households, ten_years)
        self.analyze()
        grown, history = self.time_queries(
            [(small, [small_households[i] for i in picks]), (deep, [deep_households[i] for i in picks])], this_year
        )
        households = Account.objects.filter(kind="household").count()
        transfers = Transfer.objects.count()
        self.log(f"10×: the database holds {households:,} household accounts and {transfers:,} transfers")
        self.log(f"  same village, 10× villages around it: {self.fmt(grown)}")
        self.log(f"  same size, 10 years of history:       {self.fmt(history)}")
        from points.ledger.verify import verify_ledger

        assert verify_ledger(village=small, record=False).ok
        self.note = (
            f"1× = one village of {size:,} households with one year of history (two awards a month, a "
            f"redemption a quarter: {per_village:,} transfers); 10× villages = the same village once nine like it "
            f"and one with ten years of history are loaded (the database then holds {households:,} household "
            f"accounts, {transfers:,} transfers, the batch villages included); 10× history = a village of the same "
            f"size with ten years, against the 1-year village in the same database. {self.sizes['samples']} "
            f"households sampled; "
            f"{'VACUUM ANALYZE after loading' if self.backend == 'postgres' else 'no ANALYZE (as deployed)'}."
        )
        names = {"balance": "balance", "statement": "statement page", "ranking": "village ranking (year)"}
        return {names[q]: {"10× villages": (base[q], grown[q]), "10× history": (grown[q], history[q])} for q in names}

    @staticmethod
    def fmt(times: dict) -> str:
        return ", ".join(f"{k} {v:.3f} ms" for k, v in times.items())

    def analyze(self) -> None:
        from django.db import connection

        if connection.vendor == "postgresql":  # autovacuum would, on a live server: statistics, visibility map
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

    def time_queries(self, groups: list, year: int) -> list[dict]:
        """Milliseconds per call, for each (village, sampled households) group.

        The calls run in rounds, every group and household once per round, so that the groups compared share
        the same spells of other load and each call's repeats are spread over time. Each call keeps its fastest
        round (other load only ever adds time); the median is then taken across the sampled households."""
        from collections import defaultdict

        from points.ledger.selectors import household_balance, household_statement, period_range, ranking

        start, end = period_range("year", year)
        best = defaultdict(lambda: float("inf"))

        def timed(key, call):
            began = time.perf_counter()
            call()
            best[key] = min(best[key], (time.perf_counter() - began) * 1000)

        def statement(household):
            page = household_statement(household, page=1)
            assert len(page.object_list) == 20

        for village, _households in groups:
            rows = ranking(villages=[village], start=start, end=end)  # also warms the connection
            assert len(rows) == self.sizes["village"] and rows[0]["score"] > 0
        for _round in range(self.sizes["rounds"]):
            for g, (village, households) in enumerate(groups):
                for h in households:
                    timed((g, "balance", h.id), lambda h=h: household_balance(h))
                    timed((g, "statement", h.id), lambda h=h: statement(h))
                for _ in range(3):
                    timed((g, "ranking"), lambda v=village: ranking(villages=[v], start=start, end=end))
        return [
            {
                "balance": statistics.median(best[(g, "balance", h.id)] for h in households),
                "statement": statistics.median(best[(g, "statement", h.id)] for h in households),
                "ranking": best[(g, "ranking")],
            }
            for g, (_village, households) in enumerate(groups)
        ]

    def load_history(self, village, households, months, *, chained=False) -> int:
        """Write the village's past with raw SQL, oldest first, as the ledger would have: each month two awards of
        10 to every household, every third month a redemption of 5 (28 transfers a year, so that a year fills the
        first statement page); balances, summaries and the chain head kept."""
        import datetime
        from collections import defaultdict

        from django.db import connection, transaction

        from points.ledger import books
        from points.models import Account, PeriodSummary, Transfer

        sql = self.raw_sql()
        with transaction.atomic():
            accounts = {h: a.id for h, a in books.household_accounts(households).items()}
            issuance = books.system_account(village, Account.Kind.ISSUANCE).id
            store = books.system_account(village, Account.Kind.STORE).id
            books.lock_head(village)
        seq, prev = self.raw_head(village)
        moves = defaultdict(lambda: [0, 0])  # account -> debits, credits
        summaries = []
        count = 0
        with transaction.atomic(), connection.cursor() as cursor:
            for month in months:
                at = datetime.datetime.combine(month.replace(day=15), datetime.time(10), tzinfo=datetime.UTC)
                rows = []
                for n, household in enumerate(households):
                    created = at + datetime.timedelta(seconds=n)
                    postings = [(issuance, accounts[household.id], "award", self.item, 10)] * 2
                    if month.month % 3 == 0:
                        postings.append((accounts[household.id], store, "redemption", None, 5))
                    for debit, credit, code, item, amount in postings:
                        seq += 1
                        row, prev = self.transfer_row(
                            sql, village_id=village.id, seq=seq, debit=debit, credit=credit, amount=amount,
                            code=code, household_id=household.id, item=item, conduct=10 if item else 0,
                            period=month, actor_id=self.actor.id, created_at=created, prev_hash=prev,
                            chained=chained,
                        )  # fmt: skip
                        rows.append(row)
                        moves[debit][0] += amount
                        moves[credit][1] += amount
                    summaries.append([village.id, household.id, month, 20, 20, 0])
                self.bulk_insert(cursor, Transfer._meta.db_table, sql["columns"], rows)
                count += len(rows)
            cursor.executemany(sql["account"], [[d, c, c - d, a] for a, (d, c) in moves.items()])
            columns = ["village_id", "household_id", "period", "conduct", "awarded", "deducted"]
            self.bulk_insert(cursor, PeriodSummary._meta.db_table, columns, summaries)  # a new village: no conflict
            cursor.execute(sql["head"], [seq, prev, village.id])
        return count

    @staticmethod
    def bulk_insert(cursor, table: str, columns: list[str], rows: list) -> None:
        """Loading only (not measured): COPY on PostgreSQL, executemany on SQLite."""
        from django.db import connection

        if connection.vendor != "postgresql":
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)
            return
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    # --- profiling ----------------------------------------------------------------------------------------

    def profiler(self):
        if not self.profile:
            return None
        import cProfile

        return cProfile.Profile()

    def report_profile(self, profiler, title: str) -> None:
        if profiler is None:
            return
        import io
        import pstats

        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("cumulative").print_stats(r"points/|django/db/(models/(query|sql/compiler)|backends)", 30)
        print(f"\n--- cProfile: {title}, {self.backend} ---\n{stream.getvalue()}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
