-- The worker fleet (package fleet): heartbeat rows live in workers (their
-- writes are in fx.sql), River's client id of a worker process equals its
-- workers.id, so the last element of river_job.attempted_by names the
-- process running a job.

-- Hands back the running jobs whose worker died: the last sign of life of
-- the worker that fetched the attempt (its heartbeat, or the fetch itself
-- when later) is older than dead_after_secs, measured on the database clock.
-- A job whose worker has no row at all is judged on its attempted_at alone.
-- Like River's rescuer (JobRescueMany): a job whose cancel was requested
-- ends cancelled, a job on its last attempt is discarded, any other job is
-- retried at once (River's executor makes a retry due within the scheduler
-- interval `available` rather than `retryable`); an AttemptError is appended
-- to errors and river:rescue_count is bumped. Jobs of the reaper's own
-- worker (self) and jobs not `running` are never touched; SKIP LOCKED lets
-- concurrent reapers (one per worker) split the work without waiting.
-- name: FleetReapJobsOfDeadWorkers :many
WITH dead AS (
    SELECT
        j.id,
        j.attempted_by[array_length(j.attempted_by, 1)] AS worker_id,
        greatest(w.heartbeat_at, j.attempted_at) AS last_seen_at,
        CASE
            WHEN j.metadata -> 'cancel_attempted_at' IS NOT NULL THEN 'cancelled'
            WHEN j.attempt >= j.max_attempts THEN 'discarded'
            ELSE 'available'
        END::river_job_state AS new_state
    FROM river_job j
    LEFT JOIN workers w ON w.id = j.attempted_by[array_length(j.attempted_by, 1)]
    WHERE j.state = 'running'
        AND array_length(j.attempted_by, 1) > 0
        AND j.attempted_by[array_length(j.attempted_by, 1)] <> @self::text
        AND greatest(w.heartbeat_at, j.attempted_at) < now() - make_interval(secs => @dead_after_secs::float8)
    ORDER BY j.id
    LIMIT @max::integer
    FOR UPDATE OF j SKIP LOCKED
)
UPDATE river_job j SET
    state        = dead.new_state,
    finalized_at = CASE WHEN dead.new_state = 'available' THEN NULL ELSE now() END,
    scheduled_at = CASE WHEN dead.new_state = 'available' THEN now() ELSE j.scheduled_at END,
    errors       = array_append(j.errors, jsonb_build_object(
        'at', now(),
        'attempt', greatest(j.attempt, 0),
        'error', format('Worker %s died while running the job (last seen %s); handed back by the fleet reaper',
                        dead.worker_id, to_char(dead.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
        'trace', ''
    )),
    metadata     = j.metadata || jsonb_build_object(
        'river:rescue_count',
        coalesce(
            CASE WHEN jsonb_typeof(j.metadata -> 'river:rescue_count') = 'number'
                THEN (j.metadata ->> 'river:rescue_count')::int
            END,
            0
        ) + 1
    )
FROM dead
WHERE j.id = dead.id
    AND j.state = 'running'
RETURNING
    j.id,
    j.kind,
    j.state::text AS state,
    j.attempt,
    j.max_attempts,
    dead.worker_id::text AS worker_id,
    extract(epoch FROM now() - dead.last_seen_at)::float8 AS silent_secs;

-- Deletes the rows of workers silent for longer than forget_after_secs (the
-- ops page lists dead workers for an hour, docs/api.md section 10). A worker never
-- deletes its own row here (it removes it on a graceful exit).
-- name: FleetForgetDeadWorkers :execrows
DELETE FROM workers
WHERE id <> @self::text
    AND heartbeat_at < now() - make_interval(secs => @forget_after_secs::float8);

-- The jobs river_job says worker self is running (self fetched their current
-- attempt), with the time since that fetch on the database clock. The
-- worker's reaper compares them with the jobs it really works (package
-- fleet, Tracker).
-- name: FleetRunningJobsOfWorker :many
SELECT
    j.id,
    j.attempt,
    extract(epoch FROM now() - j.attempted_at)::float8 AS fetched_secs
FROM river_job j
WHERE j.state = 'running'
    AND array_length(j.attempted_by, 1) > 0
    AND j.attempted_by[array_length(j.attempted_by, 1)] = @self::text
ORDER BY j.id;

-- Hands back orphans of the live worker self: jobs river_job says self runs
-- although self never started them (the result of the fetch was lost with
-- the database connection). Each (id, attempt) pair is re-checked under the
-- row lock: still running, still the same attempt fetched by self, fetched
-- more than grace_secs ago; a job that changed since the worker looked is
-- skipped. Same hand-back as FleetReapJobsOfDeadWorkers (cancelled,
-- discarded on the last attempt, otherwise available at once; AttemptError
-- appended; river:rescue_count bumped).
-- name: FleetHandBackOrphans :many
WITH orphan AS (
    SELECT
        j.id,
        j.attempted_at,
        CASE
            WHEN j.metadata -> 'cancel_attempted_at' IS NOT NULL THEN 'cancelled'
            WHEN j.attempt >= j.max_attempts THEN 'discarded'
            ELSE 'available'
        END::river_job_state AS new_state
    FROM river_job j
    JOIN (
        SELECT unnest(@ids::bigint[]) AS id, unnest(@attempts::integer[]) AS attempt
    ) seen ON seen.id = j.id AND seen.attempt = j.attempt
    WHERE j.state = 'running'
        AND array_length(j.attempted_by, 1) > 0
        AND j.attempted_by[array_length(j.attempted_by, 1)] = @self::text
        AND j.attempted_at < now() - make_interval(secs => @grace_secs::float8)
    ORDER BY j.id
    FOR UPDATE OF j SKIP LOCKED
)
UPDATE river_job j SET
    state        = orphan.new_state,
    finalized_at = CASE WHEN orphan.new_state = 'available' THEN NULL ELSE now() END,
    scheduled_at = CASE WHEN orphan.new_state = 'available' THEN now() ELSE j.scheduled_at END,
    errors       = array_append(j.errors, jsonb_build_object(
        'at', now(),
        'attempt', greatest(j.attempt, 0),
        'error', format('Worker %s fetched the job at %s but never ran it (its database connection probably broke during the fetch); handed back by its own reaper',
                        @self::text, to_char(orphan.attempted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
        'trace', ''
    )),
    metadata     = j.metadata || jsonb_build_object(
        'river:rescue_count',
        coalesce(
            CASE WHEN jsonb_typeof(j.metadata -> 'river:rescue_count') = 'number'
                THEN (j.metadata ->> 'river:rescue_count')::int
            END,
            0
        ) + 1
    )
FROM orphan
WHERE j.id = orphan.id
    AND j.state = 'running'
RETURNING
    j.id,
    j.kind,
    j.state::text AS state,
    j.attempt,
    j.max_attempts,
    extract(epoch FROM now() - orphan.attempted_at)::float8 AS fetched_secs;
