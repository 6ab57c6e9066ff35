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
    UPDATE emissions SET factor_id = NULL WHERE factor_id IN (SELECT d.id FROM deleted d)
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
    UPDATE emissions SET factor_id = NULL WHERE factor_id IN (SELECT d.id FROM deleted d)
)
SELECT id, submodule, class_key FROM deleted;
