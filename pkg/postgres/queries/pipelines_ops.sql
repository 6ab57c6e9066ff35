-- Pipelines list, cancel and upload row errors (docs/api.md §9, §10).

-- name: PipelinesFiltered :many
-- Visible pipelines, newest first. @all_visible lifts the visibility clamp
-- (bo(pipeline_operations|configuration, view)); otherwise a pipeline is
-- visible to its creator or when "<unit cf>/<module>" is in @sync_keys
-- (module_sync grants of the caller).
SELECT p.* FROM pipelines p
WHERE (@all_visible::boolean
       OR p.created_by = sqlc.narg('user_id')::bigint
       OR (p.unit_id IS NOT NULL AND p.module IS NOT NULL AND EXISTS (
             SELECT 1 FROM units u WHERE u.id = p.unit_id AND (u.cf || '/' || p.module) = ANY(@sync_keys::text[]))))
  AND (cardinality(@statuses::text[]) = 0 OR p.status = ANY(@statuses::text[]))
  AND (cardinality(@kinds::text[]) = 0 OR p.kind = ANY(@kinds::text[]))
  AND (cardinality(@years::integer[]) = 0 OR p.year = ANY(@years::integer[]))
  AND (cardinality(@modules::text[]) = 0 OR p.module = ANY(@modules::text[]))
  AND (cardinality(@unit_ids::bigint[]) = 0 OR p.unit_id = ANY(@unit_ids::bigint[]))
  AND (sqlc.narg('has_errors')::boolean IS NULL OR sqlc.narg('has_errors')::boolean =
       (p.failed_job_count > 0 OR p.last_error IS NOT NULL OR coalesce((p.counters->>'row_errors_total')::numeric, 0) > 0))
  AND (sqlc.narg('active')::boolean IS NULL OR sqlc.narg('active')::boolean = (p.status IN ('NOT_STARTED', 'RUNNING')))
  AND (sqlc.narg('since')::timestamptz IS NULL OR p.created_at >= sqlc.narg('since')::timestamptz)
  AND (sqlc.narg('until')::timestamptz IS NULL OR p.created_at < sqlc.narg('until')::timestamptz)
  AND (sqlc.narg('q')::text IS NULL OR p.message ILIKE '%' || sqlc.narg('q')::text || '%' ESCAPE '\'
       OR p.last_error ILIKE '%' || sqlc.narg('q')::text || '%' ESCAPE '\')
ORDER BY p.created_at DESC, p.id DESC
LIMIT @lim OFFSET @off;

-- name: PipelinesFilteredCount :one
SELECT count(*) FROM pipelines p
WHERE (@all_visible::boolean
       OR p.created_by = sqlc.narg('user_id')::bigint
       OR (p.unit_id IS NOT NULL AND p.module IS NOT NULL AND EXISTS (
             SELECT 1 FROM units u WHERE u.id = p.unit_id AND (u.cf || '/' || p.module) = ANY(@sync_keys::text[]))))
  AND (cardinality(@statuses::text[]) = 0 OR p.status = ANY(@statuses::text[]))
  AND (cardinality(@kinds::text[]) = 0 OR p.kind = ANY(@kinds::text[]))
  AND (cardinality(@years::integer[]) = 0 OR p.year = ANY(@years::integer[]))
  AND (cardinality(@modules::text[]) = 0 OR p.module = ANY(@modules::text[]))
  AND (cardinality(@unit_ids::bigint[]) = 0 OR p.unit_id = ANY(@unit_ids::bigint[]))
  AND (sqlc.narg('has_errors')::boolean IS NULL OR sqlc.narg('has_errors')::boolean =
       (p.failed_job_count > 0 OR p.last_error IS NOT NULL OR coalesce((p.counters->>'row_errors_total')::numeric, 0) > 0))
  AND (sqlc.narg('active')::boolean IS NULL OR sqlc.narg('active')::boolean = (p.status IN ('NOT_STARTED', 'RUNNING')))
  AND (sqlc.narg('since')::timestamptz IS NULL OR p.created_at >= sqlc.narg('since')::timestamptz)
  AND (sqlc.narg('until')::timestamptz IS NULL OR p.created_at < sqlc.narg('until')::timestamptz)
  AND (sqlc.narg('q')::text IS NULL OR p.message ILIKE '%' || sqlc.narg('q')::text || '%' ESCAPE '\'
       OR p.last_error ILIKE '%' || sqlc.narg('q')::text || '%' ESCAPE '\');

-- name: PipelineJobsSummary :many
-- The jobs of several pipelines without their row errors (list items).
SELECT pipeline_id, job_id, kind, queue, role, state, attempt, max_attempts, started_at, finished_at,
       message, result, row_errors_total
FROM pipeline_jobs WHERE pipeline_id = ANY(@pipeline_ids::uuid[])
ORDER BY pipeline_id, attached_at, job_id;

-- name: PipelineMarkCancelled :exec
UPDATE pipelines SET cancelled = true, cancel_requested_by = sqlc.narg('user_id')::bigint,
    cancel_requested_at = now(), updated_at = now()
WHERE id = @id;

-- name: PipelineJobsCancellable :many
-- Non-terminal jobs of a pipeline that no other pipeline links.
SELECT pj.job_id FROM pipeline_jobs pj
WHERE pj.pipeline_id = @pipeline_id
  AND pj.state IN ('queued', 'running', 'retrying')
  AND NOT EXISTS (SELECT 1 FROM pipeline_jobs o WHERE o.job_id = pj.job_id AND o.pipeline_id <> pj.pipeline_id)
ORDER BY pj.job_id;

-- name: UploadRowErrors :many
-- Row errors kept for the jobs of an upload's pipeline.
SELECT pj.job_id, pj.row_errors FROM pipeline_jobs pj
JOIN uploads u ON u.pipeline_id = pj.pipeline_id
WHERE u.id = @upload_id
ORDER BY pj.attached_at, pj.job_id;

-- Retry (docs/jobs.md §2.5).

-- name: PipelineJobGet :one
SELECT * FROM pipeline_jobs WHERE pipeline_id = @pipeline_id AND job_id = @job_id;

-- name: PipelineClearCancelled :exec
UPDATE pipelines SET cancelled = false, cancel_requested_by = NULL, cancel_requested_at = NULL, updated_at = now()
WHERE id = @id;

-- name: PipelineJobRequeue :many
-- A job River made available again (retry): every link of it is queued
-- again, with River's max_attempts (a retry after the last attempt grants
-- one more).
UPDATE pipeline_jobs SET
    state        = 'queued',
    finished_at  = NULL,
    message      = @message,
    max_attempts = @max_attempts
WHERE job_id = @job_id
RETURNING pipeline_id;
