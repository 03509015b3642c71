-- Undoes 0005_stock_triggers.sqlite.sql (migrating back to 0004).
DROP TRIGGER IF EXISTS points_stockmovement_no_update;

DROP TRIGGER IF EXISTS points_stockmovement_no_delete;
