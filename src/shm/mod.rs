//! Shared regions: counters, rings and transfer buffers between processes,
//! `SharedArrayBuffer` for processes.
//!
//! A region is a file mapped shared by every process that opens it. One
//! region holds one primitive:
//!
//! | type | what it is | progress |
//! |------|------------|----------|
//! | [`counter::Counter`] | a `u64` with add, get and wait-for-a-target | add wait-free, wait blocking |
//! | [`spsc::Spsc`] | a single-producer single-consumer ring | `try_` wait-free, others blocking |
//! | [`mpmc::Mpmc`] | a multi-producer multi-consumer ring | `try_` lock-free, others blocking |
//! | [`pool::Pool`] | fixed-size transfer buffers, sent as descriptors through a ring | `try_` lock-free |
//!
//! Elements are plain data ([`bytemuck::Pod`]): every bit pattern is valid and
//! there are no pointers, so a value written by another process can be wrong
//! but never unsound.
//!
//! # Regions
//!
//! `create` makes the file exclusively, with mode 0600, sizes it with checked
//! arithmetic and allocates its blocks (`posix_fallocate`, so a full file
//! system is an error from `create`, not a SIGBUS later), writes a header and
//! marks it ready last; on any error it removes the file again. `open` checks the
//! header (magic, format version, layout fingerprint: kind, element size and
//! alignment, a type tag the caller chooses; capacity and length) against the
//! file's real size and copies what it needs into private memory; see
//! [`ShmError`] for what each check reports. [`remove`] unlinks the file;
//! processes that have it open keep using it.
//!
//! # Roles and closing
//!
//! Each end of a ring is a role claimed in the region: a second process
//! claiming the producer of an SPSC ring gets [`ShmError::RoleTaken`]. A role
//! is claimed once; dropping the handle closes that end, and the other side's
//! calls return `Closed` once the ring is drained.
//!
//! A process that dies without dropping (SIGKILL, abort) is detected through
//! Linux open-file-description locks (`F_OFD_SETLK`): the holder of a role
//! keeps an exclusive lock on one byte of the file, which the kernel releases
//! when the process dies. Blocked calls probe the other side's locks every
//! [`PROBE_INTERVAL`], so they return `Closed` within about that long after a
//! peer's death. The survivor never sees a torn element: an element becomes
//! visible only when the index after it is published, and keeps every element
//! published before the death.
//!
//! # Blocking
//!
//! Blocking calls spin briefly, then park on process-shared futex words
//! ([`Notifier`](crate::notify::Notifier) with
//! [`Scope::Shared`](crate::wait::Scope::Shared)) in slices of at most
//! [`PROBE_INTERVAL`].
//!
//! # Hostile peers
//!
//! Everything in a region is reached through atomics or raw pointers, never
//! through references to plain data. Indices read from the region are checked
//! (SPSC) or reduced modulo the private capacity (MPMC, pool) before they
//! become an address. A peer that writes nonsense can make the primitive
//! report `Closed`, return wrong elements or stall a lock-free retry loop (the
//! MPMC ring bounds its retries), but cannot cause out-of-bounds access,
//! undefined behaviour or a panic.
//!
//! # Limits
//!
//! * Linux only: the module is compiled for `target_os = "linux"` (it relies
//!   on OFD locks, `/proc/self/fd` and process-shared futexes).
//! * **Truncation while mapped**: if another process shrinks the file while
//!   it is mapped, the next access to the cut-off pages raises SIGBUS. That
//!   cannot be prevented for an ordinary file; the 0600 mode limits it to
//!   processes of the same user. Do not truncate a live region.
//! * Pool buffers held by a process that dies are lost until the region is
//!   recreated; role slots of dead holders are not reused.
//! * An MPMC ring cannot pass a push or pop cut short by SIGKILL; see
//!   [`mpmc`](mpmc#limits-death-in-the-middle-of-an-operation) for what the
//!   survivors see.
//! * A process killed while parked stays counted as a waiter on that
//!   notifier: from then on every notify on it makes a `FUTEX_WAKE` system
//!   call (correct, only slower).
//! * A role's lock belongs to an open file description, which `fork`
//!   shares: a holder that forks a child that does not `exec` stays "alive"
//!   until the child exits too. (`std::process::Command` execs, and our
//!   descriptors are close-on-exec.) A process that dies before it claims
//!   its role is indistinguishable from one that has not started: the other
//!   side waits (`Empty`/`Full`) rather than seeing `Closed`.
//! * Loom cannot model processes. The ring algorithms here are the same as
//!   the in-process ones (Lamport with cached indices, Vyukov's bounded
//!   queue) and park through the loom-checked `Notifier`; under
//!   `--features loom` this module is not compiled.
//! * Under Miri, which cannot map files, a region is a heap block in a table
//!   keyed by path, so `open` works within the process; there are no locks,
//!   so death detection is not exercised there.
//!
//! # Example
//!
//! ```
//! # #[cfg(not(feature = "loom"))] fn main() {
//! use handoff::shm::spsc::Spsc;
//!
//! let path = std::env::temp_dir().join(format!("doc-shm-{}", std::process::id()));
//! let ring = Spsc::<u32>::create(&path, 16, 1).unwrap();
//! let mut tx = ring.producer().unwrap();
//! let mut rx = ring.consumer().unwrap();
//! assert!(ring.producer().is_err(), "only one producer");
//! for i in 0..10 {
//!     tx.push(i).unwrap();
//! }
//! drop(tx);
//! let got: Vec<u32> = std::iter::from_fn(|| rx.pop().ok()).collect();
//! assert_eq!(got, (0..10).collect::<Vec<_>>());
//! handoff::shm::remove(&path).unwrap();
//! # }
//! # #[cfg(feature = "loom")] fn main() {}
//! ```

