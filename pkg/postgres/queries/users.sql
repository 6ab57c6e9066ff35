-- name: UserGet :one
SELECT * FROM users WHERE id = @id;

-- name: UserGetBySciper :one
SELECT * FROM users WHERE sciper = @sciper;

-- name: UserGetByEmail :one
-- Case-insensitive (citext), written so that it resolves whatever the
-- search_path is.
SELECT * FROM users WHERE email OPERATOR(public.=) (@email::text)::public.citext;

-- name: UsersByIDs :many
SELECT * FROM users WHERE id = ANY(@ids::bigint[]) ORDER BY id;

-- name: UserUpsert :one
-- Inserts or updates a user's identity by SCIPER (login, role sync). Roles
-- are written by UserSetRoles; a nil email keeps the stored one.
INSERT INTO users (sciper, provider, oidc_subject, email, display_name, function_title)
VALUES (@sciper, @provider, @oidc_subject, @email, @display_name, @function_title)
ON CONFLICT (sciper) DO UPDATE SET
    provider       = excluded.provider,
    oidc_subject   = coalesce(excluded.oidc_subject, users.oidc_subject),
    email          = coalesce(excluded.email, users.email),
    display_name   = coalesce(excluded.display_name, users.display_name),
    function_title = coalesce(excluded.function_title, users.function_title),
    updated_at     = now()
RETURNING *;

-- name: UserSetRoles :one
UPDATE users SET roles = @roles, roles_synced_at = now(), updated_at = now()
WHERE id = @id
RETURNING *;

-- name: UserTouchLogin :exec
UPDATE users SET last_login_at = now() WHERE id = @id;

-- name: UserSetActive :exec
UPDATE users SET is_active = @is_active, updated_at = now() WHERE id = @id;

-- name: UnitUsersReplaceForUser :exec
-- Rebuilds a user's unit_users rows (docs/domain.md §2.2): rows for units not in
-- unit_ids are removed, the others inserted or updated. unit_ids and roles
-- are parallel arrays; both empty removes every row.
WITH removed AS (
    DELETE FROM unit_users
    WHERE unit_users.user_id = @user_id AND unit_users.unit_id <> ALL(@unit_ids::bigint[])
)
INSERT INTO unit_users (unit_id, user_id, role)
SELECT unnest(@unit_ids::bigint[]), @user_id, unnest(@roles::text[])
ON CONFLICT (unit_id, user_id) DO UPDATE SET role = excluded.role;

-- name: UnitUsersByUser :many
SELECT uu.unit_id, uu.role, u.cf, u.institutional_code, u.name
FROM unit_users uu JOIN units u ON u.id = uu.unit_id
WHERE uu.user_id = @user_id
ORDER BY u.name, u.id;

-- name: UnitUsersByUnit :many
SELECT uu.user_id, uu.role, us.sciper, us.display_name, us.email::text AS email
FROM unit_users uu JOIN users us ON us.id = uu.user_id
WHERE uu.unit_id = @unit_id
ORDER BY us.display_name, us.id;

-- name: UsersRoles :many
-- Every user's stored roles (the unit sync rebuilds unit_users from them).
SELECT id, roles FROM users ORDER BY id;

-- name: UnitUsersReplaceAll :execrows
-- Rebuilds unit_users for every user at once (docs/domain.md §2.2, after a
-- unit sync): user_ids, unit_ids and roles are parallel arrays of the rows
-- wanted; every other row is removed. Returns the rows inserted or changed.
WITH wanted AS (
    SELECT unnest(@user_ids::bigint[]) AS user_id, unnest(@unit_ids::bigint[]) AS unit_id, unnest(@roles::text[]) AS role
), removed AS (
    DELETE FROM unit_users uu
    WHERE NOT EXISTS (SELECT 1 FROM wanted w WHERE w.user_id = uu.user_id AND w.unit_id = uu.unit_id)
)
INSERT INTO unit_users (unit_id, user_id, role)
SELECT w.unit_id, w.user_id, w.role FROM wanted w
ON CONFLICT (unit_id, user_id) DO UPDATE SET role = excluded.role
WHERE unit_users.role <> excluded.role;
