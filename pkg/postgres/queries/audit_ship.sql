-- Shipping the audit trail to Elasticsearch (docs/jobs.md §11.4, package
-- audit: Shipper). Only the shipping columns change: the trigger
-- audit_events_guard rejects any other update.

-- name: AuditShipWindow :one
-- The window of the next window_size pending events after after_seq (seq
-- order, the pending index only): its last seq and its size. A batch is
-- looked for window by window, so that its cost is bounded whatever the
-- backlog and the planner's statistics.
SELECT coalesce(max(w.seq), 0)::bigint AS last_seq, count(*)::integer AS size
FROM (SELECT seq FROM audit_events
      WHERE ship_status = 'pending' AND seq > @after_seq
      ORDER BY seq
      LIMIT @window_size) AS w;

-- name: AuditShipBatch :many
-- The next events to send in the window (after_seq, until_seq]: pending
-- and due at now, in seq order, locked for the run (SKIP LOCKED: a
-- concurrent run takes other events). An event waits while an earlier
-- event of its entity is pending, due or not, locked or not: a batch holds
-- at most one event per entity, and the events of an entity are
-- acknowledged in seq order.
SELECT a.id, a.seq, a.occurred_at, a.actor_type, a.actor_sciper, a.action, a.event, a.entity_type, a.entity_id,
       a.reason, a.handled_ids, a.ip, a.route, a.request_payload, a.hash, a.ship_attempts
FROM audit_events a
WHERE a.ship_status = 'pending' AND a.seq > @after_seq AND a.seq <= @until_seq
    AND (a.next_ship_at IS NULL OR a.next_ship_at <= @now::timestamptz)
    AND NOT EXISTS (
        SELECT 1 FROM audit_events p
        WHERE p.ship_status = 'pending' AND p.entity_type = a.entity_type AND p.entity_id = a.entity_id
            AND p.seq < a.seq)
ORDER BY a.seq
LIMIT @max_rows
FOR UPDATE OF a SKIP LOCKED;

-- name: AuditShipProbe :many
-- The event a run sends first when nothing is due but events wait because
-- whole requests failed: the oldest of them (the first pending event of its
-- entity), to learn whether Elasticsearch is back.
SELECT a.id, a.seq, a.occurred_at, a.actor_type, a.actor_sciper, a.action, a.event, a.entity_type, a.entity_id,
       a.reason, a.handled_ids, a.ip, a.route, a.request_payload, a.hash, a.ship_attempts
FROM audit_events a
WHERE a.ship_status = 'pending' AND a.next_ship_at > @now::timestamptz
    AND starts_with(a.ship_error, @request_prefix::text)
    AND NOT EXISTS (
        SELECT 1 FROM audit_events p
        WHERE p.ship_status = 'pending' AND p.entity_type = a.entity_type AND p.entity_id = a.entity_id
            AND p.seq < a.seq)
ORDER BY a.seq
LIMIT 1
FOR UPDATE OF a SKIP LOCKED;

-- name: AuditShipMarkShipped :exec
UPDATE audit_events SET ship_status = 'shipped', shipped_at = @now::timestamptz, ship_error = NULL, next_ship_at = NULL
WHERE id = ANY (@ids::bigint[]);

-- name: AuditShipMarkSkipped :exec
UPDATE audit_events SET ship_status = 'skipped', ship_error = NULL, next_ship_at = NULL
WHERE id = ANY (@ids::bigint[]);

-- name: AuditShipMarkFailed :exec
-- One more failed attempt of each event ids[i] with its error errors[i]:
-- due again at now + min(2^attempts minutes, 6 h), or failed for good
-- (not retried until POST /audit/shipping/retry-failed) after max_attempts.
UPDATE audit_events a SET
    ship_attempts = a.ship_attempts + 1,
    ship_error    = (@errors::text[])[f.n],
    ship_status   = CASE WHEN a.ship_attempts + 1 >= @max_attempts::integer THEN 'failed' ELSE 'pending' END,
    next_ship_at  = CASE WHEN a.ship_attempts + 1 >= @max_attempts::integer THEN NULL
                         ELSE sqlc.arg(now)::timestamptz + least(interval '1 minute' * power(2, least(a.ship_attempts + 1, 20)),
                                                        interval '6 hours') END
FROM unnest(@ids::bigint[]) WITH ORDINALITY AS f(id, n)
WHERE a.id = f.id;

-- name: AuditShipResume :execrows
-- Once Elasticsearch acknowledges a request again, the events that wait only
-- because whole requests failed (ship_error starting with request_prefix)
-- are due at once; item-level failures keep their backoff.
UPDATE audit_events SET next_ship_at = @now::timestamptz
WHERE ship_status = 'pending' AND next_ship_at > @now::timestamptz
    AND starts_with(ship_error, @request_prefix::text);

-- name: AuditShipCounts :one
SELECT (SELECT count(*) FROM audit_events WHERE ship_status = 'pending') AS pending,
       (SELECT count(*) FROM audit_events WHERE ship_status = 'failed') AS failed;

-- name: AuditShipRecordState :exec
-- The run's outcome in integration_state('elasticsearch'): the counts and
-- the last error in details and last_message.
INSERT INTO integration_state (name, last_attempt_at, last_success_at, last_status, last_message, details, updated_at)
VALUES ('elasticsearch', @now::timestamptz, CASE WHEN @success::boolean THEN @now::timestamptz END,
        @last_status, @last_message, @details, @now::timestamptz)
ON CONFLICT (name) DO UPDATE SET
    last_attempt_at = excluded.last_attempt_at,
    last_success_at = coalesce(excluded.last_success_at, integration_state.last_success_at),
    last_status     = excluded.last_status,
    last_message    = excluded.last_message,
    details         = excluded.details,
    updated_at      = excluded.updated_at;

-- name: AuditRetryFailed :execrows
-- POST /audit/shipping/retry-failed: failed events are pending again, from
-- attempt 0 and due at once.
UPDATE audit_events SET ship_status = 'pending', ship_attempts = 0, ship_error = NULL, next_ship_at = NULL
WHERE ship_status = 'failed';
