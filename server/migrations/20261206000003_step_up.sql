-- When the user of a session last proved who they are, and how (RFC 8176
-- method values, comma-separated): copied into every access token the
-- session gets, so that a sensitive action can ask for a recent proof. A
-- refresh leaves them alone; only a sign-in or a re-authentication moves
-- them. Sessions from before have no known time, and must prove it again.
ALTER TABLE sessions ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
