-- Reverts 000002_domain. The extensions pg_trgm and citext are left in
-- place on purpose: they are database-wide (installed in public) and may be
-- used by other schemas of the same database; 000002 up re-creates them only
-- when missing.

DROP TABLE IF EXISTS audit_events;
DROP FUNCTION IF EXISTS audit_events_guard();

DROP INDEX IF EXISTS pipelines_export_id_idx;
DROP INDEX IF EXISTS pipelines_upload_id_idx;
ALTER TABLE pipelines
    DROP CONSTRAINT IF EXISTS pipelines_cancel_requested_by_fkey,
    DROP CONSTRAINT IF EXISTS pipelines_created_by_fkey,
    DROP CONSTRAINT IF EXISTS pipelines_report_module_id_fkey,
    DROP CONSTRAINT IF EXISTS pipelines_unit_id_fkey,
    DROP CONSTRAINT IF EXISTS pipelines_export_id_fkey,
    DROP CONSTRAINT IF EXISTS pipelines_upload_id_fkey;

DROP TABLE IF EXISTS emissions;
DROP TABLE IF EXISTS data_entries;
DROP TABLE IF EXISTS building_rooms;
DROP TABLE IF EXISTS locations_staging;
DROP TABLE IF EXISTS locations;
DROP TABLE IF EXISTS factors;
DROP TABLE IF EXISTS exports;
DROP TABLE IF EXISTS uploads;
DROP TABLE IF EXISTS module_year_state;
DROP TABLE IF EXISTS report_modules;
DROP TABLE IF EXISTS carbon_reports;
DROP TABLE IF EXISTS years;
DROP TABLE IF EXISTS refresh_tokens;
DROP TABLE IF EXISTS sessions;
DROP TABLE IF EXISTS unit_users;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS units;
