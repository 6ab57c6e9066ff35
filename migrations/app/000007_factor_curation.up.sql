-- Factor curation through the API (docs/api.md §8).

-- The version of a factor: 1 when created, +1 on every change of its content
-- (API edit, factor upload, computed refresh). GET, PATCH and DELETE
-- /factors/{id} answer it as the ETag W/"f<id>-v<version>", and If-Match
-- makes the loser of two concurrent edits fail with 412.
ALTER TABLE factors ADD COLUMN version bigint NOT NULL DEFAULT 1 CHECK (version >= 1);

-- Stale factors (docs/api.md §8 GET /factors/stale, POST /factors/stale/purge):
-- a factor is stale when its group had a successful factor upload and that
-- upload is not the one that last asserted the factor (last_upload_id).
-- "Successful" is the factor_import job of the upload's pipeline having
-- succeeded (written in the import's own transaction, so factors committed
-- by an import whose recalculation still runs are never stale); "latest" is
-- the last such import to finish. An upload covers the factor's submodule
-- when it names it, or when it is a module file (no submodule: equipment and
-- purchases) — a purchases module file covers every purchases submodule but
-- `additional`, which has its own file (docs/jobs.md §5.4).
CREATE VIEW factor_staleness AS
SELECT f.id AS factor_id,
       lu.id AS latest_upload_id,
       (lu.id IS NOT NULL AND f.last_upload_id IS DISTINCT FROM lu.id) AS stale
FROM factors f
LEFT JOIN LATERAL (
    SELECT u.id
    FROM uploads u
    JOIN pipeline_jobs pj ON pj.pipeline_id = u.pipeline_id AND pj.kind = 'factor_import' AND pj.state = 'succeeded'
    WHERE u.kind = 'factors' AND u.year = f.year AND u.module = f.module
      AND (u.submodule = f.submodule OR (u.submodule IS NULL AND f.submodule <> 'additional'))
    ORDER BY pj.finished_at DESC NULLS LAST, u.uploaded_at DESC, u.id DESC
    LIMIT 1
) lu ON true;
