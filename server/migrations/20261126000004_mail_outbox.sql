-- Mail waiting to be sent: written in the same transaction as the change
-- that caused it, then delivered by a background worker, so a message is
-- neither sent for a change that rolled back nor lost with a crash.
-- `id` is a UUIDv7, so ids sort by creation. `kind` is checked by the
-- server (`MailKind`) rather than here, so that a new kind needs no table
-- rebuild on SQLite.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY NOT NULL,
    recipient       TEXT NOT NULL,
    recipient_name  TEXT NOT NULL,
    kind            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    link            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    -- Failed deliveries so far; the next is not tried before `next_attempt_at`.
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- A worker that claimed the row owns it until then; a crashed worker's
    -- claim runs out and another picks the row up.
    claimed_until   BIGINT,
    sent_at         BIGINT,
    -- Set when the worker gave up; the row stays for inspection.
    failed_at       BIGINT,
    last_error      TEXT
);

-- The worker's question: what is due?
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;

-- The hourly cap counts one address's recent messages of one kind.
CREATE INDEX mail_outbox_by_recipient ON mail_outbox (recipient, kind, created_at);
