-- name: PipelineCreate :one
INSERT INTO pipelines (id, kind, trigger, year, module, submodule, unit_id, report_module_id,
                       upload_id, export_id, created_by, phases, phase, message)
VALUES (@id, @kind, @trigger, @year, @module, @submodule, @unit_id, @report_module_id,
        @upload_id, @export_id, @created_by, @phases::text[], (@phases::text[])[1], @message)
RETURNING *;

-- name: PipelineGet :one
SELECT * FROM pipelines WHERE id = @id;

-- name: PipelineGetForUpdate :one
SELECT * FROM pipelines WHERE id = @id FOR UPDATE;

-- name: PipelineHead :one
-- The version and the fields fixed at creation (visibility, If-None-Match).
SELECT id, version, created_by, unit_id, module FROM pipelines WHERE id = @id;

-- name: PipelineVersion :one
SELECT version, status FROM pipelines WHERE id = @id;

-- name: PipelineUpdateDerived :one
UPDATE pipelines SET
    status           = @status,
    phase            = @phase,
    phase_index      = @phase_index,
    progress_done    = @progress_done,
    progress_total   = @progress_total,
    percent          = @percent,
    eta_seconds      = @eta_seconds,
    message          = @message,
    counters         = @counters,
    last_error       = @last_error,
    job_count        = @job_count,
    failed_job_count = @failed_job_count,
    started_at       = @started_at,
    finished_at      = @finished_at,
    updated_at       = now(),
    version          = version + 1
WHERE id = @id
RETURNING version;

-- name: PipelineNotify :exec
SELECT pg_notify('pipeline_updates', @payload::text);

-- name: PipelineJobLink :exec
INSERT INTO pipeline_jobs (pipeline_id, job_id, kind, queue, role, max_attempts)
VALUES (@pipeline_id, @job_id, @kind, @queue, @role, @max_attempts)
ON CONFLICT (pipeline_id, job_id) DO UPDATE SET attached_at = now();

-- name: PipelineJobList :many
SELECT * FROM pipeline_jobs WHERE pipeline_id = @pipeline_id ORDER BY attached_at, job_id;

-- name: PipelineIDsByJob :many
SELECT pipeline_id FROM pipeline_jobs WHERE job_id = @job_id ORDER BY pipeline_id;

-- name: PipelineJobStart :many
-- message is the attempt's initial message (null: none; a retry says why
-- the previous attempt failed).
UPDATE pipeline_jobs SET
    state      = 'running',
    attempt    = @attempt,
    started_at = coalesce(started_at, now()),
    message    = sqlc.narg('message')::text
WHERE job_id = @job_id
RETURNING pipeline_id;

-- name: PipelineJobProgress :many
UPDATE pipeline_jobs SET progress = @progress, message = coalesce(@message, message)
WHERE job_id = @job_id AND state = 'running'
RETURNING pipeline_id;

-- name: PipelineJobFinish :many
-- finished_at is the wall clock, not now(): a job finishes in the
-- transaction of its work, which may have started long before.
UPDATE pipeline_jobs SET
    state            = @state,
    finished_at      = CASE WHEN @state::text IN ('succeeded', 'failed', 'cancelled') THEN clock_timestamp() END,
    message          = @message,
    result           = coalesce(sqlc.narg('result')::jsonb, result),
    row_errors       = coalesce(sqlc.narg('row_errors')::jsonb, row_errors),
    row_errors_total = coalesce(sqlc.narg('row_errors_total')::integer, row_errors_total)
WHERE job_id = @job_id AND state NOT IN ('succeeded', 'failed', 'cancelled')
RETURNING pipeline_id;

-- name: PipelineJobState :one
SELECT state FROM pipeline_jobs WHERE job_id = @job_id LIMIT 1;
