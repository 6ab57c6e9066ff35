DROP TABLE IF EXISTS entry_sort_backfill;
ALTER TABLE data_entries DROP COLUMN IF EXISTS distance_km, DROP COLUMN IF EXISTS surface_m2;
