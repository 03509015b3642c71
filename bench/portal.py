"""Public pages per second under gunicorn: rendered (cache purged before every request), served from the page cache
(``portal/cache.py``), and the very same bytes served as a static file by the same gunicorn (WhiteNoise).

Not a test. Run from the project root::

    .venv/bin/python bench/portal.py               # demo-size seed (75 households a village), 10 s per measurement
    .venv/bin/python bench/portal.py --quick       # 20 households a village, 3 s per measurement: about 2 minutes
    .venv/bin/python bench/portal.py --seconds 20  # seconds per measurement (split over the rounds)

What it builds, all in a temporary directory deleted at the end (also after an error or Ctrl-C):

- a scratch SQLite database: every migration, ``seed_demo --households N`` (the demo district's four villages
  with a year of history, campaigns and winners, written through the services) and ``seed_pages``;
- a settings module importing ``portal.settings.production`` with STATIC_ROOT and MEDIA_ROOT in the temp dir, a
  random SECRET_KEY, no HTTPS redirect, and the cache shared by the workers: the project's Redis
  (``REDIS_URL=redis://127.0.0.1:6379/15``, under a key prefix of this run, whose keys are deleted at the end) or,
  if Redis does not answer, a file cache in the temp dir;
- ``collectstatic`` (the production storage), then ``gunicorn portal.wsgi -w 2`` (sync workers) on a free port.

The home page and the honor roll are each fetched once and their bytes written under STATIC_ROOT; gunicorn is
reloaded (HUP) so WhiteNoise serves them. Then ``--concurrency`` client threads (stdlib ``http.client``; sync
workers close every connection, so each request opens one) request each page in each mode for the same time, in
interleaved rounds (3 with --quick, 5 otherwise) so that other load on the machine hits all three modes alike:

- **uncached**: ``portal.cache.purge()`` (the generation bump every purge signal makes) before every request, so
  each one renders the page;
- **cached**: the page as the cache serves it (``X-Hehe-Cache: hit``);
- **static**: the saved bytes from ``/static/bench/``: the ceiling for a page served by this Python stack.

Every response is checked: status 200, the length of the saved page (±64 bytes), and the cache header (uncached
must miss, cached must hit; a few hits in the uncached run are possible when two requests share a generation).
Target: cached ≥ 50 % of static. Exit status: 0 PASS, 1 a target missed, 2 an anomaly (errors, wrong cache
states). The client threads share the machine's two cores with gunicorn, so the static figure is partly the
client's own limit: compare ratios within one run, and rerun before believing a borderline MISS.
"""

import argparse
import contextlib
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
PAGES = [("home", "/"), ("honor roll", "/honor-roll/")]
TARGET = 0.50  # cached throughput at least half the static file's
LENGTH_SLACK = 64  # a page's length may differ by a few bytes between renders (nothing does today)
UNCACHED_MIN_MISS = 0.90
CACHED_MIN_HIT = 0.99

SETTINGS = '''"""Written by bench/portal.py for one run; deleted with its temp dir."""
from portal.settings.production import *  # noqa: F403

STATIC_ROOT = {static!r}
MEDIA_ROOT = {media!r}
CACHES = {caches!r}
'''


# --- the scratch site -------------------------------------------------------------------------------------------


