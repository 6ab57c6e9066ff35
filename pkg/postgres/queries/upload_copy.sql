-- name: UploadCopySource :one
-- The upload POST /uploads/copy re-imports, with the status of its
-- pipeline (NULL when it has none).
SELECT sqlc.embed(u), p.status AS pipeline_status
FROM uploads u
LEFT JOIN pipelines p ON p.id = u.pipeline_id
WHERE u.id = @id;
