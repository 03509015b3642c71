"""Make points_stockmovement append-only with triggers, on SQLite and PostgreSQL (SQL in points/sql/)."""

from django.db import migrations

from points.sql import append_only_migration_ops

install, uninstall = append_only_migration_ops("points_stockmovement", "stock_immutable")


class Migration(migrations.Migration):
    dependencies = [("points", "0004_store")]

    operations = [migrations.RunPython(install, uninstall)]
