DROP TRIGGER data_entries_single_row ON data_entries;
DROP FUNCTION data_entries_single_row_check();
DROP TRIGGER data_entries_emission_rows_key_update ON data_entries;
DROP FUNCTION data_entries_emission_rows_key_update();
DROP TRIGGER data_entries_emission_rows_truncate ON data_entries;
DROP TRIGGER data_entries_emission_rows_delete ON data_entries;
DROP FUNCTION data_entries_emission_rows_cascade();
DROP TRIGGER emission_rows_entry_update ON emission_rows;
DROP FUNCTION emission_rows_entry_update_check();
DROP TRIGGER emission_rows_entry_insert ON emission_rows;
DROP FUNCTION emission_rows_entry_check();

ALTER TABLE data_entries ADD CONSTRAINT data_entries_id_report_module_key UNIQUE (id, report_module_id);
ALTER TABLE emission_rows ADD CONSTRAINT emissions_entry_fkey FOREIGN KEY (entry_id, report_module_id)
    REFERENCES data_entries (id, report_module_id) ON DELETE CASCADE;
