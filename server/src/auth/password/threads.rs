//! The hashing threads: one per slot (core), each keeping one block of
//! Argon2 memory for its whole life, all taking work from one queue.
//!
//! A fresh block per hash either costs thousands of page faults (memory
//! handed back to the kernel and faulted in again) or, when the allocator
//! keeps freed blocks, grows the process by a block per thread that ever
//! hashed. Argon2 writes every block before it reads it, so a reused block
//! needs no clearing either.
//!
//! Work goes straight into the queue, which the threads drain one job after
//! the other: a thread that finishes a hash takes the next one at once,
//! without waiting for an async worker to hand it over. What the queue may
//! hold is bounded when the work is admitted; beyond that bound, work is
//! refused rather than queued.
//!
//! The threads run under `SCHED_IDLE`: they get the CPU when no request
//! wants it, and any request that wakes up takes the CPU from them at once.
//! (With `PASSWORD_HASH_CPU_SHARE`, a busy hashing thread is lifted above
//! the requests while it gets less than that share of a core, so that
//! sign-ins go on while requests keep the CPU busy: see `share`.)
//! A request costs microseconds and a hash tens of milliseconds, so a
//! request that waited for a hash to finish, or for the end of the hash's
//! time slice (a 4 ms scheduler tick on a `HZ=250` kernel), would wait
//! hundreds of times its own cost. Measured with the server on one core, 32
//! connections asking `GET /api/me` and 4 logging in: the p99 of `/api/me`
//! grew 2.7× with the threads at nice +10, 1.7–2.6× at nice +19, and not at
//! all under `SCHED_IDLE`. Under `SCHED_IDLE` alone, though, requests that
//! keep every core busy all the time starve the hashes: the guaranteed
//! share (`share`) keeps sign-ins going then, and once even it
//! cannot keep up, the queue fills and further sign-ins are refused with
//! 503 `overloaded`, which is the right answer from a server that is out
//! of CPU.

use std::{
    panic::AssertUnwindSafe,
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc, Mutex,
    },
    time::Instant,
};

use anyhow::Context as _;

use super::{
    argon::Memory,
    share::{self, Governor},
    HashError,
};
use crate::metrics::Metrics;

/// Work for a hashing thread, with the thread's memory.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

pub struct HashThreads {
    /// The queue; the threads end when it is dropped.
    jobs: mpsc::Sender<Job>,
    /// Jobs admitted and not yet finished (running or queued).
    admitted: Arc<AtomicUsize>,
    /// How many may be: one running per thread, plus those allowed to wait.
    capacity: usize,
    /// Times the wait for a thread and counts refusals.
    metrics: Metrics,
}

impl HashThreads {
    /// Starts `count` threads; at most `max_waiting` jobs wait beyond one
    /// running on each; each busy thread is guaranteed `share` of a core.
    pub fn start(
        count: usize,
        max_waiting: usize,
        share: f64,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let count = count.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let governor = Governor::start(share)?.map(Arc::new);
        for index in 0..count {
            let queue = Arc::clone(&queue);
            let governor = governor.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{index}"))
                .spawn(move || serve(&queue, governor.as_deref()))
                .context("could not start a password hashing thread")?;
        }
        Ok(Self {
            jobs,
            admitted: Arc::default(),
            capacity: count + max_waiting,
            metrics,
        })
    }

    /// Runs `work` on a hashing thread, or refuses it at once when the
    /// queue is full. The work of a caller that stops waiting before it
    /// starts is skipped, and its place given back, when a thread reaches
    /// it; work already running finishes. (A place given back the moment the
    /// caller left would leave the queue unbounded.)
    pub async fn run<T, F>(&self, work: F) -> Result<T, HashError>
    where
        F: FnOnce(&mut Memory) -> T + Send + 'static,
        T: Send + 'static,
    {
        let admission = Admission::take(&self.admitted, self.capacity).inspect_err(|_| {
            self.metrics.password_hash_rejected();
        })?;
        let (done, result) = tokio::sync::oneshot::channel();
        let metrics = self.metrics.clone();
        let queued_at = Instant::now();
        self.send(Box::new(move |memory: &mut Memory| {
            let outcome = (!done.is_closed()).then(|| {
                metrics.password_hash_waited(queued_at.elapsed());
                work(memory)
            });
            // Given back before the answer, so that the caller's next job
            // finds the place free.
            drop(admission);
            if let Some(outcome) = outcome {
                let _ = done.send(outcome);
            }
        }))?;
        Ok(result.await.context("password hashing task failed")?)
    }

    /// [`run`](Self::run), waiting on the calling thread, outside the
    /// admission count: for start-up work.
    pub fn run_now<T, F>(&self, work: F) -> anyhow::Result<T>
    where
        F: FnOnce(&mut Memory) -> T + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = mpsc::channel();
        self.send(Box::new(move |memory: &mut Memory| {
            let _ = done.send(work(memory));
        }))?;
        result.recv().context("the password hashing thread failed")
    }

    fn send(&self, job: Job) -> anyhow::Result<()> {
        self.jobs
            .send(job)
            .map_err(|_| anyhow::anyhow!("the password hashing threads are gone"))
    }
}

/// One admitted job's place in the queue, given back when dropped: when its
/// job is done, skipped, or never sent.
struct Admission {
    admitted: Arc<AtomicUsize>,
}

