-- name: EmissionsCopyFrom :copyfrom
-- Bulk insert of engine rows (emission.Row) that are not kept on their entry
-- (migration 000013: every outcome but one row of the primary factor);
-- quantity and quantity_unit are both null when the row has no physical
-- quantity.
INSERT INTO emission_rows (entry_id, report_module_id, emission_type, scope, category, kg_co2eq,
                       quantity, quantity_unit, factor_id, meta, engine_version, computed_at)
VALUES (@entry_id, @report_module_id, @emission_type, @scope, @category, @kg_co2eq,
        @quantity, @quantity_unit, @factor_id, @meta, @engine_version, @computed_at);

-- name: EmissionsDeleteByEntry :execrows
DELETE FROM emission_rows WHERE entry_id = @entry_id;

-- name: EmissionsDeleteByEntries :execrows
DELETE FROM emission_rows WHERE entry_id = ANY(@entry_ids::bigint[]);

-- The reads below go through the view emissions: the rows of
-- emission_rows and the single rows kept on their entries.

-- name: EmissionsByEntry :many
SELECT * FROM emissions WHERE entry_id = @entry_id ORDER BY id;

-- name: EmissionsByEntries :many
SELECT * FROM emissions WHERE entry_id = ANY(@entry_ids::bigint[]) ORDER BY entry_id, id;

-- Aggregates for the aggregate job (docs/domain.md §12.1): one row per report
-- module and group, over the emission rows of the given report modules.

-- name: AggEmissions :many
-- One scan of a batch of report modules' emission rows for their stats:
-- kg per leaf, category and scope (a leaf has one category and scope, so
-- the groups are the leaves), with the summed physical quantity, the
-- smallest unit and whether the group's rows that have a unit share it
-- (quantity_units: 0 none has one, 1 one unit, 2 several; quantity_unit is
-- empty when there are none). Not count(DISTINCT …), which sorts every row
-- of the groups: min and max let the aggregation hash.
SELECT report_module_id, emission_type, category, scope,
       sum(kg_co2eq)::float8 AS kg_co2eq,
       count(*)::bigint AS rows,
       coalesce(sum(quantity), 0)::float8 AS quantity,
       coalesce(min(quantity_unit), '')::text AS quantity_unit,
       (CASE WHEN min(quantity_unit) IS NULL THEN 0
             WHEN min(quantity_unit) = max(quantity_unit) THEN 1
             ELSE 2 END)::bigint AS quantity_units
FROM emissions
WHERE report_module_id = ANY(@report_module_ids::bigint[])
GROUP BY report_module_id, emission_type, category, scope
ORDER BY report_module_id, emission_type, category, scope;

-- name: AggEntriesBySubmodule :many
-- Entry counts, calc issues (calc_status not ok/override) and cached entry
-- totals per submodule.
SELECT report_module_id, submodule,
       count(*)::bigint AS entries,
       count(*) FILTER (WHERE calc_status NOT IN ('ok', 'override'))::bigint AS calc_issues,
       sum(kg_co2eq)::float8 AS kg_co2eq,
       sum(kg_co2eq_additional)::float8 AS kg_co2eq_additional
FROM data_entries
WHERE report_module_id = ANY(@report_module_ids::bigint[])
GROUP BY report_module_id, submodule
ORDER BY report_module_id, submodule;

-- name: AggHeadcountFTE :many
-- Headcount FTE per report module: members by SIUS code, the student line
-- under submodule student (sius_code empty).
SELECT report_module_id, submodule,
       coalesce(data ->> 'sius_code', '')::text AS sius_code,
       sum(coalesce((data ->> 'fte')::float8, 0))::float8 AS fte
FROM data_entries
WHERE report_module_id = ANY(@report_module_ids::bigint[]) AND submodule IN ('member', 'student')
GROUP BY report_module_id, submodule, coalesce(data ->> 'sius_code', '')
ORDER BY report_module_id, submodule, sius_code;
