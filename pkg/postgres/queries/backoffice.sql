-- Back-office reporting (docs/api.md §11, docs/domain.md §12.4): every
-- figure comes from carbon_reports.stats and report_modules.status, never
-- from entries or emission rows. BackofficeReportIDs applies the filters
-- and the caller's scope once and returns the ordered report ids; the other
-- queries read those reports.

-- name: BackofficeReportIDs :many
-- The calculator reports matching the reporting filters, inside the scope,
-- in the requested order. Scope: every unit when global, else the units
-- whose path_cfs meets scope_cfs (affiliation subtrees); only the years whose
-- status is in year_statuses. Filters (an empty array or null = none):
-- years; affiliation_codes (subtrees, by institutional code); unit_ids
-- (exact); statuses (overall_status); q (case-insensitive substring of the
-- unit's name, cf or institutional code); module_statuses ("<module>:<status>")
-- and modules_with_data (modules with entries), one match of either
-- enough. Sort: two keys sort1 and sort2 (unit_name, affiliation,
-- overall_status, data_updated_at, t_co2eq, fte, completion_percent; '' =
-- none), each ascending unless sort*_desc, nulls last; then unit name, year
-- (newest first) and report id.
SELECT cr.id
FROM carbon_reports cr
JOIN units u ON u.id = cr.unit_id
JOIN years y ON y.year = cr.year
WHERE cr.kind = 'calculator'
  AND y.status = ANY(@year_statuses::text[])
  AND (@global::boolean OR u.path_cfs && @scope_cfs::text[])
  AND (cardinality(@years::int[]) = 0 OR cr.year = ANY(@years::int[]))
  AND (cardinality(@affiliation_codes::text[]) = 0 OR u.path_codes && @affiliation_codes::text[])
  AND (cardinality(@unit_ids::bigint[]) = 0 OR u.id = ANY(@unit_ids::bigint[]))
  AND (cardinality(@statuses::text[]) = 0 OR cr.overall_status = ANY(@statuses::text[]))
  AND (sqlc.narg('q')::text IS NULL
       OR strpos(lower(u.name), lower(sqlc.narg('q')::text)) > 0
       OR strpos(lower(coalesce(u.cf, '')), lower(sqlc.narg('q')::text)) > 0
       OR strpos(lower(u.institutional_code), lower(sqlc.narg('q')::text)) > 0)
  AND ((cardinality(@module_statuses::text[]) = 0 AND cardinality(@modules_with_data::text[]) = 0) OR EXISTS (
        SELECT 1 FROM report_modules rm
        WHERE rm.report_id = cr.id
          AND (rm.module || ':' || rm.status = ANY(@module_statuses::text[])
               OR (rm.module = ANY(@modules_with_data::text[])
                   AND COALESCE((cr.stats -> 'entries_by_module' ->> rm.module)::bigint, 0) > 0))))
ORDER BY
    CASE WHEN NOT @sort1_desc::boolean THEN CASE @sort1::text
        WHEN 'unit_name' THEN u.name
        WHEN 'affiliation' THEN (SELECT string_agg(p.name, ' / ' ORDER BY p.i)
                                 FROM unnest(u.path_names) WITH ORDINALITY AS p (name, i)
                                 WHERE p.i < cardinality(u.path_names)
                                   AND u.level - (cardinality(u.path_names) - p.i) IN (2, 3)) END END ASC,
    CASE WHEN @sort1_desc::boolean THEN CASE @sort1::text
        WHEN 'unit_name' THEN u.name
        WHEN 'affiliation' THEN (SELECT string_agg(p.name, ' / ' ORDER BY p.i)
                                 FROM unnest(u.path_names) WITH ORDINALITY AS p (name, i)
                                 WHERE p.i < cardinality(u.path_names)
                                   AND u.level - (cardinality(u.path_names) - p.i) IN (2, 3)) END END DESC NULLS LAST,
    CASE WHEN @sort1::text = 'data_updated_at' AND NOT @sort1_desc::boolean THEN cr.data_updated_at END ASC,
    CASE WHEN @sort1::text = 'data_updated_at' AND @sort1_desc::boolean THEN cr.data_updated_at END DESC NULLS LAST,
    CASE WHEN NOT @sort1_desc::boolean THEN CASE @sort1::text
        WHEN 'overall_status' THEN array_position('{not_started,in_progress,validated}'::text[], cr.overall_status)::float8
        WHEN 't_co2eq' THEN COALESCE((cr.stats -> 'validated' ->> 'total_kg')::float8, 0)
        WHEN 'fte' THEN (cr.stats -> 'validated' ->> 'fte')::float8
        WHEN 'completion_percent' THEN cr.validated_modules::float8 / NULLIF(cr.enabled_modules, 0) END END ASC,
    CASE WHEN @sort1_desc::boolean THEN CASE @sort1::text
        WHEN 'overall_status' THEN array_position('{not_started,in_progress,validated}'::text[], cr.overall_status)::float8
        WHEN 't_co2eq' THEN COALESCE((cr.stats -> 'validated' ->> 'total_kg')::float8, 0)
        WHEN 'fte' THEN (cr.stats -> 'validated' ->> 'fte')::float8
        WHEN 'completion_percent' THEN cr.validated_modules::float8 / NULLIF(cr.enabled_modules, 0) END END DESC NULLS LAST,
    CASE WHEN NOT @sort2_desc::boolean THEN CASE @sort2::text
        WHEN 'unit_name' THEN u.name
        WHEN 'affiliation' THEN (SELECT string_agg(p.name, ' / ' ORDER BY p.i)
                                 FROM unnest(u.path_names) WITH ORDINALITY AS p (name, i)
                                 WHERE p.i < cardinality(u.path_names)
                                   AND u.level - (cardinality(u.path_names) - p.i) IN (2, 3)) END END ASC,
    CASE WHEN @sort2_desc::boolean THEN CASE @sort2::text
        WHEN 'unit_name' THEN u.name
        WHEN 'affiliation' THEN (SELECT string_agg(p.name, ' / ' ORDER BY p.i)
                                 FROM unnest(u.path_names) WITH ORDINALITY AS p (name, i)
                                 WHERE p.i < cardinality(u.path_names)
                                   AND u.level - (cardinality(u.path_names) - p.i) IN (2, 3)) END END DESC NULLS LAST,
    CASE WHEN @sort2::text = 'data_updated_at' AND NOT @sort2_desc::boolean THEN cr.data_updated_at END ASC,
    CASE WHEN @sort2::text = 'data_updated_at' AND @sort2_desc::boolean THEN cr.data_updated_at END DESC NULLS LAST,
    CASE WHEN NOT @sort2_desc::boolean THEN CASE @sort2::text
        WHEN 'overall_status' THEN array_position('{not_started,in_progress,validated}'::text[], cr.overall_status)::float8
        WHEN 't_co2eq' THEN COALESCE((cr.stats -> 'validated' ->> 'total_kg')::float8, 0)
        WHEN 'fte' THEN (cr.stats -> 'validated' ->> 'fte')::float8
        WHEN 'completion_percent' THEN cr.validated_modules::float8 / NULLIF(cr.enabled_modules, 0) END END ASC,
    CASE WHEN @sort2_desc::boolean THEN CASE @sort2::text
        WHEN 'overall_status' THEN array_position('{not_started,in_progress,validated}'::text[], cr.overall_status)::float8
        WHEN 't_co2eq' THEN COALESCE((cr.stats -> 'validated' ->> 'total_kg')::float8, 0)
        WHEN 'fte' THEN (cr.stats -> 'validated' ->> 'fte')::float8
        WHEN 'completion_percent' THEN cr.validated_modules::float8 / NULLIF(cr.enabled_modules, 0) END END DESC NULLS LAST,
    u.name, cr.year DESC, cr.id;

-- name: BackofficeReportRows :many
-- The reports of ids with their units and, as one small JSON object, the
-- figures the tables show from the block basis (validated or all) of their
-- stats: total_kg, fte, by_scope, by_category, and highest_category_module
-- (absent keys when the stats were never computed). Any order: the caller
-- keeps the order of BackofficeReportIDs.
SELECT sqlc.embed(u), cr.id AS report_id, cr.year, cr.overall_status, cr.validated_modules, cr.enabled_modules,
       cr.data_updated_at,
       jsonb_strip_nulls(jsonb_build_object(
           'total_kg', cr.stats -> @basis::text -> 'total_kg',
           'fte', cr.stats -> @basis::text -> 'fte',
           'by_scope', cr.stats -> @basis::text -> 'by_scope',
           'by_category', cr.stats -> @basis::text -> 'by_category',
           'highest_category_module', cr.stats -> 'highest_category_module')) AS figures
FROM unnest(@ids::bigint[]) AS i (id)
CROSS JOIN LATERAL (SELECT c.* FROM carbon_reports c WHERE c.id = i.id OFFSET 0) cr -- by primary key, one id at a time
JOIN units u ON u.id = cr.unit_id;

-- name: BackofficeOverview :many
-- Sums over the reports of ids as (kind, key, value) rows: status (reports
-- per overall_status), module_status ("<module>:<status>": reports whose
-- enabled module has that status, from module_statuses of the stats; a
-- report never aggregated counts its year's enabled modules as not
-- started; a key may come twice), by_module, by_category, by_scope and
-- it_by_category (sums of the validated blocks), total (validated kg), it
-- (validated IT kg), fte (sum of the validated FTE), fte_reports (the
-- reports having one: headcount validated), fte_total and fte_it (validated
-- kg and IT kg of those reports). Sums over no report are 0.
WITH r AS MATERIALIZED (
    SELECT cr.*
    FROM unnest(@ids::bigint[]) AS i (id)
    CROSS JOIN LATERAL (
        SELECT c.id, c.year, c.overall_status, c.stats -> 'module_statuses' AS statuses, c.stats -> 'validated' AS v
        FROM carbon_reports c WHERE c.id = i.id
        OFFSET 0 -- by primary key, one id at a time
    ) cr
), enabled AS MATERIALIZED (
    SELECT y.year, m.module
    FROM years y
    CROSS JOIN unnest('{headcount,professional_travel,buildings,equipment,purchases,research_facilities,external_cloud_ai,process_emissions}'::text[]) AS m (module)
    WHERE COALESCE((y.config -> 'modules' -> m.module ->> 'enabled')::boolean, true)
)
SELECT 'status'::text AS kind, r.overall_status::text AS key, count(*)::float8 AS value
FROM r GROUP BY r.overall_status
UNION ALL
SELECT 'module_status', e.key || ':' || e.value, count(*)::float8
FROM r, jsonb_each_text(r.statuses) AS e GROUP BY e.key, e.value
UNION ALL
SELECT 'module_status', e.module || ':not_started', count(*)::float8
FROM r JOIN enabled e ON e.year = r.year WHERE r.statuses IS NULL GROUP BY e.module
UNION ALL
SELECT 'by_module', e.key, sum(e.value::float8) FROM r, jsonb_each_text(r.v -> 'by_module') AS e GROUP BY e.key
UNION ALL
SELECT 'by_category', e.key, sum(e.value::float8) FROM r, jsonb_each_text(r.v -> 'by_category') AS e GROUP BY e.key
UNION ALL
SELECT 'by_scope', e.key, sum(e.value::float8) FROM r, jsonb_each_text(r.v -> 'by_scope') AS e GROUP BY e.key
UNION ALL
SELECT 'it_by_category', e.key, sum(e.value::float8) FROM r, jsonb_each_text(r.v -> 'it_by_category') AS e GROUP BY e.key
UNION ALL
SELECT 'total', '', COALESCE(sum((r.v ->> 'total_kg')::float8), 0) FROM r
UNION ALL
SELECT 'it', '', COALESCE(sum((r.v ->> 'it_kg')::float8), 0) FROM r
UNION ALL
SELECT 'fte', '', COALESCE(sum((r.v ->> 'fte')::float8), 0) FROM r
UNION ALL
SELECT 'fte_reports', '', count(*) FILTER (WHERE r.v ->> 'fte' IS NOT NULL)::float8 FROM r
UNION ALL
SELECT 'fte_total', '', COALESCE(sum((r.v ->> 'total_kg')::float8) FILTER (WHERE r.v ->> 'fte' IS NOT NULL), 0) FROM r
UNION ALL
SELECT 'fte_it', '', COALESCE(sum((r.v ->> 'it_kg')::float8) FILTER (WHERE r.v ->> 'fte' IS NOT NULL), 0) FROM r;

-- name: BackofficeUsage :many
-- One page of the enabled report modules of the reports of ids, in the
-- order of ids (reports) then display order (modules).
WITH enabled AS MATERIALIZED (
    SELECT y.year, m.module
    FROM years y
    CROSS JOIN unnest('{headcount,professional_travel,buildings,equipment,purchases,research_facilities,external_cloud_ai,process_emissions}'::text[]) AS m (module)
    WHERE COALESCE((y.config -> 'modules' -> m.module ->> 'enabled')::boolean, true)
)
SELECT sqlc.embed(u), rm.year, rm.module, rm.status, rm.status_changed_at, rm.data_updated_at
FROM unnest(@ids::bigint[]) WITH ORDINALITY AS o (report_id, n)
-- LATERAL: the modules of one report at a time, by index, in report order,
-- so that the scan stops at the end of the page (OFFSET 0 keeps the
-- planner from flattening it into a join over every report module).
CROSS JOIN LATERAL (
    SELECT m.* FROM report_modules m
    JOIN enabled e ON e.year = m.year AND e.module = m.module
    WHERE m.report_id = o.report_id
    OFFSET 0
) rm
JOIN units u ON u.id = rm.unit_id
ORDER BY o.n, array_position('{headcount,professional_travel,buildings,equipment,purchases,research_facilities,external_cloud_ai,process_emissions}'::text[], rm.module)
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');

-- name: BackofficeUsageCount :one
-- The number of rows BackofficeUsage pages through.
WITH enabled AS MATERIALIZED (
    SELECT y.year, m.module
    FROM years y
    CROSS JOIN unnest('{headcount,professional_travel,buildings,equipment,purchases,research_facilities,external_cloud_ai,process_emissions}'::text[]) AS m (module)
    WHERE COALESCE((y.config -> 'modules' -> m.module ->> 'enabled')::boolean, true)
)
SELECT count(*)::bigint
FROM unnest(@ids::bigint[]) AS i (id)
CROSS JOIN LATERAL (SELECT cr.year FROM carbon_reports cr WHERE cr.id = i.id OFFSET 0) cr
JOIN enabled e ON e.year = cr.year;

-- name: BackofficeYears :many
-- The years having a calculator report inside the scope (see
-- BackofficeReportIDs), newest first.
SELECT y.year, y.status
FROM years y
WHERE y.status = ANY(@year_statuses::text[])
  AND EXISTS (
    SELECT 1 FROM carbon_reports cr JOIN units u ON u.id = cr.unit_id
    WHERE cr.year = y.year AND cr.kind = 'calculator'
      AND (@global::boolean OR u.path_cfs && @scope_cfs::text[]))
ORDER BY y.year DESC;

-- name: BackofficeAffiliations :many
-- One page of the active level-2 and level-3 units inside the scope, in
-- tree order. Filters: level (null = both), q (as BackofficeReportIDs).
SELECT sqlc.embed(u)
FROM units u
WHERE u.is_active AND u.level IN (2, 3)
  AND (sqlc.narg('level')::smallint IS NULL OR u.level = sqlc.narg('level')::smallint)
  AND (@global::boolean OR u.path_cfs && @scope_cfs::text[])
  AND (sqlc.narg('q')::text IS NULL
       OR strpos(lower(u.name), lower(sqlc.narg('q')::text)) > 0
       OR strpos(lower(coalesce(u.cf, '')), lower(sqlc.narg('q')::text)) > 0
       OR strpos(lower(u.institutional_code), lower(sqlc.narg('q')::text)) > 0)
ORDER BY u.path_names, u.id
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');

-- name: BackofficeAffiliationsCount :one
-- The number of units BackofficeAffiliations pages through.
SELECT count(*)::bigint
FROM units u
WHERE u.is_active AND u.level IN (2, 3)
  AND (sqlc.narg('level')::smallint IS NULL OR u.level = sqlc.narg('level')::smallint)
  AND (@global::boolean OR u.path_cfs && @scope_cfs::text[])
  AND (sqlc.narg('q')::text IS NULL
       OR strpos(lower(u.name), lower(sqlc.narg('q')::text)) > 0
       OR strpos(lower(coalesce(u.cf, '')), lower(sqlc.narg('q')::text)) > 0
       OR strpos(lower(u.institutional_code), lower(sqlc.narg('q')::text)) > 0);
