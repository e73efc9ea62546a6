-- Passkeys (WebAuthn credentials). `credential` is the relying-party
-- library's record of the credential as JSON: its public key, signature
-- counter and flags; nothing in it is secret. `credential_id` is the id the
-- authenticator knows it by (base64url), unique across accounts, so a
-- credential cannot be added to a second account. `sign_count` is the
-- counter last seen, kept apart so that taking a use is one conditional
-- statement: a counter that does not move forward is refused.
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    credential    TEXT NOT NULL,
    sign_count    BIGINT NOT NULL,
    backed_up     INTEGER NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_by_user ON passkeys (user_id, created_at);

-- The server's half of a WebAuthn ceremony waiting for the browser's
-- answer: the library's state (the challenge it issued, what it expects),
-- by SHA-256 of the key the client holds, single use (taken by a delete)
-- and short-lived. `user_id` and `session_id` bind it where the ceremony
-- is for a known account (adding a passkey, a second factor, a
-- re-authentication); a sign-in with no email typed binds none.
CREATE TABLE webauthn_ceremonies (
    key_hash   TEXT PRIMARY KEY NOT NULL,
    purpose    TEXT NOT NULL,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT,
    state      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_by_expiry ON webauthn_ceremonies (expires_at);
