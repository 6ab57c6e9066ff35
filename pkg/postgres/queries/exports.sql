-- Exports (docs/api.md §12, docs/jobs.md §4.9): the exports rows, and the
-- keyset pages the export job reads its rows with.

-- name: ExportInsert :one
INSERT INTO exports (id, kind, format, params, status, blob_key, filename, content_type, created_by, pipeline_id)
VALUES (@id, @kind, @format, @params, 'pending', @blob_key, @filename, @content_type, @created_by, @pipeline_id)
RETURNING *;

-- name: PipelineSetExport :exec
-- Scopes an export's pipeline to it (pipelines.export_id).
UPDATE pipelines SET export_id = @export_id WHERE id = @id;

-- name: ExportGet :one
SELECT * FROM exports WHERE id = @id;

-- name: ExportsList :many
-- Newest first; created_by NULL lists every user's exports (admins).
SELECT * FROM exports
WHERE (sqlc.narg('created_by')::bigint IS NULL OR created_by = sqlc.narg('created_by')::bigint)
ORDER BY created_at DESC, id
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');

-- name: ExportsCount :one
SELECT count(*) FROM exports
WHERE (sqlc.narg('created_by')::bigint IS NULL OR created_by = sqlc.narg('created_by')::bigint);

-- name: ExportStart :one
-- An attempt of the export job starts: pending (or a retried running or
-- failed row) becomes running. A ready or expired row is left alone (no row:
-- the job has nothing to do).
UPDATE exports SET status = 'running', error = NULL
WHERE id = @id AND status IN ('pending', 'running', 'failed')
RETURNING *;

-- name: ExportSetReady :one
UPDATE exports SET status = 'ready', size_bytes = @size_bytes, row_count = @row_count,
                   ready_at = @ready_at, expires_at = @expires_at, error = NULL
WHERE id = @id AND status = 'running'
RETURNING *;

-- name: ExportSetFailed :exec
UPDATE exports SET status = 'failed', error = @error
WHERE id = @id AND status IN ('pending', 'running');

-- name: ExportsToSweep :many
-- The hourly sweep: ready exports past their expiry, and failed exports
-- whose key may hold a partial file (an attempt stored it, then failed).
SELECT id, status, blob_key FROM exports
WHERE blob_key IS NOT NULL
  AND ((status = 'ready' AND expires_at <= @now) OR status = 'failed')
ORDER BY id
LIMIT sqlc.arg('limit');

-- name: ExportSwept :exec
-- The sweep removed the blob: a ready export becomes expired; the key is
-- forgotten either way.
UPDATE exports SET blob_key = NULL,
                   status = CASE WHEN status = 'ready' THEN 'expired' ELSE status END
WHERE id = @id AND blob_key IS NOT NULL;

-- name: ExportsFailOrphaned :execrows
-- Exports whose pipeline ended FAILED while they were still pending or
-- running (a job cancelled before it ran never starts: no final-failure
-- hook marks its export) are marked failed with the pipeline's error.
UPDATE exports e SET status = 'failed', error = coalesce(p.last_error, 'the export job was cancelled')
FROM pipelines p
WHERE p.id = e.pipeline_id AND e.status IN ('pending', 'running') AND p.status = 'FAILED';

-- name: ExportEntriesCount :one
-- The entries of some report modules and submodules; with owner_sciper,
-- only that traveller's trips (own scope, D7: plane and train).
SELECT count(*) FROM data_entries
WHERE report_module_id = ANY(@report_module_ids::bigint[])
  AND submodule = ANY(@submodules::text[])
  AND (sqlc.narg('owner_sciper')::text IS NULL OR submodule NOT IN ('plane', 'train')
       OR owner_sciper = sqlc.narg('owner_sciper')::text);

