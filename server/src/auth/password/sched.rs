//! The scheduler calls of the hashing threads and their governor (see
//! `share`), on Linux; elsewhere hashing runs as any thread, with no share.

#[cfg(target_os = "linux")]
mod linux {
    use std::time::Duration;

    /// A thread the governor may read the CPU clock of and re-prioritize.
    pub struct Thread {
        tid: libc::pid_t,
        clock: libc::clockid_t,
    }

    impl Thread {
        pub fn current() -> Self {
            let mut clock: libc::clockid_t = libc::CLOCK_THREAD_CPUTIME_ID;
            // SAFETY: asks for the calling thread's CPU clock id; on failure
            // `clock` keeps a valid (if wrong-thread) clock.
            unsafe {
                libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock);
            }
            Self {
                // SAFETY: gettid has no preconditions.
                tid: unsafe { libc::gettid() },
                clock,
            }
        }

        pub fn cpu_time(&self) -> Duration {
            read_clock(self.clock)
        }

        /// Lifts the thread above the request threads (see [`LIFT_NICE`]),
        /// or where that is refused, level with them.
        pub fn lift(&self) -> bool {
            set_attr(self.tid, libc::SCHED_OTHER, LIFT_NICE)
                || set_attr(self.tid, libc::SCHED_OTHER, 0)
        }

        /// Puts the thread back under `SCHED_IDLE`.
        pub fn lower(&self) {
            set_policy(self.tid, libc::SCHED_IDLE, 0);
        }
    }

    /// The CPU time the calling thread has used.
    pub fn thread_cpu_time() -> Duration {
        read_clock(libc::CLOCK_THREAD_CPUTIME_ID)
    }

    fn read_clock(clock: libc::clockid_t) -> Duration {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: writes the clock's time into `now`.
        if unsafe { libc::clock_gettime(clock, &mut now) } != 0 {
            return Duration::ZERO;
        }
        Duration::new(
            u64::try_from(now.tv_sec).unwrap_or(0),
            u32::try_from(now.tv_nsec).unwrap_or(0),
        )
    }

    /// `priority`: 0 for the normal and idle policies, 1–99 for real time.
    fn set_policy(tid: libc::pid_t, policy: libc::c_int, priority: libc::c_int) -> bool {
        let param = libc::sched_param {
            sched_priority: priority,
        };
        // SAFETY: changes one thread's policy; a thread of this process.
        unsafe { libc::sched_setscheduler(tid, policy, &param) == 0 }
    }

    /// Puts the calling thread back at the requests' own priority
    /// (`SCHED_OTHER`, nice 0), from `SCHED_IDLE` or a lift; where leaving
    /// `SCHED_IDLE` is refused, it stays there.
    pub fn run_normally() {
        // SAFETY: gettid has no preconditions.
        let _ = set_attr(unsafe { libc::gettid() }, libc::SCHED_OTHER, 0);
    }

    /// Puts the calling thread under `SCHED_IDLE` (see `threads`), or,
    /// where that is refused, at the lowest nice level.
    pub fn run_only_when_idle() {
        // SAFETY: gettid has no preconditions.
        if !set_policy(unsafe { libc::gettid() }, libc::SCHED_IDLE, 0) {
            tracing::warn!("SCHED_IDLE refused; password hashing runs at nice 19");
            // SAFETY: nice(2) changes only the calling thread's priority.
            unsafe {
                libc::nice(19);
            }
        }
    }

    /// The nice level a lifted hash runs at. Leaving `SCHED_IDLE` at the
    /// requests' own level changes no priority, and the kernel checks
    /// whether to switch threads only when a priority changes: the lifted
    /// hash then waited for the next tick, up to 4 ms, losing its share.
    /// Above the requests it takes the core at once, for the governor to
    /// lower it again a `QUANTUM` later.
    const LIFT_NICE: i32 = -10;

    /// The governor's nice level where a real-time policy is refused: above
    /// a lifted hash, though that alone does not make it punctual (see
    /// [`govern_from_above`]).
    const GOVERNOR_NICE: i32 = -15;

    fn set_attr(tid: libc::pid_t, policy: libc::c_int, nice: i32) -> bool {
        set_attr_with_slice(tid, policy, nice, 0)
    }

    /// `slice`: the time slice asked of the kernel (EEVDF, Linux 6.12 on;
    /// older kernels ignore it), in nanoseconds; 0 for the default.
    fn set_attr_with_slice(tid: libc::pid_t, policy: libc::c_int, nice: i32, slice: u64) -> bool {
        let attr = SchedAttr {
            size: 48,
            policy: policy as u32,
            flags: 0,
            nice,
            priority: 0,
            runtime: slice,
            deadline: 0,
            period: 0,
        };
        // SAFETY: passes a valid, fully initialized `sched_attr` for a thread
        // of this process.
        unsafe { libc::syscall(libc::SYS_sched_setattr, tid, &attr as *const SchedAttr, 0) == 0 }
    }

    /// `sched_setattr`'s argument (its first version, 48 bytes).
    #[repr(C)]
    struct SchedAttr {
        size: u32,
        policy: u32,
        flags: u64,
        nice: i32,
        priority: u32,
        runtime: u64,
        deadline: u64,
        period: u64,
    }

    /// Puts the calling thread (the governor) above the lifted hashes, so
    /// that it gets the core the moment its sleep ends, to lower a hash
    /// that has had its share.
    ///
    /// `SCHED_FIFO` at the lowest real-time priority: the governor runs a
    /// few microseconds at a time and sleeps in between, so it cannot hold
    /// the core. A higher nice level was not enough: traced on Linux 6.18
    /// (EEVDF), about one wake-up in a hundred found the lifted hash
    /// protected to the end of its time slice, and the hash ran on for up
    /// to 6 ms, which alone set the reads' p99. Where a real-time policy is
    /// refused (it needs `CAP_SYS_NICE` or an `RLIMIT_RTPRIO` of 1), a nice
    /// level above the hash's, with short time slices, is the fallback.
    pub fn govern_from_above() {
        const SLICE_NS: u64 = 100_000;
        let _ = set_policy(0, libc::SCHED_FIFO, 1)
            || set_attr_with_slice(0, libc::SCHED_OTHER, GOVERNOR_NICE, SLICE_NS)
            || set_attr_with_slice(0, libc::SCHED_OTHER, 0, SLICE_NS);
    }
}

#[cfg(not(target_os = "linux"))]
mod other {
    use std::time::Duration;

    pub struct Thread;

    impl Thread {
        pub fn current() -> Self {
            Self
        }
        pub fn cpu_time(&self) -> Duration {
            Duration::ZERO
        }
        pub fn lift(&self) -> bool {
            false
        }
        pub fn lower(&self) {}
    }

    pub fn thread_cpu_time() -> Duration {
        Duration::ZERO
    }
    pub fn run_normally() {}
    pub fn run_only_when_idle() {}
    pub fn govern_from_above() {}
}

#[cfg(target_os = "linux")]
pub use linux::*;
#[cfg(not(target_os = "linux"))]
pub use other::*;
