-- The rate-limit buckets every instance shares (server/src/limits): one row
-- per bucket, named by a SHA-256 of its policy, scope and key, so that no
-- address typed into a form is kept. `tat` is the bucket's theoretical
-- arrival time (GCRA) in milliseconds of the database's clock. A bucket
-- whose time has passed is full, and housekeeping deletes it.
--
-- UNLOGGED: a crash of the database forgets the buckets (they start full),
-- which is what a restart of the in-memory ones does too, and every hit
-- skips the write-ahead log.
CREATE UNLOGGED TABLE rate_limit_buckets (
    name TEXT PRIMARY KEY,
    tat  BIGINT NOT NULL
);

CREATE INDEX rate_limit_buckets_by_tat ON rate_limit_buckets (tat);
