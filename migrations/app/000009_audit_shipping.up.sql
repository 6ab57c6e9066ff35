-- Audit shipping to Elasticsearch (docs/jobs.md §11.4).

-- audit_ship walks the pending events in seq order and holds an event back
-- while an earlier event of the same entity is still pending, so that the
-- events of one entity reach Elasticsearch in seq order. The first index is
-- the walk, the second the "earlier pending event of the entity" probe; both
-- hold only the unshipped events (the trail itself grows without bound).
CREATE INDEX audit_events_pending_seq_idx ON audit_events (seq) WHERE ship_status = 'pending';
CREATE INDEX audit_events_pending_entity_idx ON audit_events (entity_type, entity_id, seq) WHERE ship_status = 'pending';
-- The failed count recorded after each run and POST /audit/shipping/retry-failed.
CREATE INDEX audit_events_failed_idx ON audit_events (seq) WHERE ship_status = 'failed';
