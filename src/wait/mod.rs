//! Futex-style waiting on an atomic word: `Atomics.wait` and `Atomics.notify`
//! for Rust.
//!
//! [`wait`] blocks the calling thread while a [`AtomicU32`] still holds an
//! expected value, until another thread calls [`wake_one`] or [`wake_all`] on
//! the same word, or a timeout passes. It says which of those happened with a
//! [`WaitOutcome`]. [`wait_in`] and the `_in` wakes take a [`Scope`], so a word
//! in memory mapped by several processes can be waited on across them.
//!
//! Most code should not call these directly: [`crate::notify::Notifier`] builds
//! a wait-free notify and a lost-wake-up-free park on top of them.
//!
//! # Progress and guarantees
//!
//! * Waiting blocks in the kernel; waking never blocks.
//! * A timeout is turned into one absolute deadline on the monotonic clock when
//!   the call starts. Interrupted or spurious returns wait again for what is
//!   left, so [`WaitOutcome::TimedOut`] is only reported once the deadline has
//!   passed, and never early.
//! * [`WaitOutcome::Woken`] means the kernel returned without a timeout or a
//!   mismatch. A futex can return spuriously, and the kernel cannot tell that
//!   apart from a wake, so callers must recheck their condition (as with every
//!   futex, condition variable or `Atomics.wait`).
//!
//! # Platforms
//!
//! | target | untimed private | timed or shared | wake count |
//! |--------|-----------------|-----------------|------------|
//! | Linux  | `futex(2)`      | `futex(2)` with an absolute `CLOCK_MONOTONIC` deadline; shared waits omit `FUTEX_PRIVATE_FLAG` | yes |
//! | others | atomic-wait (`WaitOnAddress`, `__ulock_wait`, ...) | polling with a capped sleep, see below | no |
//! | loom   | a modelled wait queue, no syscalls | timed waits may time out at once | yes |
//!
//! On targets other than Linux a timed or process-shared wait polls the word,
//! sleeping between polls for at most one millisecond. It returns
//! [`WaitOutcome::Woken`] as soon as it sees the value change, but a wake that
//! leaves the value unchanged is only seen at the deadline. Every primitive in
//! this crate changes the word before it wakes, so this costs latency, never
//! a lost wake-up.
//!
//! # Example
//!
//! ```
//! # #[cfg(not(feature = "loom"))] fn main() {
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::time::Duration;
//! use handoff::wait::{wait, wake_all, WaitOutcome};
//!
//! let word = AtomicU32::new(0);
//! // Nothing will wake us: the wait times out.
//! assert_eq!(wait(&word, 0, Some(Duration::from_millis(10))), WaitOutcome::TimedOut);
//! // The word does not hold 7, so the wait returns at once.
//! assert_eq!(wait(&word, 7, None), WaitOutcome::NotEqual);
//!
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         while word.load(Ordering::Acquire) == 0 {
//!             wait(&word, 0, None);
//!         }
//!     });
//!     word.store(1, Ordering::Release);
//!     wake_all(&word);
//! });
//! # }
//! # #[cfg(feature = "loom")] fn main() {}
//! ```

use core::fmt;
use core::time::Duration;

use crate::sync::atomic::AtomicU32;

#[cfg(all(target_os = "linux", not(feature = "loom")))]
#[path = "linux.rs"]
mod backend;

#[cfg(all(not(target_os = "linux"), not(feature = "loom")))]
#[path = "fallback.rs"]
mod backend;

#[cfg(feature = "loom")]
#[path = "model.rs"]
mod backend;

/// Why a [`wait`] returned.
///
/// The three cases match JavaScript's `"ok"`, `"not-equal"` and `"timed-out"`.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use std::sync::atomic::AtomicU32;
/// use std::time::Duration;
/// use handoff::wait::{wait, WaitOutcome};
///
/// let word = AtomicU32::new(1);
/// let outcome = wait(&word, 0, None);
/// assert_eq!(outcome, WaitOutcome::NotEqual, "the word holds 1, not 0");
/// assert_eq!(outcome.to_string(), "value was not the expected one");
/// let outcome = wait(&word, 1, Some(Duration::from_millis(1)));
/// assert_eq!(outcome, WaitOutcome::TimedOut);
/// assert_eq!(outcome.to_string(), "timed out");
/// assert_eq!(WaitOutcome::Woken.to_string(), "woken");
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitOutcome {
    /// The thread slept and was woken (or, rarely, returned spuriously):
    /// recheck the condition.
    Woken,
    /// The word did not hold the expected value, so the thread did not sleep.
    NotEqual,
    /// The deadline passed without a wake.
    TimedOut,
}

impl fmt::Display for WaitOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WaitOutcome::Woken => "woken",
            WaitOutcome::NotEqual => "value was not the expected one",
            WaitOutcome::TimedOut => "timed out",
        })
    }
}

