//! The `mail_outbox` table: messages written in the same transaction as the
//! change that caused them, so a message exists exactly when its change
//! does, and survives a crash until a worker has delivered it.
//!
//! No live secret stays at rest longer than it must. A message's bodies
//! and link (which carry a verification or reset token) are kept only
//! while it waits: the statement that marks it sent, or given up, also
//! blanks `text_body`, `html_body` and `link` (to '': the columns are NOT
//! NULL and SQLite cannot change that), keeping the metadata (recipient,
//! kind, subject, times, error) until housekeeping deletes the row. A
//! message whose link expired before it could be delivered is never
//! delivered: [`next_due`] and [`claim`] pass it over, and
//! [`give_up_expired`] marks it given up (`last_error` =
//! [`LINK_EXPIRED`]) and blanks it. Given up rather than deleted, so that
//! it shows like any other undeliverable message and housekeeping treats
//! it alike.
//!
//! Every race is settled by one conditional statement: the hourly cap is
//! part of the insert, a worker owns a row only if its claim (a lease)
//! updated it, a claim that ran out lets another worker take over, and an
//! expired message is given up only while nobody holds a claim on it, so
//! that it is never dropped during its delivery.

use std::{fmt, str::FromStr};

use app::api::values::{DisplayName, Email};
use sqlx::{Any, Executor};
use uuid::Uuid;

/// What a message is about; the hourly cap counts each kind separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    VerifyEmail,
    AlreadyRegistered,
    ResetPassword,
    PasswordChanged,
    /// A second factor turned on or off, new recovery codes, one used.
    SecurityNotice,
    /// To a new address: the link that confirms a change of address, or,
    /// for an address another account has, the notice that it is taken
    /// (one kind, so the two are capped alike).
    ConfirmEmailChange,
    /// To the old address: the address changed, with the link to undo it.
    EmailChanged,
    /// The account was deleted.
    AccountDeleted,
}

impl MailKind {
    pub const ALL: [Self; 8] = [
        Self::VerifyEmail,
        Self::AlreadyRegistered,
        Self::ResetPassword,
        Self::PasswordChanged,
        Self::SecurityNotice,
        Self::ConfirmEmailChange,
        Self::EmailChanged,
        Self::AccountDeleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::AlreadyRegistered => "already_registered",
            Self::ResetPassword => "reset_password",
            Self::PasswordChanged => "password_changed",
            Self::SecurityNotice => "security_notice",
            Self::ConfirmEmailChange => "confirm_email_change",
            Self::EmailChanged => "email_changed",
            Self::AccountDeleted => "account_deleted",
        }
    }
}

impl fmt::Display for MailKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mail kind `{0}`")]
pub struct UnknownMailKind(String);

impl FromStr for MailKind {
    type Err = UnknownMailKind;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| UnknownMailKind(value.to_owned()))
    }
}

impl TryFrom<String> for MailKind {
    type Error = UnknownMailKind;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

/// A message to store.
#[derive(Debug, Clone, Copy)]
pub struct NewMail<'a> {
    pub id: Uuid,
    pub recipient: &'a Email,
    pub recipient_name: &'a DisplayName,
    pub kind: MailKind,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
    pub link: &'a str,
}

/// `last_error` of a message given up because its link expired first.
pub const LINK_EXPIRED: &str = "link expired before delivery";

/// A message a worker has claimed and now delivers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedMail {
    #[sqlx(try_from = "String")]
    pub id: Uuid,
    #[sqlx(try_from = "String")]
    pub recipient: Email,
    #[sqlx(try_from = "String")]
    pub recipient_name: DisplayName,
    #[sqlx(try_from = "String")]
    pub kind: MailKind,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub link: String,
    /// Failed deliveries before this one.
    pub attempts: i64,
}

const HOUR_SECS: i64 = 60 * 60;

