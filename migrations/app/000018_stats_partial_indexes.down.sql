DROP INDEX data_entries_it_idx;
DROP INDEX data_entries_embodied_idx;
