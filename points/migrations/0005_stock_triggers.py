"""Make points_stockmovement append-only with triggers, on SQLite and PostgreSQL (SQL: sql/0005_stock_triggers.*)."""

from django.db import migrations

from points.migrations.sql import frozen_sql


class Migration(migrations.Migration):
    dependencies = [("points", "0004_store")]

    operations = [frozen_sql(__file__)]
