-- PostgreSQL only (see db.rs for why the migrations are split by backend):
-- an index for searching users and people by any part of their email or
-- name.
--
-- pg_trgm's GIN operator class indexes the trigrams of each value and
-- answers `LOWER(column) LIKE '%part%'` from them (rechecking each
-- candidate), so the expressions here are exactly those the list queries
-- test. One index per table covers both columns: the planner ORs a scan of
-- each. pg_trgm ships with PostgreSQL (contrib) and is a trusted extension
-- since PostgreSQL 13: an owner of the database may create it without
-- superuser rights.
--
-- Building the index takes a lock that holds back writes to the table for
-- the build (seconds for a million rows); run the upgrade when that is
-- acceptable, or create the indexes CONCURRENTLY by hand beforehand under
-- these names.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX IF NOT EXISTS users_by_search
    ON users USING gin (LOWER(email) gin_trgm_ops, LOWER(name) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS people_by_search
    ON people USING gin (LOWER(email) gin_trgm_ops, LOWER(name) gin_trgm_ops);
