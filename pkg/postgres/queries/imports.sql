-- Queries of the CSV import jobs (docs/jobs.md §4.1–§4.3) and of the upload
-- endpoints (docs/api.md §5, §9).

-- name: ImportUnits :many
-- Every unit with a cf (per-year uploads resolve unit_institutional_id).
SELECT id, cf::text AS cf, is_active FROM units WHERE cf IS NOT NULL;

-- name: ImportReportModulesEnsure :many
-- Creates the missing calculator reports (with their eight modules) of the
-- given units for a year and returns the report module of `module` of
-- every given unit. Under a race with a concurrent creator a unit can be
-- missing from the answer (snapshot): the caller retries.
WITH reports AS (
    INSERT INTO carbon_reports (unit_id, year, enabled_modules)
    SELECT u.id, @year, @enabled_modules FROM unnest(@unit_ids::bigint[]) AS u (id)
    ON CONFLICT (unit_id, year, kind) DO NOTHING
    RETURNING id, unit_id, year
), modules AS (
    INSERT INTO report_modules (report_id, unit_id, year, module)
    SELECT r.id, r.unit_id, r.year, m.module
    FROM reports r CROSS JOIN unnest('{headcount,professional_travel,buildings,equipment,purchases,research_facilities,external_cloud_ai,process_emissions}'::text[]) AS m (module)
    RETURNING id, unit_id, module
)
SELECT modules.id, modules.unit_id FROM modules WHERE modules.module = @module::text
UNION ALL
SELECT rm.id, rm.unit_id FROM report_modules rm
JOIN carbon_reports cr ON cr.id = rm.report_id
WHERE cr.kind = 'calculator' AND cr.year = @year AND rm.module = @module::text AND rm.unit_id = ANY(@unit_ids::bigint[]);

-- name: ImportDeleteStudents :many
-- Per-year student upload (docs/jobs.md §4.1): deletes the student entry of
-- every report module of the file (whatever its source) and the csv_year
-- student entries of the other units of the year.
WITH deleted AS (
    DELETE FROM data_entries
    WHERE year = @year AND module = 'headcount' AND submodule = 'student'
      AND (source = 'csv_year' OR report_module_id = ANY(@report_module_ids::bigint[]))
    RETURNING report_module_id
)
SELECT report_module_id, count(*)::bigint AS deleted FROM deleted GROUP BY report_module_id ORDER BY report_module_id;

-- name: ImportReplacedByYear :many
-- The entries a per-year upload replaces (docs/jobs.md §4.1): the year's
-- entries of the given submodules and source, of every unit, in id order
-- (deleted by ImportDeleteEntries in batches). Served by
-- data_entries_year_module_id_idx.
SELECT id, report_module_id FROM data_entries
WHERE year = @year AND module = @module AND submodule = ANY(@submodules::text[]) AND source = @source
ORDER BY id;

-- name: ImportReplacedByReportModule :many
-- The entries a module-page upload with replace_existing replaces: the
-- report module's entries of the given submodules and source, in id order.
-- Served by data_entries_list_idx.
SELECT id FROM data_entries
WHERE report_module_id = @report_module_id AND submodule = ANY(@submodules::text[]) AND source = @source
ORDER BY id;

-- name: ImportDeleteEntries :execrows
-- Deletes one batch of replaced entries by id; their emission rows go with
-- them (one statement of the delete trigger of migration 000017, over the
-- entries that keep no single row on themselves).
DELETE FROM data_entries WHERE id = ANY(@ids::bigint[]);

-- name: ImportEntriesExist :one
-- Whether report modules hold entries of the given submodules (before the
-- load: whether rows_duplicate needs computing at all).
SELECT EXISTS (
    SELECT 1 FROM data_entries
    WHERE report_module_id = ANY(@report_module_ids::bigint[]) AND submodule = ANY(@submodules::text[])
)::boolean AS found;

-- name: ImportDuplicateRows :one
-- rows_duplicate of a data import (docs/jobs.md §4.1): the entries upload_id
-- loaded that are identical (same submodule and data) to an entry of the
-- same report module it did not write, i.e. one that existed before the
-- import and survived its replacement. Grouping rather than a join keeps it
-- linear in the modules' entries whatever the planner's statistics.
SELECT coalesce(sum(g.loaded) FILTER (WHERE g.other > 0), 0)::bigint AS duplicates
FROM (
    SELECT count(*) FILTER (WHERE upload_id = @upload_id::uuid) AS loaded,
           count(*) FILTER (WHERE upload_id IS DISTINCT FROM @upload_id::uuid) AS other
    FROM data_entries
    WHERE report_module_id = ANY(@report_module_ids::bigint[]) AND submodule = ANY(@submodules::text[])
    GROUP BY report_module_id, submodule, data
) g;

-- name: ImportFingerprints :many
-- The fingerprint of the replaced entry set of report modules (docs/jobs.md
-- §4.10): a digest of the multiset of canonical (jsonb text) submodule,
-- data and kg_override of the entries of the given submodules and source (null:
-- any source). Compared before and after an import: only its equality
-- matters. Instead of hashing the sorted list (a sort of every entry of
-- the module), it is the count and two sums of 64-bit hashes of each
-- entry: equal sets give equal fingerprints, different ones differ but
-- with a probability of about 2^-128.
SELECT report_module_id,
       (count(*)::text || ':' || sum(hashtextextended(t.doc, 1)::numeric)::text || ':'
        || sum(hashtextextended(t.doc, 2)::numeric)::text)::text AS fingerprint
