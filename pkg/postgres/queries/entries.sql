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
SELECT nextval(pg_get_serial_sequence('data_entries', 'id'))::bigint AS id
FROM generate_series(1, @n::integer);

-- name: EntriesCopyFrom :copyfrom
INSERT INTO data_entries (id, report_module_id, unit_id, year, module, submodule, data, kg_override,
                          source, upload_id, owner_sciper, calc_status, calc_message, primary_factor_id,
                          kg_co2eq, kg_co2eq_additional, computed_at, created_by, updated_by)
VALUES (@id, @report_module_id, @unit_id, @year, @module, @submodule, @data, @kg_override,
        @source, @upload_id, @owner_sciper, @calc_status, @calc_message, @primary_factor_id,
        @kg_co2eq, @kg_co2eq_additional, @computed_at, @created_by, @updated_by);

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
-- One page of a submodule's entries (docs/api.md: entries list).
--   Filters (null = no filter): owner_sciper (own scope, D7), source,
--   calc_status, min_kg (above_threshold: kg_co2eq > min_kg), q (substring,
--   case-insensitive, over the data fields named in q_fields).
--   Sort: two keys sort1 and sort2, each ascending unless sort*_desc; a key
--   is a column (id, created_at, updated_at, kg_co2eq) or a field of data
--   (numbers sort numerically, strings case-insensitively, missing values
--   last); ties are broken by id. Unknown keys sort nothing: the API layer
--   validates them against the submodule's fields.
SELECT * FROM data_entries e
WHERE e.report_module_id = @report_module_id AND e.submodule = @submodule
  AND (sqlc.narg('owner_sciper')::text IS NULL OR e.owner_sciper = sqlc.narg('owner_sciper')::text)
  AND (sqlc.narg('source')::text IS NULL OR e.source = sqlc.narg('source')::text)
  AND (sqlc.narg('calc_status')::text IS NULL OR e.calc_status = sqlc.narg('calc_status')::text)
  AND (sqlc.narg('min_kg')::float8 IS NULL OR e.kg_co2eq > sqlc.narg('min_kg')::float8)
  AND (sqlc.narg('q')::text IS NULL OR EXISTS (
        SELECT 1 FROM unnest(@q_fields::text[]) AS f (name)
        WHERE strpos(lower(e.data ->> f.name), lower(sqlc.narg('q')::text)) > 0))
ORDER BY
    CASE WHEN NOT @sort1_desc::boolean THEN
        CASE @sort1::text
            WHEN 'id' THEN e.id::float8
            WHEN 'kg_co2eq' THEN e.kg_co2eq
            WHEN 'created_at' THEN extract(epoch FROM e.created_at)::float8
            WHEN 'updated_at' THEN extract(epoch FROM e.updated_at)::float8
            ELSE CASE WHEN jsonb_typeof(e.data -> @sort1::text) = 'number' THEN (e.data ->> @sort1::text)::float8 END
        END END ASC NULLS LAST,
    CASE WHEN @sort1_desc::boolean THEN
        CASE @sort1::text
            WHEN 'id' THEN e.id::float8
            WHEN 'kg_co2eq' THEN e.kg_co2eq
            WHEN 'created_at' THEN extract(epoch FROM e.created_at)::float8
            WHEN 'updated_at' THEN extract(epoch FROM e.updated_at)::float8
            ELSE CASE WHEN jsonb_typeof(e.data -> @sort1::text) = 'number' THEN (e.data ->> @sort1::text)::float8 END
        END END DESC NULLS LAST,
    CASE WHEN NOT @sort1_desc::boolean AND jsonb_typeof(e.data -> @sort1::text) = 'string'
         THEN lower(e.data ->> @sort1::text) END ASC NULLS LAST,
    CASE WHEN @sort1_desc::boolean AND jsonb_typeof(e.data -> @sort1::text) = 'string'
         THEN lower(e.data ->> @sort1::text) END DESC NULLS LAST,
    CASE WHEN NOT @sort2_desc::boolean THEN
        CASE @sort2::text
            WHEN 'id' THEN e.id::float8
            WHEN 'kg_co2eq' THEN e.kg_co2eq
            WHEN 'created_at' THEN extract(epoch FROM e.created_at)::float8
            WHEN 'updated_at' THEN extract(epoch FROM e.updated_at)::float8
            ELSE CASE WHEN jsonb_typeof(e.data -> @sort2::text) = 'number' THEN (e.data ->> @sort2::text)::float8 END
        END END ASC NULLS LAST,
    CASE WHEN @sort2_desc::boolean THEN
        CASE @sort2::text
            WHEN 'id' THEN e.id::float8
            WHEN 'kg_co2eq' THEN e.kg_co2eq
            WHEN 'created_at' THEN extract(epoch FROM e.created_at)::float8
            WHEN 'updated_at' THEN extract(epoch FROM e.updated_at)::float8
            ELSE CASE WHEN jsonb_typeof(e.data -> @sort2::text) = 'number' THEN (e.data ->> @sort2::text)::float8 END
        END END DESC NULLS LAST,
    CASE WHEN NOT @sort2_desc::boolean AND jsonb_typeof(e.data -> @sort2::text) = 'string'
         THEN lower(e.data ->> @sort2::text) END ASC NULLS LAST,
    CASE WHEN @sort2_desc::boolean AND jsonb_typeof(e.data -> @sort2::text) = 'string'
         THEN lower(e.data ->> @sort2::text) END DESC NULLS LAST,
    e.id
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');

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
    computed_at         = now()
WHERE id = @id;

-- name: EntriesSetComputed :execrows
-- EntrySetComputed for many entries at once (recalculation batches);
-- parallel arrays; a primary_factor_id of 0 and an empty calc_message are
-- stored as null.
UPDATE data_entries e SET
    kg_co2eq            = u.kg_co2eq,
    kg_co2eq_additional = u.kg_co2eq_additional,
    calc_status         = u.calc_status,
    calc_message        = nullif(u.calc_message, ''),
    primary_factor_id   = nullif(u.primary_factor_id, 0),
    computed_at         = now()
FROM (
    SELECT unnest(@ids::bigint[]) AS id,
           unnest(@kg_co2eqs::float8[]) AS kg_co2eq,
           unnest(@kg_co2eq_additionals::float8[]) AS kg_co2eq_additional,
           unnest(@calc_statuses::text[]) AS calc_status,
           unnest(@calc_messages::text[]) AS calc_message,
           unnest(@primary_factor_ids::bigint[]) AS primary_factor_id
) u
WHERE e.id = u.id;

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
