-- name: UnitGet :one
SELECT * FROM units WHERE id = @id;

-- name: UnitGetByCF :one
SELECT * FROM units WHERE cf = @cf::text;

-- name: UnitGetByInstitutionalCode :one
SELECT * FROM units WHERE institutional_code = @institutional_code;

-- name: UnitsByIDs :many
SELECT * FROM units WHERE id = ANY(@ids::bigint[]) ORDER BY id;

-- name: UnitsByCFs :many
SELECT * FROM units WHERE cf = ANY(@cfs::text[]) ORDER BY id;

-- name: UnitsInSubtree :many
-- Units whose path contains the anchor's institutional code (the anchor
-- included), root first then by name. Uses the GIN index on path_codes.
SELECT * FROM units
WHERE path_codes @> ARRAY[@anchor_code::text]
  AND (NOT @active_only::boolean OR is_active)
ORDER BY level, name, id;

-- name: UnitsActive :many
SELECT * FROM units WHERE is_active ORDER BY level, name, id;

-- name: UnitUpsert :one
-- Inserts or updates a unit by institutional_code (accred_unit_sync, dev
-- fixtures). Callers hold advisory lock (3, 0).
INSERT INTO units (institutional_code, cf, name, label_en, label_fr, level, parent_id,
                   path_codes, path_cfs, path_names, unit_type_label,
                   principal_sciper, principal_name, principal_email, is_active, source, synced_at)
VALUES (@institutional_code, @cf, @name, @label_en, @label_fr, @level, @parent_id,
        @path_codes::text[], @path_cfs::text[], @path_names::text[], @unit_type_label,
        @principal_sciper, @principal_name, @principal_email, @is_active, @source, @synced_at)
ON CONFLICT (institutional_code) DO UPDATE SET
    cf               = excluded.cf,
    name             = excluded.name,
    label_en         = excluded.label_en,
    label_fr         = excluded.label_fr,
    level            = excluded.level,
    parent_id        = excluded.parent_id,
    path_codes       = excluded.path_codes,
    path_cfs         = excluded.path_cfs,
    path_names       = excluded.path_names,
    unit_type_label  = excluded.unit_type_label,
    principal_sciper = excluded.principal_sciper,
    principal_name   = excluded.principal_name,
    principal_email  = excluded.principal_email,
    is_active        = excluded.is_active,
    source           = excluded.source,
    synced_at        = excluded.synced_at,
    updated_at       = now()
RETURNING *;

-- name: UnitsDeactivateMissing :execrows
-- Marks inactive every unit of a source not in the given list of codes (a
-- unit that disappeared from Accred is kept for history, never deleted).
UPDATE units SET is_active = false, updated_at = now()
WHERE source = @source AND is_active AND institutional_code <> ALL(@keep_codes::text[]);

-- name: UnitsDirectory :many
-- Every unit with the columns the unit sync matches on (accred_unit_sync).
SELECT id, institutional_code, cf, source, is_active FROM units ORDER BY id;

-- name: UnitAdopt :exec
-- A dev fixture unit taken over by the Accred unit sharing its cf
-- (docs/jobs.md §4.8): it gets the Accred code (the last element of its
-- path follows), keeping its id, reports and entries.
UPDATE units SET
    institutional_code = @institutional_code::text,
    path_codes         = path_codes[1:cardinality(path_codes) - 1] || @institutional_code::text,
    updated_at         = now()
WHERE id = @id;

-- name: UnitsReleaseCFs :execrows
-- Clears the cf of every unit holding a cf that the directory now gives to
-- another unit (codes and cfs are parallel arrays), so that the upserts
-- that follow never collide on the unique cf.
UPDATE units u SET cf = NULL, updated_at = now()
FROM (SELECT unnest(@codes::text[]) AS code, unnest(@cfs::text[]) AS cf) AS c
WHERE u.cf = c.cf AND u.institutional_code <> c.code;

-- name: UnitSetParent :exec
UPDATE units SET parent_id = @parent_id, updated_at = now() WHERE id = @id;

-- name: UnitsCountActive :one
SELECT count(*)::bigint FROM units WHERE is_active AND source = @source;
