-- name: AuditLock :exec
-- Serialises audit writers until the transaction ends (docs/jobs.md §11.3).
-- Lock (4, schema hash): (4, 0) of docs/jobs.md §11.3, namespaced by schema like
-- every advisory lock here (one schema in production).
SELECT pg_advisory_xact_lock(4, hashtext(current_schema()));

-- name: AuditHead :one
SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1;

-- name: AuditEntityLast :one
SELECT entity_version, snapshot FROM audit_events
WHERE entity_type = @entity_type AND entity_id = @entity_id
ORDER BY entity_version DESC LIMIT 1;

-- name: AuditInsert :one
INSERT INTO audit_events (seq, occurred_at, actor_type, actor_user_id, actor_sciper, actor_name,
                          action, event, entity_type, entity_id, entity_version, reason, handled_ids,
                          ip, user_agent, request_id, route, request_payload, snapshot, diff,
                          prev_hash, hash)
VALUES (@seq, @occurred_at, @actor_type, @actor_user_id, @actor_sciper, @actor_name,
        @action, @event, @entity_type, @entity_id, @entity_version, @reason, @handled_ids::text[],
        @ip, @user_agent, @request_id, @route, @request_payload, @snapshot, @diff,
        @prev_hash, @hash)
RETURNING id;

-- name: AuditRange :many
SELECT id, seq, occurred_at, actor_sciper, action, event, entity_type, entity_id, entity_version,
       reason, handled_ids, ip, route, snapshot, diff, prev_hash, hash
FROM audit_events
WHERE seq BETWEEN @from_seq AND @to_seq
ORDER BY seq;

-- name: AuditHashAt :one
SELECT hash FROM audit_events WHERE seq = @seq;

-- name: AuditByEvent :many
-- Events of one kind, newest first (tests and the login audit check).
SELECT * FROM audit_events WHERE event = @event ORDER BY seq DESC LIMIT @max_rows;
