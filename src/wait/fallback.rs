//! Backend for targets without a futex we call directly (macOS, Windows, the
//! BSDs): atomic-wait for untimed private waits, polling for the rest.
//!
//! atomic-wait has neither timeouts nor process-shared waits, so a timed or
//! shared wait polls the word with a sleep that doubles up to one millisecond.
//! Wakes are still sent through atomic-wait, which reaches untimed waiters.

use core::time::Duration;
use std::time::Instant;

use super::{Scope, WaitOutcome};
use crate::sync::atomic::AtomicU32;
use crate::sync::atomic::Ordering::Relaxed;

/// The longest sleep between two polls of a timed or shared wait.
const MAX_POLL_SLEEP: Duration = Duration::from_millis(1);

pub(super) fn wait(
    scope: Scope,
    word: &AtomicU32,
    expected: u32,
    timeout: Option<Duration>,
) -> WaitOutcome {
    // Return at once, as a futex would, when the word already differs.
    // Relaxed here and below: as the kernel's compare, the load only decides
    // whether to return; callers order their own reads afterwards.
    if word.load(Relaxed) != expected {
        return WaitOutcome::NotEqual;
    }

    // The kernel-backed path: untimed and private.
    if scope == Scope::Private && timeout.is_none() {
        atomic_wait::wait(word, expected);
        return WaitOutcome::Woken;
    }

    poll(
        word,
        expected,
        timeout.and_then(|t| Instant::now().checked_add(t)),
    )
}

/// Sleeps in growing steps until the word changes or the deadline passes.
#[cold]
fn poll(word: &AtomicU32, expected: u32, deadline: Option<Instant>) -> WaitOutcome {
    let mut step = Duration::from_micros(20);
    loop {
        // How long this sleep may last.
        let nap = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return WaitOutcome::TimedOut;
                }
                left.min(step)
            }
            None => step,
        };
        crate::sync::sleep(nap);

        // The wake we can observe here is the change of value.
        if word.load(Relaxed) != expected {
            return WaitOutcome::Woken;
        }
        step = (step * 2).min(MAX_POLL_SLEEP);
    }
}

pub(super) fn wake(_scope: Scope, word: &AtomicU32, count: u32) -> Option<usize> {
    if count == 1 {
        atomic_wait::wake_one(word as *const AtomicU32);
    } else {
        atomic_wait::wake_all(word as *const AtomicU32);
    }
    None
}
