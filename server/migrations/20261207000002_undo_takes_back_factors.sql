-- Undoing a change of address takes back the second factors added since
-- the session that asked for the change was opened (whoever made the
-- change may have added them, to come back in without the password):
-- when that was, read as the change is confirmed. NULL for undos made
-- before this column: they take back what was added since the change.
ALTER TABLE email_change_undos ADD COLUMN suspect_since BIGINT;
