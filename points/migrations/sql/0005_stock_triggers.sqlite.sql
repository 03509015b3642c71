-- Stock movements are never updated or deleted: a mistake is corrected by an adjustment.
-- Statements are separated by blank lines (the migration runs them one by one).
CREATE TRIGGER IF NOT EXISTS points_stockmovement_no_update BEFORE UPDATE ON points_stockmovement
BEGIN
    SELECT RAISE(ABORT, 'points_stockmovement is append-only: stock movements are never updated');
END;

CREATE TRIGGER IF NOT EXISTS points_stockmovement_no_delete BEFORE DELETE ON points_stockmovement
BEGIN
    SELECT RAISE(ABORT, 'points_stockmovement is append-only: stock movements are never deleted');
END;
