-- name: FXRateGet :one
SELECT * FROM fx_rates WHERE year = @year AND currency = @currency;

-- name: FXRateUpsert :execrows
-- Inserts or updates an ECB rate; manual rates are never overwritten.
INSERT INTO fx_rates (year, currency, per_eur, source, months_covered, fetched_at, updated_at)
VALUES (@year, @currency, @per_eur, @source, @months_covered, now(), now())
ON CONFLICT (year, currency) DO UPDATE SET
    per_eur        = excluded.per_eur,
    source         = excluded.source,
    months_covered = excluded.months_covered,
    fetched_at     = excluded.fetched_at,
    updated_at     = now()
WHERE fx_rates.source <> 'manual';

-- name: FXRateSetManual :one
-- Sets a manual rate (docs/api.md §8 PUT /fx-rates/{year}/{currency}): it
-- replaces any ECB rate and is never overwritten by the ECB job
-- (FXRateUpsert) until deleted.
INSERT INTO fx_rates (year, currency, per_eur, source, months_covered, fetched_at, updated_at)
VALUES (@year, @currency, @per_eur, 'manual', NULL, now(), now())
ON CONFLICT (year, currency) DO UPDATE SET
    per_eur        = excluded.per_eur,
    source         = 'manual',
    months_covered = NULL,
    fetched_at     = now(),
    updated_at     = now()
RETURNING *;

-- name: FXRateDeleteManual :one
-- Deletes a manual rate (no row when the rate is absent or from the ECB).
DELETE FROM fx_rates WHERE year = @year AND currency = @currency AND source = 'manual'
RETURNING *;

-- name: FXRatesByYear :many
SELECT * FROM fx_rates WHERE year = @year ORDER BY currency;

-- name: IntegrationStateRecord :exec
INSERT INTO integration_state (name, last_attempt_at, last_success_at, last_status, last_message, last_pipeline_id, details, updated_at)
VALUES (@name, now(), CASE WHEN @success::boolean THEN now() END, @last_status, @last_message, @last_pipeline_id, @details, now())
ON CONFLICT (name) DO UPDATE SET
    last_attempt_at  = now(),
    last_success_at  = CASE WHEN @success::boolean THEN now() ELSE integration_state.last_success_at END,
    last_status      = excluded.last_status,
    last_message     = excluded.last_message,
    last_pipeline_id = coalesce(excluded.last_pipeline_id, integration_state.last_pipeline_id),
    details          = CASE WHEN @success::boolean THEN excluded.details ELSE integration_state.details END,
    updated_at       = now();

-- name: WorkerHeartbeat :exec
INSERT INTO workers (id, hostname, version, git_sha, queues, running_jobs, started_at, heartbeat_at)
VALUES (@id, @hostname, @version, @git_sha, @queues, @running_jobs, @started_at, now())
ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), running_jobs = excluded.running_jobs;

-- name: WorkerDelete :exec
DELETE FROM workers WHERE id = @id;
