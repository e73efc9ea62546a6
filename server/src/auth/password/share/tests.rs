//! The governor against real threads of this process.

use super::*;

#[test]
fn no_share_no_governor() {
    assert!(Governor::start(0.0).unwrap().is_none());
}

/// The calling thread's policy and nice level.
#[cfg(target_os = "linux")]
fn priority() -> (i32, i32) {
    // SAFETY: read the calling thread's policy and nice level.
    unsafe {
        (
            libc::sched_getscheduler(0),
            libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t),
        )
    }
}

#[cfg(target_os = "linux")]
const WAITING: (i32, i32) = (libc::SCHED_OTHER, 0);
#[cfg(target_os = "linux")]
const LIFTED: (i32, i32) = (libc::SCHED_OTHER, -10);

/// Waits (sleeping) until the calling thread has `priority`.
#[cfg(target_os = "linux")]
fn until_priority(priority: (i32, i32), what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while self::priority() != priority {
        assert!(Instant::now() < deadline, "never {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A member of a fresh governor giving `share`, working and lifted.
#[cfg(target_os = "linux")]
fn lifted_member(share: f64) -> (Governor, Member) {
    let governor = Governor::start(share).unwrap().unwrap();
    let member = join(Some(&governor));
    member.working();
    until_priority(LIFTED, "lifted");
    (governor, member)
}

/// Spins until the calling thread has used `cpu` more CPU time.
fn spin(cpu: Duration) {
    let until = sched::thread_cpu_time() + cpu;
    while sched::thread_cpu_time() < until {
        std::hint::spin_loop();
    }
}

/// A member waits for work at the requests' priority; a working one
/// that got no CPU time is owed its share and lifted; once it has had
/// more than its share, it goes under `SCHED_IDLE`; done, it waits at
/// the requests' priority again.
#[cfg(target_os = "linux")]
#[test]
fn a_working_thread_is_lifted_while_owed_and_lowered_once_paid() {
    let governor = Governor::start(0.5).unwrap().unwrap();
    let member = join(Some(&governor));
    assert_eq!(priority(), WAITING);
    member.working();
    // Asleep, the thread uses no CPU time: it is owed.
    until_priority(LIFTED, "lifted");
    // Spinning, it takes more than half the core: paid, then ahead.
    let deadline = Instant::now() + Duration::from_secs(5);
    while priority().0 != libc::SCHED_IDLE {
        assert!(Instant::now() < deadline, "never lowered");
        spin(Duration::from_millis(1));
    }
    member.done();
    assert_eq!(priority(), WAITING);
}

/// Done, a member is neither lifted nor under `SCHED_IDLE`, and the
/// governor leaves it so; its next work opens a fresh account.
#[cfg(target_os = "linux")]
#[test]
fn a_thread_done_waits_at_the_requests_priority() {
    let (_governor, member) = lifted_member(1.0);
    member.done();
    assert_eq!(priority(), WAITING);
    std::thread::sleep(QUANTUM * 4);
    assert_eq!(priority(), WAITING, "changed while not working");
    member.working();
    until_priority(LIFTED, "lifted for the next work");
    member.done();
}

/// Work that goes on (the next job taken at once) keeps the account
/// open: a second `working` neither closes it nor lowers the thread.
#[cfg(target_os = "linux")]
#[test]
fn working_again_keeps_the_account() {
    let (governor, member) = lifted_member(1.0);
    member.working();
    assert_eq!(priority(), LIFTED);
    assert_eq!(governor.shared.lock().busy, 1);
    member.done();
    assert_eq!(governor.shared.lock().busy, 0);
}

/// The governor runs at a real-time priority where it may, so that it
/// lowers a lifted hash on time.
#[cfg(target_os = "linux")]
#[test]
fn the_governor_runs_first_in_line_where_allowed() {
    let handle = std::thread::spawn(|| {
        sched::govern_from_above();
        priority().0
    });
    let policy = handle.join().unwrap();
    // SAFETY: reads this process's resource limit.
    let may = unsafe {
        let mut limit = std::mem::zeroed::<libc::rlimit>();
        libc::getrlimit(libc::RLIMIT_RTPRIO, &mut limit) == 0 && limit.rlim_cur >= 1
    } || has_cap_sys_nice();
    if may {
        assert_eq!(policy, libc::SCHED_FIFO);
    } else {
        assert_eq!(policy, libc::SCHED_OTHER);
    }
}

/// Whether this process holds `CAP_SYS_NICE` (capability 23) in its
/// effective set: root in a container may not.
#[cfg(target_os = "linux")]
fn has_cap_sys_nice() -> bool {
    const CAP_SYS_NICE: u32 = 23;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let mask = status
                .lines()
                .find_map(|line| line.strip_prefix("CapEff:"))?;
            u64::from_str_radix(mask.trim(), 16).ok()
        })
        .is_some_and(|mask| mask & (1 << CAP_SYS_NICE) != 0)
}
