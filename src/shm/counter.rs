//! A 64-bit counter in a shared region, with a wait for a target value.
//!
//! The count is a [`handoff::counter::Counter`](crate::counter::Counter) placed
//! in the region, on its own control line, and a process-shared [`Notifier`]
//! sits on another. That type is `#[repr(C)]`, made only of an `AtomicU64`
//! (and padding, never read), and valid for every bit pattern, so there is
//! nothing for a peer to corrupt beyond the number itself; the region reaches
//! it only through the region's checked accessor for atomics.
//!
//! The methods are the in-process counter's (`add`, `sub`, `increment`,
//! `fetch_add`, `fetch_sub`, `get`), plus a notify after every change, so
//! that [`Counter::wait_at_least`] can park. Unlike the in-process counter,
//! whose operations are `Relaxed`, this one also orders memory: a change is
//! preceded by a `Release` fence and a read followed by an `Acquire` fence,
//! so what a process wrote before changing the count is visible to a process
//! that read the changed count (through `get`, `fetch_*` or `wait_at_least`).
//!
//! | control line | what |
//! |--------------|------|
//! | 0 (`VALUE`)  | the count: any value is a valid state |
//! | 2 (`CHANGED`) | the notifier that waiters for a target park on |

use core::fmt;
use core::time::Duration;
use std::path::Path;

use super::layout::{line, Fingerprint, Kind};
use super::park::Blocked;
use super::region::Region;
use super::ShmError;
use crate::counter::Counter as InProcess;
use crate::notify::Notifier;
use crate::sync::atomic::fence;
use crate::sync::atomic::Ordering::{Acquire, Release};
use crate::wait::Scope;

/// Control line of the count.
const VALUE: u64 = line(0);
/// Notifier that waiters for a target park on.
const CHANGED: u64 = line(2);

// The in-process counter fits in the control lines before the notifier's,
// at an offset aligned for it, on every target (128 bytes on x86-64 and
// aarch64, up to 256 elsewhere).
const _: () = assert!(core::mem::size_of::<InProcess>() as u64 <= CHANGED - VALUE);
const _: () = assert!(VALUE % core::mem::align_of::<InProcess>() as u64 == 0);

/// A counter shared by every process that maps its region.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::shm::counter::Counter;
///
/// let path = std::env::temp_dir().join(format!("doc-counter-{}", std::process::id()));
/// let a = Counter::create(&path).unwrap();
/// let b = Counter::open(&path).unwrap(); // in another process, typically
/// a.add(3);
/// assert_eq!(b.fetch_add(1), 3);
/// assert_eq!(a.wait_at_least(4, None), Ok(4));
/// handoff::shm::remove(&path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub struct Counter {
    region: Region,
}

impl Counter {
    /// The header's element fields for a counter: one `u64`.
    const PRINT: Fingerprint = Fingerprint {
        kind: Kind::Counter,
        elem_size: 8,
        elem_align: 8,
        tag: 0,
        capacity: 1,
        extra: 0,
    };

    /// Creates a region at `path` holding a counter at 0.
    ///
    /// # Errors
    ///
    /// [`ShmError::Io`] when the file exists or cannot be created and mapped.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::counter::Counter;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-counter-create-{}", std::process::id()));
    /// let counter = Counter::create(&path).unwrap();
    /// assert_eq!(counter.get(), 0);
    /// // The file is created exclusively.
    /// assert!(Counter::create(&path).is_err());
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn create(path: impl AsRef<Path>) -> Result<Self, ShmError> {
        // A zero-filled control line is a counter at 0.
        let region = Region::create(path.as_ref(), Self::PRINT, |_| {})?;
        Ok(Counter { region })
    }

