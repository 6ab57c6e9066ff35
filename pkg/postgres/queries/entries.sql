-- name: EntryInsert :one
-- Inserts one entry (interactive create). Computed fields are written by
-- EntrySetComputed once the engine ran.
INSERT INTO data_entries (report_module_id, unit_id, year, module, submodule, data, kg_override,
                          source, upload_id, owner_sciper, created_by, updated_by)
VALUES (@report_module_id, @unit_id, @year, @module, @submodule, @data, @kg_override,
        @source, @upload_id, @owner_sciper, @created_by, @created_by)
RETURNING *;

-- name: EntryIDsReserve :many
-- Reserves n ids of data_entries (bulk loads assign ids before COPY so that
-- emission rows can reference their entries, docs/domain.md §1).
-- The sequence is looked up once (OFFSET 0 keeps the subquery from being
-- inlined): pg_get_serial_sequence per row made 10 000 ids cost 30 ms
-- instead of 5.
SELECT nextval(s.seq)::bigint AS id
FROM (SELECT pg_get_serial_sequence('data_entries', 'id')::regclass AS seq OFFSET 0) s,
     generate_series(1, @n::integer);

-- name: EntriesCopyFrom :copyfrom
-- distance_km and surface_m2 are the engine's sort values (calc.SortValues);
-- row_* the entry's single emission row (calc.Batch.SetEntryRow, migration
-- 000013), all null when its rows are in emission_rows or it has none.
INSERT INTO data_entries (id, report_module_id, unit_id, year, module, submodule, data, kg_override,
                          source, upload_id, owner_sciper, calc_status, calc_message, primary_factor_id,
                          kg_co2eq, kg_co2eq_additional, computed_at, created_by, updated_by,
                          distance_km, surface_m2,
                          row_emission_type, row_scope, row_category, row_quantity, row_quantity_unit,
                          row_meta, row_engine_version)
VALUES (@id, @report_module_id, @unit_id, @year, @module, @submodule, @data, @kg_override,
        @source, @upload_id, @owner_sciper, @calc_status, @calc_message, @primary_factor_id,
        @kg_co2eq, @kg_co2eq_additional, @computed_at, @created_by, @updated_by,
        @distance_km, @surface_m2,
        @row_emission_type, @row_scope, @row_category, @row_quantity, @row_quantity_unit,
        @row_meta, @row_engine_version);

-- name: EntryGet :one
-- One entry, scoped by the report module and submodule named in the URL
-- (R2.7): a mismatch is pgx.ErrNoRows.
SELECT * FROM data_entries
WHERE id = @id AND report_module_id = @report_module_id AND submodule = @submodule;

-- name: EntryGetForUpdate :one
SELECT * FROM data_entries
WHERE id = @id AND report_module_id = @report_module_id AND submodule = @submodule
FOR UPDATE;

