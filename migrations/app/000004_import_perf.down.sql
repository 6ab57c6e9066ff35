CREATE INDEX data_entries_upload_id_idx ON data_entries (upload_id) WHERE upload_id IS NOT NULL;
CREATE INDEX data_entries_year_submodule_source_idx ON data_entries (year, submodule, source);
ALTER TABLE emissions
    ADD CONSTRAINT emissions_factor_id_fkey FOREIGN KEY (factor_id) REFERENCES factors (id) ON DELETE SET NULL;
ALTER TABLE data_entries
    ADD CONSTRAINT data_entries_primary_factor_id_fkey FOREIGN KEY (primary_factor_id) REFERENCES factors (id) ON DELETE SET NULL,
    ADD CONSTRAINT data_entries_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL,
    ADD CONSTRAINT data_entries_updated_by_fkey FOREIGN KEY (updated_by) REFERENCES users (id) ON DELETE SET NULL,
    ADD CONSTRAINT data_entries_upload_id_fkey FOREIGN KEY (upload_id) REFERENCES uploads (id) ON DELETE SET NULL;
