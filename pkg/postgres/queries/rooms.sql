-- name: BuildingRoomsCopyFrom :copyfrom
INSERT INTO building_rooms (building_location, building_name, room_name, room_type, surface_m2)
VALUES (@building_location, @building_name, @room_name, @room_type, @surface_m2);

-- name: BuildingRoomsDeleteAll :execrows
-- A building_rooms import replaces the whole dataset (entries store names,
-- never room ids).
DELETE FROM building_rooms;

-- name: BuildingRoomGet :one
-- A room by (building_name, room_name), compared case-insensitively
-- (docs/domain.md §8); pass trimmed values (emission.Fold).
SELECT * FROM building_rooms
WHERE lower(building_name) = lower(@building_name::text) AND lower(room_name) = lower(@room_name::text);

-- name: BuildingRoomsAll :many
-- Every room (engine lookup, preloaded per job).
SELECT * FROM building_rooms ORDER BY building_name, room_name;

-- name: BuildingRoomsByBuilding :many
SELECT * FROM building_rooms WHERE lower(building_name) = lower(@building_name::text) ORDER BY room_name;

-- name: BuildingRoomsBuildings :many
-- Distinct buildings, optionally of one location (docs/api.md
-- /building-rooms/buildings).
SELECT DISTINCT coalesce(building_location, '')::text AS building_location, building_name
FROM building_rooms
WHERE sqlc.narg('building_location')::text IS NULL OR building_location = sqlc.narg('building_location')::text
ORDER BY building_location, building_name;

-- name: BuildingRoomsSearch :many
-- Rooms filtered by building (exact, case-insensitive) and a substring of
-- the room name (docs/api.md /building-rooms).
SELECT * FROM building_rooms
WHERE (sqlc.narg('building_name')::text IS NULL OR lower(building_name) = lower(sqlc.narg('building_name')::text))
  AND (sqlc.narg('q')::text IS NULL OR strpos(lower(room_name), lower(sqlc.narg('q')::text)) > 0)
ORDER BY building_name, room_name
LIMIT sqlc.arg('limit');

-- name: BuildingRoomInsert :one
-- One room (admin tools and tests; imports use BuildingRoomsCopyFrom).
INSERT INTO building_rooms (building_location, building_name, room_name, room_type, surface_m2)
VALUES (@building_location, @building_name, @room_name, @room_type, @surface_m2)
RETURNING *;
