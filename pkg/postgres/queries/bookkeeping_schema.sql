-- Tables created by golang-migrate itself (not by a migration file); declared
-- here only so that sqlc can type the queries that read them.
CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
CREATE TABLE river_schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
