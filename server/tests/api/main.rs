//! Black-box tests of the HTTP API: each test starts the real server on a
//! random port with a fresh database, once on SQLite and once on PostgreSQL
//! (when `TEST_DATABASE_URL` names a server to create databases on).

mod helpers;

mod access_tokens;
mod account_deletion;
mod account_deletion_admins;
mod activity;
mod bodies;
mod contract;
mod email_change;
mod email_change_pending;
mod email_change_races;
mod email_change_sessions;
mod email_change_undo;
mod export;
mod foundation;
mod hardening;
mod limits;
mod lockout;
mod login;
mod logout;
mod mail;
mod mail_durability;
mod mail_outbox;
mod mail_secrets;
mod metrics;
mod passkey_factors;
mod passkeys;
mod passwords;
mod people;
mod refresh;
mod registration;
mod registration_links;
mod review_findings;
mod search;
mod search_rows;
mod session_endings;
mod session_pages;
mod sessions;
mod shared_limits;
mod smtp_sink;
mod soft_passkey;
mod step_up;
mod takeover;
mod two_factor;
mod two_factor_changes;
mod users;
