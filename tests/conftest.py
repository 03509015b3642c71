import datetime
import os

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from points import clock

from .days import DAYS, DEFAULT_DAY
from .factories import build_cast, share_cast, shared_cast


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("any_day"):
        metafunc.parametrize("day", list(DAYS), indirect=True)


@pytest.fixture(autouse=True)
def day(request):
    """The moment this test starts at (``DAYS``); autouse, so no test reads the machine's date."""
    with clock.travelled_to(timezone.make_aware(DAYS[getattr(request, "param", DEFAULT_DAY)])):
        yield clock.now()


class Cast(dict):
    """The cast as attributes: ``cast.committee_a``."""

    __getattr__ = dict.__getitem__


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database of this worker, with the cast built in it once (through the services, committed), as
    Django's ``TestCase.setUpTestData`` would: every test then runs in a transaction rolled back at its end, so
    the cast's rows are the same for every test, and building it costs once per worker instead of once per test.

    A transactional test (``transactional_db``, ``live_server``) commits for real and ends with a flush that
    empties every table. After each such flush the database is put back as it was here, migrations' rows and the
    cast with the same primary keys (Django's serialized rollback, done after the flush instead of before the next
    test), so the tests after it find what every other test finds."""
    from django.core.management.commands import flush

    # Built the day before the tests' default moment, so that nothing of it lies in any test's future.
    built_on = timezone.make_aware(DAYS[DEFAULT_DAY]) - datetime.timedelta(days=1)
    with django_db_blocker.unblock(), clock.travelled_to(built_on):
        empty = connection.creation.serialize_db_to_string()  # as the migrations left it
        share_cast(build_cast(), empty=empty, built=connection.creation.serialize_db_to_string())

    original = flush.Command.handle

    def handle(self, *args, **options):
        if connection.in_atomic_block:  # inside a test's transaction (``without_cast``): rolled back with it
            return original(self, *args, **options)
        # post_migrate would make content types and permissions anew, with new keys; the restore brings back
        # the old ones, so the caches keyed by them (ContentType's) stay right.
        original(self, *args, **{**options, "inhibit_post_migrate": True})
        restore(shared_cast.built)

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


@pytest.fixture
def cast(db):
    """The cast built once per worker (``django_db_setup`` above) as fresh copies for this test: a test that
    changes an object in memory (``cast.village_a.notice_days = 0``) changes nobody else's; the rows it saves are
    rolled back with its transaction."""
    return Cast(shared_cast())


@pytest.fixture
def without_cast(db):
    """The database as the migrations left it, without the cast, for this test only (the demo seeder's test: the
    demo's district has the cast's codes). Emptied and refilled inside the test's transaction, which rolls back."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
    restore(shared_cast.empty)


def restore(serialized: str) -> None:
    """Rows serialized by ``serialize_db_to_string`` back in an emptied database, with their primary keys, and
    each sequence moved past them (as ``loaddata`` does): a flush on PostgreSQL may have restarted the sequences
    (``TRUNCATE ... RESTART IDENTITY``), and the next insert would take a restored row's key."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.color import no_style

    connection.creation.deserialize_db_from_string(serialized)
    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    # A content type made after the snapshot is gone, and its key may go to another model next: the cache of
    # content types by key must not answer with the old one (it did, on PostgreSQL, for Wagtail's workflows).
    # Filled again at once: the next restore runs on an empty table, where a cold cache would make content types
    # anew (Wagtail's pages ask for theirs while they are deserialized) and collide with the restored rows.
    ContentType.objects.clear_cache()
    ContentType.objects.get_for_models(*apps.get_models())


@pytest.fixture(autouse=True)
def _empty_cache():
    """An empty cache for every test: the public page cache, Wagtail's site paths and the cached sessions live in
    it, and with the cast's keys the same in every test, an entry one test left would answer for another."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def media(settings, tmp_path):
    """Uploads and drawn images of this test in a folder of its own, removed by pytest."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


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
