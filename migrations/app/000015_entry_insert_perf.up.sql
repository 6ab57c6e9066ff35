-- Bulk imports write 100 000 entries per COPY (issue 17: an import must reach
-- a quarter of a bare COPY of its file). Measured on a 2-core machine with
-- EXPLAIN ANALYZE of an INSERT of 100 000 plane entries: heap, checks and
-- nine indexes 6.1 s, the foreign key to report_modules 2.7 s more — one
-- lookup and one row lock per inserted row, although an import writes into a
-- handful of report modules.
--
-- 1. The key data_entries → report_modules is checked once per statement
--    instead of once per row: a statement trigger over the inserted rows
--    locks their distinct report modules FOR KEY SHARE (as the foreign key
--    did, so that a report module cannot go while an entry is being
--    written into it) and refuses, with the foreign key's SQLSTATE 23503
--    and name, rows whose (report_module_id, unit_id, year, module) is no
--    report module's. Measured: 0.27 s per 100 000 rows instead of 2.7 s.
--    The rest of the former key is kept by triggers on report_modules:
--    deleting a report module deletes its entries (ON DELETE CASCADE) and
--    changing the key columns of a report module that has entries is
--    refused (NO ACTION). Entries never change their report module (no
--    query updates those columns); a row trigger checks, only then, an
--    update that changes them.
--
-- 2. data_entries_primary_factor_id_idx goes: only the factor deletes
--    (stale factors, DELETE /factors/{id}) look entries up by primary
--    factor, once per statement (one scan of the entries, rare), while
--    every imported entry paid an index entry and every recalculation that
--    moves an entry to another factor lost its HOT update.
ALTER TABLE data_entries DROP CONSTRAINT data_entries_report_module_fkey;
DROP INDEX data_entries_primary_factor_id_idx;

CREATE FUNCTION data_entries_report_module_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    PERFORM 1 FROM report_modules rm
    WHERE rm.id IN (SELECT DISTINCT n.report_module_id FROM new_rows n)
    ORDER BY rm.id
    FOR KEY SHARE;
    SELECT n.report_module_id, n.unit_id, n.year, n.module INTO bad
    FROM (SELECT DISTINCT report_module_id, unit_id, year, module FROM new_rows) n
    WHERE NOT EXISTS (SELECT 1 FROM report_modules rm
                      WHERE rm.id = n.report_module_id AND rm.unit_id = n.unit_id
                        AND rm.year = n.year AND rm.module = n.module)
    LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "data_entries" violates foreign key constraint "data_entries_report_module_fkey"',
            DETAIL = format('Key (report_module_id, unit_id, year, module)=(%s, %s, %s, %s) is not present in table "report_modules".',
                            bad.report_module_id, bad.unit_id, bad.year, bad.module),
            TABLE = 'data_entries', CONSTRAINT = 'data_entries_report_module_fkey';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER data_entries_report_module_insert AFTER INSERT ON data_entries
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_entries_report_module_check();
-- An update that changes the key columns of entries (none does) is
-- checked row by row, only then.
CREATE FUNCTION data_entries_report_module_update_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM report_modules rm
    WHERE rm.id = NEW.report_module_id AND rm.unit_id = NEW.unit_id AND rm.year = NEW.year AND rm.module = NEW.module
    FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "data_entries" violates foreign key constraint "data_entries_report_module_fkey"',
            TABLE = 'data_entries', CONSTRAINT = 'data_entries_report_module_fkey';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER data_entries_report_module_update AFTER UPDATE OF report_module_id, unit_id, year, module ON data_entries
    FOR EACH ROW
    WHEN ((OLD.report_module_id, OLD.unit_id, OLD.year, OLD.module) IS DISTINCT FROM (NEW.report_module_id, NEW.unit_id, NEW.year, NEW.module))
    EXECUTE FUNCTION data_entries_report_module_update_check();

CREATE FUNCTION report_modules_entries_cascade() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM data_entries WHERE report_module_id = OLD.id;
        RETURN OLD;
    END IF;
    IF EXISTS (SELECT 1 FROM data_entries WHERE report_module_id = OLD.id) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'update on table "report_modules" violates foreign key constraint "data_entries_report_module_fkey" on table "data_entries"',
            TABLE = 'report_modules', CONSTRAINT = 'data_entries_report_module_fkey';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER report_modules_entries_delete AFTER DELETE ON report_modules
    FOR EACH ROW EXECUTE FUNCTION report_modules_entries_cascade();
CREATE TRIGGER report_modules_entries_key_update AFTER UPDATE OF id, unit_id, year, module ON report_modules
    FOR EACH ROW
    WHEN ((OLD.id, OLD.unit_id, OLD.year, OLD.module) IS DISTINCT FROM (NEW.id, NEW.unit_id, NEW.year, NEW.module))
    EXECUTE FUNCTION report_modules_entries_cascade();
