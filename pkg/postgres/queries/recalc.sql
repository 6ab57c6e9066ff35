-- Queries of the emission recalculation (docs/jobs.md §4.4).

-- name: RecalcAsyncCommit :exec
-- SET LOCAL synchronous_commit = off for the current transaction: its
-- commit returns before the WAL is flushed. Only for work that is
-- idempotent and re-run when lost (recalculation batches): a crash can lose
-- the last few hundred milliseconds of committed batches, never corrupt
-- them, and the job, whose completion is committed synchronously, runs
-- again.
SELECT set_config('synchronous_commit', 'off', true)::text;

-- name: RecalcLockModuleYearShared :exec
-- The module-year lock of LockModuleYear (same key) in shared mode: the
-- batches of one recalculation run side by side (they write disjoint
-- entries) and still exclude, and wait for, every other writer of the
-- module-year, which takes it exclusively.
SELECT pg_advisory_xact_lock_shared(1, hashtext(current_schema() || ':' || @key::text));

-- name: RecalcBatchEnd :one
-- The last id of the batch of `size` entries of a module-year after
-- after_id (pgx.ErrNoRows when fewer remain): the bounds of the batches
-- that run side by side.
SELECT id FROM data_entries
WHERE year = @year AND module = @module AND id > @after_id
ORDER BY id
OFFSET sqlc.arg('size')::integer - 1
LIMIT 1;

-- name: RecalcLockReportModules :exec
-- Locks the report modules a batch marks, in id order, before it marks
-- them: batches running side by side that share report modules then never
-- wait on each other in opposite orders.
SELECT id FROM report_modules WHERE id = ANY(@ids::bigint[]) ORDER BY id FOR NO KEY UPDATE;

-- name: RecalcEntriesRange :many
-- The entries of a module-year with after_id < id <= last_id, by id
-- (recalculation batches, data_entries_year_module_id_idx), with only what
-- a recalculation reads: what the engine evaluates (submodule, data,
-- kg_override), the totals it compares (kg_co2eq) and whether the entry
-- keeps its single emission row on itself (row_emission_type,
-- calc.RecomputeAndStore). Not the wide rest of the row.
SELECT id, report_module_id, submodule, data, kg_override, kg_co2eq, row_emission_type
FROM data_entries
WHERE year = @year AND module = @module AND id > @after_id AND id <= @last_id
ORDER BY id;
