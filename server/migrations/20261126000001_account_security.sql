-- Sessions opened without "keep me signed in" get a browser-session cookie
-- and a shorter lifetime; rotation has to know which kind it renews.
ALTER TABLE sessions ADD COLUMN remember INTEGER NOT NULL DEFAULT 1;

-- The idle timeout and the device list read sessions by their last use.
CREATE INDEX sessions_by_user_and_use ON sessions (user_id, last_seen_at);

-- Housekeeping finds accounts left unverified.
CREATE INDEX users_by_unverified_creation ON users (created_at) WHERE email_verified_at IS NULL;