class Site:
    """The temp dir, the environment of every child process, the gunicorn process; ``close()`` undoes it all."""

    def __init__(self, households: int):
        self.households = households
        self.dir = Path(tempfile.mkdtemp(prefix="hehe-bench-portal-"))
        self.static = self.dir / "static"
        self.gunicorn = None
        self.port = None
        self.prefix = f"hehe-bench-{os.getpid()}-{secrets.token_hex(3)}"
        self.redis = redis_reachable()
        if self.redis:
            caches = {
                "default": {
                    "BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": REDIS_URL,
                    "KEY_PREFIX": self.prefix,
                }
            }
        else:
            caches = {
                "default": {
                    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                    "LOCATION": str(self.dir / "cache"),
                }
            }
        self.cache_name = f"Redis {REDIS_URL} (prefix {self.prefix})" if self.redis else "file cache (no Redis)"
        package = self.dir / "pkg"
        try:
            package.mkdir()
            (package / "hehe_bench_settings.py").write_text(
                SETTINGS.format(static=str(self.static), media=str(self.dir / "media"), caches=caches)
            )
        except OSError:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "hehe_bench_settings",
            "PYTHONPATH": os.pathsep.join([str(package), str(ROOT)]),
            "DATABASE_URL": f"sqlite:///{self.dir / 'db.sqlite3'}",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("REDIS_URL", None)
        self.env.pop("TEST_DATABASE_URL", None)

    def manage(self, *args: str) -> float:
        started = time.perf_counter()
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=1800
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
        return time.perf_counter() - started

    def build(self) -> None:
        for args in (
            ("migrate", "--noinput", "-v0"),
            ("seed_demo", "--households", str(self.households)),
            ("seed_pages",),
            ("collectstatic", "--noinput", "-v0"),
        ):
            print(f"  manage.py {' '.join(args)} ... ", end="", flush=True)
            print(f"{self.manage(*args):.0f}s", flush=True)

    def start(self) -> None:
        self.port = free_port()
        self.log = open(self.dir / "gunicorn.log", "w")  # closed in close()
        command = [GUNICORN, "portal.wsgi", "-w", "2", "--bind", f"127.0.0.1:{self.port}", "--no-control-socket"]
        self.gunicorn = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.wait_for("/", 200)

    def reload(self, path: str) -> None:
        """HUP: gunicorn starts new workers, whose WhiteNoise finds the files written since."""
        self.gunicorn.send_signal(signal.SIGHUP)
        self.wait_for(path, 200)

    def wait_for(self, path: str, status: int, timeout: float = 90) -> bytes:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.gunicorn.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.gunicorn.returncode}); see its log:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
                    if response.status == status:
                        return response.read()
            except OSError as exc:  # refused while booting, or 404 until the reload is done
                last = exc
            time.sleep(0.25)
        raise RuntimeError(f"{path} did not answer {status} within {timeout:.0f}s ({last}); log:\n{self.tail()}")

    def tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.dir / "gunicorn.log").read_text()[-3000:]
        return ""

    def close(self) -> None:
        if self.gunicorn is not None and self.gunicorn.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.gunicorn.pid, signal.SIGTERM)
            try:
                self.gunicorn.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.gunicorn.pid, signal.SIGKILL)
                self.gunicorn.wait(timeout=5)
        if getattr(self, "log", None):
            self.log.close()
        if self.redis:
            with contextlib.suppress(Exception):
                import redis

                client = redis.Redis.from_url(REDIS_URL)
                keys = list(client.scan_iter(match=f"{self.prefix}:*", count=500))
                if keys:
                    client.delete(*keys)
        shutil.rmtree(self.dir, ignore_errors=True)


def redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:  # any failure: use the file cache
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the cached/uncached switch -----------------------------------------------------------------------------------


def use_project_cache(site: Site):
    """Django in this process, with the site's settings, for ``portal.cache.purge`` only (no database access)."""
    for name in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "DATABASE_URL"):
        os.environ[name] = site.env[name]
    os.environ.pop("REDIS_URL", None)
    sys.path[:0] = site.env["PYTHONPATH"].split(os.pathsep)
    import django

    django.setup()
    from portal import cache

    return cache


def uncached(cache_module):
    """The one switch: a function run before each request that makes it render (``None``: served as cached)."""
    return cache_module.purge


# --- the client ---------------------------------------------------------------------------------------------------


def hammer(port: int, path: str, seconds: float, threads: int, expect_length: int, before=None) -> dict:
    """``threads`` clients request ``path`` for ``seconds``; returns rate, cache header tally and problems."""
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    done, states, problems = [0], Counter(), Counter()

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        count, seen, wrong = 0, Counter(), Counter()
        while time.perf_counter() < deadline:
            if before is not None:
                before()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                wrong[type(exc).__name__] += 1
                connection.close()
                continue
            if response.status != 200:
                wrong[f"HTTP {response.status}"] += 1
            elif abs(len(body) - expect_length) > LENGTH_SLACK:
                wrong[f"{len(body)} bytes, expected {expect_length}"] += 1
            seen[response.getheader("X-Hehe-Cache", "none")] += 1
            count += 1
        connection.close()
        with lock:
            done[0] += count
            states.update(seen)
            problems.update(wrong)

    workers = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    return {"requests": done[0], "seconds": elapsed, "states": states, "problems": problems}


def add(total: dict, part: dict) -> None:
    total["requests"] += part["requests"]
    total["seconds"] += part["seconds"]
    total["states"].update(part["states"])
    total["problems"].update(part["problems"])


# --- the run ------------------------------------------------------------------------------------------------------