    /// Opens the counter at `path`.
    ///
    /// # Errors
    ///
    /// Every header check has its [`ShmError`]; see its variants.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{counter::Counter, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-counter-open-{}", std::process::id()));
    /// let created = Counter::create(&path).unwrap();
    /// let opened = Counter::open(&path).unwrap();
    /// created.add(2);
    /// assert_eq!(opened.get(), 2);
    /// handoff::shm::remove(&path).unwrap();
    /// assert!(matches!(Counter::open(&path), Err(ShmError::Io { .. })));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ShmError> {
        let region = Region::open(path.as_ref(), Kind::Counter, 8, 8, 0)?;
        Ok(Counter { region })
    }

    /// The in-process counter in the region.
    #[inline]
    fn count(&self) -> &InProcess {
        self.region.atomic(VALUE)
    }

    #[inline]
    fn changed(&self) -> &Notifier {
        self.region.atomic(CHANGED)
    }

    /// Orders what this process wrote before a change of the count before
    /// the change.
    #[inline]
    fn before_change() {
        // Release: with the Relaxed read-modify-write after it, pairs with
        // the Acquire fence in `after_read` of a process that reads this
        // change (or a later one: every change is a read-modify-write, so
        // the release sequence goes on).
        fence(Release);
    }

    /// Makes what the writer of the value just read wrote before it visible.
    #[inline]
    fn after_read() {
        // Acquire: pairs with the Release fence in `before_change`.
        fence(Acquire);
    }

    /// Wakes the processes waiting for a target: any change may reach one
    /// (a subtraction too, by wrapping).
    #[inline]
    fn notify(&self) {
        self.changed().notify_in(Scope::Shared, u32::MAX);
    }

    /// Adds `n`, wrapping on overflow.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::counter::Counter;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-counter-add-{}", std::process::id()));
    /// let counter = Counter::create(&path).unwrap();
    /// counter.add(u64::MAX);
    /// counter.add(2);
    /// assert_eq!(counter.get(), 1, "wrapped");
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn add(&self, n: u64) {
        Self::before_change();
        self.count().add(n);
        self.notify();
    }

    /// Subtracts `n`, wrapping below zero.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::counter::Counter;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-counter-sub-{}", std::process::id()));
    /// let counter = Counter::create(&path).unwrap();
    /// counter.add(3);
    /// counter.sub(1);
    /// assert_eq!(counter.get(), 2);
    /// counter.sub(3);
    /// assert_eq!(counter.get(), u64::MAX, "wrapped");
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn sub(&self, n: u64) {
        Self::before_change();
        self.count().sub(n);
        self.notify();
    }

    /// Adds 1, wrapping on overflow.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::counter::Counter;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-cnt-inc-{}", std::process::id()));
    /// let counter = Counter::create(&path).unwrap();
    /// counter.increment();
    /// counter.increment();
    /// assert_eq!(counter.get(), 2);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn increment(&self) {
        self.add(1);
    }

    /// Adds `n`, wrapping on overflow, and returns the value before the add
    /// (JavaScript's `Atomics.add`).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::counter::Counter;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-cnt-fadd-{}", std::process::id()));
    /// let counter = Counter::create(&path).unwrap();
    /// assert_eq!(counter.fetch_add(5), 0);
    /// assert_eq!(counter.fetch_add(1), 5);
    /// assert_eq!(counter.get(), 6);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn fetch_add(&self, n: u64) -> u64 {
        Self::before_change();
        let previous = self.count().fetch_add(n);
        Self::after_read();
        self.notify();
        previous
    }

    /// Subtracts `n`, wrapping below zero, and returns the value before
    /// (JavaScript's `Atomics.sub`).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::counter::Counter;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-cnt-fsub-{}", std::process::id()));
    /// let counter = Counter::create(&path).unwrap();
    /// counter.add(5);
    /// assert_eq!(counter.fetch_sub(2), 5);
    /// assert_eq!(counter.get(), 3);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn fetch_sub(&self, n: u64) -> u64 {
        Self::before_change();
        let previous = self.count().fetch_sub(n);
        Self::after_read();
        self.notify();
        previous
    }

    /// The current count.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::counter::Counter;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-counter-get-{}", std::process::id()));
    /// let counter = Counter::create(&path).unwrap();
    /// let other = Counter::open(&path).unwrap(); // another process, typically
    /// other.add(7);
    /// assert_eq!(counter.get(), 7);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn get(&self) -> u64 {
        let now = self.count().get();
        Self::after_read();
        now
    }

    /// Blocks until the value is at least `target`, for at most `timeout`.
    /// Returns the value seen.
    ///
    /// # Errors
    ///
    /// `Err` with the last value seen if the deadline passed first.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::time::Duration;
    /// use handoff::shm::counter::Counter;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-cnt-wait-{}", std::process::id()));
    /// let done = Counter::create(&path).unwrap();
    /// std::thread::scope(|s| {
    ///     for _ in 0..3 {
    ///         s.spawn(|| Counter::open(&path).unwrap().increment());
    ///     }
    ///     assert_eq!(done.wait_at_least(3, None), Ok(3));
    /// });
    /// // Never early: the last value seen comes back when the deadline passes.
    /// assert_eq!(done.wait_at_least(4, Some(Duration::from_millis(1))), Err(3));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn wait_at_least(&self, target: u64, timeout: Option<Duration>) -> Result<u64, u64> {
        let mut blocked = Blocked::new(timeout);
        loop {
            let now = self.get();
            if now >= target {
                return Ok(now);
            }
            if !blocked.pause(self.changed(), || self.get() >= target) {
                let last = self.get();
                return if last >= target { Ok(last) } else { Err(last) };
            }
        }
    }
}

impl fmt::Debug for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One load of the count, never a wait.
        f.debug_tuple("Counter").field(&self.count().get()).finish()
    }
}
