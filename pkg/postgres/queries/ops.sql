-- Job operations (docs/api.md §10, package fleet): the worker fleet, the
-- queues and River's jobs as the back office sees them, and the report
-- modules whose statistics wait for an aggregation.

-- name: OpsWorkers :many
-- Worker processes whose last heartbeat is younger than forget_after_secs
-- (the reapers delete older rows), live when younger than live_secs; ages on
-- the database clock, like the reapers'.
SELECT
    id, hostname, version, git_sha, queues, running_jobs, started_at, heartbeat_at,
    floor(extract(epoch FROM now() - heartbeat_at))::bigint AS heartbeat_age_s,
    (heartbeat_at > now() - make_interval(secs => @live_secs::float8))::boolean AS live
FROM workers
WHERE heartbeat_at >= now() - make_interval(secs => @forget_after_secs::float8)
ORDER BY hostname, id;

-- name: OpsQueues :many
-- Job counts by state of every queue named in @configured, having a
-- river_queue row, or holding waiting or running jobs. Only the counted
-- states are read (River's fetch index leads with the state), never the
-- finalized jobs.
WITH counts AS (
    SELECT queue, state, count(*)::bigint AS n
    FROM river_job
    WHERE state IN ('available', 'scheduled', 'running', 'retryable')
    GROUP BY queue, state
), names AS (
    SELECT unnest(@configured::text[]) AS name
    UNION
    SELECT name FROM river_queue
    UNION
    SELECT queue FROM counts
)
SELECT
    names.name::text AS queue,
    coalesce((SELECT c.n FROM counts c WHERE c.queue = names.name AND c.state = 'available'), 0)::bigint AS available,
    coalesce((SELECT c.n FROM counts c WHERE c.queue = names.name AND c.state = 'scheduled'), 0)::bigint AS scheduled,
    coalesce((SELECT c.n FROM counts c WHERE c.queue = names.name AND c.state = 'running'), 0)::bigint AS running,
    coalesce((SELECT c.n FROM counts c WHERE c.queue = names.name AND c.state = 'retryable'), 0)::bigint AS retryable,
    EXISTS (SELECT 1 FROM river_queue q WHERE q.name = names.name AND q.paused_at IS NOT NULL)::boolean AS paused
FROM names
ORDER BY names.name;

-- name: OpsJobs :many
-- River jobs, newest first, filtered by kind, state and queue (empty: any),
-- with their last three attempt errors (without stack traces).
SELECT
    j.id, j.kind, j.state::text AS state, j.queue, j.attempt, j.max_attempts, j.args,
    coalesce((SELECT jsonb_agg(jsonb_build_object('at', e -> 'at', 'attempt', e -> 'attempt', 'error', e -> 'error') ORDER BY o)
              FROM unnest(j.errors[greatest(coalesce(array_length(j.errors, 1), 0) - 2, 1):]) WITH ORDINALITY AS x (e, o)),
             '[]')::jsonb AS errors,
    j.created_at, j.attempted_at, j.finalized_at
FROM river_job j
WHERE (cardinality(@kinds::text[]) = 0 OR j.kind = ANY(@kinds::text[]))
  AND (cardinality(@states::text[]) = 0 OR j.state::text = ANY(@states::text[]))
  AND (cardinality(@queues::text[]) = 0 OR j.queue = ANY(@queues::text[]))
ORDER BY j.id DESC
LIMIT @lim OFFSET @off;

-- name: OpsJobsCount :one
SELECT count(*) FROM river_job j
WHERE (cardinality(@kinds::text[]) = 0 OR j.kind = ANY(@kinds::text[]))
  AND (cardinality(@states::text[]) = 0 OR j.state::text = ANY(@states::text[]))
  AND (cardinality(@queues::text[]) = 0 OR j.queue = ANY(@queues::text[]));

-- name: OpsJob :one
-- One River job, shaped as an OpsJobs row.
SELECT
    j.id, j.kind, j.state::text AS state, j.queue, j.attempt, j.max_attempts, j.args,
    coalesce((SELECT jsonb_agg(jsonb_build_object('at', e -> 'at', 'attempt', e -> 'attempt', 'error', e -> 'error') ORDER BY o)
              FROM unnest(j.errors[greatest(coalesce(array_length(j.errors, 1), 0) - 2, 1):]) WITH ORDINALITY AS x (e, o)),
             '[]')::jsonb AS errors,
    j.created_at, j.attempted_at, j.finalized_at
FROM river_job j
WHERE j.id = @id;

-- name: OpsJobForUpdate :one
-- Locks a River job before an operator changes it (retry, cancel).
SELECT id, kind, queue, state::text AS state, attempt, max_attempts
FROM river_job WHERE id = @id
FOR UPDATE;

-- name: OpsStaleStats :many
-- Report modules whose statistics have been dirty for longer than
-- older_than_minutes, oldest first, each with the lowest id of the
-- aggregation job of its year still to run (kind @aggregate_kind in one of
-- the coalescing states, docs/jobs.md §2.3), if any.
WITH pending AS (
    SELECT j.args ->> 'year' AS year, min(j.id)::bigint AS job_id
    FROM river_job j
    WHERE j.kind = @aggregate_kind::text
      AND j.state IN ('available', 'pending', 'retryable', 'running', 'scheduled')
    GROUP BY j.args ->> 'year'
)
SELECT rm.unit_id, rm.year, rm.module, rm.stats_dirty_at::timestamptz AS stats_dirty_at,
       p.job_id AS pending_aggregate_job_id
FROM report_modules rm
LEFT JOIN pending p ON p.year = rm.year::text
WHERE rm.stats_dirty_at IS NOT NULL
  AND rm.stats_dirty_at < now() - make_interval(mins => @older_than_minutes::integer)
ORDER BY rm.stats_dirty_at, rm.id;
