-- Stock movements are never updated or deleted: a mistake is corrected by an adjustment.
-- Statements are separated by blank lines (the migration runs them one by one).
CREATE OR REPLACE FUNCTION points_stockmovement_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'points_stockmovement is append-only: stock movements are never %', lower(TG_OP) || 'd'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS points_stockmovement_immutable ON points_stockmovement;

CREATE TRIGGER points_stockmovement_immutable BEFORE UPDATE OR DELETE ON points_stockmovement
    FOR EACH ROW EXECUTE FUNCTION points_stockmovement_refuse_change();
