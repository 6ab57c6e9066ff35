-- Recalculation performance (docs/jobs.md §4.4).
--
-- Keyset pages of a module-year (EntriesByYearModuleAfter: year, module,
-- id > after ORDER BY id) read only that module's entries instead of
-- walking the primary key over every module of every year.
CREATE INDEX data_entries_year_module_id_idx ON data_entries (year, module, id);

-- Leave room on each page so that the totals update of a recalculation
-- (EntriesSetComputed: kg_co2eq, kg_co2eq_additional, calc_status,
-- calc_message, computed_at, and primary_factor_id, which keeps its value
-- when a factor's values change) is a HOT update: none of those columns is
-- indexed except primary_factor_id, so the new version stays on its page
-- and no index entry is written. Applies to pages written from now on.
ALTER TABLE data_entries SET (fillfactor = 70);

-- Same for the emission rows a recalculation rewrites in place
-- (RecalcEmissionsUpdate changes no indexed column).
ALTER TABLE emissions SET (fillfactor = 80);
