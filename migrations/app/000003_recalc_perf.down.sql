ALTER TABLE emissions RESET (fillfactor);
ALTER TABLE data_entries RESET (fillfactor);
DROP INDEX IF EXISTS data_entries_year_module_id_idx;
