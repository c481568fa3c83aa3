//! A notifier that costs nothing when nobody waits: the parking place of every
//! blocking call in this crate.
//!
//! A thread that needs a condition (a ring not empty, a counter at a target)
//! calls [`Notifier::wait_until`]; a thread that makes the condition true calls
//! [`Notifier::notify_one`] or [`Notifier::notify_all`] afterwards. When no
//! thread is parked, a notify is a compiler fence and one load on Linux (a
//! read-modify-write elsewhere, and on Linux kernels without `membarrier(2)`):
//! no system call, except that the process's first notify or park registers
//! for `membarrier` once.
//!
//! # Protocol
//!
//! ```text
//! waiter                                   notifier
//! ------                                   --------
//! e = epoch.load(Acquire)                  make the condition true
//! waiters += 1          (announce)         light fence
//! heavy fence                              if waiters == 0: done (fast path)
//! if condition: waiters -= 1, done         epoch += 1 (Release)
//! futex_wait(epoch, e)                     futex_wake(epoch)
//! waiters -= 1, recheck
//! ```
//!
//! Either the notifier sees the announcement, bumps the epoch and wakes the
//! waiter (whose futex wait fails at once if the bump came first), or the
//! waiter's recheck sees the condition. The two fences make that "either"
//! hold (Dekker's pattern): in this process on Linux the notifier's fence is a
//! compiler fence and the waiter's is `membarrier(2)`, see
//! `src/sync/fence.rs` and `docs/architecture.md`; otherwise both sides read-modify-write the
//! `waiters` word, whose single modification order orders them. Loom checks the
//! read-modify-write form.
//!
//! # State words
//!
//! | word      | meaning                                                     |
//! |-----------|-------------------------------------------------------------|
//! | `epoch`   | bumped (wrapping) by every notify that finds a waiter; parked threads futex-wait on it |
//! | `waiters` | threads between announcing themselves and leaving their wait |
//!
//! Any bit pattern is a valid state, which is why a `Notifier` may sit in
//! memory another process writes: no value of either word can cause undefined
//! behaviour or a panic. What wrong values cost:
//!
//! * a `waiters` count that is too high (a process died while parked) makes
//!   every later notify pay a needless wake system call;
//! * a count that is too low (a peer wrote nonsense over it) lets a notify
//!   skip a parked thread, whose wake is then lost. The shared rings bound
//!   that loss: they park in slices of `shm::PROBE_INTERVAL` and recheck;
//! * a wrong `epoch` makes a parked thread return spuriously and recheck.
//!
//! The epoch is 32 bits: a waiter that read it and is then descheduled for
//! exactly 2³² notifies before sleeping would miss one wake. That needs
//! billions of wake system calls inside one preemption and is ignored.
//!
//! # Example
//!
//! ```
//! # #[cfg(not(feature = "loom"))] fn main() {
//! use std::sync::atomic::{AtomicBool, Ordering};
//! use handoff::notify::Notifier;
//!
//! let ready = AtomicBool::new(false);
//! let notifier = Notifier::new();
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         ready.store(true, Ordering::Release);
//!         notifier.notify_all();
//!     });
//!     assert!(notifier.wait_until(|| ready.load(Ordering::Acquire), None));
//! });
//! # }
//! # #[cfg(feature = "loom")] fn main() {}
//! ```

use core::fmt;
use core::time::Duration;

use crate::sync::atomic::AtomicU32;
use crate::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use crate::sync::{fence, Backoff};
use crate::wait::{self, Deadline, Remaining, Scope, WaitOutcome};

/// A parking place for threads waiting on a condition that other threads make
/// true. See the [module docs](self) for the protocol.
///
/// # Example
///
/// A one-shot "ready" signal: the waiter parks until the flag is set, and the
/// setter notifies after setting it.
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use handoff::notify::Notifier;
///
/// let answer = AtomicU32::new(0);
/// let notifier = Notifier::new();
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         answer.store(42, Ordering::Release);
///         notifier.notify_one();
///     });
///     notifier.wait_until(|| answer.load(Ordering::Acquire) != 0, None);
/// });
/// assert_eq!(answer.load(Ordering::Relaxed), 42);
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[repr(C)]
pub struct Notifier {
    /// Bumped by each notify that finds a waiter; parked threads wait on it.
    epoch: AtomicU32,
    /// How many threads have announced themselves and not yet left.
    waiters: AtomicU32,
}