use core::fmt;
use std::path::Path;

use crate::error::ZeroCapacity;

pub mod counter;
mod layout;
mod liveness;
pub mod mpmc;
mod park;
pub mod pool;
mod region;
pub mod spsc;

pub use park::PROBE_INTERVAL;

/// Why a region could not be created, opened or used.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::shm::{spsc::Spsc, ShmError};
///
/// let path = std::env::temp_dir().join(format!("doc-shmerror-{}", std::process::id()));
/// let _ring = Spsc::<u64>::create(&path, 4, 1).unwrap();
/// let wrong = Spsc::<u32>::open(&path, 1).unwrap_err();
/// assert_eq!(wrong, ShmError::Mismatch("element size"));
/// assert_eq!(wrong.to_string(), "region holds another element size");
/// assert_eq!(format!("{wrong:?}"), r#"Mismatch("element size")"#);
/// handoff::shm::remove(&path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ShmError {
    /// A file-system or mapping call failed.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::io::ErrorKind;
    /// use handoff::shm::{counter::Counter, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-err-io-{}", std::process::id()));
    /// let _counter = Counter::create(&path).unwrap();
    /// match Counter::create(&path) {
    ///     Err(ShmError::Io { kind, .. }) => assert_eq!(kind, ErrorKind::AlreadyExists),
    ///     other => panic!("{other:?}"),
    /// }
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    Io {
        /// The kind of the I/O error.
        kind: std::io::ErrorKind,
        /// The OS error number, if there was one.
        code: Option<i32>,
    },
    /// Capacity 0 (or a pool buffer of 0 bytes) was asked for.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{mpmc::Mpmc, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-err-zero-{}", std::process::id()));
    /// assert_eq!(Mpmc::<u8>::create(&path, 0, 0).unwrap_err(), ShmError::ZeroCapacity);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    ZeroCapacity,
    /// A size does not fit in 64 bits or in the address space.
    TooLarge,
    /// The element's alignment is above 4096 bytes.
    Unsupported,
    /// The header's state word is not "ready": the region is still being
    /// created, or is not one.
    NotReady,
    /// The magic number is wrong: not a handoff region.
    NotARegion,
    /// The region has another format version (the one found).
    Version(u32),
    /// The region holds something else than asked for; names the field.
    Mismatch(&'static str),
    /// The header or the region's indices contradict each other; names what.
    Corrupt(&'static str),
    /// The file is shorter than its header says.
    Truncated,
    /// The role (an end of a ring) is held, or was used up, by another handle.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{spsc::Spsc, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-err-role-{}", std::process::id()));
    /// let ring = Spsc::<u8>::create(&path, 1, 0).unwrap();
    /// let _rx = ring.consumer().unwrap();
    /// assert_eq!(ring.consumer().unwrap_err(), ShmError::RoleTaken);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    RoleTaken,
    /// A transfer descriptor does not name a buffer that was sent: stale,
    /// duplicate or made up.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{pool::{Descriptor, Pool}, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-err-stale-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 8).unwrap();
    /// let made_up = Descriptor { index: 0, generation: 5 };
    /// assert_eq!(pool.redeem(made_up).unwrap_err(), ShmError::Stale);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    Stale,
}

impl From<std::io::Error> for ShmError {
    fn from(e: std::io::Error) -> Self {
        ShmError::Io {
            kind: e.kind(),
            code: e.raw_os_error(),
        }
    }
}

impl From<ZeroCapacity> for ShmError {
    fn from(_: ZeroCapacity) -> Self {
        ShmError::ZeroCapacity
    }
}

impl fmt::Debug for ShmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShmError::Io { kind, code } => write!(f, "Io({kind:?}, {code:?})"),
            ShmError::Version(v) => write!(f, "Version({v})"),
            ShmError::Mismatch(what) => write!(f, "Mismatch({what:?})"),
            ShmError::Corrupt(what) => write!(f, "Corrupt({what:?})"),
            other => f.write_str(other.name()),
        }
    }
}

