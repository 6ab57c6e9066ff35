-- name: PipelineJobEnded :one
-- Whether the pipeline bookkeeping already recorded the end of a job's
-- last attempt (a link succeeded, failed or cancelled) while River may still
-- show it running: its completer writes the final state a moment later.
SELECT coalesce(bool_or(state IN ('succeeded', 'failed', 'cancelled')), false)::boolean AS ended
FROM pipeline_jobs WHERE job_id = @job_id;
