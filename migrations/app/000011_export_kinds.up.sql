-- Exports (docs/api.md §12, docs/jobs.md §4.9, §7): the two kinds issue 14
-- adds to those of 000002 — `factors` (a year's emission factors) and
-- `unit_bundle` (a ZIP of everything for one unit-year) — and the index of
-- the hourly sweep (export_cleanup) over ready exports past their expiry.
ALTER TABLE exports DROP CONSTRAINT exports_kind_check;
ALTER TABLE exports ADD CONSTRAINT exports_kind_check CHECK (kind IN (
    'unit_results', 'unit_module_entries', 'backoffice_units', 'backoffice_results',
    'backoffice_detailed', 'backoffice_usage', 'audit_log', 'factors', 'unit_bundle'));

CREATE INDEX exports_expires_at_idx ON exports (expires_at) WHERE status = 'ready';