impl Notifier {
    /// A notifier with nobody waiting.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::notify::Notifier;
    ///
    /// let n = Notifier::new();
    /// assert!(!n.notify_all(), "nobody is waiting yet");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[cfg(not(feature = "loom"))]
    pub const fn new() -> Self {
        Notifier {
            epoch: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// A notifier with nobody waiting.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::notify::Notifier;
    ///
    /// let n = Notifier::new();
    /// assert!(!n.notify_all(), "nobody is waiting yet");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[cfg(feature = "loom")]
    pub fn new() -> Self {
        Notifier {
            epoch: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Wakes one thread parked in this process's [`wait_until`](Self::wait_until)
    /// calls, if any. Call it after making the condition true.
    ///
    /// Returns whether a waiter was seen (and a wake sent).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use handoff::notify::Notifier;
    ///
    /// let jobs = AtomicUsize::new(0);
    /// let notifier = Notifier::new();
    /// assert!(!notifier.notify_one(), "no waiter: no system call");
    /// std::thread::scope(|s| {
    ///     s.spawn(|| notifier.wait_until(|| jobs.load(Ordering::Acquire) > 0, None));
    ///     jobs.fetch_add(1, Ordering::Release);
    ///     notifier.notify_one();
    /// });
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn notify_one(&self) -> bool {
        self.notify_in(Scope::Private, 1)
    }

    /// Wakes every thread parked on this notifier in this process.
    ///
    /// Returns whether a waiter was seen (and a wake sent).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use handoff::notify::Notifier;
    ///
    /// let go = AtomicBool::new(false);
    /// let notifier = Notifier::new();
    /// std::thread::scope(|s| {
    ///     for _ in 0..3 {
    ///         s.spawn(|| assert!(notifier.wait_until(|| go.load(Ordering::Acquire), None)));
    ///     }
    ///     go.store(true, Ordering::Release);
    ///     notifier.notify_all(); // one notify releases all three
    /// });
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn notify_all(&self) -> bool {
        self.notify_in(Scope::Private, u32::MAX)
    }

    /// Wakes up to `count` parked threads of the given [`Scope`]; use
    /// [`Scope::Shared`] when the notifier lives in memory shared by processes.
    /// A `count` of 0 wakes nobody. Where the kernel cannot wake an exact
    /// number (the portable fallback outside Linux), a count above 1 wakes
    /// every parked thread; each rechecks its condition, so that is safe.
    ///
    /// Returns whether a waiter was seen (and a wake sent).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::notify::Notifier;
    /// use handoff::wait::Scope;
    ///
    /// let n = Notifier::new();
    /// assert!(!n.notify_in(Scope::Shared, 1), "nobody is waiting");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn notify_in(&self, scope: Scope, count: u32) -> bool {
        if count == 0 || !self.has_waiters(scope) {
            return false;
        }
        self.wake_slow(scope, count);
        true
    }

    /// Parks the calling thread until `ready()` returns true or `timeout`
    /// passes (`None`: no timeout). Returns the last value of `ready()`.
    ///
    /// `ready` is called at least once, and again after every wake; it must
    /// read the condition with `Acquire` (or stronger) loads so that what the
    /// notifier published before notifying is visible once it returns true.
    /// This call never spins: callers that expect the condition soon should
    /// spin briefly first.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::time::Duration;
    /// use handoff::notify::Notifier;
    ///
    /// let n = Notifier::new();
    /// assert!(!n.wait_until(|| false, Some(Duration::from_millis(5))));
    /// assert!(n.wait_until(|| true, None));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn wait_until(&self, ready: impl FnMut() -> bool, timeout: Option<Duration>) -> bool {
        self.wait_until_in(Scope::Private, ready, timeout)
    }

    /// Like [`wait_until`](Self::wait_until), but first spins briefly: 128
    /// spin hints and then 64 yields (tens of microseconds at most), checking
    /// `ready()` after each, and parks only if the condition is still false
    /// after that.
    ///
    /// Use it when the condition is usually made true soon by a thread running
    /// on another core (a ping-pong, a ring that is rarely empty for long):
    /// parking and waking cost microseconds of system calls and context
    /// switches that a short spin avoids. The spin is not counted against
    /// `timeout`, so a timed call may return that much later, never earlier.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use handoff::notify::Notifier;
    ///
    /// let ready = AtomicBool::new(false);
    /// let n = Notifier::new();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         ready.store(true, Ordering::Release);
    ///         n.notify_one();
    ///     });
    ///     assert!(n.spin_then_wait_until(|| ready.load(Ordering::Acquire), None));
    /// });
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn spin_then_wait_until(
        &self,
        mut ready: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> bool {
        // Spin while spinning is cheap; Backoff bounds it.
        let mut backoff = Backoff::new();
        while !backoff.is_completed() {
            if ready() {
                return true;
            }
            backoff.snooze();
        }

        // Then park, with the whole timeout still ahead.
        self.wait_until(ready, timeout)
    }

    /// [`wait_until`](Self::wait_until) with the [`Scope`] chosen by the
    /// caller; notifiers of a shared notifier must use the same scope.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use handoff::notify::Notifier;
    /// use handoff::wait::Scope;
    ///
    /// // In real use both live in memory mapped by several processes.
    /// let flag = AtomicBool::new(false);
    /// let notifier = Notifier::new();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         flag.store(true, Ordering::Release);
    ///         notifier.notify_in(Scope::Shared, u32::MAX);
    ///     });
    ///     assert!(notifier.wait_until_in(Scope::Shared, || flag.load(Ordering::Acquire), None));
    /// });
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn wait_until_in(
        &self,
        scope: Scope,
        mut ready: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> bool {
        if ready() {
            return true;
        }
        self.park(scope, &mut ready, Deadline::after(timeout))
    }

    /// The announce / recheck / sleep loop.
    #[cold]
    fn park(&self, scope: Scope, ready: &mut dyn FnMut() -> bool, deadline: Deadline) -> bool {
        loop {
            // Read the epoch before announcing: a notify that sees our
            // announcement bumps it after this read. Acquire pairs with the
            // Release bump in `wake_slow`.
            let epoch = self.epoch.load(Acquire);
            self.announce(scope);

            // Recheck: a notifier that missed the announcement published first.
            if ready() {
                self.depart();
                return true;
            }

            // Sleep for what is left of the deadline.
            let timeout = match deadline.remaining() {
                Remaining::Forever => None,
                Remaining::Left(left) => Some(left),
                Remaining::Passed => {
                    self.depart();
                    return ready();
                }
            };
            let outcome = wait::wait_in(scope, &self.epoch, epoch, timeout);
            self.depart();

            // Woken, raced with a bump, or timed out: the condition decides.
            if ready() {
                return true;
            }
            if outcome == WaitOutcome::TimedOut {
                return false;
            }
        }
    }

    /// Counts the caller as a waiter and orders that before its recheck.
    #[inline]
    fn announce(&self, scope: Scope) {
        // AcqRel: as a read-modify-write this takes its place in the single
        // modification order of `waiters`, which the symmetric notify also
        // writes; see `has_waiters`.
        self.waiters.fetch_add(1, AcqRel);
        if scope == Scope::Private && fence::expedited() {
            // Pairs with the compiler fence in `has_waiters`.
            fence::heavy();
        }
    }

    /// Takes the caller off the waiter count.
    #[inline]
    fn depart(&self) {
        // Relaxed: a notifier that still sees us only sends a needless wake.
        self.waiters.fetch_sub(1, Relaxed);
    }

    /// Whether anyone may be parked, ordered after the caller's publication of
    /// the condition.
    #[inline]
    fn has_waiters(&self, scope: Scope) -> bool {
        if scope == Scope::Private && fence::expedited() {
            // The waiter's membarrier turns this compiler fence into a full
            // barrier whenever it matters (see the fence module).
            fence::light();
            self.waiters.load(Relaxed) != 0
        } else {
            // A read-modify-write reads the latest value of `waiters`. If it
            // precedes a waiter's announcement, that announcement reads from
            // it and acquires our publication (AcqRel on both sides), so the
            // waiter's recheck sees the condition; otherwise we see it.
            self.waiters.fetch_add(0, AcqRel) != 0
        }
    }

    /// Bumps the epoch and wakes up to `count` sleepers.
    #[cold]
    fn wake_slow(&self, scope: Scope, count: u32) {
        // Release pairs with the Acquire epoch load in `park`.
        self.epoch.fetch_add(1, Release);
        wait::wake_up_to(scope, &self.epoch, count);
    }
}

impl Default for Notifier {
    /// Same as [`Notifier::new`].
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::notify::Notifier;
    ///
    /// assert!(!Notifier::default().notify_one());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Relaxed: a snapshot for humans, never used to decide anything.
        f.debug_struct("Notifier")
            .field("waiters", &self.waiters.load(Relaxed))
            .finish()
    }
}
