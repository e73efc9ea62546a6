-- A session's footing: the earliest moment whose changes to the account
-- the holder of the session may have had a hand in. A session opened with
-- fresh proofs alone stands from its opening; one opened (or stepped up)
-- with a factor that a session added, or with a password that a session
-- set, stands from that session's footing, since whoever held it may have
-- added that factor or chosen that password to come back with. Each
-- factor and a password set from a session keep the footing of the
-- session that made them. An undone change of address takes back the
-- factors added since the footing of the session that asked for it
-- (auth/factors/take_back.rs), so a chain (add a passkey, sign in with it,
-- ask from the new session) leads back to where it began.
--
-- NULL in rows older than this migration: a session's footing is then its
-- opening, a factor's its own creation (what the undo used before). NULL
-- in `users.password_footing` also means a password proven through the
-- mailbox (a sign-up, a reset), which no session chose.
ALTER TABLE sessions ADD COLUMN footing BIGINT;
ALTER TABLE passkeys ADD COLUMN footing BIGINT;
ALTER TABLE totp_factors ADD COLUMN footing BIGINT;
ALTER TABLE recovery_codes ADD COLUMN footing BIGINT;
ALTER TABLE users ADD COLUMN password_footing BIGINT;
