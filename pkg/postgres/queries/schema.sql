-- name: AppSchemaVersion :one
SELECT version, dirty FROM schema_migrations LIMIT 1;

-- name: RiverSchemaVersion :one
SELECT version, dirty FROM river_schema_migrations LIMIT 1;

-- name: RiverQueueDepth :many
SELECT queue, state::text AS state, count(*)::bigint AS jobs
FROM river_job
WHERE state IN ('available', 'running', 'retryable', 'scheduled', 'pending')
GROUP BY queue, state
ORDER BY queue, state;
