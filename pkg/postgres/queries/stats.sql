-- Statistics, results and the jobs that keep them fresh (pkg/report,
-- jobs/aggregate.go, jobs/emission_recalc.go).

-- name: LockAggregateYear :exec
-- Advisory lock (2, year): serialises aggregation of a year (docs/jobs.md §1).
-- Keys are namespaced by the schema (one in production), so that test
-- schemas sharing a database never wait on each other's locks.
SELECT pg_advisory_xact_lock(2, hashtext(current_schema() || ':' || @year::int));

-- name: LockModuleYear :exec
-- Advisory lock (1, hash(module, year)): serialises writers of one
-- module-year (imports, recalculation batches, Tableau load). The hash is
-- hashtext('<module>:<year>') (key built by the caller, see
-- report.ModuleYearLockKey); every writer must use this query.
SELECT pg_advisory_xact_lock(1, hashtext(current_schema() || ':' || @key::text));

-- name: AggEmbodiedByBuilding :many
-- Embodied-energy rows per report module, building (the room entry's
-- building_name) and leaf (docs/domain.md §12.3 embodied breakdown). The
-- category filter is the predicate of data_entries_embodied_idx
-- (migration 000018): keep them equal.
SELECT e.report_module_id,
       coalesce(d.data ->> 'building_name', '')::text AS building_name,
       e.emission_type,
       sum(e.kg_co2eq)::float8 AS kg_co2eq
FROM emissions e
JOIN data_entries d ON d.id = e.entry_id
WHERE e.report_module_id = ANY(@report_module_ids::bigint[]) AND e.category = 'embodied_energy'
GROUP BY e.report_module_id, coalesce(d.data ->> 'building_name', ''), e.emission_type
ORDER BY e.report_module_id, building_name, e.emission_type;

-- name: AggITTopItems :many
-- Top 3 items (entries grouped by their label) per report module and IT
-- leaf outside external_cloud_ai (IT focus, docs/domain.md §12.3). The
-- leaf list is the predicate of data_entries_it_idx (migration 000018) and
-- report.itLeaves: keep them equal.
SELECT t.report_module_id, t.emission_type, t.label, t.kg_co2eq FROM (
    SELECT e.report_module_id, e.emission_type,
           coalesce(nullif(d.data ->> 'name', ''), nullif(d.data ->> 'researchfacility_name', ''),
                    nullif(d.data ->> 'equipment_class', ''), d.submodule)::text AS label,
           sum(e.kg_co2eq)::float8 AS kg_co2eq,
           row_number() OVER (PARTITION BY e.report_module_id, e.emission_type
                              ORDER BY sum(e.kg_co2eq) DESC,
                                       coalesce(nullif(d.data ->> 'name', ''), nullif(d.data ->> 'researchfacility_name', ''),
                                                nullif(d.data ->> 'equipment_class', ''), d.submodule)) AS rn
    FROM emissions e
    JOIN data_entries d ON d.id = e.entry_id
    WHERE e.report_module_id = ANY(@report_module_ids::bigint[])
      AND e.emission_type IN ('equipment.it', 'purchases.it_equipment', 'research_facilities.it_facilities')
    GROUP BY e.report_module_id, e.emission_type,
             coalesce(nullif(d.data ->> 'name', ''), nullif(d.data ->> 'researchfacility_name', ''),
                      nullif(d.data ->> 'equipment_class', ''), d.submodule)
) t
WHERE t.rn <= 3
ORDER BY t.report_module_id, t.emission_type, t.rn;

-- name: ReportModulesByIDs :many
SELECT * FROM report_modules WHERE id = ANY(@ids::bigint[]) ORDER BY id;

-- name: ReportModulesView :many
-- The report modules of a report in display order, with the display name of
-- the user who last changed the status.
SELECT rm.*, u.display_name AS status_changed_by_name
FROM report_modules rm
LEFT JOIN users u ON u.id = rm.status_changed_by
WHERE rm.report_id = @report_id
ORDER BY array_position('{headcount,professional_travel,buildings,equipment,purchases,research_facilities,external_cloud_ai,process_emissions}'::text[], rm.module);

-- name: ReportsByUnitDesc :many
-- Calculator reports of a unit with their year's status, newest first.
SELECT cr.*, y.status AS year_status, y.config AS year_config
FROM carbon_reports cr
JOIN years y ON y.year = cr.year
WHERE cr.unit_id = @unit_id AND cr.kind = 'calculator'
ORDER BY cr.year DESC;

-- name: ReportByUnitYearWithYear :one
SELECT cr.*, y.status AS year_status, y.config AS year_config
FROM carbon_reports cr
JOIN years y ON y.year = cr.year
WHERE cr.unit_id = @unit_id AND cr.year = @year AND cr.kind = 'calculator';

-- name: ResultsModules :many
-- Pre-aggregated stats of the report modules of a unit for the given years
-- (results endpoints): one indexed read, eight rows per year, with the
-- year's configuration (enabled modules) and status. The JSON comes as
-- text: the caller decodes it once (and caches the stats), the driver does
-- not parse it first.
SELECT cr.year, cr.id AS report_id, rm.module, rm.status, rm.recomputed_after_validation, rm.stats::text AS stats,
       y.config::text AS year_config
FROM carbon_reports cr
JOIN report_modules rm ON rm.report_id = cr.id
JOIN years y ON y.year = cr.year
WHERE cr.unit_id = @unit_id AND cr.kind = 'calculator'
  AND (cardinality(@years::int[]) = 0 OR cr.year = ANY(@years::int[]))
ORDER BY cr.year, array_position('{headcount,professional_travel,buildings,equipment,purchases,research_facilities,external_cloud_ai,process_emissions}'::text[], rm.module);

-- name: ReportModulesDirtyRemaining :one
-- Whether dirty report modules of a year remain (aggregate follow-up rule).
SELECT EXISTS (SELECT 1 FROM report_modules WHERE year = @year AND stats_dirty_at IS NOT NULL)::bool;

-- name: EntriesCountByYearModule :one
SELECT count(*)::bigint FROM data_entries WHERE year = @year AND module = @module;

-- name: PipelineIDsByJobAttachedSince :many
-- Pipelines linked to a job at or after a time (coalescing follow-up rule,
-- docs/jobs.md §2.3).
SELECT pipeline_id FROM pipeline_jobs
WHERE job_id = @job_id AND attached_at >= @since::timestamptz
ORDER BY pipeline_id;

-- name: DBClock :one
-- The database clock (clock_timestamp, not the transaction start): the
-- start time t0 of an aggregate run, comparable with stats_dirty_at stamps.
SELECT clock_timestamp()::timestamptz AS now;
