//! The hashing threads' guaranteed share of the CPU.
//!
//! A hashing thread runs under `SCHED_IDLE`: it gets the CPU only when no
//! request wants it, and a request that wakes up takes the CPU from it at
//! once. Under that policy alone, reads that keep every core busy starve
//! sign-ins: measured on 2026-12-04 with the server on one core, 8
//! connections signing in while 50 read `/api/me`, logins fell to 0.20 of
//! their rate alone, and some waited past 5 s.
//!
//! So a governor thread watches each busy hashing thread's own CPU clock,
//! every `QUANTUM` while a hash runs, and keeps an account: the thread is
//! owed `PASSWORD_HASH_CPU_SHARE` of a core for each second of wall time,
//! and pays with the CPU time it got. While it is owed, it is lifted above
//! the request threads (nice -10: see `sched`); once paid, it goes back
//! under `SCHED_IDLE`. The governor itself runs above both, at a real-time
//! priority, so that it wakes on time to lower a lifted hash. Both sides of
//! the account are bounded by `BOUND`, so a stall buys no long burst, and a
//! thread that just had the core to itself waits a little before it is
//! lifted.
//!
//! The account stays open from the first job a thread takes until the
//! queue is empty, and between jobs the thread keeps its priority; done, it
//! waits for work at the requests' own priority. A thread that went back
//! under `SCHED_IDLE` between two jobs, or waited there, starved before its
//! next job opened an account, unseen by the governor: traced on 2026-12-07,
//! a hash waited 91 ms so, and the governor, kept from the lock that thread
//! held, waited with it.
//!
//! - At light load a hash gets far more than its share from idle time: it
//!   is never lifted, and requests never wait for it, as before.
//! - When requests keep the core busy, a hash gets its share in pieces of
//!   about one `QUANTUM`, not in the scheduler's own slices (a 4 ms tick on
//!   a `HZ=250` kernel), so a read waits at most about that long for it.
//!   The reads keep the rest: their latency grows by about 1 / (1 − share).
//!
//! Earlier ways of giving hashing a share that were measured and dropped
//! (README, "Load shedding"): a budget decided once per hash (a hash lifted
//! held the core for whole ticks, one left idle stayed starved), fixed nice
//! levels (the hash runs a tick at a time, and light-load reads wait for
//! it), and a hash yielding the core on a timer signal (the share then
//! rests on how the kernel treats `sched_yield`).
//!
//! Lifting needs `CAP_SYS_NICE` or an `RLIMIT_NICE` of 30 (a systemd
//! unit's `LimitNICE=-10`, Docker's `--ulimit nice=30`); with 20 a hash is
//! lifted only level with the requests, and gets less than its share.
//! Where even that is refused, the governor says so once and stops:
//! hashing keeps idle time only. The governor's real-time priority needs
//! `CAP_SYS_NICE` or an `RLIMIT_RTPRIO` of 1 (`LimitRTPRIO=1`); without
//! it, it runs at nice -15 and now and then wakes late (see `sched`).