/// [`insert_capped_expiring`] for a message whose link does not expire.
pub async fn insert_capped<'e>(
    db: impl Executor<'e, Database = Any>,
    mail: NewMail<'_>,
    now: i64,
    hourly_limit: i64,
) -> Result<bool, sqlx::Error> {
    insert_capped_expiring(db, mail, None, now, hourly_limit).await
}

/// Stores the message unless its address already got `hourly_limit`
/// messages of its kind in the last hour: count and insert are one
/// statement. Returns whether it was stored. `expires_at` is when its link
/// stops working: if it is still undelivered then, it is never delivered.
///
/// On PostgreSQL two transactions could each count before the other's row
/// is visible; [`lock_recipient`] first, in the same transaction, closes
/// that gap.
pub async fn insert_capped_expiring<'e>(
    db: impl Executor<'e, Database = Any>,
    mail: NewMail<'_>,
    expires_at: Option<i64>,
    now: i64,
    hourly_limit: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO mail_outbox \
             (id, recipient, recipient_name, kind, subject, text_body, html_body, link, \
              created_at, attempts, next_attempt_at, expires_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11 \
         WHERE (SELECT COUNT(*) FROM mail_outbox \
                WHERE recipient = $12 AND kind = $13 AND created_at > $14) < $15",
    )
    .bind(mail.id.to_string())
    .bind(mail.recipient.as_str())
    .bind(mail.recipient_name.as_str())
    .bind(mail.kind.as_str())
    .bind(mail.subject)
    .bind(mail.text_body)
    .bind(mail.html_body)
    .bind(mail.link)
    .bind(now)
    .bind(now)
    .bind(expires_at)
    .bind(mail.recipient.as_str())
    .bind(mail.kind.as_str())
    .bind(now - HOUR_SECS)
    .bind(hourly_limit)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// PostgreSQL only: serialises, until the transaction ends, the capped
/// inserts of one address and kind, so that each counts the others' rows.
/// Take it last in a transaction, just before the insert: it is then
/// never held while waiting for anything else.
pub async fn lock_recipient<'e>(
    db: impl Executor<'e, Database = Any>,
    recipient: &Email,
    kind: MailKind,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(format!("mail_outbox:{kind}:{recipient}"))
        .execute(db)
        .await?;
    Ok(())
}

/// The oldest message due at `now` that no live claim holds and whose
/// link still works, if any. Only a candidate: [`claim`] decides who gets
/// it.
pub async fn next_due<'e>(
    db: impl Executor<'e, Database = Any>,
    now: i64,
) -> Result<Option<Uuid>, sqlx::Error> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM mail_outbox \
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
           AND (claimed_until IS NULL OR claimed_until < $2) \
           AND (expires_at IS NULL OR expires_at > $3) \
         ORDER BY next_attempt_at, id \
         LIMIT 1",
    )
    .bind(now)
    .bind(now)
    .bind(now)
    .fetch_optional(db)
    .await?;
    id.map(|id| super::parse_id(&id)).transpose()
}

/// Claims a due message until `lease_until`, in one conditional statement:
/// of several workers claiming one row, exactly one gets it back. A claim
/// whose worker died runs out and the row can be claimed again. A message
/// whose link has expired is never claimed.
pub async fn claim<'e>(
    db: impl Executor<'e, Database = Any>,
    id: Uuid,
    now: i64,
    lease_until: i64,
) -> Result<Option<ClaimedMail>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE mail_outbox SET claimed_until = $1 \
         WHERE id = $2 AND sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $3 \
           AND (claimed_until IS NULL OR claimed_until < $4) \
           AND (expires_at IS NULL OR expires_at > $5) \
         RETURNING id, recipient, recipient_name, kind, subject, text_body, html_body, link, \
                   attempts",
    )
    .bind(lease_until)
    .bind(id.to_string())
    .bind(now)
    .bind(now)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Records the delivery and, in the same statement, blanks the bodies and
