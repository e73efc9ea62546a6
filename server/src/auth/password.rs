//! Password hashing with Argon2id, off the async workers and with bounded
//! concurrency: each hash takes ~19 MiB and tens of milliseconds of CPU, so a
//! burst of logins must queue rather than stall every other request or
//! exhaust memory. The queue is bounded too: past it, work is refused at
//! once (503 `overloaded`) rather than piling up behind the cores while
//! every client times out.
//!
//! Hashes run on threads of their own, one per slot (core), each of which
//! keeps one 19 MiB block of Argon2 memory for its whole life. A fresh block
//! per hash either costs thousands of page faults (memory handed back to the
//! kernel and faulted in again) or, when the allocator keeps freed blocks,
//! grows the process by a block per thread that ever hashed: the blocking
//! pool's threads come and go, and each kept its own. Argon2 writes every
//! block before it reads it, so a reused block needs no clearing either.
//!
//! The hashing threads run at a lower priority than the async workers: when
//! both want the CPU, a request that costs microseconds goes first, instead
//! of waiting behind a hash that costs tens of milliseconds. Without other
//! work, hashing still has the whole core.

use std::{
    panic::AssertUnwindSafe,
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc, Mutex,
    },
};

use anyhow::Context as _;
use argon2::{
    password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, Salt, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// OWASP's minimum for Argon2id: 19 MiB, two passes, one lane.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// How much less the hashing threads weigh than the async workers (nice
/// levels, added to the process's): at +10 the scheduler gives them about a
/// tenth of a core that requests keep busy, and all of an idle one.
const HASH_THREAD_NICE: i32 = 10;

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

struct Inner {
    hasher: Hasher,
    permits: Arc<Semaphore>,
    /// Tasks waiting for a permit, and how many may.
    waiting: AtomicUsize,
    max_waiting: usize,
    /// Verified against when the email is unknown, so that a wrong email
    /// costs the same time as a wrong password.
    dummy_hash: String,
    /// Work for the hashing threads; they end when it is dropped.
    jobs: mpsc::Sender<Job>,
}

/// Work for a hashing thread, with the thread's memory.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

impl Passwords {
    /// `concurrency` bounds how many hashes run at once (one thread and one
    /// block of memory each), `max_waiting` how many more may wait for one.
    pub fn new(concurrency: usize, max_waiting: usize) -> anyhow::Result<Self> {
        let hasher = Hasher::new()?;
        let concurrency = concurrency.max(1);
        let jobs = spawn_threads(concurrency)?;
        // Computed on a hashing thread, with its memory, like every hash.
        let (done, dummy) = mpsc::channel();
        let dummy_hasher = hasher.clone();
        jobs.send(Box::new(move |memory: &mut Memory| {
            let _ = done.send(dummy_hasher.hash(b"a password nobody has", memory));
        }))
        .map_err(|_| anyhow::anyhow!("the password hashing threads are gone"))?;
        let dummy_hash = dummy
            .recv()
            .context("the password hashing thread failed")??;
        Ok(Self {
            inner: Arc::new(Inner {
                hasher,
                permits: Arc::new(Semaphore::new(concurrency)),
                waiting: AtomicUsize::new(0),
                max_waiting,
                dummy_hash,
                jobs,
            }),
        })
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        Ok(self
            .run(move |inner, memory| inner.hasher.hash(password.as_bytes(), memory))
            .await??)
    }

    /// Whether `password` matches `stored`; with no stored hash, still does
    /// the work of a verification and answers `false`.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        let verified = self.run(move |inner, memory| {
            let known = stored.is_some();
            let phc = stored.as_deref().unwrap_or(&inner.dummy_hash);
            let matches = verify(password.as_bytes(), phc, memory)?;
            anyhow::Ok(known && matches)
        });
        Ok(verified.await??)
    }

    /// Why the password is too easy to guess, if it is. `context` holds what
    /// the user typed elsewhere (email, name), which a password must not lean on.
    pub async fn weakness(
        &self,
        password: String,
        context: Vec<String>,
    ) -> Result<Option<String>, HashError> {
        self.run(move |_, _| {
            let inputs: Vec<&str> = context.iter().map(String::as_str).collect();
            weakness(&password, &inputs)
        })
        .await
    }

    /// Runs `work` on a hashing thread once a slot is free. The slot stays
    /// taken until the work is done, even if the caller stops waiting.
    async fn run<T, F>(&self, work: F) -> Result<T, HashError>
    where
        F: FnOnce(&Inner, &mut Memory) -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.permit().await?;
        let (done, result) = tokio::sync::oneshot::channel();
        let inner = Arc::clone(&self.inner);
        let job: Job = Box::new(move |memory: &mut Memory| {
            let _ = done.send(work(&inner, memory));
            drop(permit);
        });
        self.inner
            .jobs
            .send(job)
            .map_err(|_| anyhow::anyhow!("the password hashing threads are gone"))?;
        Ok(result.await.context("password hashing task failed")?)
    }

    async fn permit(&self) -> Result<OwnedSemaphorePermit, HashError> {
        let permits = &self.inner.permits;
        if let Ok(permit) = Arc::clone(permits).try_acquire_owned() {
            return Ok(permit);
        }
        let waiting = &self.inner.waiting;
        if waiting.fetch_add(1, Ordering::AcqRel) >= self.inner.max_waiting {
            waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(HashError::Overloaded);
        }
        let acquired = Arc::clone(permits).acquire_owned().await;
        waiting.fetch_sub(1, Ordering::AcqRel);
        Ok(acquired.context("password hashing is shutting down")?)
    }
}