impl Admission {
    fn take(admitted: &Arc<AtomicUsize>, capacity: usize) -> Result<Self, HashError> {
        admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |count| {
                (count < capacity).then_some(count + 1)
            })
            .map_err(|_| HashError::Overloaded)?;
        Ok(Self {
            admitted: Arc::clone(admitted),
        })
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A hashing thread's life: take the next job, run it (lifted by the
/// governor while it is owed its share), repeat until the queue is gone.
///
/// The thread stays working from one job to the next while the queue holds
/// more: its account with the governor stays open, and it takes the next
/// job under whatever priority it has, not waiting at `SCHED_IDLE` for an
/// idle core between two hashes. Only when the queue is empty, or another
/// thread is already waiting on it, is it done.
fn serve(queue: &Mutex<mpsc::Receiver<Job>>, governor: Option<&Governor>) {
    let member = share::join(governor);
    let mut memory = Memory::default();
    let mut next = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => {
                member.done();
                let waited = queue
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .recv();
                let Ok(job) = waited else { return };
                member.working();
                job
            }
        };
        // A panic fails its own request (its result channel closes) and
        // leaves the thread serving the next.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
        next = queue
            .try_lock()
            .ok()
            .and_then(|queue| queue.try_recv().ok());
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Blocks the only thread until the returned sender is dropped.
    async fn occupy(threads: &Arc<HashThreads>) -> mpsc::Sender<()> {
        let (release, wait) = mpsc::channel::<()>();
        let (started, has_started) = tokio::sync::oneshot::channel();
        let threads = Arc::clone(threads);
        tokio::spawn(async move {
            threads
                .run(move |_| {
                    let _ = started.send(());
                    let _ = wait.recv();
                })
                .await
        });
        has_started.await.unwrap();
        release
    }

    #[tokio::test]
    async fn admits_one_running_and_the_waiting_then_refuses() {
        let threads = Arc::new(HashThreads::start(1, 2, 0.0, Metrics::disabled()).unwrap());
        let release = occupy(&threads).await;
        let waiting: Vec<_> = (0..2)
            .map(|n| {
                let threads = Arc::clone(&threads);
                tokio::spawn(async move { threads.run(move |_| n).await })
            })
            .collect();
        tokio::time::timeout(Duration::from_secs(5), async {
            while threads.admitted.load(Ordering::Acquire) < 3 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .unwrap();
        assert!(matches!(
            threads.run(|_| 9).await,
            Err(HashError::Overloaded)
        ));
        drop(release);
        for (n, waiter) in waiting.into_iter().enumerate() {
            assert_eq!(waiter.await.unwrap().unwrap(), n);
        }
        assert_eq!(threads.admitted.load(Ordering::Acquire), 0);
    }

    /// The work of a caller that gave up (its client went away, its request
    /// timed out) is skipped, and its place given back. Places used to leak
    /// when a waiting caller gave up, until every login was refused.
    #[tokio::test]
    async fn a_caller_that_gives_up_frees_its_place() {
        let threads = Arc::new(HashThreads::start(1, 5, 0.0, Metrics::disabled()).unwrap());
        let release = occupy(&threads).await;
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..5 {
            let counter = Arc::clone(&ran);
            let gave_up = tokio::time::timeout(
                Duration::from_millis(10),
                threads.run(move |_| counter.fetch_add(1, Ordering::AcqRel)),
            )
            .await;
            assert!(gave_up.is_err(), "the thread is busy: the caller waits");
        }
        assert!(
            matches!(threads.run(|_| 0).await, Err(HashError::Overloaded)),
            "the abandoned work holds its places until a thread reaches it"
        );
        drop(release);
        tokio::time::timeout(Duration::from_secs(5), async {
            while threads.admitted.load(Ordering::Acquire) > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("every place is given back");
        assert_eq!(threads.run(|_| 7).await.unwrap(), 7);
        assert_eq!(ran.load(Ordering::Acquire), 0, "abandoned work is skipped");
    }

    #[cfg(target_os = "linux")]
    fn policy() -> i32 {
        // SAFETY: reads the calling thread's policy.
        unsafe { libc::sched_getscheduler(0) }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn without_a_share_hashing_runs_only_when_the_cpu_is_idle() {
        let threads = HashThreads::start(1, 0, 0.0, Metrics::disabled()).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(threads.run(|_| policy()).await.unwrap(), libc::SCHED_IDLE);
    }

    /// With a share, a hash that gets no CPU time is lifted above the
    /// requests (`share` has the account's own tests); with the queue
    /// empty, the thread waits at the requests' priority, not lifted.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn with_a_share_a_starved_hash_is_lifted() {
        let threads = HashThreads::start(1, 0, 0.5, Metrics::disabled()).unwrap();
        let starved = |_: &mut Memory| {
            let deadline = Instant::now() + Duration::from_secs(5);
            while policy() != libc::SCHED_OTHER && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            // SAFETY: gettid has no preconditions.
            (policy(), unsafe { libc::gettid() })
        };
        let (lifted, tid) = threads.run(starved).await.unwrap();
        assert_eq!(lifted, libc::SCHED_OTHER);
        // SAFETY: read another thread's policy and nice level.
        let waiting = || unsafe {
            (
                libc::sched_getscheduler(tid),
                libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t),
            )
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while waiting() != (libc::SCHED_OTHER, 0) {
            assert!(Instant::now() < deadline, "still lifted while waiting");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(waiting(), (libc::SCHED_OTHER, 0), "lifted while waiting");
    }
}
