-- Queries of the emission recalculation (docs/jobs.md §4.4).

-- name: RecalcAsyncCommit :exec
-- SET LOCAL synchronous_commit = off for the current transaction: its
-- commit returns before the WAL is flushed. Only for work that is
-- idempotent and re-run when lost (recalculation batches): a crash can lose
-- the last few hundred milliseconds of committed batches, never corrupt
-- them, and the job, whose completion is committed synchronously, runs
-- again.
SELECT set_config('synchronous_commit', 'off', true)::text;

-- name: RecalcEmissionKeys :many
-- The key columns of the emission rows of a batch of entries
-- (RecomputeAndStore decides which rows can be rewritten in place).
SELECT id, entry_id, report_module_id, emission_type, factor_id
FROM emissions WHERE entry_id = ANY(@entry_ids::bigint[]);

-- name: RecalcEmissionsUpdate :execrows
-- Rewrites emission rows in place, by id (parallel arrays). Only the
-- non-key columns change: the indexed and foreign-key columns (entry,
-- report module, emission type, factor) keep their values, so the update
-- can be HOT and fires no foreign-key check, unlike delete + COPY. The
-- values stored are those the COPY would store (an empty quantity_unit
-- stores a null quantity and unit).
UPDATE emissions e SET
    scope          = n.scope,
    category       = n.category,
    kg_co2eq       = n.kg_co2eq,
    quantity       = CASE WHEN n.quantity_unit <> '' THEN n.quantity END,
    quantity_unit  = nullif(n.quantity_unit, ''),
    meta           = n.meta::jsonb,
    engine_version = @engine_version,
    computed_at    = @computed_at
FROM (
    SELECT unnest(@ids::bigint[]) AS id,
           unnest(@scopes::smallint[]) AS scope,
           unnest(@categories::text[]) AS category,
           unnest(@kg_co2eqs::float8[]) AS kg_co2eq,
           unnest(@quantities::float8[]) AS quantity,
           unnest(@quantity_units::text[]) AS quantity_unit,
           unnest(@metas::text[]) AS meta
) n
WHERE e.id = n.id;