/// the link: from now on the row is metadata. Marking twice keeps the
/// first time. Delivery wins over a give-up that slipped in after a lease
/// overran: the message is sent, not failed.
pub async fn mark_sent<'e>(
    db: impl Executor<'e, Database = Any>,
    id: Uuid,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox SET sent_at = COALESCE(sent_at, $1), claimed_until = NULL, \
             failed_at = NULL, text_body = '', html_body = '', link = '' \
         WHERE id = $2",
    )
    .bind(now)
    .bind(id.to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// Records a failed delivery and releases the claim: the message is tried
/// again at `retry_at`, or, without one, given up (and kept, with its
/// error, but with its bodies and link blanked). A message delivered
/// meanwhile by another worker stays sent.
pub async fn record_failure<'e>(
    db: impl Executor<'e, Database = Any>,
    id: Uuid,
    error: &str,
    now: i64,
    retry_at: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox SET \
             attempts = attempts + 1, \
             last_error = $1, \
             claimed_until = NULL, \
             next_attempt_at = COALESCE($2, next_attempt_at), \
             failed_at = CASE WHEN $3 IS NULL THEN $4 ELSE NULL END, \
             text_body = CASE WHEN $5 IS NULL THEN '' ELSE text_body END, \
             html_body = CASE WHEN $6 IS NULL THEN '' ELSE html_body END, \
             link = CASE WHEN $7 IS NULL THEN '' ELSE link END \
         WHERE id = $8 AND sent_at IS NULL",
    )
    .bind(error)
    .bind(retry_at)
    .bind(retry_at)
    .bind(now)
    .bind(retry_at)
    .bind(retry_at)
    .bind(retry_at)
    .bind(id.to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// Gives up, in one conditional statement, every undelivered message whose
/// link stopped working by `now`: marked failed with [`LINK_EXPIRED`], its
/// bodies and link blanked. A message under a live claim is left to the
/// worker delivering it (it started in time); if that worker died, its
/// claim runs out and the message is given up then. Returns how many.
pub async fn give_up_expired<'e>(
    db: impl Executor<'e, Database = Any>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE mail_outbox SET failed_at = $1, last_error = $2, claimed_until = NULL, \
             text_body = '', html_body = '', link = '' \
         WHERE sent_at IS NULL AND failed_at IS NULL AND expires_at <= $3 \
           AND (claimed_until IS NULL OR claimed_until < $4)",
    )
    .bind(now)
    .bind(LINK_EXPIRED)
    .bind(now)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// How many messages wait: neither delivered nor given up.
pub async fn count_waiting<'e>(db: impl Executor<'e, Database = Any>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(db)
    .await
}

/// Deletes messages sent before `sent_before` and those given up before
/// `failed_before`.
pub async fn delete_finished_before<'e>(
    db: impl Executor<'e, Database = Any>,
    sent_before: i64,
    failed_before: i64,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM mail_outbox WHERE sent_at < $1 OR failed_at < $2")
        .bind(sent_before)
        .bind(failed_before)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// Deletes the messages to `recipient`, waiting, sent or given up (only
/// those of `kind`, when given): the account they are for is being
/// deleted. A worker delivering one of them right now finds nothing left
/// to mark.
pub async fn delete_for_recipient<'e>(
    db: impl Executor<'e, Database = Any>,
    recipient: &Email,
    kind: Option<MailKind>,
) -> Result<u64, sqlx::Error> {
    let result =
        sqlx::query("DELETE FROM mail_outbox WHERE recipient = $1 AND ($2 IS NULL OR kind = $3)")
            .bind(recipient.as_str())
            .bind(kind.map(MailKind::as_str))
            .bind(kind.map(MailKind::as_str))
            .execute(db)
            .await?;
    Ok(result.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_as_written() {
        for kind in MailKind::ALL {
            assert_eq!(kind.as_str().parse::<MailKind>(), Ok(kind));
        }
        assert!("spam".parse::<MailKind>().is_err());
    }
}
