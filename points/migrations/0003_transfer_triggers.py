"""Install the triggers that make points_transfer append-only, on SQLite and on PostgreSQL.

The SQL lives beside the code in points/sql/, one file per database.
"""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in statements(SQL_DIR / f"transfer_immutable.{vendor}.sql"):
        schema_editor.execute(statement, params=None)  # no placeholders: PL/pgSQL uses % itself


def statements(path):
    """The file's statements: separated by blank lines, comment lines dropped."""
    for block in path.read_text().split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("--")]
        if lines:
            yield "\n".join(lines)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS points_transfer_no_update")
        schema_editor.execute("DROP TRIGGER IF EXISTS points_transfer_no_delete")
    else:
        schema_editor.execute("DROP TRIGGER IF EXISTS points_transfer_immutable ON points_transfer")
        schema_editor.execute("DROP FUNCTION IF EXISTS points_transfer_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("points", "0002_ledger")]

    operations = [migrations.RunPython(install, uninstall)]
