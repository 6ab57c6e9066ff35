-- name: UploadInsert :one
INSERT INTO uploads (id, kind, scope, year, module, submodule, dataset, unit_id, report_module_id,
                     blob_key, filename, content_type, size_bytes, sha256, options,
                     copied_from_upload_id, uploaded_by, pipeline_id)
VALUES (@id, @kind, @scope, @year, @module, @submodule, @dataset, @unit_id, @report_module_id,
        @blob_key, @filename, @content_type, @size_bytes, @sha256, @options,
        @copied_from_upload_id, @uploaded_by, @pipeline_id)
RETURNING *;

-- name: UploadGet :one
SELECT * FROM uploads WHERE id = @id;

-- name: UploadSetPipeline :exec
UPDATE uploads SET pipeline_id = @pipeline_id WHERE id = @id;

-- name: UploadsList :many
-- Newest first, optionally filtered by year and kind.
SELECT * FROM uploads
WHERE (sqlc.narg('year')::integer IS NULL OR year = sqlc.narg('year')::integer)
  AND (sqlc.narg('kind')::text IS NULL OR kind = sqlc.narg('kind')::text)
ORDER BY uploaded_at DESC, id
LIMIT sqlc.arg('limit') OFFSET sqlc.arg('offset');