/// Starts `count` hashing threads taking jobs from one queue.
fn spawn_threads(count: usize) -> anyhow::Result<mpsc::Sender<Job>> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for index in 0..count {
        let queue = Arc::clone(&queue);
        std::thread::Builder::new()
            .name(format!("password-hash-{index}"))
            .spawn(move || {
                lower_priority();
                let mut memory = Memory::default();
                loop {
                    let next = queue
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .recv();
                    let Ok(job) = next else { return };
                    // A panic fails its own request (its result channel
                    // closes) and leaves the thread serving the next.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
                }
            })
            .context("could not start a password hashing thread")?;
    }
    Ok(jobs)
}

/// Puts the calling thread `HASH_THREAD_NICE` levels below where it was. On
/// Linux the nice value belongs to a thread, not to the whole process.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // SAFETY: nice(2) reads and writes only the calling thread's priority.
    unsafe {
        libc::nice(HASH_THREAD_NICE);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// One thread's Argon2 memory: a block of the server's size, allocated at
/// the thread's first hash and reused by every later one.
#[derive(Default)]
pub struct Memory {
    blocks: Vec<Block>,
}

/// Argon2 blocks (1 KiB each) of the server's parameters.
const BLOCKS: usize = MEMORY_KIB as usize;

impl Memory {
    /// The first `count` blocks, in whatever state the last hash left them;
    /// `None` when `count` is more than the server's parameters need.
    fn blocks(&mut self, count: usize) -> Option<&mut [Block]> {
        if count > BLOCKS {
            return None;
        }
        if self.blocks.is_empty() {
            self.blocks = vec![Block::default(); BLOCKS];
        }
        Some(&mut self.blocks[..count])
    }
}

/// The server's Argon2id, hashing into a caller's memory.
#[derive(Clone)]
struct Hasher {
    argon2: Argon2<'static>,
    params: Params,
}

impl Hasher {
    fn new() -> anyhow::Result<Self> {
        let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
            .map_err(|error| anyhow::anyhow!("invalid Argon2 parameters: {error}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        Ok(Self { argon2, params })
    }

    /// What `Argon2::hash_password` makes with a fresh random salt: a PHC
    /// string, but computed in `memory`.
    fn hash(&self, password: &[u8], memory: &mut Memory) -> anyhow::Result<String> {
        self.hash_with_salt(password, &SaltString::generate(&mut OsRng), memory)
    }

    fn hash_with_salt(
        &self,
        password: &[u8],
        salt: &SaltString,
        memory: &mut Memory,
    ) -> anyhow::Result<String> {
        let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
        let salt_bytes = salt
            .decode_b64(&mut salt_bytes)
            .map_err(|error| anyhow::anyhow!("could not hash a password: {error}"))?;
        let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let blocks = memory
            .blocks(self.params.block_count())
            .context("the server's Argon2 parameters need more memory than a slot has")?;
        self.argon2
            .hash_password_into_with_memory(password, salt_bytes, &mut output, blocks)
            .map_err(|error| anyhow::anyhow!("could not hash a password: {error}"))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params)
                .map_err(|error| anyhow::anyhow!("could not hash a password: {error}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(
                Output::new(&output)
                    .map_err(|error| anyhow::anyhow!("could not hash a password: {error}"))?,
            ),
        };
        Ok(phc.to_string())
    }
}

/// What `Argon2::verify_password` answers for `password` against the PHC
/// string `stored`, computed in `memory` (or, for a hash made with more
/// memory than the server's, in a block of its own): the algorithm, version and
/// parameters are the stored ones, and the outputs are compared in constant
/// time. A string that is not PHC is an error; one that is but cannot be
/// computed (an unknown algorithm, say) simply does not match.
pub fn verify(password: &[u8], stored: &str, memory: &mut Memory) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(stored)
        .map_err(|error| anyhow::anyhow!("stored password hash is malformed: {error}"))?;
    Ok(recompute(password, &parsed, memory).unwrap_or(false))
}

fn recompute(
    password: &[u8],
    parsed: &PasswordHash<'_>,
    memory: &mut Memory,
) -> argon2::password_hash::Result<bool> {
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(parsed)?;
    let block_count = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let mut output = [0u8; Output::MAX_LENGTH];
    let output = &mut output[..expected.len()];
    match memory.blocks(block_count) {
        Some(blocks) => {
            argon2.hash_password_into_with_memory(password, salt_bytes, output, blocks)?
        }
        // A hash made with more memory than the server uses today.
        None => argon2.hash_password_into(password, salt_bytes, output)?,
    }
    // `Output`'s equality is constant-time.
    Ok(Output::new(output)? == *expected)
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
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    #[test]
    fn a_slot_holds_exactly_the_servers_blocks() {
        assert_eq!(Hasher::new().unwrap().params.block_count(), BLOCKS);
    }

    /// Reused memory holds the previous hash's blocks: the result must be
    /// what the crate computes in fresh, zeroed memory.
    #[test]
    fn reused_memory_hashes_like_fresh_memory() {
        let hasher = Hasher::new().unwrap();
        let mut memory = Memory::default();
        hasher.hash(b"something else first", &mut memory).unwrap();
        for password in ["correct horse battery staple", ""] {
            let salt = SaltString::generate(&mut OsRng);
            let ours = hasher
                .hash_with_salt(password.as_bytes(), &salt, &mut memory)
                .unwrap();
            let theirs = hasher
                .argon2
                .hash_password(password.as_bytes(), &salt)
                .unwrap()
                .to_string();
            assert_eq!(ours, theirs);
        }
    }

    /// Stored hashes of other algorithms, versions and sizes (smaller and
    /// larger than a slot) are judged as the crate's verifier judges them.
    #[test]
    fn verification_agrees_with_the_crate() {
        let mut memory = Memory::default();
        let mut stored = Vec::new();
        for (algorithm, version, m_cost, t_cost, output_len) in [
            (Algorithm::Argon2id, Version::V0x13, MEMORY_KIB, 2, 32),
            (Algorithm::Argon2id, Version::V0x13, 4096, 3, 16),
            (Algorithm::Argon2id, Version::V0x13, 2 * MEMORY_KIB, 1, 32),
            (Algorithm::Argon2i, Version::V0x13, 1024, 2, 32),
            (Algorithm::Argon2d, Version::V0x10, 1024, 1, 64),
        ] {
            let params = Params::new(m_cost, t_cost, 1, Some(output_len)).unwrap();
            let salt = SaltString::generate(&mut OsRng);
            let phc = Argon2::new(algorithm, version, params)
                .hash_password(b"open sesame", &salt)
                .unwrap()
                .to_string();
            stored.push(phc);
        }
        for phc in &stored {
            let parsed = PasswordHash::new(phc).unwrap();
            for password in ["open sesame", "open sesame!", ""] {
                let expected = Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok();
                let ours = verify(password.as_bytes(), phc, &mut memory).unwrap();
                assert_eq!(ours, expected, "{phc} {password:?}");
            }
            assert!(verify(b"open sesame", phc, &mut memory).unwrap(), "{phc}");
        }
        // PHC strings that are not Argon2 or have no hash never match.
        let mut truncated: Vec<&str> = stored[0].split('$').collect();
        truncated.pop();
        for phc in [
            "$scrypt$ln=1,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            &truncated.join("$"),
        ] {
            assert!(!verify(b"open sesame", phc, &mut memory).unwrap(), "{phc}");
        }
        assert_eq!(memory.blocks.len(), BLOCKS, "a slot never grows");
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let passwords = Passwords::new(2, 4).unwrap();
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
        let passwords = Passwords::new(1, 4).unwrap();
        assert!(!passwords
            .verify("a password nobody has".into(), None)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_is_an_error_not_a_match() {
        let passwords = Passwords::new(1, 4).unwrap();
        assert!(passwords
            .verify("x".into(), Some("not a hash".into()))
            .await
            .is_err());
    }

    #[tokio::test]
    async fn past_the_queue_work_is_refused_not_queued() {
        let passwords = Passwords::new(1, 2).unwrap();
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
