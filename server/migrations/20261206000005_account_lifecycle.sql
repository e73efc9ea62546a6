-- The account's lifecycle: a change of email address waits for the link
-- mailed to the new address, can be undone from the old one for a week,
-- and an account can be deleted with everything that is its own.

-- A change of address waiting for its confirmation link: at most one per
-- account (asking again replaces it). `token_hash` is the link's token by
-- SHA-256. `session_id` is the session that asked (not a foreign key: the
-- session may end and be swept first); it keeps going when the change is
-- confirmed.
CREATE TABLE email_changes (
    user_id    TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    new_email  TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    session_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX email_changes_by_new_email ON email_changes (new_email);
CREATE INDEX email_changes_by_expiry ON email_changes (expires_at);

-- A confirmed change that the old address may still undo. `id` is a
-- UUIDv7: an undo also spends the undo links of the changes made after
-- it, never those of the changes before.
CREATE TABLE email_change_undos (
    id         TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    old_email  TEXT NOT NULL,
    new_email  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX email_change_undos_by_user ON email_change_undos (user_id, id);
CREATE INDEX email_change_undos_by_expiry ON email_change_undos (expires_at);

-- Revocations that outlive their session's row: deleting an account
-- deletes its sessions, but an access token of one of them stays valid
-- until it expires, so every instance (one starting now included) must
-- still refuse it. Only the session's id and when it ended: nothing that
-- names the account. Swept with ended sessions.
CREATE TABLE revoked_sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_sessions_by_time ON revoked_sessions (revoked_at);
