-- Each sign-up is bound to its own password. A sign-up is only a pending
-- row here until the link mailed to the address is opened and the password
-- chosen at that sign-up is typed again: only then does an account exist.
-- A second sign-up for the same address is a row of its own and never
-- replaces or cancels the first, so nobody can take an address over by
-- signing it up again, and a pending sign-up tells a sign-in nothing.
CREATE TABLE pending_signups (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    -- The live link's token, by SHA-256; a resend replaces it.
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    -- Tries of the link so far, counted before each password check; the
    -- link is spent when they reach the limit.
    tries         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX pending_signups_by_email ON pending_signups (email, created_at);
CREATE INDEX pending_signups_by_expiry ON pending_signups (expires_at);

-- Accounts left unverified by the old sign-up become pending sign-ups, one
-- per live link, with the password they were made with.
INSERT INTO pending_signups (id, email, name, password_hash, token_hash, created_at, expires_at, tries)
SELECT t.token_hash, u.email, u.name, u.password_hash, t.token_hash, t.created_at, t.expires_at, 0
FROM users u JOIN email_tokens t ON t.user_id = u.id
WHERE u.email_verified_at IS NULL AND t.purpose = 'verify_email' AND t.used_at IS NULL;
DELETE FROM users WHERE email_verified_at IS NULL;
DROP INDEX users_by_unverified_creation;

-- The credential epoch: raised in the same transaction as every change
-- that must end or downgrade the account's sessions (a new password, a
-- disable, a new role). A session records the epoch it was opened under;
-- opening and rotating one succeed only while the two still match.
ALTER TABLE users ADD COLUMN credential_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN credential_epoch BIGINT NOT NULL DEFAULT 0;