-- name: ExportEntriesAfter :many
-- One keyset page of a report module's entries of one submodule, by id
-- (index data_entries_list_idx).
SELECT id, source, data, calc_status, kg_co2eq, kg_co2eq_additional, primary_factor_id
FROM data_entries
WHERE report_module_id = @report_module_id AND submodule = @submodule AND id > @after_id
  AND (sqlc.narg('owner_sciper')::text IS NULL OR submodule NOT IN ('plane', 'train')
       OR owner_sciper = sqlc.narg('owner_sciper')::text)
ORDER BY id
LIMIT sqlc.arg('limit');

-- name: ExportReportModules :many
-- The report modules of some reports, for the given modules, in the order
-- of the report ids given (the caller's order: a unit-year, or the reports
-- of the reporting filters).
SELECT rm.id, rm.report_id, rm.unit_id, rm.year, rm.module, rm.status
FROM report_modules rm
JOIN unnest(@report_ids::bigint[]) WITH ORDINALITY AS r (id, n) ON r.id = rm.report_id
WHERE rm.module = ANY(@modules::text[])
ORDER BY r.n, rm.id;

-- name: ExportReportModulesOfUnitYears :many
-- The report modules of the (unit, year) pairs given (aligned arrays) for
-- the given modules, in the order of the pairs (n: 1-based position).
SELECT rm.id, rm.unit_id, rm.year, rm.module, rm.status, pu.n::int AS n
FROM unnest(@unit_ids::bigint[]) WITH ORDINALITY AS pu (unit_id, n)
JOIN unnest(@years::int[]) WITH ORDINALITY AS py (year, n) ON py.n = pu.n
JOIN carbon_reports cr ON cr.unit_id = pu.unit_id AND cr.year = py.year AND cr.kind = 'calculator'
JOIN report_modules rm ON rm.report_id = cr.id
WHERE rm.module = ANY(@modules::text[])
ORDER BY pu.n, rm.id;

-- name: ExportFactorsCount :one
SELECT count(*) FROM factors
WHERE year = @year AND (sqlc.narg('submodule')::text IS NULL OR submodule = sqlc.narg('submodule')::text);

-- name: ExportFactorKeys :one
-- The classification and value keys used by a year's factors (the columns
-- of the factors export), sorted.
SELECT
    coalesce((SELECT array_agg(DISTINCT k ORDER BY k) FROM factors f, jsonb_object_keys(f.classification) AS k
              WHERE f.year = @year AND (sqlc.narg('submodule')::text IS NULL OR f.submodule = sqlc.narg('submodule')::text)),
             '{}')::text[] AS classification_keys,
    coalesce((SELECT array_agg(DISTINCT k ORDER BY k) FROM factors f, jsonb_object_keys(f."values") AS k
              WHERE f.year = @year AND (sqlc.narg('submodule')::text IS NULL OR f.submodule = sqlc.narg('submodule')::text)),
             '{}')::text[] AS value_keys;

-- name: ExportFactorsAfter :many
SELECT id, module, submodule, emission_type, class_key, classification, "values", source, updated_at, version
FROM factors
WHERE year = @year AND (sqlc.narg('submodule')::text IS NULL OR submodule = sqlc.narg('submodule')::text)
  AND id > @after_id
ORDER BY id
LIMIT sqlc.arg('limit');

-- name: ExportFactorSetVersion :one
-- The version of a year's factor set as the reports print it: how many
-- factors, when the last one changed, and a digest of every (id, version).
SELECT count(*) AS factor_count,
       coalesce(max(updated_at), '1970-01-01T00:00:00Z')::timestamptz AS updated_at,
       coalesce(left(md5(string_agg(id::text || ':' || version::text, ',' ORDER BY id)), 8), '')::text AS digest
FROM factors WHERE year = @year;

-- name: ExportAuditHashes :many
-- The chain hashes of some audit events (the audit_log export's last
-- column; the list of package audit does not carry them).
SELECT id, hash FROM audit_events WHERE id = ANY(@ids::bigint[]);
