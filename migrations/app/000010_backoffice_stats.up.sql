-- Back-office reporting (docs/api.md §11, docs/domain.md §12.4) reads
-- carbon_reports.stats only. Two keys were added to those stats, kept up to
-- date by the aggregate job from now on (report.BuildReportStats):
--   entries_by_module          {module: entry count}, every module;
--   module_statuses            {module: status}, the enabled modules;
--   <block>.it_by_category     {IT focus category: kg} in the all and
--                              validated blocks (the module's it_kg, for the
--                              enabled — and, in validated, validated —
--                              equipment, purchases, external_cloud_ai and
--                              research_facilities modules).
-- This backfills them on the reports whose stats were computed before, from
-- their modules' stored stats (no emission rows are read).
WITH enabled AS (
    SELECT y.year, m.module
    FROM years y
    CROSS JOIN unnest('{headcount,professional_travel,buildings,equipment,purchases,research_facilities,external_cloud_ai,process_emissions}'::text[]) AS m (module)
    WHERE COALESCE((y.config -> 'modules' -> m.module ->> 'enabled')::boolean, true)
), modules AS (
    SELECT rm.report_id,
           jsonb_object_agg(rm.module, COALESCE(
               (SELECT sum(e.value::bigint)
                FROM jsonb_each_text(CASE WHEN jsonb_typeof(rm.stats -> 'entries_by_submodule') = 'object'
                                          THEN rm.stats -> 'entries_by_submodule' END) AS e), 0)) AS entries,
           COALESCE(jsonb_object_agg(rm.module, rm.status) FILTER (WHERE en.module IS NOT NULL), '{}') AS statuses,
           COALESCE(jsonb_object_agg(it.category, COALESCE((rm.stats ->> 'it_kg')::float8, 0))
               FILTER (WHERE it.category IS NOT NULL AND en.module IS NOT NULL), '{}') AS it_all,
           COALESCE(jsonb_object_agg(it.category, COALESCE((rm.stats ->> 'it_kg')::float8, 0))
               FILTER (WHERE it.category IS NOT NULL AND en.module IS NOT NULL AND rm.status = 'validated'), '{}') AS it_validated
    FROM report_modules rm
    LEFT JOIN enabled en ON en.year = rm.year AND en.module = rm.module
    LEFT JOIN (VALUES ('equipment', 'equipment_it'), ('purchases', 'purchases_it'),
                      ('external_cloud_ai', 'external_cloud_ai'), ('research_facilities', 'research_facilities_it'))
        AS it (module, category) ON it.module = rm.module
    GROUP BY rm.report_id
)
UPDATE carbon_reports cr SET stats = jsonb_set(jsonb_set(
        cr.stats || jsonb_build_object('entries_by_module', m.entries, 'module_statuses', m.statuses),
        '{all,it_by_category}', m.it_all),
        '{validated,it_by_category}', m.it_validated)
FROM modules m
WHERE m.report_id = cr.id AND cr.stats ? 'all' AND cr.stats ? 'validated';
