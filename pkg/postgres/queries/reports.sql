-- name: ReportGetOrCreate :one
-- Returns the calculator report of (unit, year), creating it with its eight
-- report modules (not_started; the module keys of docs/domain.md §4 are listed
-- literally, in display order) when missing; created tells which happened.
-- Under a race with a concurrent creator of the same report the statement
-- can return pgx.ErrNoRows (its snapshot predates the other commit): run it
-- again.
WITH inserted AS (
    INSERT INTO carbon_reports (unit_id, year, enabled_modules)
    VALUES (@unit_id, @year, @enabled_modules)
    ON CONFLICT (unit_id, year, kind) DO NOTHING
    RETURNING *
), modules AS (
    INSERT INTO report_modules (report_id, unit_id, year, module)
    SELECT inserted.id, inserted.unit_id, inserted.year, m.module
    FROM inserted CROSS JOIN unnest('{headcount,professional_travel,buildings,equipment,purchases,research_facilities,external_cloud_ai,process_emissions}'::text[]) AS m (module)
    RETURNING id
)
SELECT inserted.*, true AS created FROM inserted
UNION ALL
SELECT cr.*, false AS created FROM carbon_reports cr
WHERE cr.unit_id = @unit_id AND cr.year = @year AND cr.kind = 'calculator';

-- name: ReportsCreateForActiveUnits :one
-- Year setup and nightly unit sync (docs/domain.md §11.1): creates the missing
-- calculator report, with its eight modules, of every active unit.
WITH reports AS (
    INSERT INTO carbon_reports (unit_id, year, enabled_modules)
    SELECT u.id, @year, @enabled_modules FROM units u WHERE u.is_active
    ON CONFLICT (unit_id, year, kind) DO NOTHING
    RETURNING id, unit_id, year
), modules AS (
    INSERT INTO report_modules (report_id, unit_id, year, module)
    SELECT r.id, r.unit_id, r.year, m.module
    FROM reports r CROSS JOIN unnest('{headcount,professional_travel,buildings,equipment,purchases,research_facilities,external_cloud_ai,process_emissions}'::text[]) AS m (module)
    RETURNING id
)
SELECT count(*)::bigint AS reports_created FROM reports;

-- name: ReportGet :one
SELECT * FROM carbon_reports WHERE id = @id;

-- name: ReportGetByUnitYear :one
SELECT * FROM carbon_reports WHERE unit_id = @unit_id AND year = @year AND kind = 'calculator';

-- name: ReportsByUnit :many
-- Every calculator report of a unit, oldest year first (yearly series).
SELECT * FROM carbon_reports WHERE unit_id = @unit_id AND kind = 'calculator' ORDER BY year;

-- name: ReportsByYear :many
SELECT * FROM carbon_reports WHERE year = @year AND kind = 'calculator' ORDER BY unit_id;

-- name: ReportRefreshStatus :one
-- Derives overall_status, validated_modules and enabled_modules of a report
-- from its modules (docs/domain.md §10); enabled_modules lists the module keys
-- enabled in the year configuration.
UPDATE carbon_reports cr SET
    enabled_modules   = s.enabled,
    validated_modules = s.validated,
    overall_status    = CASE WHEN s.started = 0 THEN 'not_started'
                             WHEN s.validated = s.enabled THEN 'validated'
                             ELSE 'in_progress' END
FROM (
    SELECT count(*) FILTER (WHERE rm.module = ANY(@enabled_modules::text[]))::smallint AS enabled,
           count(*) FILTER (WHERE rm.module = ANY(@enabled_modules::text[]) AND rm.status = 'validated')::smallint AS validated,
           count(*) FILTER (WHERE rm.module = ANY(@enabled_modules::text[]) AND rm.status <> 'not_started')::smallint AS started
    FROM report_modules rm WHERE rm.report_id = @id
) s
WHERE cr.id = @id
RETURNING cr.*;

-- name: ReportSetStats :exec
UPDATE carbon_reports SET stats = @stats, stats_computed_at = now() WHERE id = @id;

-- name: ReportModulesByReport :many
SELECT * FROM report_modules WHERE report_id = @report_id
ORDER BY array_position('{headcount,professional_travel,buildings,equipment,purchases,research_facilities,external_cloud_ai,process_emissions}'::text[], module);

-- name: ReportModulesByReports :many
SELECT * FROM report_modules WHERE report_id = ANY(@report_ids::bigint[])
ORDER BY report_id, array_position('{headcount,professional_travel,buildings,equipment,purchases,research_facilities,external_cloud_ai,process_emissions}'::text[], module);

-- name: ReportModuleGet :one
SELECT * FROM report_modules WHERE id = @id;

-- name: ReportModuleGetForUpdate :one
SELECT * FROM report_modules WHERE id = @id FOR UPDATE;

-- name: ReportModuleByUnitYearModule :one
-- The report module named by a URL /units/{unit}/years/{year}/modules/{module}.
SELECT rm.* FROM report_modules rm
JOIN carbon_reports cr ON cr.id = rm.report_id
WHERE cr.unit_id = @unit_id AND cr.year = @year AND cr.kind = 'calculator' AND rm.module = @module;

-- name: ReportModulesByYearModule :many
SELECT * FROM report_modules WHERE year = @year AND module = @module ORDER BY id;

