-- Undoes 0003_transfer_triggers.sqlite.sql (migrating back to 0002).
DROP TRIGGER IF EXISTS points_transfer_no_update;

DROP TRIGGER IF EXISTS points_transfer_no_delete;
