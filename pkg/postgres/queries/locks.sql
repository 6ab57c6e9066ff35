-- Advisory locks (docs/jobs.md §1): (3, 0) serialises unit-table upserts. The
-- second key is the schema's hash (a constant in production) so that test
-- schemas sharing a database never wait on each other.

-- name: LockUnitUpserts :exec
SELECT pg_advisory_xact_lock(3, hashtext(current_schema()));
