-- `sessions_by_user_and_use` (user_id, last_seen_at) answers every lookup
-- by user that `sessions_by_user` (user_id) did; the older index was one
-- more page written by every sign-in and every refresh.
DROP INDEX sessions_by_user;
