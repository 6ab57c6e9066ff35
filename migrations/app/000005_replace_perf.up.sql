-- Replacing an earlier upload (docs/jobs.md §4.1) deletes its entries, and
-- the ON DELETE CASCADE of emissions_entry_fkey runs, once per deleted
-- entry, DELETE FROM emissions WHERE entry_id = $1 AND report_module_id = $2.
-- With one index per column the planner, whenever it has no column
-- statistics for the rows just imported (a fresh database, a module that
-- just grew), estimates both predicates alike and ANDs the two bitmaps:
-- every cascaded delete then reads every emission row of the report module
-- through emissions_report_module_type_idx, a cost quadratic in the module's
-- size (50 000 entries: about 60 s instead of under 1 s). One index on the
-- foreign key's two columns answers the cascade with one probe whatever the
-- statistics; it also serves every lookup by entry_id alone, so the
-- single-column index goes.
CREATE INDEX emissions_entry_report_module_idx ON emissions (entry_id, report_module_id);
DROP INDEX emissions_entry_id_idx;

-- Duplicate uploads (docs/api.md §9, duplicate_upload): an upload is looked
-- up by the SHA-256 of its file before it is recorded.
CREATE INDEX uploads_sha256_idx ON uploads (sha256);
