-- name: SessionCreate :one
INSERT INTO sessions (user_id, created_at, last_used_at, expires_at, ip, user_agent)
VALUES (@user_id, @created_at, @created_at, @expires_at, @ip, @user_agent)
RETURNING *;

-- name: SessionWithUser :one
-- Access-token validation (docs/api.md §3.1): the session and its user in one
-- indexed read.
SELECT sqlc.embed(sessions), sqlc.embed(users)
FROM sessions JOIN users ON users.id = sessions.user_id
WHERE sessions.id = @id;

-- name: SessionTouch :exec
UPDATE sessions SET last_used_at = @last_used_at WHERE id = @id;

-- name: SessionRevoke :execrows
-- Revokes a session and ends all its refresh tokens.
WITH tokens AS (
    UPDATE refresh_tokens SET expires_at = least(refresh_tokens.expires_at, @revoked_at::timestamptz)
    WHERE refresh_tokens.session_id = @session_id::uuid
)
UPDATE sessions SET revoked_at = @revoked_at::timestamptz, revoked_reason = @reason::text
WHERE sessions.id = @session_id::uuid AND sessions.revoked_at IS NULL;

-- name: RefreshTokenCreate :one
INSERT INTO refresh_tokens (session_id, token_hash, issued_at, expires_at)
VALUES (@session_id, @token_hash, @issued_at, @expires_at)
RETURNING *;

-- name: RefreshTokenByHashForUpdate :one
-- The presented refresh token with its session, locked for rotation.
SELECT sqlc.embed(refresh_tokens), sqlc.embed(sessions)
FROM refresh_tokens JOIN sessions ON sessions.id = refresh_tokens.session_id
WHERE refresh_tokens.token_hash = @token_hash
FOR UPDATE OF refresh_tokens, sessions;

-- name: RefreshTokenRotate :exec
UPDATE refresh_tokens SET rotated_at = coalesce(rotated_at, @rotated_at), replaced_by = @replaced_by
WHERE id = @id;

-- name: UserTouchLoginAt :exec
UPDATE users SET last_login_at = @at WHERE id = @id;

-- name: MeUnits :many
-- Workspaces of a user: level-4 units linked in unit_users, principal role
-- first, then by name (docs/api.md §3 GET /me/units).
SELECT sqlc.embed(units), unit_users.role
FROM unit_users JOIN units ON units.id = unit_users.unit_id
WHERE unit_users.user_id = @user_id AND units.level = 4
ORDER BY (unit_users.role = 'principal') DESC, units.name, units.id;

-- name: MeUnitReports :many
SELECT carbon_reports.unit_id, carbon_reports.year, carbon_reports.overall_status,
       carbon_reports.validated_modules, carbon_reports.enabled_modules
FROM carbon_reports JOIN years ON years.year = carbon_reports.year
WHERE carbon_reports.unit_id = ANY(@unit_ids::bigint[])
  AND years.status = ANY(@statuses::text[])
ORDER BY carbon_reports.unit_id, carbon_reports.year DESC;

-- name: UserSetRolesAt :one
UPDATE users SET roles = @roles, roles_synced_at = @synced_at::timestamptz, updated_at = @synced_at::timestamptz
WHERE id = @id
RETURNING *;

-- name: UserTouchRolesSynced :exec
UPDATE users SET roles_synced_at = @synced_at::timestamptz WHERE id = @id;

-- name: AuthNotify :exec
-- Session revocations and user changes, delivered on commit to every API
-- process (docs/api.md §3.1, auth.NotifyChannel).
SELECT pg_notify('auth_changes', @payload::text);
