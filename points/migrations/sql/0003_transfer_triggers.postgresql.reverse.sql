-- Undoes 0003_transfer_triggers.postgresql.sql (migrating back to 0002).
DROP TRIGGER IF EXISTS points_transfer_immutable ON points_transfer;

DROP FUNCTION IF EXISTS points_transfer_refuse_change();
