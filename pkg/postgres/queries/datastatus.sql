-- The data-management matrix of a year (docs/api.md §7, GET
-- /years/{year}/data-status), read from pre-aggregated or small tables only.

-- name: DataStatusLatestUploads :many
-- The latest upload of each target: per-year data files and factor files of
-- the year, reference files of any year (reference data is global), with
-- their pipeline's outcome.
SELECT DISTINCT ON (u.kind, u.module, u.submodule, u.dataset)
       u.id, u.kind, u.module, u.submodule, u.dataset, u.pipeline_id,
       p.status AS pipeline_status, p.counters AS pipeline_counters, p.finished_at AS pipeline_finished_at
FROM uploads u
LEFT JOIN pipelines p ON p.id = u.pipeline_id
WHERE (u.year = @year AND (u.kind = 'factors' OR (u.kind = 'data' AND u.scope = 'year')))
   OR u.kind = 'reference'
ORDER BY u.kind, u.module, u.submodule, u.dataset, u.uploaded_at DESC, u.id DESC;

-- name: DataStatusLatestPipeline :one
-- The latest pipeline of a kind for a year (tableau_sync: the plane feed).
SELECT id, status, counters, finished_at FROM pipelines
WHERE year = @year AND kind = @kind
ORDER BY created_at DESC, id DESC
LIMIT 1;

-- name: DataStatusFactorCounts :many
SELECT submodule, count(*)::bigint AS factors FROM factors WHERE year = @year GROUP BY submodule;

-- name: DataStatusReferenceCounts :one
SELECT (SELECT count(*) FROM locations WHERE transport_mode = 'plane')::bigint AS locations_plane,
       (SELECT count(*) FROM locations WHERE transport_mode = 'train')::bigint AS locations_train,
       (SELECT count(*) FROM building_rooms)::bigint AS building_rooms;

-- name: DataStatusActivePipelines :many
-- The newest unfinished pipeline of each module of the year.
SELECT DISTINCT ON (module) module::text AS module, id FROM pipelines
WHERE year = @year AND module IS NOT NULL AND status IN ('NOT_STARTED', 'RUNNING')
ORDER BY module, created_at DESC, id DESC;

-- name: DataStatusEntryCounts :many
-- Entries per submodule from the cached report-module statistics
-- (docs/domain.md §12.1 entries_by_submodule): never a scan of the entries.
SELECT s.module, s.submodule, sum(s.entries)::bigint AS entries
FROM (
    SELECT rm.module, k.submodule, (rm.stats -> 'entries_by_submodule' ->> k.submodule)::numeric AS entries
    FROM report_modules rm
    CROSS JOIN LATERAL (
        SELECT jsonb_object_keys(coalesce(rm.stats -> 'entries_by_submodule', '{}'::jsonb)) AS submodule
    ) AS k
    WHERE rm.year = @year
) AS s
GROUP BY s.module, s.submodule;
