-- An entry's single emission row lives on the entry (docs/domain.md §3.3,
-- D1 unchanged).
--
-- Almost every entry yields exactly one emission row (plane, train, energy,
-- equipment, purchases, facilities, cloud and AI, process gas; members,
-- students and rooms yield several). Stored as a row of its own, that row
-- cost an imported entry a second heap tuple, four index entries and a
-- foreign-key check, and a recalculation a second update: as much as the
-- entry itself. The row is now kept in the entry's row_* columns when the
-- outcome is one row whose factor is the entry's primary factor; the rows of
-- every other outcome stay in emission_rows (the former table emissions).
-- emissions is a view over both, with the same columns as before, so that
-- every reader sees one row per (entry, leaf) exactly as it did: the
-- embedded row's kg is the entry's kg_co2eq (the sum of one row is that
-- row), its factor the entry's primary_factor_id (nulled by the factor
-- deletes like the row's was), its computed_at the entry's, its id the
-- negated entry id (emission_rows ids are positive).
--
-- An entry with row_emission_type set has no emission_rows (pkg/calc keeps
-- it so: an entry's rows are replaced in the statement batch that sets its
-- row_* columns).
ALTER TABLE emissions RENAME TO emission_rows;

ALTER TABLE data_entries
    ADD COLUMN row_emission_type text CHECK (row_emission_type ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$'),
    ADD COLUMN row_scope smallint CHECK (row_scope BETWEEN 1 AND 3),
    ADD COLUMN row_category text CHECK (row_category IN (
        'process_emissions', 'buildings_energy_combustion', 'buildings_room', 'equipment',
        'external_cloud_ai', 'purchases', 'research_facilities', 'professional_travel',
        'commuting', 'food', 'waste', 'embodied_energy')),
    ADD COLUMN row_quantity double precision,
    ADD COLUMN row_quantity_unit text CHECK (row_quantity_unit <> ''),
    ADD COLUMN row_meta jsonb CHECK (jsonb_typeof(row_meta) = 'object'),
    ADD COLUMN row_engine_version text,
    -- All or nothing, with the rules of an emission_rows row.
    ADD CONSTRAINT data_entries_row_complete CHECK (
        (row_emission_type IS NULL AND row_scope IS NULL AND row_category IS NULL AND row_quantity IS NULL
         AND row_quantity_unit IS NULL AND row_meta IS NULL AND row_engine_version IS NULL)
        OR (row_emission_type IS NOT NULL AND row_scope IS NOT NULL AND row_category IS NOT NULL
            AND row_meta IS NOT NULL AND row_engine_version IS NOT NULL AND computed_at IS NOT NULL
            AND (row_quantity IS NULL) = (row_quantity_unit IS NULL)));

-- The single rows stored so far move onto their entries.
WITH single AS (
    SELECT entry_id FROM emission_rows GROUP BY entry_id HAVING count(*) = 1
), moved AS (
    UPDATE data_entries d SET
        row_emission_type  = r.emission_type,
        row_scope          = r.scope,
        row_category       = r.category,
        row_quantity       = r.quantity,
        row_quantity_unit  = r.quantity_unit,
        row_meta           = r.meta,
        row_engine_version = r.engine_version
    FROM emission_rows r JOIN single s ON s.entry_id = r.entry_id
    WHERE d.id = r.entry_id AND d.kg_co2eq = r.kg_co2eq AND d.computed_at IS NOT NULL
      AND d.primary_factor_id IS NOT DISTINCT FROM r.factor_id
    RETURNING d.id
)
DELETE FROM emission_rows r USING moved m WHERE r.entry_id = m.id;

CREATE VIEW emissions AS
SELECT r.id, r.entry_id, r.report_module_id, r.emission_type, r.scope, r.category, r.kg_co2eq,
       r.quantity, r.quantity_unit, r.factor_id, r.meta, r.engine_version, r.computed_at
FROM emission_rows r
UNION ALL
SELECT -d.id, d.id, d.report_module_id, d.row_emission_type, d.row_scope, d.row_category, d.kg_co2eq,
       d.row_quantity, d.row_quantity_unit, d.primary_factor_id, d.row_meta, d.row_engine_version, d.computed_at
FROM data_entries d
WHERE d.row_emission_type IS NOT NULL;
