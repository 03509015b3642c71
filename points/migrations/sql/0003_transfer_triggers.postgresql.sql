-- Transfers are never updated or deleted: a mistake is undone by a reversal transfer.
-- Statements are separated by blank lines (the migration runs them one by one).
CREATE OR REPLACE FUNCTION points_transfer_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'points_transfer is append-only: transfers are never %', lower(TG_OP) || 'd'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS points_transfer_immutable ON points_transfer;

CREATE TRIGGER points_transfer_immutable BEFORE UPDATE OR DELETE ON points_transfer
    FOR EACH ROW EXECUTE FUNCTION points_transfer_refuse_change();
