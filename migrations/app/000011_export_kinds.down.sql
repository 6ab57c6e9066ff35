DROP INDEX IF EXISTS exports_expires_at_idx;
DELETE FROM exports WHERE kind IN ('factors', 'unit_bundle');
ALTER TABLE exports DROP CONSTRAINT exports_kind_check;
ALTER TABLE exports ADD CONSTRAINT exports_kind_check CHECK (kind IN (
    'unit_results', 'unit_module_entries', 'backoffice_units', 'backoffice_results',
    'backoffice_detailed', 'backoffice_usage', 'audit_log'));