FROM data_entries,
     -- submodule, then the canonical jsonb text (it starts with '{' and
     -- ends with '}'), then the override: unambiguous without a separator.
     LATERAL (SELECT submodule || data::text || coalesce(kg_override::text, '') AS doc) t
WHERE report_module_id = ANY(@report_module_ids::bigint[]) AND submodule = ANY(@submodules::text[])
  AND (sqlc.narg('source')::text IS NULL OR source = sqlc.narg('source')::text)
GROUP BY report_module_id;

-- name: ImportMemberScipers :many
-- Members that survive a replacement (duplicate detection, docs/jobs.md §4.1):
-- members of the year (or of one report module) except those of the
-- replaced source (null: none replaced).
SELECT report_module_id, (data ->> 'user_institutional_id')::text AS sciper
FROM data_entries
WHERE year = @year AND submodule = 'member'
  AND (sqlc.narg('report_module_id')::bigint IS NULL OR report_module_id = sqlc.narg('report_module_id')::bigint)
  AND (sqlc.narg('replaced_source')::text IS NULL OR source <> sqlc.narg('replaced_source')::text);

-- name: UploadDuplicateOf :one
-- The latest earlier upload of the same file (SHA-256) into the same target
-- (kind, scope, year, module, submodule, dataset, unit) whose pipeline
-- ended SUCCESS or PARTIAL (docs/api.md §9, duplicate_upload).
SELECT u.id, u.uploaded_at FROM uploads u
JOIN pipelines p ON p.id = u.pipeline_id
WHERE u.sha256 = @sha256 AND u.kind = @kind AND u.scope = @scope AND u.year = @year
  AND u.module IS NOT DISTINCT FROM sqlc.narg('module')::text
  AND u.submodule IS NOT DISTINCT FROM sqlc.narg('submodule')::text
  AND u.dataset IS NOT DISTINCT FROM sqlc.narg('dataset')::text
  AND u.unit_id IS NOT DISTINCT FROM sqlc.narg('unit_id')::bigint
  AND p.status IN ('SUCCESS', 'PARTIAL')
ORDER BY u.uploaded_at DESC, u.id
LIMIT 1;

-- name: ImportJobRecordRows :exec
-- Records the counters and row errors of a job that fails permanently
-- (the worker middleware then sets its state and message, keeping them).
UPDATE pipeline_jobs SET
    result           = @result,
    row_errors       = @row_errors,
    row_errors_total = @row_errors_total
WHERE job_id = @job_id AND state NOT IN ('succeeded', 'failed', 'cancelled');

-- name: UploadsByReportModule :many
-- Uploads of a report module, newest first ("last upload" of a card).
SELECT * FROM uploads WHERE report_module_id = @report_module_id
ORDER BY uploaded_at DESC, id LIMIT sqlc.arg('limit');

-- name: UploadsFiltered :many
-- Back-office list (docs/api.md §9), newest first.
SELECT * FROM uploads
WHERE (sqlc.narg('year')::integer IS NULL OR year = sqlc.narg('year')::integer)
  AND (sqlc.narg('kind')::text IS NULL OR kind = sqlc.narg('kind')::text)
  AND (sqlc.narg('module')::text IS NULL OR module = sqlc.narg('module')::text)
  AND (sqlc.narg('submodule')::text IS NULL OR submodule = sqlc.narg('submodule')::text)
  AND (sqlc.narg('dataset')::text IS NULL OR dataset = sqlc.narg('dataset')::text)
  AND (sqlc.narg('scope')::text IS NULL OR scope = sqlc.narg('scope')::text)
ORDER BY uploaded_at DESC, id
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');

-- name: UploadsFilteredCount :one
SELECT count(*)::bigint FROM uploads
WHERE (sqlc.narg('year')::integer IS NULL OR year = sqlc.narg('year')::integer)
  AND (sqlc.narg('kind')::text IS NULL OR kind = sqlc.narg('kind')::text)
  AND (sqlc.narg('module')::text IS NULL OR module = sqlc.narg('module')::text)
  AND (sqlc.narg('submodule')::text IS NULL OR submodule = sqlc.narg('submodule')::text)
  AND (sqlc.narg('dataset')::text IS NULL OR dataset = sqlc.narg('dataset')::text)
  AND (sqlc.narg('scope')::text IS NULL OR scope = sqlc.narg('scope')::text);

-- name: PipelineSetUpload :exec
-- Scopes an upload's pipeline to it (pipelines.upload_id, report module).
UPDATE pipelines SET upload_id = @upload_id, report_module_id = sqlc.narg('report_module_id')
WHERE id = @id;

-- name: ImportEntriesOfUpload :many
-- The entries an upload loaded (benchmarks and checks).
SELECT * FROM data_entries WHERE upload_id = @upload_id ORDER BY id;

-- name: ImportEmissionsOfUpload :many
-- The emission rows of the entries an upload loaded.
SELECT m.* FROM emissions m JOIN data_entries e ON e.id = m.entry_id
WHERE e.upload_id = @upload_id ORDER BY m.id;

-- name: ImportAnalyze :exec
-- Fresh planner statistics for the entry tables after an import that wrote
-- or deleted many entries, run after its commit (ANALYZE reads a sample,
-- and cannot share the import's transaction without holding its lock until
-- commit). Plans of later replacements and lists then see the module's
-- real size instead of waiting for autovacuum (issue 17). Only the columns
-- the queries filter and join on: the statistics of the jsonb columns are
-- the costly part of an ANALYZE and no plan uses them.
ANALYZE data_entries (report_module_id, year, module, submodule, source, upload_id, owner_sciper, calc_status),
        emission_rows (entry_id, report_module_id, emission_type, factor_id);
