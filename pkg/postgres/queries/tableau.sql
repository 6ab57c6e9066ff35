-- Queries of the Tableau travel sync (docs/jobs.md §4.6).

-- name: TableauStageCopyFrom :copyfrom
-- Stages the trips of one sync (tableau_staging, emptied again by
-- TableauStagingClear in the same transaction).
INSERT INTO tableau_staging (load_id, report_module_id, submodule, data, kg_override)
VALUES (@load_id, @report_module_id, @submodule, @data, @kg_override);

-- name: TableauFingerprints :many
-- The fingerprints (docs/jobs.md §4.10: the expression of
-- ImportFingerprints) of the trip sets of a year by report module: staged
-- = false for the current Tableau entries, true for the rows a load staged;
-- n counts them. Equal fingerprints mean an unchanged set.
SELECT false AS staged, report_module_id, count(*)::bigint AS n,
       (count(*)::text || ':' || sum(hashtextextended(t.doc, 1)::numeric)::text || ':'
        || sum(hashtextextended(t.doc, 2)::numeric)::text)::text AS fingerprint
FROM data_entries,
     LATERAL (SELECT submodule || data::text || coalesce(kg_override::text, '') AS doc) t
WHERE year = @year AND source = 'tableau' AND module = 'professional_travel'
GROUP BY report_module_id
UNION ALL
SELECT true AS staged, report_module_id, count(*)::bigint AS n,
       (count(*)::text || ':' || sum(hashtextextended(t.doc, 1)::numeric)::text || ':'
        || sum(hashtextextended(t.doc, 2)::numeric)::text)::text AS fingerprint
FROM tableau_staging,
     LATERAL (SELECT submodule || data::text || coalesce(kg_override::text, '') AS doc) t
WHERE load_id = @load_id
GROUP BY report_module_id;

-- name: TableauReportModules :many
-- The report modules holding Tableau entries of a year (only their new trips
-- need staging: a module without any is changed by a non-empty set).
-- Served by data_entries_tableau_idx.
SELECT DISTINCT report_module_id FROM data_entries WHERE year = @year AND source = 'tableau';

-- name: TableauEntryIDs :many
-- The Tableau entries of report modules of a year, in id order (what a
-- sync replaces in the modules whose trips changed; deleted in batches by
-- ImportDeleteEntries). Served by data_entries_tableau_idx.
SELECT id FROM data_entries
WHERE year = @year AND source = 'tableau' AND report_module_id = ANY(@report_module_ids::bigint[])
ORDER BY id;

-- name: TableauStagingClear :execrows
DELETE FROM tableau_staging WHERE load_id = @load_id;