-- name: ReportModuleSetStatus :one
-- Explicit status change by a principal (in_progress or validated).
-- Validating clears recomputed_after_validation (docs/domain.md §10).
-- previous_status is the status before the change.
WITH old AS (
    SELECT r.id AS old_id, r.status FROM report_modules r WHERE r.id = @id::bigint FOR UPDATE
)
UPDATE report_modules rm SET
    status                      = @status::text,
    status_changed_at           = now(),
    status_changed_by           = @changed_by,
    recomputed_after_validation = CASE WHEN @status::text = 'validated' THEN false
                                       ELSE rm.recomputed_after_validation END
FROM old
WHERE rm.id = old.old_id
RETURNING rm.*, old.status AS previous_status;

-- name: ReportModuleMarkDataChanged :one
-- A data change touched the module (D6): not_started and validated become
-- in_progress, stats become dirty, data_updated_at is stamped on the module
-- and its report. previous_status is the status before the change.
WITH old AS (
    SELECT r.id AS old_id, r.status FROM report_modules r WHERE r.id = @id::bigint FOR UPDATE
), changed AS (
    UPDATE report_modules rm SET
        status            = 'in_progress',
        status_changed_at = CASE WHEN rm.status <> 'in_progress' THEN now() ELSE rm.status_changed_at END,
        status_changed_by = CASE WHEN rm.status <> 'in_progress' THEN sqlc.narg('changed_by')::bigint ELSE rm.status_changed_by END,
        stats_dirty_at    = now(),
        data_updated_at   = now()
    FROM old
    WHERE rm.id = old.old_id
    RETURNING rm.*, old.status AS previous_status
), report AS (
    UPDATE carbon_reports SET data_updated_at = now() WHERE id IN (SELECT report_id FROM changed)
)
SELECT * FROM changed;

-- name: ReportModulesMarkDataChanged :many
-- ReportModuleMarkDataChanged for several modules (imports).
WITH old AS (
    SELECT r.id AS old_id, r.status FROM report_modules r WHERE r.id = ANY(@ids::bigint[]) FOR UPDATE
), changed AS (
    UPDATE report_modules rm SET
        status            = 'in_progress',
        status_changed_at = CASE WHEN rm.status <> 'in_progress' THEN now() ELSE rm.status_changed_at END,
        status_changed_by = CASE WHEN rm.status <> 'in_progress' THEN sqlc.narg('changed_by')::bigint ELSE rm.status_changed_by END,
        stats_dirty_at    = now(),
        data_updated_at   = now()
    FROM old
    WHERE rm.id = old.old_id
    RETURNING rm.id, rm.report_id, rm.module, rm.status, old.status AS previous_status
), report AS (
    UPDATE carbon_reports SET data_updated_at = now() WHERE id IN (SELECT report_id FROM changed)
)
SELECT * FROM changed ORDER BY id;

-- name: ReportModulesMarkRecomputed :execrows
-- Emissions were recomputed without a data change (factor, reference or FX
-- change, D6): stats become dirty and validated modules are flagged, their
-- status is kept.
UPDATE report_modules SET
    stats_dirty_at              = now(),
    recomputed_after_validation = recomputed_after_validation OR status = 'validated'
WHERE id = ANY(@ids::bigint[]);

-- name: ReportModulesMarkStatsDirty :execrows
UPDATE report_modules SET stats_dirty_at = now() WHERE id = ANY(@ids::bigint[]);

-- name: ReportModulesDirty :many
-- Modules of a year whose stats are dirty since at most dirty_before (the
-- start of an aggregate run), with the dirty stamp it must hand back to
-- ReportModuleSetStats. stats_current: the stored stats already include
-- that stamp (an import stored them, ReportModuleStoreCurrentStats).
SELECT id, report_id, module, stats_dirty_at,
       (stats_current_at IS NOT NULL AND stats_current_at = stats_dirty_at)::bool AS stats_current
FROM report_modules
WHERE year = @year AND stats_dirty_at IS NOT NULL AND stats_dirty_at <= @dirty_before::timestamptz
ORDER BY id;

-- name: ReportModuleSetStats :execrows
-- Stores refreshed stats. The dirty flag is cleared only if it still holds
-- the value read before computing (docs/jobs.md §2.3); a later change keeps it.
UPDATE report_modules SET
    stats             = @stats,
    stats_computed_at = now(),
    stats_dirty_at    = CASE WHEN stats_dirty_at IS NOT DISTINCT FROM sqlc.narg('read_dirty_at')::timestamptz
                             THEN NULL ELSE stats_dirty_at END
WHERE id = @id;

-- name: ReportModuleStoreCurrentStats :execrows
-- Stores stats computed in the transaction that marked the module dirty
-- (data imports, migration 000020): the module stays dirty, so that the
-- aggregate job refreshes its report, but its stats are current for that
-- dirty stamp and the job does not compute them again.
UPDATE report_modules SET
    stats             = @stats,
    stats_computed_at = now(),
    stats_current_at  = stats_dirty_at
WHERE id = @id;

-- name: ReportModuleClearDirty :execrows
-- Clears the dirty flag of a module whose stats are current, if it still
-- holds the value read (compare-and-clear, as ReportModuleSetStats).
UPDATE report_modules SET stats_dirty_at = NULL
WHERE id = @id AND stats_dirty_at IS NOT DISTINCT FROM sqlc.narg('read_dirty_at')::timestamptz;
