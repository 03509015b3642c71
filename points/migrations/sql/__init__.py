"""The hand-written SQL of the points migrations (the append-only triggers), frozen: one file per migration and
database, named after the migration, that belongs to that migration alone.

``0003_transfer_triggers.postgresql.sql`` is what migration 0003 runs on PostgreSQL, and
``0003_transfer_triggers.postgresql.reverse.sql`` what it runs when migrated back. A file never changes once its
migration is released, or a database migrated later would get other triggers than one migrated before: a new
rule is a new migration with its own files. ``tests/points/test_migration_sql.py`` holds every file's checksum.
"""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent


def sql_path(migration: str, vendor: str, *, reverse: bool = False) -> Path:
    return SQL_DIR / f"{migration}.{vendor}{'.reverse' if reverse else ''}.sql"


def statements(migration: str, vendor: str, *, reverse: bool = False) -> list[str]:
    """The file's statements: separated by blank lines (PL/pgSQL bodies hold semicolons), comment lines dropped."""
    found = []
    for block in sql_path(migration, vendor, reverse=reverse).read_text().split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("--")]
        if lines:
            found.append("\n".join(lines))
    return found


def frozen_sql(migration_file: str) -> migrations.RunPython:
    """The operation of the migration at ``migration_file`` (its ``__file__``): its own files, both ways."""
    migration = Path(migration_file).stem

    def run(schema_editor, *, reverse: bool) -> None:
        for statement in statements(migration, schema_editor.connection.vendor, reverse=reverse):
            schema_editor.execute(statement, params=None)  # no placeholders: PL/pgSQL uses % itself

    return migrations.RunPython(
        lambda apps, schema_editor: run(schema_editor, reverse=False),
        lambda apps, schema_editor: run(schema_editor, reverse=True),
    )
