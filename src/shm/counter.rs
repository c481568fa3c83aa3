//! A 64-bit counter in a shared region, with a wait for a target value.
//!
//! The value is a bare `AtomicU64` on its own control line and a
//! process-shared [`Notifier`] on another. Every bit pattern is a valid count,
//! so there is nothing for a peer to corrupt beyond the number itself.
//!
//! This is the region-resident twin of `handoff::counter::Counter`; once that
//! type lands it should be placed here instead of the bare word, as long as it
//! stays `#[repr(C)]` and valid for every bit pattern.

use core::fmt;
use core::time::Duration;
use std::path::Path;

use super::layout::{line, Fingerprint, Kind};
use super::park::Blocked;
use super::region::Region;
use super::ShmError;
use crate::notify::Notifier;
use crate::sync::atomic::AtomicU64;
use crate::sync::atomic::Ordering::{AcqRel, Acquire};
use crate::wait::Scope;

/// Control line of the value.
const VALUE: u64 = line(0);
/// Notifier that waiters for a target park on.
const CHANGED: u64 = line(2);

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
/// assert_eq!(b.add(1), 3);
/// assert_eq!(a.wait_at_least(4, None), Ok(4));
/// handoff::shm::remove(&path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub struct Counter {
    region: Region,
}

impl Counter {
    /// The header's element fields for a counter.
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
    pub fn create(path: impl AsRef<Path>) -> Result<Self, ShmError> {
        let region = Region::create(path.as_ref(), Self::PRINT, |_| {})?;
        Ok(Counter { region })
    }

    /// Opens the counter at `path`.
    ///
    /// # Errors
    ///
    /// Every header check has its [`ShmError`]; see its variants.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ShmError> {
        let region = Region::open(path.as_ref(), Kind::Counter, 8, 8, 0)?;
        Ok(Counter { region })
    }

    fn value(&self) -> &AtomicU64 {
        self.region.atomic(VALUE)
    }

    fn changed(&self) -> &Notifier {
        self.region.atomic(CHANGED)
    }

    /// Adds `n` (wrapping) and returns the previous value; wakes processes
    /// waiting for a target.
    pub fn add(&self, n: u64) -> u64 {
        // AcqRel: Release pairs with the Acquire loads of waiters, so what
        // this process wrote before counting is visible to them; Acquire lets
        // this process see what earlier adders published.
        let previous = self.value().fetch_add(n, AcqRel);
        self.changed().notify_in(Scope::Shared, u32::MAX);
        previous
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        // Acquire pairs with the AcqRel `fetch_add` in `add`.
        self.value().load(Acquire)
    }

    /// Blocks until the value is at least `target`, for at most `timeout`.
    /// Returns the value seen.
    ///
    /// # Errors
    ///
    /// `Err` with the last value seen if the deadline passed first.
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
        f.debug_struct("Counter")
            .field("value", &self.get())
            .finish()
    }
}
