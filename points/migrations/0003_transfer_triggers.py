"""Make points_transfer append-only with triggers, on SQLite and PostgreSQL (SQL: sql/0003_transfer_triggers.*)."""

from django.db import migrations

from points.migrations.sql import frozen_sql


class Migration(migrations.Migration):
    dependencies = [("points", "0002_ledger")]

    operations = [frozen_sql(__file__)]
