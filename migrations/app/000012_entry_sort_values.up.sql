-- Entry lists sort in SQL by every key (docs/api.md §5, pkg/entry/list.go).
-- Two of the keys are values the engine derives from the payload and the
-- reference data rather than payload fields: they are stored on the entry
-- whenever its totals are (EntriesSetComputed, EntriesCopyFrom), like
-- kg_co2eq, and are null when the engine derived none (0 in the API).
--   distance_km  plane and train: the trip distance (docs/domain.md §7.2);
--   surface_m2   room: the surface the engine used, the reference room's
--                else the entry's own (docs/domain.md §7.3).
-- Neither is indexed: a recalculation rewriting them stays a HOT update
-- (migration 000003), and a list sorts the filtered entries of one report
-- module (a bounded top-N sort in the database).
ALTER TABLE data_entries
    ADD COLUMN distance_km double precision CHECK (distance_km > 0 AND distance_km < 'Infinity'),
    ADD COLUMN surface_m2 double precision CHECK (surface_m2 > 0 AND surface_m2 < 'Infinity');

-- The module-years whose entries were computed before this migration: `migrate
-- up` runs the engine over them once to fill the two columns (numbers are
-- not touched, closed years included; calc.BackfillSortValues) and deletes
-- the row of each module-year it filled.
CREATE TABLE entry_sort_backfill (
    year   integer NOT NULL,
    module text NOT NULL,
    PRIMARY KEY (year, module)
);
INSERT INTO entry_sort_backfill (year, module)
SELECT DISTINCT year, module FROM data_entries WHERE submodule IN ('plane', 'train', 'room');
