import os

import pytest
from django.db import connection

from .factories import build_cast


class Cast(dict):
    """The cast as attributes: ``cast.committee_a``. Refreshed per test from the shared database rows."""

    __getattr__ = dict.__getitem__


@pytest.fixture
def cast(db):
    """Built per test (small: four households, eight users) so that transactional tests can flush freely."""
    return Cast(build_cast())


@pytest.fixture
def client_for(client, cast):
    """A test client signed in as one of the cast (``None`` for anonymous)."""

    def sign_in(role):
        client.logout()
        if role is not None:
            client.force_login(cast[role])
        return client

    return sign_in


@pytest.fixture(scope="session", autouse=True)
def _flush_past_append_only_triggers():
    """Transactional tests (live server, browser) end with Django's flush, which on SQLite is DELETE FROM:
    the append-only triggers rightly refuse it. For the flush only, drop them and put back exactly what the
    migrations installed (read from the database, so a later migration's triggers are kept too).
    (PostgreSQL flushes with TRUNCATE, which row triggers do not see.)"""
    import django.db.backends.sqlite3.base  # noqa: F401  (loads the backend before its operations module)
    from django.db.backends.sqlite3.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with self.connection.cursor() as cursor:
            # The triggers that refuse a change; Wagtail's search triggers keep their index in step and stay.
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%RAISE(ABORT%'")
            refusing = cursor.fetchall()
            for name, _sql in refusing:
                cursor.execute(f'DROP TRIGGER "{name}"')
        try:
            original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                for _name, sql in refusing:
                    cursor.execute(sql)

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


def pytest_collection_modifyitems(config, items):
    on_postgres = bool(os.environ.get("TEST_DATABASE_URL", "").startswith(("postgres", "postgresql")))
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL (CI's second run does)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture(scope="session", autouse=True)
def _no_database_session_left_open(django_db_setup, django_db_blocker):
    """On PostgreSQL the test database can only be dropped when no other session uses it. A connection a test
    thread left open (a live server's or a race's worker thread that ended without closing) would make the
    teardown fail with "is being accessed by other users". Before the teardown: name each such session (its
    last query, to find the test that left it) and end it."""
    yield
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, state, left(query, 160) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            for pid, state, query in cursor.fetchall():
                print(f"\n[tests] a database session was left open ({state}), last query {query!r}: ending it")
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
