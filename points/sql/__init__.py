"""SQL that migrations load (triggers), one file per database: ``<name>.<vendor>.sql``."""

from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent


def statements(name: str, vendor: str):
    """The file's statements: separated by blank lines, comment lines dropped."""
    for block in (SQL_DIR / f"{name}.{vendor}.sql").read_text().split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("--")]
        if lines:
            yield "\n".join(lines)


def run(schema_editor, name: str) -> None:
    for statement in statements(name, schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)  # no placeholders: PL/pgSQL uses % itself


def append_only_migration_ops(table: str, name: str):
    """RunPython forwards/backwards installing the append-only triggers of ``table`` from ``name``."""

    def install(apps, schema_editor):
        run(schema_editor, name)

    def uninstall(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_refuse_change()")

    return install, uninstall
