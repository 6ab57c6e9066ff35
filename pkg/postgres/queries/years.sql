-- name: YearGet :one
SELECT * FROM years WHERE year = @year;

-- name: YearGetForUpdate :one
SELECT * FROM years WHERE year = @year FOR UPDATE;

-- name: YearsList :many
SELECT * FROM years ORDER BY year DESC;

-- name: YearsByStatus :many
SELECT * FROM years WHERE status = ANY(@statuses::text[]) ORDER BY year DESC;

-- name: YearCreate :one
-- A new year starts in setting_up unless a status is given (tests, fixtures).
INSERT INTO years (year, status, config, created_by)
VALUES (@year, coalesce(sqlc.narg('status')::text, 'setting_up'), @config, @created_by)
RETURNING *;

-- name: YearUpdateStatus :one
-- Moves a year to status when it is currently in one of from_statuses
-- (pgx.ErrNoRows otherwise: unknown year or invalid transition) and stamps
-- the matching lifecycle timestamp.
UPDATE years SET
    status             = @status::text,
    setup_completed_at = CASE WHEN @status::text = 'ready' AND status IN ('setting_up', 'setup_failed')
                              THEN now() ELSE setup_completed_at END,
    opened_at          = CASE WHEN @status::text = 'open' THEN now() ELSE opened_at END,
    closed_at          = CASE WHEN @status::text = 'closed' THEN now() ELSE closed_at END,
    updated_at         = now()
WHERE year = @year AND status = ANY(@from_statuses::text[])
RETURNING *;

-- name: YearUpdateConfig :one
UPDATE years SET config = @config, updated_at = now() WHERE year = @year RETURNING *;

-- name: YearSetSetupPipeline :exec
UPDATE years SET setup_pipeline_id = @setup_pipeline_id, updated_at = now() WHERE year = @year;

-- name: ModuleYearStateGet :one
SELECT * FROM module_year_state WHERE year = @year AND module = @module;

-- name: ModuleYearStatesByYear :many
SELECT * FROM module_year_state WHERE year = @year ORDER BY module;

-- name: ModuleYearStateBump :one
-- Requests a recalculation of (year, module) (docs/domain.md §11.3): increments
-- recalc_requested_seq and stamps the cause (reason: factors, reference, fx;
-- any other value, e.g. manual, only bumps the sequence).
INSERT INTO module_year_state (year, module, recalc_requested_seq,
                               factors_changed_at, reference_changed_at, fx_changed_at)
VALUES (@year, @module, 1,
        CASE WHEN @reason::text = 'factors' THEN now() END,
        CASE WHEN @reason::text = 'reference' THEN now() END,
        CASE WHEN @reason::text = 'fx' THEN now() END)
ON CONFLICT (year, module) DO UPDATE SET
    recalc_requested_seq = module_year_state.recalc_requested_seq + 1,
    factors_changed_at   = coalesce(excluded.factors_changed_at, module_year_state.factors_changed_at),
    reference_changed_at = coalesce(excluded.reference_changed_at, module_year_state.reference_changed_at),
    fx_changed_at        = coalesce(excluded.fx_changed_at, module_year_state.fx_changed_at)
RETURNING *;

-- name: ModuleYearStateFinish :one
-- Records a finished recalculation that started from sequence seq (never
-- moves recalc_done_seq backwards).
UPDATE module_year_state SET
    recalc_done_seq         = greatest(recalc_done_seq, @seq::bigint),
    last_recalc_at          = now(),
    last_recalc_pipeline_id = coalesce(sqlc.narg('pipeline_id')::uuid, last_recalc_pipeline_id)
WHERE year = @year AND module = @module
RETURNING *;

-- name: ModuleYearStatesNeedingRecalc :many
-- Module-years whose recalculation was requested and not yet done, closed
-- years excluded (their numbers are frozen).
SELECT mys.* FROM module_year_state mys JOIN years y ON y.year = mys.year
WHERE mys.recalc_requested_seq > mys.recalc_done_seq AND y.status <> 'closed'
ORDER BY mys.year, mys.module;

-- name: YearLatestBefore :one
-- The latest year before year (a new year copies its configuration).
SELECT * FROM years WHERE year < @year ORDER BY year DESC LIMIT 1;

-- name: YearStartSetup :one
-- A setup run starts (docs/domain.md §11.1): setup_failed goes back to
-- setting_up, a ready, open or setting_up year keeps its status; the new
-- setup pipeline is recorded.
UPDATE years SET
    status            = CASE WHEN status = 'setup_failed' THEN 'setting_up' ELSE status END,
    setup_pipeline_id = @setup_pipeline_id,
    updated_at        = now()
WHERE year = @year
RETURNING *;
