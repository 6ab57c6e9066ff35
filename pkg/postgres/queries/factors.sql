-- name: FactorGet :one
SELECT * FROM factors WHERE id = @id;

-- name: FactorsByYear :many
-- Every factor of a year (engine lookup, preloaded per job or request).
SELECT * FROM factors WHERE year = @year ORDER BY submodule, class_key;

-- name: FactorsByYearSubmodule :many
SELECT * FROM factors WHERE year = @year AND submodule = @submodule ORDER BY class_key;

-- name: FactorsByYearModule :many
SELECT * FROM factors WHERE year = @year AND module = @module ORDER BY submodule, class_key;

-- name: FactorGetByClassKey :one
SELECT * FROM factors WHERE year = @year AND submodule = @submodule AND class_key = @class_key;

-- name: FactorUpsert :one
-- Inserts or updates a factor by its identity (year, submodule, class_key).
-- An update always records last_upload_id (the upload re-asserted it) but
-- bumps updated_at only when something changed. inserted and changed tell
-- what happened (counters factors_upserted / factors_unchanged); changed is
-- updated_at = now(), i.e. also true for a factor already changed earlier in
-- the same transaction.
INSERT INTO factors (year, module, submodule, emission_type, classification, class_key, "values",
                     source, last_upload_id, updated_by)
VALUES (@year, @module, @submodule, @emission_type, @classification, @class_key, @values,
        @source, @last_upload_id, @updated_by)
ON CONFLICT (year, submodule, class_key) DO UPDATE SET
    emission_type  = excluded.emission_type,
    classification = excluded.classification,
    "values"       = excluded."values",
    source         = excluded.source,
    last_upload_id = coalesce(excluded.last_upload_id, factors.last_upload_id),
    updated_by     = coalesce(excluded.updated_by, factors.updated_by),
    version        = factors.version + CASE WHEN (factors.emission_type, factors.classification, factors."values", factors.source)
                                                 IS DISTINCT FROM
                                                 (excluded.emission_type, excluded.classification, excluded."values", excluded.source)
                                            THEN 1 ELSE 0 END,
    updated_at     = CASE WHEN (factors.emission_type, factors.classification, factors."values", factors.source)
                               IS DISTINCT FROM
                               (excluded.emission_type, excluded.classification, excluded."values", excluded.source)
                          THEN now() ELSE factors.updated_at END
RETURNING *,
    (xmax = 0)::boolean AS inserted,
    (updated_at = now())::boolean AS changed;

-- name: FactorDelete :one
-- Deletes a factor and nulls the references of entries and emission rows
-- to it (they keep their rows until recomputed; no foreign key does it).
WITH deleted AS (
    DELETE FROM factors f WHERE f.id = @id RETURNING *
), entry_refs AS (
    UPDATE data_entries SET primary_factor_id = NULL WHERE primary_factor_id IN (SELECT d.id FROM deleted d)
), row_refs AS (
    UPDATE emission_rows SET factor_id = NULL WHERE factor_id IN (SELECT d.id FROM deleted d)
)
SELECT * FROM deleted;

-- name: FactorsDeleteNotAsserted :many
-- Purges the factors of the given submodules of a year that the upload
-- did not re-assert (stale factors, docs/api.md factors purge); entries and
-- emissions keep their rows with a null factor id until recomputed (the
-- statement nulls their references; no foreign key does it).
WITH deleted AS (
    DELETE FROM factors f
    WHERE f.year = @year AND f.submodule = ANY(@submodules::text[])
      AND f.last_upload_id IS DISTINCT FROM @upload_id::uuid
    RETURNING f.id, f.submodule, f.class_key
), entry_refs AS (
    UPDATE data_entries SET primary_factor_id = NULL WHERE primary_factor_id IN (SELECT d.id FROM deleted d)
), row_refs AS (
    UPDATE emission_rows SET factor_id = NULL WHERE factor_id IN (SELECT d.id FROM deleted d)
)
SELECT id, submodule, class_key FROM deleted;

-- Factor curation (docs/api.md §8, pkg/factors).

-- name: FactorGetWithStale :one
SELECT sqlc.embed(f), s.stale
FROM factors f JOIN factor_staleness s ON s.factor_id = f.id
WHERE f.id = @id;

-- name: FactorGetForUpdate :one
SELECT * FROM factors WHERE id = @id FOR UPDATE;

-- name: FactorsList :many
-- One page of factors (GET /factors). Filters (null = none): year, module,
-- submodule, stale, q (case-insensitive substring of the class key). Sort:
-- two keys sort1 and sort2 (id, submodule, emission_type, updated_at,
-- class_key; '' = none), each ascending unless sort*_desc; ties by id.
SELECT sqlc.embed(f), s.stale
FROM factors f JOIN factor_staleness s ON s.factor_id = f.id
WHERE (sqlc.narg('year')::integer IS NULL OR f.year = sqlc.narg('year')::integer)
  AND (sqlc.narg('module')::text IS NULL OR f.module = sqlc.narg('module')::text)
  AND (sqlc.narg('submodule')::text IS NULL OR f.submodule = sqlc.narg('submodule')::text)
  AND (sqlc.narg('stale')::boolean IS NULL OR s.stale = sqlc.narg('stale')::boolean)
  AND (sqlc.narg('q')::text IS NULL OR strpos(lower(f.class_key), lower(sqlc.narg('q')::text)) > 0)
