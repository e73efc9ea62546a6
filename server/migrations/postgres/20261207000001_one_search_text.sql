-- PostgreSQL only: what a search of the lists tests, kept in a column of
-- its own, and one trigram index over it instead of one per column.
--
-- `search_text` is the email and the name, lower-cased and joined by a
-- line break, computed by PostgreSQL whenever either changes (a stored
-- generated column; store/listing reads it as SEARCH_TEXT). Before, a
-- search asked the index for each column in turn, reading each trigram's
-- posting list twice, and lower-cased both columns of every candidate
-- twice over to test it; at a million rows, for a rare term with a few
-- hundred candidates, that was most of its time. No email or name holds a
-- line break, so a term without one is in the joined text exactly when it
-- is in either column.
--
-- The joined values are all different, so the planner estimates a term
-- from a histogram of sampled values alone, and a term that one entry of
-- the usual 100 happens to hold is rated at 1% however rare it is (the
-- list is then read in order: tens of milliseconds at a million rows for
-- a rare term). With 1,000 entries, one such entry rates it at 0.1%, where
-- the index is still chosen; a common term (2%) holds about twenty of them
-- and is still read in list order. ANALYZE then samples 300,000 rows
-- instead of 30,000 (2-3 s at a million rows).
--
-- Adding the column rewrites the table and building the index holds back
-- writes to it, each for seconds at a million rows: run the upgrade when
-- that is acceptable.

DROP INDEX IF EXISTS users_by_search;
DROP INDEX IF EXISTS people_by_search;

ALTER TABLE users ADD COLUMN search_text TEXT
    GENERATED ALWAYS AS (COALESCE(LOWER(email), '') || E'\n' || LOWER(name)) STORED;
ALTER TABLE users ALTER COLUMN search_text SET STATISTICS 1000;
CREATE INDEX users_by_search_text ON users USING gin (search_text gin_trgm_ops);

ALTER TABLE people ADD COLUMN search_text TEXT
    GENERATED ALWAYS AS (COALESCE(LOWER(email), '') || E'\n' || LOWER(name)) STORED;
ALTER TABLE people ALTER COLUMN search_text SET STATISTICS 1000;
CREATE INDEX people_by_search_text ON people USING gin (search_text gin_trgm_ops);
