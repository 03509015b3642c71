"""What the benchmarks share: a child process per backend with its scratch database, Django set up in it, the
schema, the timed phases of a throughput comparison, and the printed tables.

A benchmark script runs twice. As the parent (what a person starts) it makes a work directory and a scratch
database per backend and starts itself again as the child for that backend (``--child``, ``--url``,
``--workdir``): Django can be configured once per process only. The child configures Django for that database,
builds the schema, measures, and writes its figures to ``result.json`` in the work directory; the parent prints
them. What a child prints goes straight to the terminal.

- SQLite: a file in the work directory, with the project's options (``portal.settings.env.SQLITE_OPTIONS``: WAL,
  ``synchronous=NORMAL``, ``BEGIN IMMEDIATE``), deleted with it.
- PostgreSQL: a scratch database on postgres://root@127.0.0.1:5432 named by the benchmark
  (``hehe_bench_<name>``), dropped and created before the child starts and dropped after it (``WITH (FORCE)``,
  also after a failure). ``BENCH_POSTGRES_URL`` names another server or database, e.g.
  ``postgres://root@127.0.0.1:5432/my_bench``: its database is dropped and created the same way.
"""

import argparse
import contextlib
import datetime
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://root@127.0.0.1:5432"
RESULT_FILE = "result.json"


# === the parent: scratch databases and children =================================================================


def postgres_url(name: str) -> str:
    """The scratch database: ``BENCH_POSTGRES_URL`` if set, else ``name`` on the local server."""
    return os.environ.get("BENCH_POSTGRES_URL") or f"{PG_SERVER}/{name}"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


class Unreachable(Exception):
    """The PostgreSQL server did not answer: that backend is skipped, with ``reason``."""

    def __init__(self, admin_url: str, exc: Exception):
        super().__init__(_first_line(exc))
        self.admin_url = admin_url
        parts = urlsplit(admin_url)
        self.server = f"{parts.hostname}:{parts.port or 5432}"
        self.detail = _first_line(exc)
        self.reason = f"{type(exc).__name__}: {self.detail}"


class ChildFailed(Exception):
    """The child exited non-zero or wrote no result (its output above says why)."""

    def __init__(self, returncode: int):
        super().__init__(f"child exited {returncode}")
        self.returncode = returncode


def _drop(url: str, *, strict: bool) -> None:
    """Drop the scratch database even if a child died holding it; best effort unless ``strict``."""
    import psycopg

    admin_url, name = _split(url)
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:  # the server may be gone; nothing left to clean then
        if strict:
            raise


def _split(url: str) -> tuple[str, str]:
    """The maintenance database's URL on the same server, and the scratch database's name."""
    base, name = url.rsplit("/", 1)
    return f"{base}/postgres", name.split("?")[0]


@contextlib.contextmanager
def scratch(vendor: str, pg_url: str, *, prefix: str = "hehe-bench-") -> Iterator[tuple[str, Path]]:
    """A work directory and an empty database for one child: yields the database's URL and the directory.

    ``vendor`` is "sqlite" or "postgresql"; raises ``Unreachable`` if the PostgreSQL server does not answer.
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        workdir = Path(tmp)
        if vendor == "sqlite":
            yield f"sqlite:///{workdir / 'bench.sqlite3'}", workdir
            return
        import psycopg

        admin_url, name = _split(pg_url)
        try:
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError as exc:
            raise Unreachable(admin_url, exc) from exc
        try:
            yield pg_url, workdir
        finally:
            _drop(pg_url, strict=False)


def run_child(script: str, backend: str, url: str, workdir: Path, flags: list[str], *, timeout=None) -> dict:
    """Run ``script`` again as the child measuring ``backend`` on ``url``; returns the figures it wrote."""
    command = [sys.executable, str(Path(script).resolve()), "--child", backend, "--url", url]
    command += ["--workdir", str(workdir), *flags]
    done = subprocess.run(command, cwd=ROOT, timeout=timeout)
    result = workdir / RESULT_FILE
    if done.returncode != 0 or not result.exists():
        raise ChildFailed(done.returncode)
    return json.loads(result.read_text())


def print_columns(header: tuple, lines: list[tuple]) -> None:
    """A blank line, then the table: columns left-aligned, two spaces apart, a rule under the header."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=False)]
    print()
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))


# === the child: Django on the scratch database ==================================================================


def child_arguments(parser: argparse.ArgumentParser, backends: list[str]) -> None:
    """The parent's hidden arguments to its children."""
    parser.add_argument("--child", choices=backends, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)


