DROP INDEX uploads_sha256_idx;
CREATE INDEX emissions_entry_id_idx ON emissions (entry_id);
DROP INDEX emissions_entry_report_module_idx;
