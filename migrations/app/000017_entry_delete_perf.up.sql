-- Replacing an upload deletes the entries it replaces (docs/jobs.md §4.1),
-- and issue 17 asks that a replacement cost about what its insert costs.
-- Measured on a 2-core machine, deleting 100 000 plane entries took
-- 0.33–0.84 s with the key emission_rows → data_entries, 0.05 s without:
-- its ON DELETE CASCADE ran one query per deleted entry, although plane
-- entries keep their single emission row on themselves (migration 000013)
-- and have none in emission_rows. Every imported entry also paid an entry
-- in data_entries_id_report_module_key, the unique index that only that key
-- needed.
--
-- The key is kept by triggers, once per statement, as migration 000015 did
-- for data_entries → report_modules, and the rule of migration 000013 that
-- an entry keeping its single emission row on itself (row_emission_type
-- set) has none in emission_rows is now enforced, so that a deletion only
-- looks for the rows of the entries that may have some:
-- 1. Rows inserted into emission_rows lock their distinct entries FOR KEY
--    SHARE (as the key did, so that an entry cannot go while its rows are
--    being written) and are refused, with the key's SQLSTATE 23503 and
--    name, when one names no entry of that (id, report_module_id), or with
--    23514 emissions_entry_single_row when its entry keeps a single row on
--    itself. An update of those columns of emission_rows (none does) is
--    checked row by row, and so is an entry update that gives an entry a
--    single row (row_emission_type from null to set): refused while the
--    entry has emission rows (calc deletes them first).
-- 2. Deleting entries deletes the emission rows of those without a single
--    row on themselves: one statement over their ids
--    (emissions_entry_report_module_idx); none for plane or train entries.
--    TRUNCATE data_entries truncates emission_rows.
-- 3. Changing the id or report module of an entry that has emission rows
--    is refused (NO ACTION); no query does it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM emission_rows e JOIN data_entries d ON d.id = e.entry_id WHERE d.row_emission_type IS NOT NULL) THEN
        RAISE EXCEPTION 'emission_rows holds rows of entries that keep their single row on themselves (migration 000013): recalculate those entries first';
    END IF;
END
$$;

ALTER TABLE emission_rows DROP CONSTRAINT emissions_entry_fkey;
ALTER TABLE data_entries DROP CONSTRAINT data_entries_id_report_module_key;

CREATE FUNCTION emission_rows_entry_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    PERFORM 1 FROM data_entries d
    WHERE d.id IN (SELECT DISTINCT n.entry_id FROM new_rows n)
    ORDER BY d.id
    FOR KEY SHARE;
    SELECT n.entry_id, n.report_module_id, d.id IS NULL AS missing INTO bad
    FROM new_rows n
    LEFT JOIN data_entries d ON d.id = n.entry_id AND d.report_module_id = n.report_module_id
    WHERE d.id IS NULL OR d.row_emission_type IS NOT NULL
    LIMIT 1;
    IF FOUND AND bad.missing THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "emission_rows" violates foreign key constraint "emissions_entry_fkey"',
            DETAIL = format('Key (entry_id, report_module_id)=(%s, %s) is not present in table "data_entries".',
                            bad.entry_id, bad.report_module_id),
            TABLE = 'emission_rows', CONSTRAINT = 'emissions_entry_fkey';
    ELSIF FOUND THEN
        RAISE check_violation USING
            MESSAGE = format('entry %s keeps its single emission row on itself: it cannot have emission rows', bad.entry_id),
            TABLE = 'emission_rows', CONSTRAINT = 'emissions_entry_single_row';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER emission_rows_entry_insert AFTER INSERT ON emission_rows
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION emission_rows_entry_check();

CREATE FUNCTION emission_rows_entry_update_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM data_entries d
    WHERE d.id = NEW.entry_id AND d.report_module_id = NEW.report_module_id AND d.row_emission_type IS NULL
    FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "emission_rows" violates foreign key constraint "emissions_entry_fkey"',
            TABLE = 'emission_rows', CONSTRAINT = 'emissions_entry_fkey';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER emission_rows_entry_update AFTER UPDATE OF entry_id, report_module_id ON emission_rows
    FOR EACH ROW
    WHEN ((OLD.entry_id, OLD.report_module_id) IS DISTINCT FROM (NEW.entry_id, NEW.report_module_id))
    EXECUTE FUNCTION emission_rows_entry_update_check();

CREATE FUNCTION data_entries_emission_rows_cascade() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE emission_rows;
    ELSE
        DELETE FROM emission_rows
        WHERE entry_id = ANY (ARRAY(SELECT o.id FROM old_rows o WHERE o.row_emission_type IS NULL));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER data_entries_emission_rows_delete AFTER DELETE ON data_entries
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION data_entries_emission_rows_cascade();
CREATE TRIGGER data_entries_emission_rows_truncate AFTER TRUNCATE ON data_entries
    FOR EACH STATEMENT EXECUTE FUNCTION data_entries_emission_rows_cascade();

CREATE FUNCTION data_entries_emission_rows_key_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM emission_rows WHERE entry_id = OLD.id AND report_module_id = OLD.report_module_id) THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'update on table "data_entries" violates foreign key constraint "emissions_entry_fkey" on table "emission_rows"',
            TABLE = 'data_entries', CONSTRAINT = 'emissions_entry_fkey';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER data_entries_emission_rows_key_update AFTER UPDATE OF id, report_module_id ON data_entries
    FOR EACH ROW
    WHEN ((OLD.id, OLD.report_module_id) IS DISTINCT FROM (NEW.id, NEW.report_module_id))
    EXECUTE FUNCTION data_entries_emission_rows_key_update();

CREATE FUNCTION data_entries_single_row_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM emission_rows WHERE entry_id = NEW.id) THEN
        RAISE check_violation USING
            MESSAGE = format('entry %s has emission rows: it cannot keep a single row on itself', NEW.id),
            TABLE = 'data_entries', CONSTRAINT = 'emissions_entry_single_row';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER data_entries_single_row AFTER UPDATE OF row_emission_type ON data_entries
    FOR EACH ROW
    WHEN (OLD.row_emission_type IS NULL AND NEW.row_emission_type IS NOT NULL)
    EXECUTE FUNCTION data_entries_single_row_check();
