-- Advisory locks (jobs.md §1): (3, 0) serialises unit-table upserts.

-- name: LockUnitUpserts :exec
SELECT pg_advisory_xact_lock(3, 0);
