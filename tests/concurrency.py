"""Running calls in threads that start together, for the PostgreSQL concurrency tests.

Each thread opens its own database connection before a ``threading.Barrier`` and closes it when done; every
join has a timeout, so a deadlock or a lost wake-up fails the test instead of hanging the suite.
"""

import threading
import time
from collections import Counter

from django.db import connections

JOIN_TIMEOUT = 60  # seconds for all threads of one race; PostgreSQL breaks a deadlock after 1 s


def race(*calls, timeout=JOIN_TIMEOUT):
    """Run each zero-argument callable in its own thread, all released at once; returns one outcome per call.

    An outcome is ``("ok", value)`` or ``("error", exception)``. Fails if any thread is still running after
    ``timeout`` seconds (a hang), naming how many.
    """
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            # Open this thread's connection before the barrier, so that the start is as simultaneous as it gets.
            connections["default"].ensure_connection()
            barrier.wait(timeout=timeout)
            outcomes[index] = ("ok", call())
        except BaseException as exc:  # recorded and asserted on by the test
            outcomes[index] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    hung = [t for t in threads if t.is_alive()]
    assert not hung, f"{len(hung)} of {len(threads)} threads still running after {timeout}s (deadlock or hang)"
    return outcomes


def values(outcomes):
    return [value for kind, value in outcomes if kind == "ok"]


def errors(outcomes):
    return [value for kind, value in outcomes if kind == "error"]


def error_types(outcomes):
    return Counter(type(exc).__name__ for exc in errors(outcomes))
