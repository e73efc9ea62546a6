-- An authenticator app (TOTP, RFC 6238) per account. The secret is kept
-- encrypted (XChaCha20-Poly1305 under TOTP_ENCRYPTION_KEY, bound to the
-- account's id), never in the clear. `confirmed_at` is NULL while the
-- secret waits for its first code. `last_used_step` is the time step of
-- the last code accepted: a code is accepted only for a later step, in one
-- conditional statement, so a code works once.
CREATE TABLE totp_factors (
    user_id        TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    confirmed_at   BIGINT,
    last_used_step BIGINT
);

-- Single-use recovery codes, by SHA-256 (80 random bits each: beyond
-- guessing even from the hashes).
CREATE TABLE recovery_codes (
    code_hash  TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX recovery_codes_by_user ON recovery_codes (user_id);

-- A sign-in whose password was right, waiting for its second factor: by
-- SHA-256, single use, 5 minutes, 5 tries, and only under the credential
-- epoch its password was checked under.
CREATE TABLE login_challenges (
    token_hash       TEXT PRIMARY KEY NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_epoch BIGINT NOT NULL,
    remember         INTEGER NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    tries            BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX login_challenges_by_expiry ON login_challenges (expires_at);
