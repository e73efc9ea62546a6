-- Failed sign-ins per typed address, whether or not an account has it (so
-- that a lockout tells nothing about which addresses exist). Counted in the
-- database so that the count holds on every instance and across restarts.
CREATE TABLE sign_in_failures (
    email          TEXT PRIMARY KEY NOT NULL,
    failures       BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    locked_until   BIGINT
);

-- What happened to an account, for its owner and for admins: sign-ins,
-- reuse of a refresh token, password changes and resets, ended sessions,
-- role changes, lockouts.
CREATE TABLE security_events (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    ip_address  TEXT,
    user_agent  TEXT,
    detail      TEXT
);
CREATE INDEX security_events_by_user ON security_events (user_id, occurred_at, id);
