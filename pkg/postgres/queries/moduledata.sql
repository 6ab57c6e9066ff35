-- Queries of the module data API (package entry) that the shared query
-- files do not have.

-- name: ModuleDataEntryFieldConflict :one
-- The first entry of a report module (in the given submodules) whose data
-- field equals value (trimmed, case-insensitive), other than except_id:
-- member SCIPER uniqueness (409 duplicate_institutional_id) and the
-- check-unique route. pgx.ErrNoRows when the value is free.
SELECT id FROM data_entries
WHERE report_module_id = @report_module_id AND submodule = ANY(@submodules::text[])
  AND lower(btrim(data ->> @field::text)) = lower(btrim(@value::text))
  AND id <> coalesce(sqlc.narg('except_id')::bigint, 0)
ORDER BY id
LIMIT 1;

-- name: ModuleDataUserNames :many
-- Display names of users (entry created_by), display_name else SCIPER.
SELECT id, coalesce(display_name, sciper)::text AS name FROM users WHERE id = ANY(@ids::bigint[]);

-- name: ModuleDataMemberNames :many
-- Member names by SCIPER of the headcount module of a unit's report for a
-- year (traveler_name of trips).
SELECT (e.data ->> 'user_institutional_id')::text AS sciper, (e.data ->> 'name')::text AS name
FROM data_entries e
JOIN report_modules rm ON rm.id = e.report_module_id
JOIN carbon_reports cr ON cr.id = rm.report_id
WHERE cr.unit_id = @unit_id AND cr.year = @year AND cr.kind = 'calculator'
  AND e.submodule = 'member' AND (e.data ->> 'user_institutional_id') = ANY(@scipers::text[])
ORDER BY e.id;

-- name: ModuleDataLatestOpenYear :one
-- Default year of the taxonomy route: the latest open year.
SELECT year FROM years WHERE status = 'open' ORDER BY year DESC LIMIT 1;
