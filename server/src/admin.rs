//! `server admin grant|revoke <email>`: makes the first admin (and any
//! other) from the command line, against whatever database `DATABASE_URL`
//! names. The change goes through the account service like an admin's in
//! the console: the account's sessions end, so the new role applies at its
//! next sign-in, and revoking the last enabled admin is refused.

use std::time::Duration;

use anyhow::{bail, Context as _};
use app::api::values::{Email, Role};

use crate::{
    accounts::{Accounts, ChangeRefused},
    auth::{
        revocation::RevokedSessions,
        sessions::{Lifetimes, Sessions},
    },
    clock::unix_now,
    config::Settings,
    db::Database,
    me_cache::MeCache,
    store::users::{self, Change},
};

pub const USAGE: &str = "usage: server admin grant <email> | server admin revoke <email>";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Grant(String),
    Revoke(String),
}

impl Command {
    /// The command in `args` (without the program name), if they start
    /// with `admin`; `Err` with the usage when they do but are malformed.
    pub fn parse(args: &[String]) -> Option<Result<Self, &'static str>> {
        let (first, rest) = args.split_first()?;
        if first != "admin" {
            return None;
        }
        Some(match rest {
            [verb, email] if verb == "grant" => Ok(Self::Grant(email.clone())),
            [verb, email] if verb == "revoke" => Ok(Self::Revoke(email.clone())),
            _ => Err(USAGE),
        })
    }
}

/// Runs the command; the `Ok` text is for the operator.
pub async fn run(command: Command, settings: &Settings) -> anyhow::Result<String> {
    let (raw_email, role) = match &command {
        Command::Grant(email) => (email, Role::Admin),
        Command::Revoke(email) => (email, Role::User),
    };
    let email = Email::parse(raw_email)
        .map_err(|invalid| anyhow::anyhow!("{raw_email:?} is not an email address: {invalid}"))?;
    let db = Database::connect(&settings.database_url).await?;
    db.migrate().await?;
    let user = users::find_by_email(db.pool(), &email)
        .await?
        .with_context(|| format!("no account has the address {email}"))?;
    match (role, user.role) {
        (Role::Admin, Role::Admin) => bail!("{email} is already an admin"),
        (Role::User, Role::User) => bail!("{email} is not an admin"),
        _ => {}
    }
    // Only announcements matter here: this process checks no tokens.
    let revoked = RevokedSessions::new(Duration::from_secs(1));
    let seconds = |duration: Duration| i64::try_from(duration.as_secs()).unwrap_or(i64::MAX / 4);
    let sessions = Sessions::new(
        db.clone(),
        revoked,
        Lifetimes {
            remembered_secs: seconds(settings.refresh_token_ttl),
            browser_secs: seconds(settings.session_ttl),
            idle_secs: seconds(settings.session_idle_timeout),
            max_per_user: i64::from(settings.max_sessions_per_user),
            grace_secs: seconds(settings.refresh_reuse_grace),
        },
        crate::metrics::Metrics::disabled(),
    );
    // The server's cache is not this process's: it sees the change when
    // the sessions it ends are refused.
    let accounts = Accounts::new(db.clone(), sessions, MeCache::new(false));
    let change = Change {
        role: Some(role),
        disabled: None,
    };
    let outcome = accounts.change(user.id, change, unix_now()).await;
    db.close().await;
    match outcome {
        Ok(_) if role == Role::Admin => Ok(format!(
            "{email} is now an admin (their sessions were ended; the role applies when they sign in again)"
        )),
        Ok(_) => Ok(format!("{email} is no longer an admin")),
        Err(ChangeRefused::LastAdmin) => {
            bail!("{email} is the last enabled admin; make another admin first")
        }
        Err(ChangeRefused::NotFound) => bail!("no account has the address {email}"),
        Err(ChangeRefused::Database(error)) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| word.to_string()).collect()
    }

    #[test]
    fn parses_the_two_commands_and_nothing_else() {
        assert_eq!(Command::parse(&args(&[])), None);
        assert_eq!(Command::parse(&args(&["serve"])), None);
        assert_eq!(
            Command::parse(&args(&["admin", "grant", "a@b.io"])),
            Some(Ok(Command::Grant("a@b.io".into())))
        );
        assert_eq!(
            Command::parse(&args(&["admin", "revoke", "a@b.io"])),
            Some(Ok(Command::Revoke("a@b.io".into())))
        );
        assert_eq!(Command::parse(&args(&["admin", "grant"])), Some(Err(USAGE)));
        assert_eq!(
            Command::parse(&args(&["admin", "promote", "x"])),
            Some(Err(USAGE))
        );
    }
}