/// Who may wait on and wake a word.
///
/// Waiters and wakers of one word must use the same scope: on Linux the kernel
/// keys private and shared waits differently, so a private wake never reaches
/// a shared waiter.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use handoff::wait::{wait_in, wake_all_in, Scope};
///
/// assert_eq!(Scope::default(), Scope::Private);
///
/// // A word that could sit in memory shared with other processes: waiter and
/// // waker both use `Scope::Shared`.
/// let word = AtomicU32::new(0);
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         while word.load(Ordering::Acquire) == 0 {
///             wait_in(Scope::Shared, &word, 0, None);
///         }
///     });
///     word.store(1, Ordering::Release);
///     wake_all_in(Scope::Shared, &word);
/// });
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Threads of this process only (the default, and the faster one).
    #[default]
    Private,
    /// Threads of every process that maps the memory holding the word.
    Shared,
}

/// Blocks while `word` holds `expected`, for at most `timeout`
/// (`None` waits for ever), among threads of this process.
///
/// See the [module docs](self) for what each [`WaitOutcome`] means.
///
/// # Panics
///
/// On Linux, if `futex(2)` fails with an error other than `EAGAIN`,
/// `ETIMEDOUT` or `EINTR`, or the monotonic clock cannot be read. Neither can
/// happen for a live word and a valid deadline unless the system calls
/// themselves are unavailable (a seccomp filter, say).
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use std::sync::atomic::AtomicU32;
/// use std::time::Duration;
/// use handoff::wait::{wait, WaitOutcome};
///
/// let word = AtomicU32::new(3);
/// assert_eq!(wait(&word, 3, Some(Duration::from_millis(1))), WaitOutcome::TimedOut);
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[inline]
pub fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> WaitOutcome {
    wait_in(Scope::Private, word, expected, timeout)
}

/// [`wait`], with the [`Scope`] chosen by the caller.
///
/// With [`Scope::Shared`] the word may live in memory mapped by several
/// processes, and any of them may wake it with [`wake_one_in`] or
/// [`wake_all_in`] and the same scope.
///
/// # Panics
///
/// On Linux, if `futex(2)` fails with an error other than `EAGAIN`,
/// `ETIMEDOUT` or `EINTR`, or the monotonic clock cannot be read. Neither can
/// happen for a live word and a valid deadline unless the system calls
/// themselves are unavailable (a seccomp filter, say).
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use std::sync::atomic::AtomicU32;
/// use std::time::Duration;
/// use handoff::wait::{wait_in, Scope, WaitOutcome};
///
/// let word = AtomicU32::new(0);
/// let outcome = wait_in(Scope::Shared, &word, 0, Some(Duration::from_millis(1)));
/// assert_eq!(outcome, WaitOutcome::TimedOut);
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub fn wait_in(
    scope: Scope,
    word: &AtomicU32,
    expected: u32,
    timeout: Option<Duration>,
) -> WaitOutcome {
    backend::wait(scope, word, expected, timeout)
}

/// Wakes one thread waiting on `word` in this process.
///
/// Returns how many were woken (0 or 1) where the OS reports it (Linux and
/// loom), `None` elsewhere.
///
/// # Panics
///
/// On Linux, if `futex(2)` fails, which it cannot for a live word unless the
/// system call itself is unavailable (a seccomp filter, say).
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use std::sync::atomic::AtomicU32;
/// use handoff::wait::wake_one;
///
/// let word = AtomicU32::new(0);
/// let woken = wake_one(&word);
/// assert!(woken.is_none() || woken == Some(0));
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[inline]
pub fn wake_one(word: &AtomicU32) -> Option<usize> {
    backend::wake(Scope::Private, word, 1)
}

