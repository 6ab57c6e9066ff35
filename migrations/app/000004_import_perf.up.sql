-- Bulk imports COPY up to hundreds of thousands of entries and emission rows
-- at once, and every foreign key costs a lookup per inserted row (0.6 to
-- 1.5 s per 100 000 rows and key on a 2-core machine). Only the keys that
-- carry the model's structure stay: data entries → report modules and
-- emission rows → data entries, with their cascades.
--
-- Users and uploads are never deleted (the audit trail and the upload
-- downloads need them): the application keeps those references.
ALTER TABLE data_entries
    DROP CONSTRAINT data_entries_created_by_fkey,
    DROP CONSTRAINT data_entries_updated_by_fkey,
    DROP CONSTRAINT data_entries_upload_id_fkey;

-- Factors can be deleted (stale factors, DELETE /factors/{id}): the delete
-- queries null the references of entries and emission rows themselves, in
-- the same statement, as ON DELETE SET NULL did.
ALTER TABLE data_entries DROP CONSTRAINT data_entries_primary_factor_id_fkey;
ALTER TABLE emissions DROP CONSTRAINT emissions_factor_id_fkey;

-- Fewer indexes to maintain per inserted row: the per-year replacement
-- queries filter on (year, module), served by
-- data_entries_year_module_id_idx, and nothing reads entries by upload.
DROP INDEX data_entries_year_submodule_source_idx;
DROP INDEX data_entries_upload_id_idx;
