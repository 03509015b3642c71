-- Undoes 0005_stock_triggers.postgresql.sql (migrating back to 0004).
DROP TRIGGER IF EXISTS points_stockmovement_immutable ON points_stockmovement;

DROP FUNCTION IF EXISTS points_stockmovement_refuse_change();
