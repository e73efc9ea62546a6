-- An admin can disable an account: it cannot sign in, and gets no reset link.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

-- Lists page through accounts by creation time.
CREATE INDEX users_by_creation ON users (created_at, id);
