DROP TRIGGER report_modules_entries_key_update ON report_modules;
DROP TRIGGER report_modules_entries_delete ON report_modules;
DROP FUNCTION report_modules_entries_cascade();
DROP TRIGGER data_entries_report_module_update ON data_entries;
DROP TRIGGER data_entries_report_module_insert ON data_entries;
DROP FUNCTION data_entries_report_module_update_check();
DROP FUNCTION data_entries_report_module_check();

CREATE INDEX data_entries_primary_factor_id_idx ON data_entries (primary_factor_id) WHERE primary_factor_id IS NOT NULL;
ALTER TABLE data_entries ADD CONSTRAINT data_entries_report_module_fkey FOREIGN KEY (report_module_id, unit_id, year, module)
    REFERENCES report_modules (id, unit_id, year, module) ON DELETE CASCADE;
