"""The trigger SQL of the points migrations is frozen: each file belongs to the migration of its name, runs as that
migration runs, and never changes; a migrated database holds exactly the triggers the files describe."""

import hashlib
import re

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunPython

from points.migrations.sql import SQL_DIR, statements

VENDORS = ("sqlite", "postgresql")

# sha256 of each released file (newlines as \n). A new migration adds its files' lines here, once; a line never
# changes, because a database migrated before the change would keep the old SQL.
FROZEN = {
    "0003_transfer_triggers.postgresql.reverse.sql": "2f845acd8a775ec52430ed2633d8a658ea3af84f34c84b5a7e6f3fd042274437",
    "0003_transfer_triggers.postgresql.sql": "c80822409697cdcc7d4cbef83bea1c112fedd51efd0c1f1a3ff08db5b9d41916",
    "0003_transfer_triggers.sqlite.reverse.sql": "5a8fe388207135cb9f73f6a3a82e98cef7df9c47f9cd3c69f1748426139e4257",
    "0003_transfer_triggers.sqlite.sql": "e697195b620f94f98d713bf5f8dcbd10663657c53e18c726351675ce44b898d1",
    "0005_stock_triggers.postgresql.reverse.sql": "c6101d5c75371dbb4eaa8334776354b2c2ccd1dc0204362f719d6304ec9f92e7",
    "0005_stock_triggers.postgresql.sql": "cd3907de33f267feb06ea7703831502a378839454238225bae192fc7bbb1311a",
    "0005_stock_triggers.sqlite.reverse.sql": "bf51a86bd1bb9f5a5aa762f0680c386fb3163dee301cbe364eedd578aa71a681",
    "0005_stock_triggers.sqlite.sql": "1aedbba9e48fe78552abad11a3c0526eef2f339d4082ff32000cebba20b3ea5e",
}
_FILE = re.compile(r"^(?P<migration>[0-9]{4}_\w+)\.(?P<vendor>sqlite|postgresql)(?P<reverse>\.reverse)?\.sql$")


def checksum(path) -> str:
    return hashlib.sha256(path.read_text().replace("\r\n", "\n").encode()).hexdigest()


def sql_files():
    return sorted(path for path in SQL_DIR.iterdir() if path.suffix == ".sql")


def points_migrations() -> dict:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {name: migration for (app, name), migration in loader.disk_migrations.items() if app == "points"}


class Recorder:
    """A schema editor that only writes down what a migration would execute."""

    def __init__(self, vendor):
        self.connection = type("Connection", (), {"vendor": vendor})()
        self.executed = []

    def execute(self, sql, params=()):
        self.executed.append(sql)


def test_no_released_sql_file_changes():
    changed = [p.name for p in sql_files() if p.name in FROZEN and checksum(p) != FROZEN[p.name]]
    assert not changed, (
        f"points/migrations/sql/{', '.join(changed)} changed. A released migration's SQL never changes (databases "
        "migrated before would keep the old SQL): put the file back and write a new migration with new files."
    )
    missing = sorted(set(FROZEN) - {p.name for p in sql_files()})
    assert not missing, f"points/migrations/sql/{', '.join(missing)} is gone: its migration still needs it"


def test_every_new_sql_file_is_registered_once():
    new = {p.name: checksum(p) for p in sql_files() if p.name not in FROZEN}
    assert not new, f"new migration SQL: add its checksums to FROZEN in {__file__}: {new}"


def test_every_sql_file_is_run_by_the_migration_of_its_name_and_only_by_it():
    migrations = points_migrations()
    for path in sql_files():
        match = _FILE.match(path.name)
        assert match, f"{path.name}: name it <migration>.<sqlite|postgresql>[.reverse].sql"
        assert match["migration"] in migrations, f"{path.name}: no migration {match['migration']} loads it"
    for name, migration in migrations.items():
        for vendor in VENDORS:
            forwards, backwards = Recorder(vendor), Recorder(vendor)
            for operation in migration.operations:
                if isinstance(operation, RunPython):
                    operation.code(None, forwards)
                    operation.reverse_code(None, backwards)
            has_sql = (SQL_DIR / f"{name}.{vendor}.sql").exists()
            assert forwards.executed == (statements(name, vendor) if has_sql else []), name
            assert backwards.executed == (statements(name, vendor, reverse=True) if has_sql else []), name


def _created(vendor: str, kind: str) -> dict[str, str]:
    """``CREATE <kind>`` statements of the forward files by object name; a later migration's statement wins."""
    found = {}
    for path in sql_files():
        match = _FILE.match(path.name)
        if match["vendor"] != vendor or match["reverse"]:
            continue
        for statement in statements(match["migration"], vendor):
            created = re.match(rf"CREATE (?:OR REPLACE )?{kind} (?:IF NOT EXISTS )?(\w+)", statement)
            if created:
                found[created[1]] = statement
    return found


def points_triggers() -> dict:
    """The triggers of the points tables in the database: name -> (table, definition)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'points%'"
            )
        else:
            cursor.execute(
                "SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND c.relname LIKE 'points%'"
            )
        return {name: (table, sql) for name, table, sql in cursor.fetchall()}


@pytest.mark.django_db
def test_migrated_database_holds_exactly_the_frozen_triggers():
    expected = _created(connection.vendor, "TRIGGER")
    in_database = points_triggers()
    assert set(in_database) == set(expected)
    for name, statement in expected.items():
        table, definition = in_database[name]
        assert re.search(rf"\bON {table}\b", statement), name
        if connection.vendor == "sqlite":  # SQLite keeps the statement's text, less IF NOT EXISTS and the last ;
            assert definition == statement.replace(" IF NOT EXISTS", "", 1).removesuffix(";")
    if connection.vendor == "postgresql":
        functions = _created("postgresql", "FUNCTION")
        with connection.cursor() as cursor:
            cursor.execute("SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s)", [list(functions)])
            bodies = dict(cursor.fetchall())
        assert set(bodies) == set(functions)
        for name, statement in functions.items():
            assert bodies[name] == statement.split("$$")[1], name


class Executor(Recorder):
    def execute(self, sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql)


@pytest.mark.django_db
def test_trigger_migrations_migrate_back_and_forth():
    """Undone newest first (rolled back with the test's transaction), then done again: the same triggers."""
    before = points_triggers()
    editor = Executor(connection.vendor)
    migrations = points_migrations()
    with_sql = [name for name in sorted(migrations) if (SQL_DIR / f"{name}.{connection.vendor}.sql").exists()]
    for name in reversed(with_sql):
        for operation in migrations[name].operations:
            operation.reverse_code(None, editor)
    assert points_triggers() == {}
    for name in with_sql:
        for operation in migrations[name].operations:
            operation.code(None, editor)
    assert points_triggers() == before