ORDER BY
    CASE WHEN @sort1::text = 'id' AND NOT @sort1_desc::boolean THEN f.id END ASC,
    CASE WHEN @sort1::text = 'id' AND @sort1_desc::boolean THEN f.id END DESC,
    CASE WHEN @sort1::text = 'updated_at' AND NOT @sort1_desc::boolean THEN f.updated_at END ASC,
    CASE WHEN @sort1::text = 'updated_at' AND @sort1_desc::boolean THEN f.updated_at END DESC,
    CASE WHEN NOT @sort1_desc::boolean THEN CASE @sort1::text
        WHEN 'submodule' THEN f.submodule WHEN 'emission_type' THEN f.emission_type WHEN 'class_key' THEN f.class_key END END ASC,
    CASE WHEN @sort1_desc::boolean THEN CASE @sort1::text
        WHEN 'submodule' THEN f.submodule WHEN 'emission_type' THEN f.emission_type WHEN 'class_key' THEN f.class_key END END DESC,
    CASE WHEN @sort2::text = 'id' AND NOT @sort2_desc::boolean THEN f.id END ASC,
    CASE WHEN @sort2::text = 'id' AND @sort2_desc::boolean THEN f.id END DESC,
    CASE WHEN @sort2::text = 'updated_at' AND NOT @sort2_desc::boolean THEN f.updated_at END ASC,
    CASE WHEN @sort2::text = 'updated_at' AND @sort2_desc::boolean THEN f.updated_at END DESC,
    CASE WHEN NOT @sort2_desc::boolean THEN CASE @sort2::text
        WHEN 'submodule' THEN f.submodule WHEN 'emission_type' THEN f.emission_type WHEN 'class_key' THEN f.class_key END END ASC,
    CASE WHEN @sort2_desc::boolean THEN CASE @sort2::text
        WHEN 'submodule' THEN f.submodule WHEN 'emission_type' THEN f.emission_type WHEN 'class_key' THEN f.class_key END END DESC,
    f.id
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');

-- name: FactorsCount :one
-- The number of factors FactorsList filters (same filters).
SELECT count(*)::bigint
FROM factors f JOIN factor_staleness s ON s.factor_id = f.id
WHERE (sqlc.narg('year')::integer IS NULL OR f.year = sqlc.narg('year')::integer)
  AND (sqlc.narg('module')::text IS NULL OR f.module = sqlc.narg('module')::text)
  AND (sqlc.narg('submodule')::text IS NULL OR f.submodule = sqlc.narg('submodule')::text)
  AND (sqlc.narg('stale')::boolean IS NULL OR s.stale = sqlc.narg('stale')::boolean)
  AND (sqlc.narg('q')::text IS NULL OR strpos(lower(f.class_key), lower(sqlc.narg('q')::text)) > 0);

-- name: FactorsStale :many
-- The stale factors (view factor_staleness) of a year and submodule (null =
-- every one), by year, submodule and class key.
SELECT sqlc.embed(f), s.stale
FROM factors f JOIN factor_staleness s ON s.factor_id = f.id
WHERE s.stale
  AND (sqlc.narg('year')::integer IS NULL OR f.year = sqlc.narg('year')::integer)
  AND (sqlc.narg('submodule')::text IS NULL OR f.submodule = sqlc.narg('submodule')::text)
ORDER BY f.year, f.submodule, f.class_key;

-- name: FactorsDeleteStale :many
-- Purges the stale factors of a year (of one submodule when given) and
-- nulls the references of entries and emission rows to them, like
-- FactorDelete; they are recomputed by the recalculation the caller
-- requests.
WITH deleted AS (
    DELETE FROM factors f USING factor_staleness s
    WHERE s.factor_id = f.id AND s.stale AND f.year = @year
      AND (sqlc.narg('submodule')::text IS NULL OR f.submodule = sqlc.narg('submodule')::text)
    RETURNING f.id, f.module, f.submodule, f.class_key, f.classification, f."values"
), entry_refs AS (
    UPDATE data_entries SET primary_factor_id = NULL WHERE primary_factor_id IN (SELECT d.id FROM deleted d)
), row_refs AS (
    UPDATE emission_rows SET factor_id = NULL WHERE factor_id IN (SELECT d.id FROM deleted d)
)
SELECT id, module, submodule, class_key, classification, "values" FROM deleted ORDER BY submodule, class_key;

-- name: FactorInsert :one
-- Creates a factor (API, computed); no row when its identity (year,
-- submodule, class_key) exists.
INSERT INTO factors (year, module, submodule, emission_type, classification, class_key, "values", source, updated_by)
VALUES (@year, @module, @submodule, @emission_type, @classification, @class_key, @values, @source, @updated_by)
ON CONFLICT (year, submodule, class_key) DO NOTHING
RETURNING *;

-- name: FactorUpdate :one
-- Rewrites a factor's classification and values (API edit, computed
-- refresh): the identity moves with the classification (a unique violation
-- when another factor has it), the version is bumped, last_upload_id kept.
UPDATE factors SET
    emission_type  = @emission_type,
    classification = @classification,
    class_key      = @class_key,
    "values"       = @values,
    source         = @source,
    updated_by     = coalesce(sqlc.narg('updated_by')::bigint, updated_by),
    updated_at     = now(),
    version        = version + 1
WHERE id = @id
RETURNING *;

-- name: ReportEmissionsByType :many
-- The emission rows of a report summed per emission type (leaves), every
-- module counted (computed research-facility factors, docs/domain.md §7.6).
SELECT e.emission_type, sum(e.kg_co2eq)::float8 AS kg_co2eq
FROM emissions e JOIN report_modules rm ON rm.id = e.report_module_id
WHERE rm.report_id = @report_id
GROUP BY e.emission_type
ORDER BY e.emission_type;
