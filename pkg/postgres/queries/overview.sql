-- Module overview, breakdowns and travel helpers (pkg/entry).

-- name: EntrySubmoduleTotals :many
-- Entry count, kg and calculation issues per submodule of a report module;
-- with owner_sciper set, travel entries count only when they are that
-- traveller's (own scope).
SELECT submodule, count(*)::bigint AS entries, coalesce(sum(kg_co2eq), 0)::float8 AS kg_co2eq,
       count(*) FILTER (WHERE calc_status NOT IN ('ok', 'override'))::bigint AS calc_issues
FROM data_entries
WHERE report_module_id = @report_module_id
  AND (sqlc.narg('owner_sciper')::text IS NULL OR submodule NOT IN ('plane', 'train')
       OR owner_sciper = sqlc.narg('owner_sciper')::text)
GROUP BY submodule;

-- name: OwnTripEmissionTotals :many
-- Emission sums of one traveller's trips in a report module.
SELECT e.scope, e.category, e.emission_type, coalesce(sum(e.kg_co2eq), 0)::float8 AS kg_co2eq
FROM emissions e
JOIN data_entries d ON d.id = e.entry_id
WHERE e.report_module_id = @report_module_id AND d.owner_sciper = @owner_sciper
GROUP BY e.scope, e.category, e.emission_type;

-- name: EntryClassTotals :many
-- Entry kg per submodule and class key for the module breakdowns: `key`
-- selects the class field (cabin_class, equipment_class,
-- purchase_institutional_code, facility); purchases also get the factor's
-- label ('' when none).
SELECT d.submodule,
       coalesce(CASE @key::text
           WHEN 'cabin_class' THEN d.data->>'cabin_class'
           WHEN 'equipment_class' THEN d.data->>'equipment_class'
           WHEN 'purchase_institutional_code' THEN d.data->>'purchase_institutional_code'
           ELSE CASE WHEN d.submodule = 'animal_facility' THEN d.data->>'researchfacility_type'
                     ELSE d.data->>'researchfacility_name' END
       END, '')::text AS class,
       coalesce(CASE WHEN @key::text = 'purchase_institutional_code'
            THEN max(coalesce(nullif(f."values"->>'label', ''), nullif(f."values"->>'description', '')))
       END, '')::text AS label,
       coalesce(sum(d.kg_co2eq), 0)::float8 AS kg_co2eq
FROM data_entries d
LEFT JOIN factors f ON f.id = d.primary_factor_id
WHERE d.report_module_id = @report_module_id
  AND (sqlc.narg('owner_sciper')::text IS NULL OR d.submodule NOT IN ('plane', 'train')
       OR d.owner_sciper = sqlc.narg('owner_sciper')::text)
GROUP BY 1, 2;

-- name: MembersOfReportModule :many
-- SCIPER and name of the members of a headcount report module (optionally
-- only one SCIPER).
SELECT (data->>'user_institutional_id')::text AS sciper, coalesce(data->>'name', '')::text AS name
FROM data_entries
WHERE report_module_id = @report_module_id AND submodule = 'member'
  AND coalesce(data->>'user_institutional_id', '') <> ''
  AND (sqlc.narg('only_sciper')::text IS NULL OR data->>'user_institutional_id' = sqlc.narg('only_sciper')::text);
