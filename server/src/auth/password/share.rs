//! The hashing threads' bounded share of the CPU.
//!
//! Under `SCHED_IDLE` alone a hash runs only when no request wants the CPU:
//! requests never wait for one, but when reads keep every core busy,
//! sign-ins starve. Measured on 2026-12-04 with the server on one core, 8
//! connections signing in while 50 read `/api/me`: logins fell to 0.20 of
//! their rate alone, and some waited past 5 s.
//!
//! So a hash may run at normal priority while the threads' budget lasts:
//! CPU time earned at `PASSWORD_HASH_CPU_SHARE` of one core per second of
//! wall time, held up to a few hashes' worth (so that a quiet minute does
//! not buy a burst), and spent by the CPU time each boosted hash took
//! (the thread's own clock, not the wall's). Past the budget, hashing
//! falls back to `SCHED_IDLE` and waits for idle time as before. Requests
//! therefore keep the rest of the core under any load of sign-ins, and
//! sign-ins get their share under any load of requests.
//!
//! The price is the requests' latency: a hash at normal priority holds the
//! core for a scheduler tick (4 ms here) when it gets it. Measured with
//! `scripts/bench.sh` on one core at a share of 0.45: under read saturation
//! sign-ins went from none (0.00 of their rate alone, some past 5 s) to
//! 0.21, none past 5 s, while the reads' p99 grew 3.5× (4.9× during a login
//! flood, against 1.35× with no share). So the share is off by default.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

/// At most this much CPU time is kept in the budget.
const BURST: Duration = Duration::from_millis(150);

pub struct CpuShare {
    /// CPU seconds earned per second of wall time.
    rate: f64,
    state: Mutex<Budget>,
}

struct Budget {
    /// CPU seconds that may still run at normal priority (negative: owed).
    seconds: f64,
    at: Instant,
}

impl CpuShare {
    /// `share`: the part of one core hashing may take at normal priority,
    /// from 0 (always `SCHED_IDLE`) to 1.
    pub fn new(share: f64) -> Self {
        Self {
            rate: share.clamp(0.0, 1.0),
            state: Mutex::new(Budget {
                seconds: 0.0,
                at: Instant::now(),
            }),
        }
    }

    /// Whether the next hash may run at normal priority.
    pub fn take(&self) -> bool {
        self.rate > 0.0 && self.refilled(|budget| budget.seconds > 0.0)
    }

    /// Spends the CPU time a hash run at normal priority took.
    pub fn charge(&self, cpu: Duration) {
        self.refilled(|budget| budget.seconds -= cpu.as_secs_f64());
    }

    fn refilled<T>(&self, then: impl FnOnce(&mut Budget) -> T) -> T {
        let mut budget = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        let earned = now.duration_since(budget.at).as_secs_f64() * self.rate;
        budget.seconds = (budget.seconds + earned).min(BURST.as_secs_f64());
        budget.at = now;
        then(&mut budget)
    }
}

/// The CPU time the calling thread has used.
#[cfg(target_os = "linux")]
pub fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes the calling thread's CPU clock into `now`.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

#[cfg(not(target_os = "linux"))]
pub fn thread_cpu_time() -> Duration {
    Duration::ZERO
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_of_nothing_never_boosts() {
        let share = CpuShare::new(0.0);
        std::thread::sleep(Duration::from_millis(5));
        assert!(!share.take());
    }

    #[test]
    fn the_budget_is_earned_spent_and_owed() {
        let share = CpuShare::new(1.0);
        std::thread::sleep(Duration::from_millis(20));
        assert!(share.take(), "20 ms earned");
        share.charge(Duration::from_secs(1));
        assert!(!share.take(), "a second owed");
    }

    #[test]
    fn a_quiet_spell_buys_no_more_than_the_burst() {
        let share = CpuShare::new(1.0);
        std::thread::sleep(BURST + Duration::from_millis(100));
        assert!(share.take());
        share.charge(BURST + Duration::from_millis(20));
        assert!(!share.take(), "the burst is capped");
    }
}
