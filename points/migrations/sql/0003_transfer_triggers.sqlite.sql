-- Transfers are never updated or deleted: a mistake is undone by a reversal transfer.
-- Statements are separated by blank lines (the migration runs them one by one).
CREATE TRIGGER IF NOT EXISTS points_transfer_no_update BEFORE UPDATE ON points_transfer
BEGIN
    SELECT RAISE(ABORT, 'points_transfer is append-only: transfers are never updated');
END;

CREATE TRIGGER IF NOT EXISTS points_transfer_no_delete BEFORE DELETE ON points_transfer
BEGIN
    SELECT RAISE(ABORT, 'points_transfer is append-only: transfers are never deleted');
END;
