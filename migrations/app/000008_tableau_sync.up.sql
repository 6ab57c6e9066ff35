-- The Tableau travel sync (docs/jobs.md §4.6).

-- The rows of one sync, staged in its load transaction to compare the new
-- trip set of every report module with its current Tableau entries (the
-- fingerprint of docs/jobs.md §4.10, computed with the same expression over
-- both tables) before anything is deleted or inserted: a module whose set
-- did not change is left alone (R2.9). The rows are deleted again in the
-- same transaction, so no other transaction ever sees them; UNLOGGED, like
-- locations_staging.
CREATE UNLOGGED TABLE tableau_staging (
    load_id          uuid NOT NULL,
    report_module_id bigint NOT NULL,
    submodule        text NOT NULL,
    data             jsonb NOT NULL,
    kg_override      double precision
);

CREATE INDEX tableau_staging_load_id_idx ON tableau_staging (load_id, report_module_id);

-- The Tableau entries of a year, by report module (which modules had trips,
-- which ids a changed module replaces) without scanning the year's other
-- travel entries.
CREATE INDEX data_entries_tableau_idx ON data_entries (year, report_module_id, id) WHERE source = 'tableau';