/// Wakes every thread waiting on `word` in this process.
///
/// Returns how many were woken where the OS reports it, `None` elsewhere.
///
/// # Panics
///
/// On Linux, if `futex(2)` fails, which it cannot for a live word unless the
/// system call itself is unavailable (a seccomp filter, say).
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use std::sync::atomic::AtomicU32;
/// use handoff::wait::wake_all;
///
/// let word = AtomicU32::new(0);
/// assert!(matches!(wake_all(&word), None | Some(0)));
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[inline]
pub fn wake_all(word: &AtomicU32) -> Option<usize> {
    backend::wake(Scope::Private, word, u32::MAX)
}

/// [`wake_one`] with the [`Scope`] chosen by the caller.
///
/// # Panics
///
/// On Linux, if `futex(2)` fails, which it cannot for a live word unless the
/// system call itself is unavailable (a seccomp filter, say).
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use std::sync::atomic::AtomicU32;
/// use handoff::wait::{wake_one_in, Scope};
///
/// let word = AtomicU32::new(0);
/// assert!(matches!(wake_one_in(Scope::Shared, &word), None | Some(0)));
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[inline]
pub fn wake_one_in(scope: Scope, word: &AtomicU32) -> Option<usize> {
    backend::wake(scope, word, 1)
}

/// [`wake_all`] with the [`Scope`] chosen by the caller.
///
/// # Panics
///
/// On Linux, if `futex(2)` fails, which it cannot for a live word unless the
/// system call itself is unavailable (a seccomp filter, say).
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use std::sync::atomic::AtomicU32;
/// use handoff::wait::{wake_all_in, Scope};
///
/// let word = AtomicU32::new(0);
/// assert!(matches!(wake_all_in(Scope::Shared, &word), None | Some(0)));
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[inline]
pub fn wake_all_in(scope: Scope, word: &AtomicU32) -> Option<usize> {
    backend::wake(scope, word, u32::MAX)
}

/// Wakes up to `count` threads waiting on `word` in `scope` (every one where
/// the backend cannot count: see [`crate::notify::Notifier::notify_in`]).
#[inline]
pub(crate) fn wake_up_to(scope: Scope, word: &AtomicU32, count: u32) -> Option<usize> {
    backend::wake(scope, word, count)
}

/// A wait's deadline, fixed when the wait starts.
///
/// Under loom there is no clock: a timed wait ends only when the modelled
/// futex reports a timeout, so `remaining` never reports one itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    timeout: Option<Duration>,
    #[cfg(not(feature = "loom"))]
    at: Option<std::time::Instant>,
}

/// What is left of a [`Deadline`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Remaining {
    /// No deadline: wait for ever.
    Forever,
    /// This much time is left.
    Left(Duration),
    /// The deadline has passed (never under loom, which has no clock).
    #[cfg_attr(feature = "loom", allow(dead_code))]
    Passed,
}

impl Deadline {
    /// A deadline `timeout` from now (`None`: none at all).
    #[inline]
    pub(crate) fn after(timeout: Option<Duration>) -> Self {
        Deadline {
            timeout,
            #[cfg(not(feature = "loom"))]
            at: timeout.and_then(|t| std::time::Instant::now().checked_add(t)),
        }
    }

    /// How long a wait started now may last.
    pub(crate) fn remaining(&self) -> Remaining {
        #[cfg(not(feature = "loom"))]
        {
            match (self.timeout, self.at) {
                (None, _) => Remaining::Forever,
                // Too far away to represent: as good as for ever.
                (Some(_), None) => Remaining::Forever,
                (Some(_), Some(at)) => match at.checked_duration_since(std::time::Instant::now()) {
                    Some(left) if !left.is_zero() => Remaining::Left(left),
                    _ => Remaining::Passed,
                },
            }
        }
        #[cfg(feature = "loom")]
        {
            self.timeout.map_or(Remaining::Forever, Remaining::Left)
        }
    }
}
