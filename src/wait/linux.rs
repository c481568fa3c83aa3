//! Linux backend: the raw `futex(2)` system call.
//!
//! Waits use `FUTEX_WAIT_BITSET`, whose timeout is an absolute
//! `CLOCK_MONOTONIC` time, so a wait interrupted by a signal goes back to sleep
//! until the same deadline instead of restarting a relative timeout.

use core::ptr;
use core::time::Duration;

use super::{Scope, WaitOutcome};
use crate::sync::atomic::AtomicU32;
use crate::sync::atomic::Ordering::Relaxed;

const FUTEX_WAIT_BITSET: libc::c_int = 9;
const FUTEX_WAKE: libc::c_int = 1;
const FUTEX_PRIVATE_FLAG: libc::c_int = 128;
const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;

/// The futex operation flag for a scope.
fn scope_flag(scope: Scope) -> libc::c_int {
    match scope {
        Scope::Private => FUTEX_PRIVATE_FLAG,
        Scope::Shared => 0,
    }
}

/// Reads the monotonic clock.
fn monotonic_now() -> libc::timespec {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    // CLOCK_MONOTONIC is always supported and the pointer is valid, so the
    // documented errors (EFAULT, EINVAL) cannot occur.
    assert_eq!(r, 0, "clock_gettime(CLOCK_MONOTONIC) failed");
    now
}

/// The absolute monotonic time `timeout` from now, or `None` if it does not
/// fit (such a wait is as good as untimed).
fn deadline_after(timeout: Duration) -> Option<libc::timespec> {
    let now = monotonic_now();
    let secs = libc::time_t::try_from(timeout.as_secs()).ok()?;
    let mut sec = now.tv_sec.checked_add(secs)?;
    let mut nsec = now.tv_nsec + libc::c_long::from(timeout.subsec_nanos() as i32);
    if nsec >= 1_000_000_000 {
        nsec -= 1_000_000_000;
        sec = sec.checked_add(1)?;
    }
    Some(libc::timespec {
        tv_sec: sec,
        tv_nsec: nsec,
    })
}

/// Whether the monotonic clock has reached `deadline`.
fn has_passed(deadline: &libc::timespec) -> bool {
    let now = monotonic_now();
    (now.tv_sec, now.tv_nsec) >= (deadline.tv_sec, deadline.tv_nsec)
}

pub(super) fn wait(
    scope: Scope,
    word: &AtomicU32,
    expected: u32,
    timeout: Option<Duration>,
) -> WaitOutcome {
    // One absolute deadline for the whole call, however often we re-sleep.
    let deadline = timeout.and_then(deadline_after);
    let deadline_ptr = deadline
        .as_ref()
        .map_or(ptr::null(), |d| d as *const libc::timespec);
    let op = FUTEX_WAIT_BITSET | scope_flag(scope);

    loop {
        // SAFETY: `word` is a live, aligned 32-bit atomic for the whole call;
        // `deadline_ptr` is null or points at `deadline`, which outlives the
        // call. The kernel only reads both.
        let r = unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                op,
                expected,
                deadline_ptr,
                ptr::null::<u32>(),
                FUTEX_BITSET_MATCH_ANY,
            )
        };
        if r == 0 {
            return WaitOutcome::Woken;
        }

        // Sort the failure by the errno set documented in futex(2).
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EAGAIN) => return WaitOutcome::NotEqual,
            Some(libc::ETIMEDOUT) => {
                // The kernel compares against the same clock; the check keeps
                // the promise "never early" independent of that.
                if deadline.as_ref().is_none_or(has_passed) {
                    return WaitOutcome::TimedOut;
                }
            }
            Some(libc::EINTR) => {
                // A signal cut the sleep short. If the word moved meanwhile we
                // did sleep and the change is what the caller waits for.
                // Relaxed: like the kernel's own compare, this only decides
                // whether to return; the caller orders what it reads next.
                if word.load(Relaxed) != expected {
                    return WaitOutcome::Woken;
                }
            }
            other => panic!("futex wait failed with unexpected errno {other:?}"),
        }
    }
}

pub(super) fn wake(scope: Scope, word: &AtomicU32, count: u32) -> Option<usize> {
    let count = libc::c_int::try_from(count).unwrap_or(libc::c_int::MAX);
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE reads no
    // other argument as a pointer.
    let r = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            FUTEX_WAKE | scope_flag(scope),
            count,
        )
    };
    // FUTEX_WAKE fails only with EFAULT or EINVAL, both impossible for a valid,
    // aligned word and a known operation.
    assert!(
        r >= 0,
        "futex wake failed: {}",
        std::io::Error::last_os_error()
    );
    Some(r as usize)
}
