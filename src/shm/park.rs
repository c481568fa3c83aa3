//! The blocking loop shared by every call that waits on another process:
//! spin briefly, then park on a process-shared notifier in slices, probing
//! the other side's liveness between slices.

use core::cell::Cell;
use core::time::Duration;
use std::time::Instant;

use crate::notify::Notifier;
use crate::sync::atomic::AtomicU64;
use crate::sync::atomic::Ordering::Relaxed;
use crate::sync::Backoff;
use crate::wait::{Deadline, Remaining, Scope};

/// The longest a blocked call sleeps before it probes the other side's locks
/// again; a peer killed while we sleep is noticed within about this long.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use std::time::Duration;
/// use handoff::shm::PROBE_INTERVAL;
///
/// // A blocked call that outlives its peer returns `Closed` within about this
/// // long after the peer's death; a timeout shorter than it is still honoured.
/// assert!(PROBE_INTERVAL <= Duration::from_millis(100));
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub const PROBE_INTERVAL: Duration = Duration::from_millis(10);

/// One blocked call: its deadline, its spinning and its probe schedule.
#[derive(Debug)]
pub(crate) struct Blocked {
    deadline: Deadline,
    backoff: Backoff,
    next_probe: Option<Instant>,
}

impl Blocked {
    /// A blocked call that gives up after `timeout` (`None`: never).
    pub(crate) fn new(timeout: Option<Duration>) -> Self {
        Blocked {
            deadline: Deadline::after(timeout),
            backoff: Backoff::new(),
            next_probe: None,
        }
    }

    /// Whether the caller should probe liveness now: once spinning is over,
    /// then every [`PROBE_INTERVAL`].
    pub(crate) fn probe_due(&mut self) -> bool {
        if !self.backoff.is_completed() {
            return false;
        }
        let now = Instant::now();
        if self.next_probe.is_some_and(|at| now < at) {
            return false;
        }
        self.next_probe = Some(now + PROBE_INTERVAL);
        true
    }

    /// Spins one step, or parks on `notifier` until `ready()` or the next
    /// probe is due. Returns `false` once the deadline has passed.
    pub(crate) fn pause(&mut self, notifier: &Notifier, ready: impl FnMut() -> bool) -> bool {
        // Spin first: the other process is usually only a moment away.
        if !self.backoff.is_completed() {
            self.backoff.snooze();
            return true;
        }

        // Park for at most one probe interval, never past the deadline.
        let slice = match self.deadline.remaining() {
            Remaining::Forever => PROBE_INTERVAL,
            Remaining::Left(left) => left.min(PROBE_INTERVAL),
            Remaining::Passed => return false,
        };
        notifier.wait_until_in(Scope::Shared, ready, Some(slice));
        true
    }
}

/// A rate limit for the liveness probes of non-blocking calls (`try_pop` on
/// an empty ring, `try_push` on a full one), so a polling loop notices a dead
/// peer too, at one system call per [`PROBE_INTERVAL`] at most.
#[derive(Debug, Default)]
pub(crate) struct ProbeClock {
    next: Cell<Option<Instant>>,
}

impl ProbeClock {
    /// Whether a probe is due now; if so, schedules the next one.
    #[cold]
    pub(crate) fn due(&self) -> bool {
        let now = Instant::now();
        if self.next.get().is_some_and(|at| now < at) {
            return false;
        }
        self.next.set(Some(now + PROBE_INTERVAL));
        true
    }
}

/// [`ProbeClock`] for handles used through `&self` from several threads.
///
/// | word   | meaning                                                        |
/// |--------|----------------------------------------------------------------|
/// | `next` | nanoseconds after this process's first probe at which the next probe is due |
#[derive(Debug, Default)]
pub(crate) struct SharedProbeClock {
    next: AtomicU64,
}

impl SharedProbeClock {
    /// Whether a probe is due now; if so (for exactly one caller), schedules
    /// the next one.
    #[cold]
    pub(crate) fn due(&self) -> bool {
        static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        let now = EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64;
        // Relaxed: the word orders nothing; it only rations system calls.
        let next = self.next.load(Relaxed);
        now >= next
            && self
                .next
                .compare_exchange(
                    next,
                    now + PROBE_INTERVAL.as_nanos() as u64,
                    Relaxed,
                    Relaxed,
                )
                .is_ok()
    }
}
