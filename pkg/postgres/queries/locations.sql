-- name: LocationsCopyFrom :copyfrom
-- Bulk insert into an empty (or disjoint) set of locations; re-imports go
-- through the staging table (LocationsStageCopyFrom, LocationsMergeStaged).
INSERT INTO locations (transport_mode, natural_key, name, iata_code, country_code, continent,
                       airport_size, municipality, keywords, latitude, longitude)
VALUES (@transport_mode, @natural_key, @name, @iata_code, @country_code, @continent,
        @airport_size, @municipality, @keywords, @latitude, @longitude);

-- name: LocationsStageCopyFrom :copyfrom
INSERT INTO locations_staging (load_id, transport_mode, natural_key, name, iata_code, country_code,
                               continent, airport_size, municipality, keywords, latitude, longitude)
VALUES (@load_id, @transport_mode, @natural_key, @name, @iata_code, @country_code,
        @continent, @airport_size, @municipality, @keywords, @latitude, @longitude);

-- name: LocationsMergeStaged :execrows
-- Upserts the staged rows of a load by natural key: surviving natural keys
-- keep their id (docs/domain.md §8); unchanged rows are not rewritten.
INSERT INTO locations (transport_mode, natural_key, name, iata_code, country_code, continent,
                       airport_size, municipality, keywords, latitude, longitude)
SELECT s.transport_mode, s.natural_key, s.name, s.iata_code, s.country_code, s.continent,
       s.airport_size, s.municipality, s.keywords, s.latitude, s.longitude
FROM locations_staging s
WHERE s.load_id = @load_id
ON CONFLICT (natural_key) DO UPDATE SET
    transport_mode = excluded.transport_mode,
    name           = excluded.name,
    iata_code      = excluded.iata_code,
    country_code   = excluded.country_code,
    continent      = excluded.continent,
    airport_size   = excluded.airport_size,
    municipality   = excluded.municipality,
    keywords       = excluded.keywords,
    latitude       = excluded.latitude,
    longitude      = excluded.longitude,
    updated_at     = now()
WHERE (locations.transport_mode, locations.name, locations.iata_code, locations.country_code,
       locations.continent, locations.airport_size, locations.municipality, locations.keywords,
       locations.latitude, locations.longitude)
      IS DISTINCT FROM
      (excluded.transport_mode, excluded.name, excluded.iata_code, excluded.country_code,
       excluded.continent, excluded.airport_size, excluded.municipality, excluded.keywords,
       excluded.latitude, excluded.longitude);

-- name: LocationsDeleteNotStaged :execrows
-- Deletes the locations of a mode absent from a staged load (full replace).
DELETE FROM locations l
WHERE l.transport_mode = @transport_mode
  AND NOT EXISTS (SELECT 1 FROM locations_staging s WHERE s.load_id = @load_id AND s.natural_key = l.natural_key);

-- name: LocationsStagingClear :execrows
DELETE FROM locations_staging WHERE load_id = @load_id;

-- name: LocationGet :one
SELECT * FROM locations WHERE id = @id;

-- name: LocationGetByNaturalKey :one
SELECT * FROM locations WHERE natural_key = @natural_key;

-- name: LocationGetByIATA :one
-- An airport by IATA code (case-insensitive input).
SELECT * FROM locations WHERE transport_mode = 'plane' AND iata_code = upper(btrim(@iata::text));

-- name: LocationGetTrainByName :one
-- A train station by country and name; folded_name is emission.Fold(name),
-- so that the natural key (emission.TrainNaturalKey) is rebuilt exactly.
SELECT * FROM locations
WHERE natural_key = 'train:' || upper(btrim(@country_code::text)) || ':' || @folded_name::text;

-- name: LocationsByNaturalKeys :many
SELECT * FROM locations WHERE natural_key = ANY(@natural_keys::text[]) ORDER BY id;

-- name: LocationsByMode :many
-- Every location of a mode (engine lookup, preloaded per job).
SELECT * FROM locations WHERE transport_mode = @transport_mode ORDER BY id;

-- name: LocationsSearch :many
-- Location search (docs/domain.md §8): case-insensitive substring or trigram
-- word similarity (pg_trgm <%, threshold pg_trgm.word_similarity_threshold,
-- default 0.6) on search_text within a mode; Swiss locations first, then
-- large, medium, small airports, then relevance (1 for an exact name or IATA
-- match, else word similarity), then name. Word similarity rather than
-- whole-string similarity because search_text concatenates several fields:
-- "genva" scores 0.67 against Geneva's search_text, 0.10 with similarity().
-- The caller checks q (≥ 2 chars) and the limit (1–20). LIKE wildcards in q
-- are matched literally. Both predicates use the GIN trigram index.
SELECT l.*,
       (CASE WHEN lower(l.name) = lower(btrim(@q::text)) OR l.iata_code = upper(btrim(@q::text)) THEN 1
             ELSE public.word_similarity(lower(btrim(@q::text)), l.search_text) END)::float8 AS relevance
FROM locations l
WHERE l.transport_mode = @transport_mode
  AND (l.search_text LIKE '%' || replace(replace(replace(lower(btrim(@q::text)), '\', '\\'), '%', '\%'), '_', '\_') || '%'
       OR lower(btrim(@q::text)) OPERATOR(public.<%) l.search_text)
ORDER BY coalesce(l.country_code = 'CH', false) DESC,
         CASE l.airport_size WHEN 'large_airport' THEN 0 WHEN 'medium_airport' THEN 1
                             WHEN 'small_airport' THEN 2 ELSE 3 END,
         relevance DESC,
         l.name, l.id
LIMIT sqlc.arg('limit');

-- name: LocationsDeleteByMode :execrows
DELETE FROM locations WHERE transport_mode = @transport_mode;

-- name: LocationInsert :one
-- One location (admin tools and tests; imports use the COPY queries).
INSERT INTO locations (transport_mode, natural_key, name, iata_code, country_code, continent,
                       airport_size, municipality, keywords, latitude, longitude)
VALUES (@transport_mode, @natural_key, @name, @iata_code, @country_code, @continent,
        @airport_size, @municipality, @keywords, @latitude, @longitude)
RETURNING *;
