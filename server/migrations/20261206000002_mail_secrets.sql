-- No live secret at rest. A message's bodies and link are needed only
-- until it is delivered: from then on the row keeps its metadata (who, what
-- kind, when), and `text_body`, `html_body` and `link` are blanked in the
-- statement that marks it sent or given up. SQLite cannot drop NOT NULL,
-- so the columns stay and hold ''.
--
-- `expires_at` is when the message's link stops working (NULL for a
-- message whose link does not expire). A message not delivered by then is
-- never delivered: the worker gives it up and blanks it.
ALTER TABLE mail_outbox ADD COLUMN expires_at BIGINT;

-- Mail already delivered or given up keeps its metadata only.
UPDATE mail_outbox SET text_body = '', html_body = '', link = ''
WHERE sent_at IS NOT NULL OR failed_at IS NOT NULL;

-- Mail still waiting gets the lifetime its link was made with (at the time
-- of this migration: 24 hours for verification, 30 minutes for a reset);
-- the link was made in the transaction that queued the message.
UPDATE mail_outbox SET expires_at = created_at + 86400
WHERE kind = 'verify_email' AND sent_at IS NULL AND failed_at IS NULL;
UPDATE mail_outbox SET expires_at = created_at + 1800
WHERE kind = 'reset_password' AND sent_at IS NULL AND failed_at IS NULL;
