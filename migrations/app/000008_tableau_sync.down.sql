DROP INDEX data_entries_tableau_idx;
DROP TABLE tableau_staging;
