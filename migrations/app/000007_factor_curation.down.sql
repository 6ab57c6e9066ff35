DROP VIEW factor_staleness;
ALTER TABLE factors DROP COLUMN version;