def run(args) -> int:
    started = time.perf_counter()
    site = Site(households=20 if args.quick else 75)
    rounds = 3 if args.quick else 5
    seconds = args.seconds if args.seconds else (3.0 if args.quick else 10.0)
    try:
        print(f"scratch site in {site.dir} (SQLite, {site.households} households a village; {site.cache_name})")
        site.build()
        print("  gunicorn -w 2 ... ", end="", flush=True)
        site.start()
        print(f"listening on 127.0.0.1:{site.port}", flush=True)
        cache = use_project_cache(site)
        purge = uncached(cache)

        pages = []
        (site.static / "bench").mkdir(parents=True, exist_ok=True)
        for name, path in PAGES:
            purge()
            body = site.wait_for(path, 200)
            static = f"/static/bench/{path.strip('/').replace('/', '-') or 'home'}.html"
            (site.static / static.removeprefix("/static/")).write_bytes(body)
            pages.append({"name": name, "path": path, "static": static, "bytes": len(body)})
        site.reload(pages[-1]["static"])
        print(f"  pages saved as static files: {', '.join(p['static'] for p in pages)}; gunicorn reloaded", flush=True)

        modes = ("uncached", "cached", "static")
        totals = {
            (p["name"], mode): {"requests": 0, "seconds": 0.0, "states": Counter(), "problems": Counter()}
            for p in pages
            for mode in modes
        }
        print(f"measuring: {rounds} round(s) x {seconds / rounds:.1f}s per page and mode, {args.concurrency} clients")
        for number in range(rounds):
            for page in pages:
                for mode in modes:
                    path = page["static"] if mode == "static" else page["path"]
                    if mode == "cached":
                        site.wait_for(path, 200)  # store it once (a purge may have come before)
                    part = hammer(
                        site.port,
                        path,
                        seconds / rounds,
                        args.concurrency,
                        page["bytes"],
                        before=purge if mode == "uncached" else None,
                    )
                    add(totals[(page["name"], mode)], part)
                    rate = part["requests"] / part["seconds"]
                    print(f"  round {number + 1}: {page['name']:<10} {mode:<8} {rate:8.0f}/s", flush=True)
        return report(pages, totals, site, time.perf_counter() - started)
    finally:
        site.close()


def report(pages, totals, site, elapsed) -> int:
    header = ("page", "bytes", "uncached/s", "cached/s", "static/s", "cached/static", "uncached/static", "target", "")
    lines, notes, anomalies, missed = [], [], False, False
    for page in pages:
        rate = {}
        for mode in ("uncached", "cached", "static"):
            total = totals[(page["name"], mode)]
            rate[mode] = total["requests"] / total["seconds"] if total["seconds"] else 0.0
            states, problems = total["states"], total["problems"]
            count = sum(states.values()) or 1
            if problems:
                anomalies = True
                notes.append(f"{page['name']} {mode}: {dict(problems)}")
            if mode == "uncached" and states["miss"] / count < UNCACHED_MIN_MISS:
                anomalies = True
                notes.append(f"{page['name']} uncached: only {states['miss'] / count:.0%} misses {dict(states)}")
            if mode == "cached" and states["hit"] / count < CACHED_MIN_HIT:
                anomalies = True
                notes.append(f"{page['name']} cached: only {states['hit'] / count:.0%} hits {dict(states)}")
            if mode != "static":
                notes.append(f"{page['name']} {mode}: {total['requests']} requests, X-Hehe-Cache {dict(states)}")
        ratio = rate["cached"] / rate["static"] if rate["static"] else 0.0
        ok = ratio >= TARGET
        missed = missed or not ok
        lines.append(
            (
                page["name"],
                str(page["bytes"]),
                f"{rate['uncached']:.0f}",
                f"{rate['cached']:.0f}",
                f"{rate['static']:.0f}",
                f"{ratio:.1%}",
                f"{rate['uncached'] / rate['static']:.1%}" if rate["static"] else "-",
                f">= {TARGET:.0%}",
                "PASS" if ok else "MISS",
            )
        )
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=False)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)))
    notes.append(f"cache: {site.cache_name}; gunicorn 2 sync workers; SQLite; production settings")
    for note in notes:
        print(f"  * {note}")
    print(f"(total {elapsed:.0f}s)", flush=True)
    if anomalies:
        return 2
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small seed, 3 s per page and mode (about 2 minutes)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per page and mode (default 10; 3 quick)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (default 4)")
    args = parser.parse_args()
    if args.seconds is not None and args.seconds <= 0:
        parser.error("--seconds must be positive")
    if not Path(GUNICORN).exists():
        parser.error(f"{GUNICORN} not found: .venv/bin/python -m pip install -r requirements.txt")

    # SIGTERM (and SIGHUP) end the run the way Ctrl-C does, so the finally clause kills gunicorn and cleans up.
    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaned up", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
