-- The statistics of a report module (pkg/report, docs/domain.md §12.3) read
-- its embodied-energy rows and its IT rows apart from the rest
-- (AggEmbodiedByBuilding, AggITTopItems). Without an index their filters on
-- the entries' single rows scanned every entry of the module: 126 ms for a
-- module of 100 000 plane entries that has neither, on every aggregation
-- after an import. Two partial indexes hold only those entries (few: rooms,
-- IT equipment and facilities), so that they cost nothing to entries of
-- other kinds. Their predicates are the queries' filters (the planner uses
-- a partial index only when the query implies its predicate): change them
-- together.
CREATE INDEX data_entries_embodied_idx ON data_entries (report_module_id)
    WHERE row_category = 'embodied_energy';
CREATE INDEX data_entries_it_idx ON data_entries (report_module_id)
    WHERE row_emission_type IN ('equipment.it', 'purchases.it_equipment', 'research_facilities.it_facilities');
