-- Reading the audit trail (docs/api.md §13, package audit: List, Get, Stats).

-- name: AuditList :many
-- One page of events, newest first (seq descending), after the cursor
-- before_seq. Every filter is optional (null or an empty array: no filter).
-- q is an ILIKE pattern over the reason, route, entity type and actor;
-- module matches the events whose snapshot names the module and the
-- data_entry events of an entry of that module that still exists.
SELECT a.id, a.seq, a.occurred_at, a.actor_type, a.actor_user_id, a.actor_sciper, a.actor_name, a.action, a.event,
       a.entity_type, a.entity_id, a.entity_version, a.reason, a.handled_ids, a.ip, a.route, a.ship_status
FROM audit_events a
WHERE (sqlc.narg(before_seq)::bigint IS NULL OR a.seq < sqlc.narg(before_seq)::bigint)
    AND (sqlc.narg(actor_sciper)::text IS NULL OR a.actor_sciper = sqlc.narg(actor_sciper)::text)
    AND (cardinality(@events::text[]) = 0 OR a.event = ANY (@events::text[]))
    AND (cardinality(@actions::text[]) = 0 OR a.action::text = ANY (@actions::text[]))
    AND (sqlc.narg(entity_type)::text IS NULL OR a.entity_type = sqlc.narg(entity_type)::text)
    AND (sqlc.narg(entity_id)::text IS NULL OR a.entity_id = sqlc.narg(entity_id)::text)
    AND (sqlc.narg(from_at)::timestamptz IS NULL OR a.occurred_at >= sqlc.narg(from_at)::timestamptz)
    AND (sqlc.narg(to_at)::timestamptz IS NULL OR a.occurred_at < sqlc.narg(to_at)::timestamptz)
    AND (cardinality(@ship_statuses::text[]) = 0 OR a.ship_status = ANY (@ship_statuses::text[]))
    AND (sqlc.narg(q)::text IS NULL
         OR a.reason ILIKE sqlc.narg(q)::text OR a.route ILIKE sqlc.narg(q)::text
         OR a.entity_type ILIKE sqlc.narg(q)::text OR a.actor_sciper ILIKE sqlc.narg(q)::text
         OR a.actor_name ILIKE sqlc.narg(q)::text)
    AND (sqlc.narg(module)::text IS NULL
         OR a.snapshot ->> 'module' = sqlc.narg(module)::text
         OR (a.entity_type = 'data_entry' AND EXISTS (
                SELECT 1 FROM data_entries d
                WHERE d.id = CASE WHEN a.entity_id ~ '^[0-9]{1,18}$' THEN a.entity_id::bigint END
                    AND d.module = sqlc.narg(module)::text)))
ORDER BY a.seq DESC
LIMIT @max_rows;

-- name: AuditGet :one
SELECT * FROM audit_events WHERE id = @id;

-- name: AuditStats :one
-- Counts of the events that occurred in [from_at, to_at) (either bound
-- optional), by action and by shipping status.
SELECT count(*) AS total,
       count(*) FILTER (WHERE action = 'C') AS created,
       count(*) FILTER (WHERE action = 'R') AS read,
       count(*) FILTER (WHERE action = 'U') AS updated,
       count(*) FILTER (WHERE action = 'D') AS deleted,
       count(*) FILTER (WHERE ship_status = 'pending') AS pending,
       count(*) FILTER (WHERE ship_status = 'shipped') AS shipped,
       count(*) FILTER (WHERE ship_status = 'skipped') AS skipped,
       count(*) FILTER (WHERE ship_status = 'failed') AS failed
FROM audit_events
WHERE (sqlc.narg(from_at)::timestamptz IS NULL OR occurred_at >= sqlc.narg(from_at)::timestamptz)
    AND (sqlc.narg(to_at)::timestamptz IS NULL OR occurred_at < sqlc.narg(to_at)::timestamptz);

-- name: AuditRangePage :many
-- The chain fields of the events from_seq..to_seq in seq order, at most
-- max_rows of them (audit.Verify walks a range page by page).
SELECT id, seq, occurred_at, actor_sciper, action, event, entity_type, entity_id, entity_version,
       reason, handled_ids, ip, route, snapshot, diff, prev_hash, hash
FROM audit_events
WHERE seq BETWEEN @from_seq AND @to_seq
ORDER BY seq
LIMIT @max_rows;