impl ShmError {
    /// The variant's name, for `Debug`.
    fn name(&self) -> &'static str {
        match self {
            ShmError::Io { .. } => "Io",
            ShmError::ZeroCapacity => "ZeroCapacity",
            ShmError::TooLarge => "TooLarge",
            ShmError::Unsupported => "Unsupported",
            ShmError::NotReady => "NotReady",
            ShmError::NotARegion => "NotARegion",
            ShmError::Version(_) => "Version",
            ShmError::Mismatch(_) => "Mismatch",
            ShmError::Corrupt(_) => "Corrupt",
            ShmError::Truncated => "Truncated",
            ShmError::RoleTaken => "RoleTaken",
            ShmError::Stale => "Stale",
        }
    }
}

impl fmt::Display for ShmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShmError::Io { kind, .. } => write!(f, "region i/o failed: {kind}"),
            ShmError::ZeroCapacity => f.write_str("capacity must be at least one"),
            ShmError::TooLarge => f.write_str("region size overflows"),
            ShmError::Unsupported => f.write_str("element alignment not supported"),
            ShmError::NotReady => f.write_str("region is not ready"),
            ShmError::NotARegion => f.write_str("not a handoff region"),
            ShmError::Version(v) => write!(f, "region format version {v} is not supported"),
            ShmError::Mismatch(what) => write!(f, "region holds another {what}"),
            ShmError::Corrupt(what) => write!(f, "region is corrupt: {what}"),
            ShmError::Truncated => f.write_str("region file is truncated"),
            ShmError::RoleTaken => f.write_str("role already claimed"),
            ShmError::Stale => f.write_str("stale or unknown transfer descriptor"),
        }
    }
}

impl std::error::Error for ShmError {}

/// Removes the region file at `path`. Processes that have it open keep their
/// mapping; the memory is freed with the last one.
///
/// # Errors
///
/// [`ShmError::Io`] if the file cannot be removed (for example, it does not
/// exist).
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::shm::{counter::Counter, remove};
///
/// let path = std::env::temp_dir().join(format!("doc-remove-{}", std::process::id()));
/// let c = Counter::create(&path).unwrap();
/// remove(&path).unwrap();
/// c.add(1); // still mapped
/// assert!(Counter::open(&path).is_err());
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub fn remove(path: impl AsRef<Path>) -> Result<(), ShmError> {
    region::remove(path.as_ref())
}

#[cfg(test)]
mod tests;
