-- The rows kept on entries become rows of their own again.
DROP VIEW emissions;

INSERT INTO emission_rows (entry_id, report_module_id, emission_type, scope, category, kg_co2eq,
                           quantity, quantity_unit, factor_id, meta, engine_version, computed_at)
SELECT id, report_module_id, row_emission_type, row_scope, row_category, kg_co2eq,
       row_quantity, row_quantity_unit, primary_factor_id, row_meta, row_engine_version, computed_at
FROM data_entries
WHERE row_emission_type IS NOT NULL
ORDER BY id;

ALTER TABLE data_entries
    DROP CONSTRAINT data_entries_row_complete,
    DROP COLUMN row_emission_type,
    DROP COLUMN row_scope,
    DROP COLUMN row_category,
    DROP COLUMN row_quantity,
    DROP COLUMN row_quantity_unit,
    DROP COLUMN row_meta,
    DROP COLUMN row_engine_version;

ALTER TABLE emission_rows RENAME TO emissions;
