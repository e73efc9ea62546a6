//! Password hashing with Argon2id, off the async workers and with bounded
//! concurrency: each hash takes ~19 MiB and tens of milliseconds of CPU, so a
//! burst of logins must queue rather than stall every other request or
//! exhaust memory. The queue is bounded too: past it, work is refused at
//! once (503 `overloaded`) rather than piling up behind the cores while
//! every client times out.
//!
//! `argon` computes hashes in memory a caller keeps; `threads` runs them on
//! threads of their own, one per core, at a priority below every request.

mod argon;
mod sched;
mod share;
mod threads;

use std::sync::Arc;

use crate::{error::ApiError, metrics::Metrics};

use self::{
    argon::{verify, Hasher},
    threads::HashThreads,
};

/// zxcvbn's scale: 3 means "safely unguessable: moderate protection from
/// offline slow-hash scenarios", the least it recommends.
const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Three;

#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

/// Why hashing did not happen.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The queue is full; nothing was done.
    #[error("too many password hashes are waiting")]
    Overloaded,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// A full queue is the API's 503 `overloaded`; a failure, its 500.
impl From<HashError> for ApiError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Overloaded => Self::overloaded(),
            HashError::Failed(error) => Self::Internal(error),
        }
    }
}

struct Inner {
    hasher: Hasher,
    threads: HashThreads,
    /// Verified against when the email is unknown, so that a wrong email
    /// costs the same time as a wrong password.
    dummy_hash: String,
}

impl Passwords {
    /// `concurrency` bounds how many hashes run at once (one thread and one
    /// block of memory each), `max_waiting` how many more may wait for one;
    /// `metrics` times the wait and counts refusals.
    pub fn new(
        concurrency: usize,
        max_waiting: usize,
        share: f64,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let hasher = Hasher::new()?;
        let threads = HashThreads::start(concurrency, max_waiting, share, metrics)?;
        // Computed on a hashing thread, with its memory, like every hash.
        let dummy_hasher = hasher.clone();
        let dummy_hash = threads
            .run_now(move |memory| dummy_hasher.hash(b"a password nobody has", memory))??;
        Ok(Self {
            inner: Arc::new(Inner {
                hasher,
                threads,
                dummy_hash,
            }),
        })
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let inner = Arc::clone(&self.inner);
        Ok(self
            .inner
            .threads
            .run(move |memory| inner.hasher.hash(password.as_bytes(), memory))
            .await??)
    }

    /// Whether `password` matches `stored`; with no stored hash, still does
    /// the work of a verification and answers `false`.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        let inner = Arc::clone(&self.inner);
        let verified = self.inner.threads.run(move |memory| {
            let known = stored.is_some();
            let phc = stored.as_deref().unwrap_or(&inner.dummy_hash);
            let matches = verify(password.as_bytes(), phc, memory)?;
            anyhow::Ok(known && matches)
        });
        Ok(verified.await??)
    }

    /// Why the password is too easy to guess, if it is. `context` holds what
    /// the user typed elsewhere (email, name), which a password must not lean
    /// on. On the hashing threads too: zxcvbn costs milliseconds on crafted
    /// input.
    pub async fn weakness(
        &self,
        password: String,
        context: Vec<String>,
    ) -> Result<Option<String>, HashError> {
        self.inner
            .threads
            .run(move |_| {
                let inputs: Vec<&str> = context.iter().map(String::as_str).collect();
                weakness(&password, &inputs)
            })
            .await
    }
}

/// zxcvbn's verdict in words a person can act on.
pub fn weakness(password: &str, context: &[&str]) -> Option<String> {
    let entropy = zxcvbn::zxcvbn(password, context);
    if entropy.score() >= MIN_STRENGTH {
        return None;
    }
    let mut message = String::from("This password is too easy to guess.");
    if let Some(feedback) = entropy.feedback() {
        if let Some(warning) = feedback.warning() {
            message = format!("This password is too easy to guess: {warning}");
        }
        if let Some(suggestion) = feedback.suggestions().first() {
            message.push(' ');
            message.push_str(&suggestion.to_string());
        }
    }
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let passwords = Passwords::new(2, 4, 0.0, Metrics::disabled()).unwrap();
        let hash = passwords
            .hash("correct horse battery staple".into())
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(passwords
            .verify("correct horse battery staple".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!passwords.verify("wrong".into(), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let passwords = Passwords::new(1, 4, 0.0, Metrics::disabled()).unwrap();
        assert!(!passwords
            .verify("a password nobody has".into(), None)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_is_an_error_not_a_match() {
        let passwords = Passwords::new(1, 4, 0.0, Metrics::disabled()).unwrap();
        assert!(passwords
            .verify("x".into(), Some("not a hash".into()))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn past_the_queue_work_is_refused_not_queued() {
        let passwords = Passwords::new(1, 2, 0.0, Metrics::disabled()).unwrap();
        let attempts: Vec<_> = (0..12)
            .map(|_| {
                let passwords = passwords.clone();
                tokio::spawn(async move { passwords.verify("guess".into(), None).await })
            })
            .collect();
        let mut overloaded = 0;
        let mut done = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(false) => done += 1,
                Err(HashError::Overloaded) => overloaded += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(done >= 3, "one running and two waiting always finish");
        assert!(overloaded > 0, "the rest are refused");
        assert_eq!(done + overloaded, 12);
    }

    #[test]
    fn weak_passwords_are_explained() {
        assert!(weakness("password1", &[]).is_some());
        assert!(weakness("qwertyuiop", &[]).is_some());
        let message = weakness(
            "ada.lovelace",
            &["ada.lovelace@example.com", "Ada Lovelace"],
        );
        assert!(message.is_some());
        assert_eq!(weakness("correct horse battery staple", &[]), None);
        assert_eq!(weakness("tK9#vQ2!mZ7x", &[]), None);
    }
}