use std::{
    sync::{Arc, Condvar, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use super::sched;

/// How often the governor looks at the busy hashing threads, and so about
/// the longest a lifted hash runs before it is looked at again.
const QUANTUM: Duration = Duration::from_micros(500);

/// The most CPU time a thread's account may owe it, or hold in its favour.
const BOUND: Duration = Duration::from_millis(2);

/// The governor of a set of hashing threads; it stops when dropped.
pub struct Governor {
    shared: Arc<Shared>,
}

/// One hashing thread's membership: its account, and its way to say when
/// it works. The thread leaves the governor when this is dropped.
pub struct Member {
    shared: Option<Arc<Shared>>,
    index: usize,
}

struct Shared {
    /// CPU seconds a busy thread is owed per second of wall time.
    share: f64,
    state: Mutex<State>,
    /// Wakes the governor when a thread starts working, or when it ends.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    threads: Vec<Option<Slot>>,
    busy: usize,
    ended: bool,
    /// Leaving `SCHED_IDLE` was refused: nobody is lifted any more.
    refused: bool,
}

struct Slot {
    thread: sched::Thread,
    /// The account while the thread works.
    account: Option<Account>,
    lifted: bool,
}

struct Account {
    /// The thread's CPU clock and the wall clock when last looked at.
    cpu: Duration,
    at: Instant,
    /// CPU seconds owed to the thread (negative: it is ahead).
    owed: f64,
}

impl Governor {
    /// A governor giving each busy thread `share` of a core (0 to 1).
    /// `None` for no share: hashing then has idle time only.
    pub fn start(share: f64) -> anyhow::Result<Option<Self>> {
        if share <= 0.0 {
            return Ok(None);
        }
        let shared = Arc::new(Shared {
            share: share.min(1.0),
            state: Mutex::default(),
            changed: Condvar::new(),
        });
        let governing = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("password-hash-share".into())
            .spawn(move || governing.govern())
            .map_err(|error| anyhow::anyhow!("could not start the hashing governor: {error}"))?;
        Ok(Some(Self { shared }))
    }
}

impl Drop for Governor {
    fn drop(&mut self) {
        self.shared.lock().ended = true;
        self.shared.changed.notify_all();
    }
}

/// Makes the calling thread a member of `governor`. With no governor, the
/// thread runs under `SCHED_IDLE` for good; with one, it waits for work at
/// the requests' own priority (see [`Member::done`]).
pub fn join(governor: Option<&Governor>) -> Member {
    let Some(governor) = governor else {
        sched::run_only_when_idle();
        return Member {
            shared: None,
            index: 0,
        };
    };
    sched::run_normally();
    let shared = Arc::clone(&governor.shared);
    let index = {
        let mut state = shared.lock();
        let slot = Some(Slot {
            thread: sched::Thread::current(),
            account: None,
            lifted: false,
        });
        match state.threads.iter().position(Option::is_none) {
            Some(free) => {
                state.threads[free] = slot;
                free
            }
            None => {
                state.threads.push(slot);
                state.threads.len() - 1
            }
        }
    };
    Member {
        shared: Some(shared),
        index,
    }
}

impl Member {
    /// The thread has work, from now until [`done`](Self::done), however
    /// many jobs that is: its account opens, and the thread goes
    /// under `SCHED_IDLE`, for the governor to lift it while it is owed.
    ///
    /// The account opens first: a thread that went under `SCHED_IDLE` with
    /// no account open would wait, unseen by the governor, for as long as
    /// requests keep the core busy. And the thread changes its policy only
    /// once the lock is released: a thread under `SCHED_IDLE` that lost the
    /// core while holding it would keep the governor waiting just as long.
    /// (Should the governor lift the thread between the two, it lifts it
    /// again at its next look: see `settle`.)
    pub fn working(&self) {
        let Some(shared) = &self.shared else { return };
        let cpu = sched::thread_cpu_time();
        let mut state = shared.lock();
        let Some(slot) = state.threads[self.index].as_mut() else {
            return;
        };
        if slot.account.is_some() {
            return;
        }
        // The account opens a `QUANTUM`'s worth in the thread's debt: a
        // thread that has the core at once (light load) is never lifted,
        // and one that does not is lifted a `QUANTUM` later.
        let debt = QUANTUM.as_secs_f64() * shared.share;
        slot.account = Some(Account {
            cpu,
            at: Instant::now(),
            owed: -debt,
        });
        slot.lifted = false;
        state.busy += 1;
        drop(state);
        shared.changed.notify_all();
        sched::run_only_when_idle();
    }

    /// The thread has no more work: its account closes, and it waits for
    /// the next job at the requests' own priority, neither lifted nor under
    /// `SCHED_IDLE`, so that it takes that job, and opens its account, as
    /// soon as it comes, however busy the core. (Where leaving `SCHED_IDLE`
    /// is refused, it waits under it, and the governor lifts nobody.)
    pub fn done(&self) {
        let Some(shared) = &self.shared else { return };
        let mut state = shared.lock();
        let Some(slot) = state.threads[self.index].as_mut() else {
            return;
        };
        if slot.account.take().is_none() {
            return;
        }
        slot.lifted = false;
        state.busy -= 1;
        drop(state);
        sched::run_normally();
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.done();
        if let Some(shared) = &self.shared {
            shared.lock().threads[self.index] = None;
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The governor's life: asleep while no thread works, otherwise a look
    /// at every busy thread each `QUANTUM`.
    fn govern(&self) {
        sched::govern_from_above();
        let mut state = self.lock();
        loop {
            while !state.ended && (state.busy == 0 || state.refused) {
                state = self
                    .changed
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if state.ended {
                return;
            }
            let pause = self.settle(&mut state);
            drop(state);
            std::thread::sleep(pause);
            state = self.lock();
        }
    }

    /// Brings every busy thread's account up to date, and lifts or lowers
    /// the thread by it. Returns how long the governor may sleep: a
    /// `QUANTUM` while a thread is lifted, otherwise until the first one
    /// could be owed, were it to get no CPU time from now on.
    fn settle(&self, state: &mut State) -> Duration {
        let now = Instant::now();
        let bound = BOUND.as_secs_f64();
        let mut refused = false;
        let mut pause = BOUND.as_secs_f64() / self.share;
        for slot in state.threads.iter_mut().flatten() {
            let Some(account) = slot.account.as_mut() else {
                continue;
            };
            let cpu = slot.thread.cpu_time();
            let used = cpu.saturating_sub(account.cpu).as_secs_f64();
            let earned = now.duration_since(account.at).as_secs_f64() * self.share;
            account.owed = (account.owed + earned - used).clamp(-bound, bound);
            account.cpu = cpu;
            account.at = now;
            let lift = account.owed > 0.0;
            pause = pause.min(if lift {
                0.0
            } else {
                -account.owed / self.share
            });
            // A lift is made again at every look while the thread is owed:
            // the thread may have put itself under `SCHED_IDLE` just after
            // an earlier one (see `Member::working`).
            if lift {
                if !slot.thread.lift() {
                    refused = true;
                    break;
                }
            } else if slot.lifted {
                slot.thread.lower();
            }
            slot.lifted = lift;
        }
        if refused && !state.refused {
            state.refused = true;
            tracing::warn!(
                "leaving SCHED_IDLE was refused (needs CAP_SYS_NICE or RLIMIT_NICE 20); \
                 password hashing gets idle time only"
            );
        }
        Duration::from_secs_f64(pause).max(QUANTUM)
    }
}

#[cfg(test)]
mod tests;