-- name: EntriesList :many
-- One page of a submodule's entries (docs/api.md §5), sorted in the
-- database whatever the key: the request's memory is the page's.
--   Filters (null = no filter): owner_sciper (own scope, D7), source,
--   calc_status, min_kg (above_threshold: kg_co2eq > min_kg), q (substring,
--   case-insensitive, over the data fields named in q_fields).
--   Sort: up to four keys sort1..sort4 ('' = unused), each ascending unless
--   sort<n>_desc, then id ascending. Each key gives every entry a number
--   (n<n>, entry_sort_number) and a text (t<n>, entry_sort_text; both SQL
--   functions of migration 000019, inlined by the planner), compared in
--   that order, missing values last in both directions:
--     id, kg_co2eq, created_at, updated_at (microseconds): the column;
--     distance_km: the stored trip distance (calc.SortValues);
--     surface_m2: the room's own surface_m2, else the stored surface the
--       engine used (the reference room's; calc.SortValues), as listed;
--     traveler_name: the lower-cased name of the member of the same
--       report's headcount with the trip's SCIPER (one at most: index
--       data_entries_member_sciper_key), read only when a key asks for it;
--     any other key: the data field of that name — a number, a boolean
--       (false 0, true 1), or a string lower-cased.
--   Unknown keys sort nothing: the API layer validates them against the
--   submodule's fields.
--   Paging: offset (page) or after (keyset): null, or the sort_position of
--   the entry after which the page starts — the JSON array [n1, t1, n2, t2,
--   n3, t3, n4, t4, id] this query returns with every entry (a cursor,
--   pkg/entry/cursor.go). A keyset page costs the first page's work at any
--   depth: one scan of the filtered entries and a top-N sort of limit rows.
--   The page is sorted on (keys, id) only, then its rows are read: a deep
--   page sorts narrow tuples, not the payloads. Run it with custom plans
--   (ListPlanCustom): a custom plan folds the keys into plain columns.
WITH travelers AS (
    SELECT (m.data ->> 'user_institutional_id') AS sciper, min(lower(m.data ->> 'name')) AS name
    FROM report_modules t
    JOIN report_modules h ON h.report_id = t.report_id AND h.module = 'headcount'
    JOIN data_entries m ON m.report_module_id = h.id AND m.submodule = 'member'
    WHERE t.id = @report_module_id
      AND 'traveler_name' IN (@sort1::text, @sort2::text, @sort3::text, @sort4::text)
    GROUP BY 1
), page AS (
    SELECT e.id, k.n1, k.t1, k.n2, k.t2, k.n3, k.t3, k.n4, k.t4
    FROM data_entries e
    LEFT JOIN travelers tr ON tr.sciper = e.owner_sciper
    CROSS JOIN LATERAL (
        SELECT entry_sort_number(@sort1::text, e.id, e.kg_co2eq, e.created_at, e.updated_at, e.distance_km, e.surface_m2, e.data) AS n1,
               entry_sort_text(@sort1::text, tr.name, e.data) AS t1,
               entry_sort_number(@sort2::text, e.id, e.kg_co2eq, e.created_at, e.updated_at, e.distance_km, e.surface_m2, e.data) AS n2,
               entry_sort_text(@sort2::text, tr.name, e.data) AS t2,
               entry_sort_number(@sort3::text, e.id, e.kg_co2eq, e.created_at, e.updated_at, e.distance_km, e.surface_m2, e.data) AS n3,
               entry_sort_text(@sort3::text, tr.name, e.data) AS t3,
               entry_sort_number(@sort4::text, e.id, e.kg_co2eq, e.created_at, e.updated_at, e.distance_km, e.surface_m2, e.data) AS n4,
               entry_sort_text(@sort4::text, tr.name, e.data) AS t4
    ) k
    WHERE e.report_module_id = @report_module_id AND e.submodule = @submodule
      AND (sqlc.narg('owner_sciper')::text IS NULL OR e.owner_sciper = sqlc.narg('owner_sciper')::text)
      AND (sqlc.narg('source')::text IS NULL OR e.source = sqlc.narg('source')::text)
      AND (sqlc.narg('calc_status')::text IS NULL OR e.calc_status = sqlc.narg('calc_status')::text)
      AND (sqlc.narg('min_kg')::float8 IS NULL OR e.kg_co2eq > sqlc.narg('min_kg')::float8)
      AND (sqlc.narg('q')::text IS NULL OR EXISTS (
            SELECT 1 FROM unnest(@q_fields::text[]) AS f (name)
            WHERE strpos(lower(e.data ->> f.name), lower(sqlc.narg('q')::text)) > 0))
      -- Keyset: only the entries after the position a cursor carries (the
      -- sort_position of the last entry of the previous page), in the
      -- order below.
      AND (sqlc.narg('after')::jsonb IS NULL OR
            CASE WHEN (sqlc.narg('after')::jsonb ->> 0) IS NULL THEN false WHEN k.n1 IS NULL THEN true WHEN @sort1_desc::boolean THEN k.n1 < (sqlc.narg('after')::jsonb ->> 0)::float8 ELSE k.n1 > (sqlc.narg('after')::jsonb ->> 0)::float8 END
                OR (k.n1 IS NOT DISTINCT FROM (sqlc.narg('after')::jsonb ->> 0)::float8 AND (
                CASE WHEN (sqlc.narg('after')::jsonb ->> 1) IS NULL THEN false WHEN k.t1 IS NULL THEN true WHEN @sort1_desc::boolean THEN k.t1 < (sqlc.narg('after')::jsonb ->> 1) ELSE k.t1 > (sqlc.narg('after')::jsonb ->> 1) END
                    OR (k.t1 IS NOT DISTINCT FROM (sqlc.narg('after')::jsonb ->> 1) AND (
                    CASE WHEN (sqlc.narg('after')::jsonb ->> 2) IS NULL THEN false WHEN k.n2 IS NULL THEN true WHEN @sort2_desc::boolean THEN k.n2 < (sqlc.narg('after')::jsonb ->> 2)::float8 ELSE k.n2 > (sqlc.narg('after')::jsonb ->> 2)::float8 END
                        OR (k.n2 IS NOT DISTINCT FROM (sqlc.narg('after')::jsonb ->> 2)::float8 AND (
                        CASE WHEN (sqlc.narg('after')::jsonb ->> 3) IS NULL THEN false WHEN k.t2 IS NULL THEN true WHEN @sort2_desc::boolean THEN k.t2 < (sqlc.narg('after')::jsonb ->> 3) ELSE k.t2 > (sqlc.narg('after')::jsonb ->> 3) END
                            OR (k.t2 IS NOT DISTINCT FROM (sqlc.narg('after')::jsonb ->> 3) AND (
                            CASE WHEN (sqlc.narg('after')::jsonb ->> 4) IS NULL THEN false WHEN k.n3 IS NULL THEN true WHEN @sort3_desc::boolean THEN k.n3 < (sqlc.narg('after')::jsonb ->> 4)::float8 ELSE k.n3 > (sqlc.narg('after')::jsonb ->> 4)::float8 END
                                OR (k.n3 IS NOT DISTINCT FROM (sqlc.narg('after')::jsonb ->> 4)::float8 AND (
                                CASE WHEN (sqlc.narg('after')::jsonb ->> 5) IS NULL THEN false WHEN k.t3 IS NULL THEN true WHEN @sort3_desc::boolean THEN k.t3 < (sqlc.narg('after')::jsonb ->> 5) ELSE k.t3 > (sqlc.narg('after')::jsonb ->> 5) END
                                    OR (k.t3 IS NOT DISTINCT FROM (sqlc.narg('after')::jsonb ->> 5) AND (
                                    CASE WHEN (sqlc.narg('after')::jsonb ->> 6) IS NULL THEN false WHEN k.n4 IS NULL THEN true WHEN @sort4_desc::boolean THEN k.n4 < (sqlc.narg('after')::jsonb ->> 6)::float8 ELSE k.n4 > (sqlc.narg('after')::jsonb ->> 6)::float8 END
                                        OR (k.n4 IS NOT DISTINCT FROM (sqlc.narg('after')::jsonb ->> 6)::float8 AND (
                                        CASE WHEN (sqlc.narg('after')::jsonb ->> 7) IS NULL THEN false WHEN k.t4 IS NULL THEN true WHEN @sort4_desc::boolean THEN k.t4 < (sqlc.narg('after')::jsonb ->> 7) ELSE k.t4 > (sqlc.narg('after')::jsonb ->> 7) END
                                            OR (k.t4 IS NOT DISTINCT FROM (sqlc.narg('after')::jsonb ->> 7) AND (
                                            e.id > (sqlc.narg('after')::jsonb ->> 8)::bigint)))))))))))))))))
    ORDER BY
    CASE WHEN NOT @sort1_desc::boolean THEN k.n1 END ASC NULLS LAST, CASE WHEN @sort1_desc::boolean THEN k.n1 END DESC NULLS LAST,
    CASE WHEN NOT @sort1_desc::boolean THEN k.t1 END ASC NULLS LAST, CASE WHEN @sort1_desc::boolean THEN k.t1 END DESC NULLS LAST,
    CASE WHEN NOT @sort2_desc::boolean THEN k.n2 END ASC NULLS LAST, CASE WHEN @sort2_desc::boolean THEN k.n2 END DESC NULLS LAST,
    CASE WHEN NOT @sort2_desc::boolean THEN k.t2 END ASC NULLS LAST, CASE WHEN @sort2_desc::boolean THEN k.t2 END DESC NULLS LAST,
    CASE WHEN NOT @sort3_desc::boolean THEN k.n3 END ASC NULLS LAST, CASE WHEN @sort3_desc::boolean THEN k.n3 END DESC NULLS LAST,
    CASE WHEN NOT @sort3_desc::boolean THEN k.t3 END ASC NULLS LAST, CASE WHEN @sort3_desc::boolean THEN k.t3 END DESC NULLS LAST,
    CASE WHEN NOT @sort4_desc::boolean THEN k.n4 END ASC NULLS LAST, CASE WHEN @sort4_desc::boolean THEN k.n4 END DESC NULLS LAST,
    CASE WHEN NOT @sort4_desc::boolean THEN k.t4 END ASC NULLS LAST, CASE WHEN @sort4_desc::boolean THEN k.t4 END DESC NULLS LAST,
    e.id
    LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset')
)
SELECT sqlc.embed(d), json_build_array(p.n1, p.t1, p.n2, p.t2, p.n3, p.t3, p.n4, p.t4, p.id)::text AS sort_position
FROM page p
JOIN data_entries d ON d.id = p.id
ORDER BY
    CASE WHEN NOT @sort1_desc::boolean THEN p.n1 END ASC NULLS LAST, CASE WHEN @sort1_desc::boolean THEN p.n1 END DESC NULLS LAST,
    CASE WHEN NOT @sort1_desc::boolean THEN p.t1 END ASC NULLS LAST, CASE WHEN @sort1_desc::boolean THEN p.t1 END DESC NULLS LAST,
    CASE WHEN NOT @sort2_desc::boolean THEN p.n2 END ASC NULLS LAST, CASE WHEN @sort2_desc::boolean THEN p.n2 END DESC NULLS LAST,
    CASE WHEN NOT @sort2_desc::boolean THEN p.t2 END ASC NULLS LAST, CASE WHEN @sort2_desc::boolean THEN p.t2 END DESC NULLS LAST,
    CASE WHEN NOT @sort3_desc::boolean THEN p.n3 END ASC NULLS LAST, CASE WHEN @sort3_desc::boolean THEN p.n3 END DESC NULLS LAST,
    CASE WHEN NOT @sort3_desc::boolean THEN p.t3 END ASC NULLS LAST, CASE WHEN @sort3_desc::boolean THEN p.t3 END DESC NULLS LAST,
    CASE WHEN NOT @sort4_desc::boolean THEN p.n4 END ASC NULLS LAST, CASE WHEN @sort4_desc::boolean THEN p.n4 END DESC NULLS LAST,
    CASE WHEN NOT @sort4_desc::boolean THEN p.t4 END ASC NULLS LAST, CASE WHEN @sort4_desc::boolean THEN p.t4 END DESC NULLS LAST,
    p.id;

-- name: ListPlanCustom :exec
-- Plans the next statements of the transaction for their parameters
-- (EntriesList: the sort keys are parameters).
SELECT set_config('plan_cache_mode', 'force_custom_plan', true);

-- name: SnapshotReadOnly :exec
-- The first statement of a read-only transaction whose reads must see one
-- snapshot (an entries list: its count and its page).
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;

-- name: EntriesCount :one
-- Count and summary of the entries EntriesList filters (same filters):
-- total rows, Σ kg_co2eq and entries with a calc issue (status not ok or
-- override).
SELECT count(*)::bigint AS total,
       coalesce(sum(e.kg_co2eq), 0)::float8 AS kg_co2eq,
       count(*) FILTER (WHERE e.calc_status NOT IN ('ok', 'override'))::bigint AS calc_issues
FROM data_entries e
WHERE e.report_module_id = @report_module_id AND e.submodule = @submodule
  AND (sqlc.narg('owner_sciper')::text IS NULL OR e.owner_sciper = sqlc.narg('owner_sciper')::text)
  AND (sqlc.narg('source')::text IS NULL OR e.source = sqlc.narg('source')::text)
  AND (sqlc.narg('calc_status')::text IS NULL OR e.calc_status = sqlc.narg('calc_status')::text)
  AND (sqlc.narg('min_kg')::float8 IS NULL OR e.kg_co2eq > sqlc.narg('min_kg')::float8)
  AND (sqlc.narg('q')::text IS NULL OR EXISTS (
        SELECT 1 FROM unnest(@q_fields::text[]) AS f (name)
        WHERE strpos(lower(e.data ->> f.name), lower(sqlc.narg('q')::text)) > 0));

-- name: EntriesByReportModule :many
-- Every entry of a report module (all submodules), by id: stats, exports.
SELECT * FROM data_entries WHERE report_module_id = @report_module_id ORDER BY submodule, id;

-- name: EntriesByYearModuleAfter :many
-- Keyset pages over the entries of a module-year (recalculation batches).
SELECT * FROM data_entries
WHERE year = @year AND module = @module AND id > @after_id
ORDER BY id
LIMIT sqlc.arg('limit');

-- name: EntryUpdate :one
-- Replaces the payload and override of an entry and bumps its version.
-- expected_version (If-Match) is optional; a mismatch, like a scope
-- mismatch, is pgx.ErrNoRows (the caller tells 404 from 412 with EntryGet).
-- Computed fields are written by EntrySetComputed.
UPDATE data_entries SET
    data         = @data,
    kg_override  = @kg_override,
    owner_sciper = @owner_sciper,
    updated_by   = @updated_by,
    updated_at   = now(),
    version      = version + 1
WHERE id = @id AND report_module_id = @report_module_id AND submodule = @submodule
  AND (sqlc.narg('expected_version')::integer IS NULL OR version = sqlc.narg('expected_version')::integer)
RETURNING *;

-- name: EntryDelete :one
-- Deletes an entry (its emissions cascade) and returns it (audit snapshot).
-- Same scoping and optional version check as EntryUpdate.
DELETE FROM data_entries
WHERE id = @id AND report_module_id = @report_module_id AND submodule = @submodule
  AND (sqlc.narg('expected_version')::integer IS NULL OR version = sqlc.narg('expected_version')::integer)
RETURNING *;

-- name: EntrySetComputed :exec
-- Stores the engine outcome of one entry (its emission rows are replaced in
-- the same transaction).
UPDATE data_entries SET
    kg_co2eq            = @kg_co2eq,
    kg_co2eq_additional = @kg_co2eq_additional,
    calc_status         = @calc_status,
    calc_message        = @calc_message,
    primary_factor_id   = @primary_factor_id,
    distance_km         = sqlc.narg('distance_km'),
    surface_m2          = sqlc.narg('surface_m2'),
    computed_at         = now()
WHERE id = @id;

-- name: EntriesSetComputed :execrows
-- EntrySetComputed for many entries at once (recalculation batches);
-- parallel arrays; a primary_factor_id of 0, an empty calc_message and the
-- sort values distance_km and surface_m2 of 0 (calc.SortValues) are stored
-- as null. row_*: the entry's single emission row (migration 000013), an
-- empty row_emission_type (or arrays shorter than ids) storing none; an
-- empty row_quantity_unit stores a null quantity and unit. None of these
-- columns is indexed: the update stays HOT (migration 000003).
UPDATE data_entries e SET
    kg_co2eq            = u.kg_co2eq,
    kg_co2eq_additional = u.kg_co2eq_additional,
    calc_status         = u.calc_status,
    calc_message        = nullif(u.calc_message, ''),
    primary_factor_id   = nullif(u.primary_factor_id, 0),
    distance_km         = nullif(u.distance_km, 0),
    surface_m2          = nullif(u.surface_m2, 0),
    row_emission_type   = nullif(u.row_emission_type, ''),
    row_scope           = CASE WHEN u.row_emission_type <> '' THEN u.row_scope END,
    row_category        = CASE WHEN u.row_emission_type <> '' THEN u.row_category END,
    row_quantity        = CASE WHEN u.row_emission_type <> '' AND u.row_quantity_unit <> '' THEN u.row_quantity END,
    row_quantity_unit   = CASE WHEN u.row_emission_type <> '' THEN nullif(u.row_quantity_unit, '') END,
    row_meta            = CASE WHEN u.row_emission_type <> '' THEN u.row_meta::jsonb END,
    row_engine_version  = CASE WHEN u.row_emission_type <> '' THEN u.row_engine_version END,
    computed_at         = now()
FROM (
    SELECT unnest(@ids::bigint[]) AS id,
           unnest(@kg_co2eqs::float8[]) AS kg_co2eq,
           unnest(@kg_co2eq_additionals::float8[]) AS kg_co2eq_additional,
           unnest(@calc_statuses::text[]) AS calc_status,
           unnest(@calc_messages::text[]) AS calc_message,
           unnest(@primary_factor_ids::bigint[]) AS primary_factor_id,
           unnest(@distance_kms::float8[]) AS distance_km,
           unnest(@surface_m2s::float8[]) AS surface_m2,
           unnest(@row_emission_types::text[]) AS row_emission_type,
           unnest(@row_scopes::smallint[]) AS row_scope,
           unnest(@row_categories::text[]) AS row_category,
           unnest(@row_quantities::float8[]) AS row_quantity,
           unnest(@row_quantity_units::text[]) AS row_quantity_unit,
           unnest(@row_metas::text[]) AS row_meta,
           unnest(@row_engine_versions::text[]) AS row_engine_version
) u
WHERE e.id = u.id;

-- name: EntriesSetSortValues :execrows
-- Fills the sort values of entries computed before migration 000012
-- (calc.BackfillSortValues): parallel arrays, 0 for none; an entry whose
-- values were written since (by a newer computation), or that has none, is
-- left alone.
UPDATE data_entries e SET
    distance_km = nullif(u.distance_km, 0),
    surface_m2  = nullif(u.surface_m2, 0)
FROM (
    SELECT unnest(@ids::bigint[]) AS id,
           unnest(@distance_kms::float8[]) AS distance_km,
           unnest(@surface_m2s::float8[]) AS surface_m2
) u
WHERE e.id = u.id AND e.distance_km IS NULL AND e.surface_m2 IS NULL
  AND (u.distance_km <> 0 OR u.surface_m2 <> 0);

-- name: EntrySortBackfillPending :many
-- The module-years whose sort values are still to fill (migration 000012).
SELECT year, module FROM entry_sort_backfill ORDER BY year, module;

-- name: EntrySortBackfillDone :exec
DELETE FROM entry_sort_backfill WHERE year = @year AND module = @module;

-- name: EntryMemberSciperExists :one
-- Whether another member of the report module already has this SCIPER
-- (409 duplicate_institutional_id; the unique index
-- data_entries_member_sciper_key is the final guard).
SELECT EXISTS (
    SELECT 1 FROM data_entries
    WHERE report_module_id = @report_module_id AND submodule = 'member'
      AND data ->> 'user_institutional_id' = @sciper::text
      AND id <> coalesce(sqlc.narg('except_id')::bigint, 0)
) AS taken;

-- name: EntryStudentExists :one
SELECT EXISTS (
    SELECT 1 FROM data_entries WHERE report_module_id = @report_module_id AND submodule = 'student'
) AS exists;

-- name: MembersByReportModule :many
-- The members dropdown (docs/api.md .../headcount/members): SCIPER and name.
SELECT (data ->> 'user_institutional_id')::text AS sciper, (data ->> 'name')::text AS name
FROM data_entries
WHERE report_module_id = @report_module_id AND submodule = 'member'
  AND (sqlc.narg('sciper')::text IS NULL OR data ->> 'user_institutional_id' = sqlc.narg('sciper')::text)
ORDER BY lower(data ->> 'name'), id;

-- name: EntriesDeleteByYearSource :many
-- Replacement of a per-year upload or a Tableau sync (docs/jobs.md): deletes the
-- entries of the given source in the submodules of a year and reports how
-- many were deleted per report module (to mark them changed).
WITH deleted AS (
    DELETE FROM data_entries
    WHERE year = @year AND module = @module AND submodule = ANY(@submodules::text[]) AND source = @source
    RETURNING report_module_id
)
SELECT report_module_id, count(*)::bigint AS deleted FROM deleted GROUP BY report_module_id ORDER BY report_module_id;

-- name: EntriesDeleteByReportModuleSource :execrows
-- Replacement of a module-page upload (replace_existing).
DELETE FROM data_entries
WHERE report_module_id = @report_module_id AND submodule = ANY(@submodules::text[]) AND source = @source;
