"""What the browser tests share: the system Chromium, and live servers that never keep a database connection open
(see ``conftest.py``)."""

import contextlib
import os
import time
from pathlib import Path

import pytest
from django.db import connections

# Playwright's sync API runs an event loop in this thread; Django's ORM would otherwise refuse to be called here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Skipped only off CI, on a machine without Chromium (make test installs it when run as root). On CI (.ci/run sets
# CI=1) a missing browser is a failure, never a silent skip.
NEEDS_CHROMIUM = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="needs the system Chromium at /usr/bin/chromium (apt-get install chromium); required on CI",
)


@contextlib.contextmanager
def short_lived_connections():
    """Every database connection opened while this is active is closed at the end of its request."""
    saved = {}
    for alias in connections:
        settings_dict = connections.settings[alias]  # the same dict every new connection object is given
        saved[alias] = settings_dict.get("CONN_MAX_AGE", 0)
        settings_dict["CONN_MAX_AGE"] = 0
    try:
        yield
    finally:
        for alias, value in saved.items():
            connections.settings[alias]["CONN_MAX_AGE"] = value


def other_connections(alias: str = "default") -> list[tuple]:
    """PostgreSQL sessions on this test database other than ours (empty on SQLite)."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, left(query, 120) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchall()


def wait_until_no_other_connections(alias: str = "default", *, known=(), timeout: float = 10.0) -> list[tuple]:
    """Wait (briefly) for sessions on the test database other than ours and the ``known`` ones (by pid) to end;
    returns those still there."""
    deadline = time.monotonic() + timeout
    while True:
        left = [row for row in other_connections(alias) if row[0] not in known]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)