def configure(url: str, workdir: str) -> None:
    """Django with the test settings on the scratch database (``TEST_DATABASE_URL``, parsed as the tests parse
    it), media in the work directory: the project's ``db.sqlite3`` and ``media/`` are never touched."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.test"
    os.environ["TEST_DATABASE_URL"] = url
    from django.conf import settings

    settings.MEDIA_ROOT = str(Path(workdir) / "media")

    import django

    django.setup()


def build_schema(*, migrations: bool) -> str:
    """The schema of the (empty) scratch database; returns how it was built.

    With ``migrations`` every migration runs (~200, mostly Wagtail's: tens of seconds per backend). Otherwise the
    tables come straight from the models (what Django's test runner does with MIGRATE=False), and then the points
    migrations' RunPython operations (the append-only triggers, from ``points/migrations/sql``) run as those
    migrations run them. ``make test`` checks that the models and the migrations agree, so it is the same schema.
    """
    import importlib
    import pkgutil

    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.operations import RunPython

    if migrations:
        call_command("migrate", verbosity=0, interactive=False)
        return "migrations"
    saved = settings.MIGRATION_MODULES
    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    try:
        call_command("migrate", verbosity=0, interactive=False, run_syncdb=True)
    finally:
        settings.MIGRATION_MODULES = saved
    package = importlib.import_module("points.migrations")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        migration = importlib.import_module(f"points.migrations.{info.name}").Migration
        for operation in migration.operations:
            if isinstance(operation, RunPython):
                with connection.schema_editor() as editor:
                    operation.code(apps, editor)
    return "models + trigger SQL"


def write_result(workdir: str, result: dict) -> None:
    from django.db import connections

    connections.close_all()  # before the parent drops the database
    (Path(workdir) / RESULT_FILE).write_text(json.dumps(result))


def transfer_fields(*, village, seq, debit, credit, amount, code, household, item, item_name, conduct, period,
                    actor, created_at) -> dict:  # fmt: skip
    """What ``ledger.transfer_hash`` hashes for a transfer with these values and no member, ``acted_for``, memo,
    photo, reversal or reason (the rows the baselines write), built by the ledger's own ``hashed_values``: so a
    baseline's chain is one ``verify_ledger`` accepts."""
    from points.ledger.books import hashed_values

    values = [village, seq, debit, credit, amount, code, household, None, item, item_name, conduct, period, actor,
              None, "", None, None, ""]  # fmt: skip
    created = created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return hashed_values(values, period.isoformat(), created)


# === throughput: the service against raw SQL, 1 and 8 workers ===================================================


@dataclass(frozen=True)
class Throughput:
    """What a throughput benchmark supplies; the harness does the rest (see ``throughput_main``).

    A side is the benchmark's own object (its village, actors, households); the harness only keeps its
    ``counted`` attribute: the operations that succeeded on it, which ``check_books`` compares with the database.
    """

    name: str  # scratch database hehe_bench_<name>
    doc: str  # the script's docstring: its first paragraph is the --help description
    unit: str  # one operation, for the notes: "redemption", "ballot"
    rate_header: tuple[str, str]  # the table's two rate columns
    seed: Callable  # (prefix, code, township, root) -> one side, its village made in ``township``
    seeded: str  # what ``seed`` makes per village, for the log: "32 households"
    service_op: Callable  # (side, worker, workers, run_id) -> op(n): one operation through the service
    baseline_op: Callable  # the same, as raw SQL
    check_books: Callable[[object], list[str]]  # what is wrong with a side's books, besides verify_ledger
    workers: int = 8
    target: float = 0.50  # service throughput at least half the baseline's
    profile_ops: int = 100
    profile_filter: str = "/points/"  # the profile's first listing: functions whose path matches this (a regex)


def throughput_main(bench: Throughput) -> int:
    parser = argparse.ArgumentParser(description=bench.doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="schema from the models and one short round")
    parser.add_argument("--profile", action="store_true", help="profile the single-threaded service side")
    child_arguments(parser, ["sqlite", "postgresql"])
    args = parser.parse_args()
    return _throughput_child(bench, args) if args.child else _throughput_parent(bench, args)


def _throughput_parent(bench: Throughput, args) -> int:
    script = sys.argv[0]
    pg_url = postgres_url(f"hehe_bench_{bench.name}")
    flags = [flag for flag, on in (("--quick", args.quick), ("--profile", args.profile)) if on]
    started = time.perf_counter()
    rows, notes = [], []
    for backend in ("sqlite", "postgresql"):
        child_started = time.perf_counter()
        try:
            with scratch(backend, pg_url, prefix=f"hehe-bench-{bench.name}-") as (url, workdir):
                print(f"\n[{backend}] starting ...", flush=True)
                result = run_child(script, backend, url, workdir, flags, timeout=900)
        except Unreachable as exc:
            print(f"\n[{backend}] SKIPPED: server at {exc.server} unreachable ({exc.reason})", flush=True)
            notes.append(f"{backend} skipped: {exc.reason}")
            continue
        except ChildFailed as exc:
            print(f"[{backend}] finished in {time.perf_counter() - child_started:.0f}s", flush=True)
            print(f"[{backend}] FAILED (exit {exc.returncode}); see the output above", flush=True)
            rows.append({"backend": backend, "mode": "-", "error": str(exc)})
            continue
        print(f"[{backend}] finished in {time.perf_counter() - child_started:.0f}s", flush=True)
        rows.extend(result["rows"])
        notes.extend(f"{backend}: {note}" for note in result["notes"])
    _throughput_table(bench, rows, notes, time.perf_counter() - started)
    if any(row.get("error") or row.get("anomalies") for row in rows):
        return 2
    return 0 if all(row["ratio"] >= bench.target for row in rows) else 1


def _throughput_table(bench: Throughput, rows, notes, elapsed) -> None:
    header = ("backend", "mode", *bench.rate_header, "ratio", "target", "anomalies", "result")
    target = f">= {bench.target:.0%}"
    lines = []
    for row in rows:
        if row.get("error"):
            lines.append((row["backend"], row["mode"], "-", "-", "-", target, "-", "ERROR"))
            continue
        ok = row["ratio"] >= bench.target and not row["anomalies"]
        rates = (f"{row['service']:.0f}", f"{row['baseline']:.0f}", f"{row['ratio']:.0%}")
        lines.append((row["backend"], row["mode"], *rates, target, str(row["anomalies"]), "PASS" if ok else "MISS"))
    print_columns(header, lines)
    for note in notes:
        print(f"  * {note}")
    print(f"(total {elapsed:.0f}s)", flush=True)


def _throughput_child(bench: Throughput, args) -> int:
    backend = args.child
    rounds, seconds, samples = (1, 1.5, 15) if args.quick else (3, 3.0, 40)
    began = time.perf_counter()
    log = lambda message: print(f"[{backend}] {message}", file=sys.stderr, flush=True)  # noqa: E731
    configure(args.url, args.workdir)
    log(f"Django ready in {time.perf_counter() - began:.1f}s")
    t = time.perf_counter()
    how = build_schema(migrations=not args.quick)
    log(f"schema ({how}) in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    service, baseline = two_villages(bench.seed)
    log(f"seeded 2 villages x {bench.seeded} in {time.perf_counter() - t:.1f}s")
    sides = {"service": (bench.service_op, service), "baseline": (bench.baseline_op, baseline)}
    notes = []
    for name, (make, side) in sides.items():
        notes.append(describe(name, breakdown(make, side, f"split-{name}", samples), bench.unit))
    for name, (make, side) in sides.items():
        run_phase(make, side, 1, 0.3, f"warm-{name}")
    if args.profile:
        profile_service(bench, service, backend)
    rows = []
    for mode, workers in (("1 worker", 1), (f"{bench.workers} workers", bench.workers)):
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
            problems = bench.check_books(side) + ledger_problems(side)
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
    write_result(args.workdir, {"rows": rows, "notes": notes})
    return 0


def two_villages(seed: Callable) -> tuple:
    """Both sides, each seeded in a village of its own by ``seed(prefix, code, township, root)`` (``root`` a
    superuser), in one transaction: one commit instead of one per row, as seeding is not what is measured."""
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


def ledger_problems(side) -> list[str]:
    """``verify_ledger``'s verdict on the side's village: hash chain, balances, summaries, stock."""
    from points.ledger.verify import verify_ledger

    result = verify_ledger(village=side.village, record=False)
    return [] if result.ok else [f"verify_ledger: {result.problem}"]


def run_phase(make_op, side, workers: int, seconds: float, run_id: str) -> dict:
    """``workers`` threads, each with its own connection, run operations for ``seconds``; returns counts and the
    time."""
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
    side.counted += sum(done)
    return {"ops": sum(done), "failed": sum(failed) + hung, "elapsed": elapsed, "errors": first_error}


def breakdown(make_op, side, run_id: str, n: int = 40) -> dict:
    """Where one operation's time goes, single-threaded: SQL statements (driver + server), commit, the rest.

    The rest is Python in the calling process: building and compiling queries, making model instances, hashing.
    """
    from django.db import connection

    op = make_op(side, 0, 1, run_id)
    op(0)  # warm
    side.counted += 1
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
    side.counted += n
    return {
        "ms": 1000 * total / n,
        "statements": clock["statements"] / n,
        "sql_ms": 1000 * clock["sql"] / n,
        "commit_ms": 1000 * clock["commit"] / n,
        "python_ms": 1000 * (total - clock["sql"] - clock["commit"]) / n,
    }


def describe(name: str, b: dict, unit: str) -> str:
    return (
        f"{name}: {b['ms']:.1f} ms per {unit} = {b['statements']:.0f} SQL statements {b['sql_ms']:.1f} ms"
        f" + commit {b['commit_ms']:.1f} ms + Python {b['python_ms']:.1f} ms ({b['python_ms'] / b['ms']:.0%})"
    )


def profile_service(bench: Throughput, side, backend: str) -> None:
    """cProfile of single-threaded service operations: the filtered functions, then the hottest overall."""
    import cProfile
    import io
    import pstats

    op = bench.service_op(side, 0, 1, "profile")
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(bench.profile_ops):
        op(n)
    profiler.disable()
    side.counted += bench.profile_ops
    for title, order, restriction in (
        ("the service's own functions, by cumulative time", "cumulative", (bench.profile_filter, 20)),
        ("everything, by own time", "tottime", (20,)),
    ):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(*restriction)
        text = out.getvalue().replace(str(ROOT) + "/", "").replace(sys.prefix + "/lib/", "")
        print(f"\n[{backend}] profile of {bench.profile_ops} service {bench.unit}s: {title}", file=sys.stderr)
        print("\n".join(line for line in text.splitlines() if line.strip())[:6000], file=sys.stderr, flush=True)
