//! A multi-producer multi-consumer ring of plain-data elements in a region.
//!
//! The algorithm is Dmitry Vyukov's bounded MPMC queue
//! (<https://www.1024cores.net/home/lock-free-algorithms/queues/bounded-mpmc-queue>):
//! each slot carries a *stamp*, a sequence word that says whose turn it is
//! (the word [`crate::mpmc`] uses too), and the two 64-bit positions are
//! claimed with a compare-and-swap. Positions map to slots by
//! `position % capacity` (the capacity is exact, not rounded).
//!
//! # Words
//!
//! | word           | line | meaning                                              |
//! |----------------|------|------------------------------------------------------|
//! | `head`         | 0    | next position to pop                                 |
//! | `tail`         | 1    | next position to push                                |
//! | `stamp` (slot) | data | `== 2p`: free for the push of position `p`; `== 2p + 1`: holds the element of `p`; `2(p + capacity)` after its pop |
//!
//! Stamps count in steps of two so that "holds the element of `p`" and
//! "free for the push of `p + capacity`" differ even at capacity 1, where
//! Vyukov's `p + 1` and `p + capacity` would be the same word; the three
//! formulas live in `Stamp` and nowhere else.
//!
//! # Trust
//!
//! A position read from the region only picks a slot through `% capacity` with
//! the private capacity, so every access stays inside the slot array.
//! Stamps written by a confused peer can make a push or pop give up
//! (`Full`/`Empty`) or return a wrong element, never an out-of-bounds access.
//! Each `try_` call gives up after [`MAX_RETRIES`] lost races, so even a
//! peer that keeps moving the positions cannot trap it.
//!
//! Up to 32 producers and 32 consumers may be claimed over the region's life;
//! each handle holds one role slot, see the [module docs](super).
//!
//! # Limits: death in the middle of an operation
//!
//! A push owns its slot from winning the `tail` exchange until it stores the
//! slot's stamp; a pop from winning `head` until it stores it back.
//! A process killed between the two leaves a hole the ring cannot pass,
//! because nobody else may write that slot:
//!
//! * a producer killed mid-push: consumers stop at the hole. Once every
//!   producer is gone they report `Closed` (bounded, as documented), but
//!   elements other producers fully pushed *after* the hole are lost; while
//!   another producer lives, consumers see `Empty` and block until their
//!   timeout, and producers fill the ring and block too.
//! * a consumer killed mid-pop: after one lap producers see the slot as
//!   still full. Once every consumer is gone they report `Closed`; while
//!   another consumer lives, pushes report `Full` for ever.
//!
//! The window is a few instructions per operation, but SIGKILL can land in
//! it. The SPSC ring has no such window (each index has one writer and the
//! element is written before the index is published).

use core::fmt;
use core::marker::PhantomData;
use core::ops::Range;
use core::time::Duration;
use std::path::Path;
use std::sync::Arc;

use bytemuck::Pod;

use super::layout::{line, Fingerprint, Kind};
use super::liveness::{self, Peer, Role};
use super::park::{Blocked, SharedProbeClock};
use super::region::Region;
use super::ShmError;
use crate::error::{PopError, PushError};
use crate::notify::Notifier;
use crate::sync::atomic::AtomicU64;
use crate::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::sync::spin_hint;
use crate::wait::Scope;

/// Role slots of producers.
const PRODUCERS: Range<usize> = 0..32;
/// Role slots of consumers.
const CONSUMERS: Range<usize> = 32..64;
/// Control line of the pop position.
const HEAD: u64 = line(0);
/// Control line of the push position.
const TAIL: u64 = line(1);
/// Notifier consumers park on.
const NOT_EMPTY: u64 = line(2);
/// Notifier producers park on.
const NOT_FULL: u64 = line(3);
/// Lost races after which a `try_` call reports `Full` or `Empty`.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::shm::mpmc::MAX_RETRIES;
///
/// // Enough for any honest contention; a bound for a peer that never stops.
/// assert!(MAX_RETRIES >= 1000);
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub const MAX_RETRIES: u32 = 1 << 12;
/// Rereads of a moving tail after which `len` settles for the last pair.
const LEN_TRIES: u32 = 8;

/// An MPMC ring in a shared region: the handle from which a process claims
/// producers and consumers.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::shm::mpmc::Mpmc;
///
/// let path = std::env::temp_dir().join(format!("doc-mpmc-{}", std::process::id()));
/// let ring = Mpmc::<u32>::create(&path, 3, 0).unwrap();
/// let (tx1, tx2) = (ring.producer().unwrap(), ring.producer().unwrap());
/// let rx = ring.consumer().unwrap();
/// tx1.try_push(1).unwrap();
/// tx2.try_push(2).unwrap();
/// assert_eq!(rx.try_pop(), Ok(1));
/// assert_eq!(rx.try_pop(), Ok(2));
/// handoff::shm::remove(&path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub struct Mpmc<T> {
    region: Arc<Region>,
    _elements: PhantomData<fn() -> T>,
}

impl<T: Pod> Mpmc<T> {
    /// Creates a region at `path` holding a ring of `capacity` elements of
    /// `T`, stamped with the caller's `tag`.
    ///
    /// # Errors
    ///
    /// [`ShmError::ZeroCapacity`] for capacity 0, [`ShmError::TooLarge`] when
    /// the size overflows, [`ShmError::Io`] when the file exists or cannot be
    /// created and mapped.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{mpmc::Mpmc, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-create-{}", std::process::id()));
    /// assert_eq!(Mpmc::<u64>::create(&path, 0, 1).unwrap_err(), ShmError::ZeroCapacity);
    /// let ring = Mpmc::<u64>::create(&path, 5, 1).unwrap();
    /// assert_eq!(ring.capacity(), 5);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn create(path: impl AsRef<Path>, capacity: usize, tag: u64) -> Result<Self, ShmError> {
        let print = Fingerprint {
            kind: Kind::Mpmc,
            elem_size: core::mem::size_of::<T>() as u64,
            elem_align: core::mem::align_of::<T>() as u64,
            tag,
            capacity: capacity as u64,
            extra: 0,
        };
        let region = Region::create(path.as_ref(), print, |r| {
            // Slot i starts free for the push of position i. Relaxed: the
            // READY store publishes these.
            let l = *r.layout();
            for i in 0..l.slots {
                stamp_at(r, i).store(Stamp::free(i), Relaxed);
            }
        })?;
        Ok(Self::wrap(region))
    }

    /// Opens the ring at `path`, checking that it holds `T` with this `tag`.
    ///
    /// # Errors
    ///
    /// Every header check has its [`ShmError`]; see its variants.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{mpmc::Mpmc, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-open-{}", std::process::id()));
    /// let _created = Mpmc::<u16>::create(&path, 8, 3).unwrap();
    /// let opened = Mpmc::<u16>::open(&path, 3).unwrap(); // another process, typically
    /// assert_eq!(opened.capacity(), 8);
    /// assert_eq!(Mpmc::<u16>::open(&path, 4).unwrap_err(), ShmError::Mismatch("type tag"));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn open(path: impl AsRef<Path>, tag: u64) -> Result<Self, ShmError> {
        let region = Region::open(
            path.as_ref(),
            Kind::Mpmc,
            core::mem::size_of::<T>() as u64,
            core::mem::align_of::<T>() as u64,
            tag,
        )?;
        Ok(Self::wrap(region))
    }

    fn wrap(region: Region) -> Self {
        Mpmc {
            region: Arc::new(region),
            _elements: PhantomData,
        }
    }

    /// How many elements the ring holds at most.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-cap-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 3, 0).unwrap();
    /// assert_eq!(ring.capacity(), 3);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn capacity(&self) -> usize {
        self.region.layout().print.capacity as usize
    }

    /// Claims a producer role.
    ///
    /// # Errors
    ///
    /// [`ShmError::RoleTaken`] once 32 producers have been claimed.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{mpmc::Mpmc, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-producer-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 2, 0).unwrap();
    /// let producers: Vec<_> = (0..32).map(|_| ring.producer().unwrap()).collect();
    /// assert_eq!(ring.producer().unwrap_err(), ShmError::RoleTaken);
    /// drop(producers);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn producer(&self) -> Result<Producer<T>, ShmError> {
        let role = Role::claim(&self.region, PRODUCERS)?;
        Ok(Producer {
            core: Core::new(Arc::clone(&self.region), role),
        })
    }

    /// Claims a consumer role.
    ///
    /// # Errors
    ///
    /// [`ShmError::RoleTaken`] once 32 consumers have been claimed.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{mpmc::Mpmc, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-consumer-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 2, 0).unwrap();
    /// let consumers: Vec<_> = (0..32).map(|_| ring.consumer().unwrap()).collect();
    /// assert_eq!(ring.consumer().unwrap_err(), ShmError::RoleTaken);
    /// drop(consumers);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn consumer(&self) -> Result<Consumer<T>, ShmError> {
        let role = Role::claim(&self.region, CONSUMERS)?;
        Ok(Consumer {
            core: Core::new(Arc::clone(&self.region), role),
        })
    }
}

impl<T> fmt::Debug for Mpmc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mpmc")
            .field("capacity", &self.region.layout().print.capacity)
            .finish_non_exhaustive()
    }
}

/// The stamp arithmetic of the ring, in one place (the table is in the
/// module docs). Every sum wraps: stamps and positions are compared only
/// through [`Stamp::lag`].
struct Stamp;

impl Stamp {
    /// The stamp of a slot free for the push of `position`.
    #[inline]
    fn free(position: u64) -> u64 {
        position.wrapping_mul(2)
    }

    /// The stamp of a slot holding the element pushed at `position`.
    #[inline]
    fn filled(position: u64) -> u64 {
        Stamp::free(position).wrapping_add(1)
    }

    /// The stamp of a slot whose element of `position` was popped: free for
    /// the push one lap later.
    #[inline]
    fn emptied(position: u64, capacity: u64) -> u64 {
        Stamp::free(position.wrapping_add(capacity))
    }

    /// How far `stamp` is ahead of `wanted`: 0 when it is the caller's turn,
    /// below 0 when the other side has not released the slot yet, above 0
    /// when other threads of the caller's side have moved past it.
    #[inline]
    fn lag(stamp: u64, wanted: u64) -> i64 {
        stamp.wrapping_sub(wanted) as i64
    }
}

/// The stamp of slot `i` (`i < slots`).
fn stamp_at(region: &Region, i: u64) -> &AtomicU64 {
    let l = region.layout();
    region.atomic(l.data_off + i * l.stride)
}

/// What every handle holds: the region, its role and private geometry.
struct Core<T> {
    region: Arc<Region>,
    role: Role,
    capacity: u64,
    probes: SharedProbeClock,
    _elements: PhantomData<fn() -> T>,
}

impl<T> Core<T> {
    fn new(region: Arc<Region>, role: Role) -> Self {
        Core {
            capacity: region.layout().print.capacity,
            region,
            role,
            probes: SharedProbeClock::default(),
            _elements: PhantomData,
        }
    }

    /// The stamp and element of `position`'s slot: the one place a
    /// position becomes an address.
    #[inline]
    fn slot(&self, position: u64) -> (&AtomicU64, *mut T) {
        let l = self.region.layout();
        let off = l.data_off + (position % self.capacity) * l.stride;
        (self.region.atomic(off), self.region.ptr(off + l.elem_off))
    }

    #[inline]
    fn word(&self, off: u64) -> &AtomicU64 {
        self.region.atomic(off)
    }

    #[inline]
    fn notifier(&self, off: u64) -> &Notifier {
        self.region.atomic(off)
    }

    /// The other side's state; probes its locks at most once per interval.
    #[cold]
    fn other_side(&self, range: Range<usize>) -> Peer {
        if self.probes.due() {
            liveness::probe(&self.region, range)
        } else {
            liveness::peer(&self.region, range)
        }
    }

    /// How many elements the ring holds, from the two positions: a snapshot,
    /// counting slots claimed but not yet written or read.
    ///
    /// The positions are read from the region and trusted for nothing: the
    /// result is always in `0..=capacity`.
    fn len(&self) -> usize {
        // Relaxed: a snapshot; nothing is read on its strength. Reading the
        // tail twice makes the pair consistent with some moment; a peer that
        // keeps moving it gets a bounded number of tries.
        let mut tail = self.word(TAIL).load(Relaxed);
        let mut head = self.word(HEAD).load(Relaxed);
        for _ in 0..LEN_TRIES {
            let again = self.word(TAIL).load(Relaxed);
            if again == tail {
                break;
            }
            tail = again;
            head = self.word(HEAD).load(Relaxed);
        }
        // A head past the tail (impossible, or a peer's nonsense) reads as 0.
        let len = tail.wrapping_sub(head);
        if (len as i64) < 0 {
            0
        } else {
            len.min(self.capacity) as usize
        }
    }

    /// Whether the slot of the position at `index` shows `turn(position)`.
    fn turn_is(&self, index: u64, turn: impl Fn(u64) -> u64) -> bool {
        // Relaxed position, Acquire stamp: as in the `try_` calls.
        let position = self.word(index).load(Relaxed);
        self.slot(position).0.load(Acquire) == turn(position)
    }
}

/// A producing handle of a shared [`Mpmc`] ring; usable from several threads.
///
/// When the last producer ever claimed is gone, consumers see `Closed` once
/// the ring is drained.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::error::PopError;
/// use handoff::shm::mpmc::Mpmc;
///
/// let path = std::env::temp_dir().join(format!("doc-mpmc-prod-{}", std::process::id()));
/// let ring = Mpmc::<u32>::create(&path, 4, 0).unwrap();
/// let rx = ring.consumer().unwrap();
/// std::thread::scope(|s| {
///     for i in 0..2 {
///         let tx = ring.producer().unwrap();
///         s.spawn(move || tx.push(i).unwrap());
///     }
/// });
/// let mut got = [rx.pop().unwrap(), rx.pop().unwrap()];
/// got.sort();
/// assert_eq!(got, [0, 1]);
/// assert_eq!(rx.pop(), Err(PopError::Closed), "both producers are gone");
/// handoff::shm::remove(&path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "dropping a producer may close the ring"]
pub struct Producer<T> {
    core: Core<T>,
}

impl<T: Pod> Producer<T> {
    /// Pushes `value` if there is room, without blocking.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] when the ring is full (or after [`MAX_RETRIES`]
    /// lost races); [`PushError::Closed`] when every consumer is gone.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::error::PushError;
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-trypush-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 1, 0).unwrap();
    /// let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// assert_eq!(tx.try_push(1), Ok(()));
    /// assert_eq!(tx.try_push(2), Err(PushError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_push(3), Err(PushError::Closed(3)));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn try_push(&self, value: T) -> Result<(), PushError<T>> {
        if liveness::peer(&self.core.region, CONSUMERS) == Peer::Closed {
            return Err(PushError::Closed(value));
        }
        let tail = self.core.word(TAIL);
        let mut position = tail.load(Relaxed);
        for _ in 0..MAX_RETRIES {
            // Acquire pairs with the Release stamp store of the pop that
            // freed the slot: its read of the old element is done.
            let (stamp, element) = self.core.slot(position);
            let lag = Stamp::lag(stamp.load(Acquire), Stamp::free(position));
            if lag < 0 {
                return Err(self.full_or_closed(value));
            }
            if lag > 0 {
                // Another producer took this position: catch up.
                position = tail.load(Relaxed);
                continue;
            }
            // Relaxed: the stamp, not the position, publishes.
            match tail.compare_exchange_weak(position, position.wrapping_add(1), Relaxed, Relaxed) {
                Ok(_) => {
                    // SAFETY: `element` is inside the slot array (see
                    // `Core::slot`) and ours until the store below.
                    unsafe { core::ptr::write_volatile(element, value) };
                    // Release pairs with the Acquire stamp load of pops.
                    stamp.store(Stamp::filled(position), Release);
                    self.core.notifier(NOT_EMPTY).notify_in(Scope::Shared, 1);
                    return Ok(());
                }
                Err(now) => position = now,
            }
            spin_hint();
        }
        Err(PushError::Full(value))
    }

    #[cold]
    fn full_or_closed(&self, value: T) -> PushError<T> {
        match self.core.other_side(CONSUMERS) {
            Peer::Closed => PushError::Closed(value),
            _ => PushError::Full(value),
        }
    }

    /// Pushes `value`, blocking while the ring is full.
    ///
    /// # Errors
    ///
    /// [`PushError::Closed`] when every consumer is gone (noticed within
    /// about [`PROBE_INTERVAL`](super::PROBE_INTERVAL) of a death).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-push-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 1, 0).unwrap();
    /// let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         tx.push(1).unwrap();
    ///         tx.push(2).unwrap(); // waits until 1 is popped
    ///     });
    ///     assert_eq!(rx.pop(), Ok(1));
    ///     assert_eq!(rx.pop(), Ok(2));
    /// });
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn push(&self, value: T) -> Result<(), PushError<T>> {
        self.push_within(value, None)
    }

    /// Pushes `value`, blocking for at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] if the ring was still full at the deadline;
    /// [`PushError::Closed`] as for [`push`](Self::push).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::time::Duration;
    /// use handoff::error::PushError;
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-pusht-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 1, 0).unwrap();
    /// let (tx, _rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// tx.push(1).unwrap();
    /// let full = tx.push_timeout(2, Duration::from_millis(1));
    /// assert_eq!(full, Err(PushError::Full(2)));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn push_timeout(&self, value: T, timeout: Duration) -> Result<(), PushError<T>> {
        self.push_within(value, Some(timeout))
    }

    /// A push that spins, then parks on `NOT_FULL` in probe slices until
    /// `timeout` passes (`None`: never).
    fn push_within(&self, mut value: T, timeout: Option<Duration>) -> Result<(), PushError<T>> {
        let mut blocked = Blocked::new(timeout);
        let mut paused = false;
        loop {
            match self.try_push(value) {
                Err(PushError::Full(back)) => value = back,
                Ok(()) if paused => {
                    // A wake can be spent on a slot whose pop is still
                    // reading it; pass it on if another slot is free.
                    if self.core.turn_is(TAIL, Stamp::free) {
                        self.core.notifier(NOT_FULL).notify_in(Scope::Shared, 1);
                    }
                    return Ok(());
                }
                other => return other,
            }
            paused = true;
            if blocked.probe_due() && liveness::probe(&self.core.region, CONSUMERS) == Peer::Closed
            {
                return Err(PushError::Closed(value));
            }
            let core = &self.core;
            let ready = || {
                core.turn_is(TAIL, Stamp::free)
                    || liveness::peer(&core.region, CONSUMERS) == Peer::Closed
            };
            if !blocked.pause(core.notifier(NOT_FULL), ready) {
                return self.try_push(value);
            }
        }
    }
    /// How many elements the ring holds at most.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-pcap-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 3, 0).unwrap();
    /// assert_eq!(ring.producer().unwrap().capacity(), 3);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn capacity(&self) -> usize {
        self.core.capacity as usize
    }

    /// How many elements the ring holds: a snapshot that other handles, in
    /// this process or another, may change at once. Counts slots claimed but
    /// not yet written or read; always in `0..=capacity`, whatever a peer
    /// wrote to the positions.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-plen-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 3, 0).unwrap();
    /// let tx = ring.producer().unwrap();
    /// tx.push(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn len(&self) -> usize {
        self.core.len()
    }

    /// Whether the ring holds no element (a snapshot, like [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-pempty-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 3, 0).unwrap();
    /// let tx = ring.producer().unwrap();
    /// assert!(tx.is_empty());
    /// tx.push(1).unwrap();
    /// assert!(!tx.is_empty());
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every slot is taken (a snapshot, like [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-pfull-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 1, 0).unwrap();
    /// let tx = ring.producer().unwrap();
    /// tx.push(1).unwrap();
    /// assert!(tx.is_full());
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// Whether every consumer ever claimed is gone (dropped, or found dead:
    /// locks are probed at most once per
    /// [`PROBE_INTERVAL`](super::PROBE_INTERVAL)), so that no push can
    /// succeed.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-pclosed-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 2, 0).unwrap();
    /// let tx = ring.producer().unwrap();
    /// let (rx1, rx2) = (ring.consumer().unwrap(), ring.consumer().unwrap());
    /// drop(rx1);
    /// assert!(!tx.is_closed(), "one consumer is left");
    /// drop(rx2);
    /// assert!(tx.is_closed());
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_closed(&self) -> bool {
        self.core.other_side(CONSUMERS) == Peer::Closed
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        self.core.role.leave(&self.core.region);
        self.core
            .notifier(NOT_EMPTY)
            .notify_in(Scope::Shared, u32::MAX);
    }
}

/// A consuming handle of a shared [`Mpmc`] ring; usable from several threads.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::shm::mpmc::Mpmc;
///
/// let path = std::env::temp_dir().join(format!("doc-mpmc-cons-{}", std::process::id()));
/// let ring = Mpmc::<u32>::create(&path, 4, 0).unwrap();
/// let tx = ring.producer().unwrap();
/// for i in 0..4 {
///     tx.push(i).unwrap();
/// }
/// let sum: u32 = std::thread::scope(|s| {
///     let workers: Vec<_> = (0..2)
///         .map(|_| {
///             let rx = ring.consumer().unwrap();
///             s.spawn(move || (0..2).map(|_| rx.pop().unwrap()).sum::<u32>())
///         })
///         .collect();
///     workers.into_iter().map(|w| w.join().unwrap()).sum()
/// });
/// assert_eq!(sum, 6);
/// handoff::shm::remove(&path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "dropping a consumer may close the ring"]
pub struct Consumer<T> {
    core: Core<T>,
}

impl<T: Pod> Consumer<T> {
    /// Pops the oldest available element, without blocking.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] when the ring is empty (or after [`MAX_RETRIES`]
    /// lost races); [`PopError::Closed`] when it is empty and every producer
    /// is gone.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::error::PopError;
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-trypop-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 2, 0).unwrap();
    /// let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// assert_eq!(rx.try_pop(), Err(PopError::Empty));
    /// tx.push(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_pop(), Ok(1));
    /// assert_eq!(rx.try_pop(), Err(PopError::Closed));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn try_pop(&self) -> Result<T, PopError> {
        match self.pop_once() {
            Some(value) => Ok(value),
            None => Err(self.empty_or_closed()),
        }
    }

    /// One pop attempt: `None` when the ring looks empty.
    #[inline]
    fn pop_once(&self) -> Option<T> {
        let head = self.core.word(HEAD);
        let mut position = head.load(Relaxed);
        for _ in 0..MAX_RETRIES {
            // Acquire pairs with the Release stamp store of the push.
            let (stamp, element) = self.core.slot(position);
            let lag = Stamp::lag(stamp.load(Acquire), Stamp::filled(position));
            if lag < 0 {
                return None;
            }
            if lag > 0 {
                position = head.load(Relaxed);
                continue;
            }
            // Relaxed: the stamp, not the position, publishes.
            match head.compare_exchange_weak(position, position.wrapping_add(1), Relaxed, Relaxed) {
                Ok(_) => {
                    // SAFETY: `element` is inside the slot array (see
                    // `Core::slot`); its push finished (stamp acquired).
                    let value = unsafe { core::ptr::read_volatile(element) };
                    // Release pairs with the Acquire stamp load of the
                    // push that reuses the slot.
                    stamp.store(Stamp::emptied(position, self.core.capacity), Release);
                    self.core.notifier(NOT_FULL).notify_in(Scope::Shared, 1);
                    return Some(value);
                }
                Err(now) => position = now,
            }
            spin_hint();
        }
        None
    }

    #[cold]
    fn empty_or_closed(&self) -> PopError {
        if self.core.other_side(PRODUCERS) == Peer::Closed
            && !self.core.turn_is(HEAD, Stamp::filled)
        {
            return PopError::Closed;
        }
        PopError::Empty
    }

    /// Pops the oldest available element, blocking while the ring is empty.
    ///
    /// # Errors
    ///
    /// [`PopError::Closed`] once the ring is empty and every producer is gone.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::error::PopError;
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-pop-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 2, 0).unwrap();
    /// let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// std::thread::scope(|s| {
    ///     s.spawn(move || tx.push(7).unwrap()); // then drops `tx`
    ///     assert_eq!(rx.pop(), Ok(7));
    ///     assert_eq!(rx.pop(), Err(PopError::Closed));
    /// });
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn pop(&self) -> Result<T, PopError> {
        self.pop_within(None)
    }

    /// Pops, blocking for at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] if the ring was still empty at the deadline;
    /// [`PopError::Closed`] as for [`pop`](Self::pop).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::time::Duration;
    /// use handoff::error::PopError;
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-popt-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 2, 0).unwrap();
    /// let (_tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// assert_eq!(rx.pop_timeout(Duration::from_millis(1)), Err(PopError::Empty));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn pop_timeout(&self, timeout: Duration) -> Result<T, PopError> {
        self.pop_within(Some(timeout))
    }

    /// A pop that spins, then parks on `NOT_EMPTY` in probe slices until
    /// `timeout` passes (`None`: never).
    fn pop_within(&self, timeout: Option<Duration>) -> Result<T, PopError> {
        let mut blocked = Blocked::new(timeout);
        let mut paused = false;
        loop {
            match self.try_pop() {
                Err(PopError::Empty) => {}
                Ok(value) if paused => {
                    // A wake can be spent on a slot whose push is still
                    // writing it; pass it on if another element is ready.
                    if self.core.turn_is(HEAD, Stamp::filled) {
                        self.core.notifier(NOT_EMPTY).notify_in(Scope::Shared, 1);
                    }
                    return Ok(value);
                }
                other => return other,
            }
            paused = true;
            if blocked.probe_due() && liveness::probe(&self.core.region, PRODUCERS) == Peer::Closed
            {
                return self.try_pop();
            }
            let core = &self.core;
            let ready = || {
                core.turn_is(HEAD, Stamp::filled)
                    || liveness::peer(&core.region, PRODUCERS) == Peer::Closed
            };
            if !blocked.pause(core.notifier(NOT_EMPTY), ready) {
                return self.try_pop();
            }
        }
    }
    /// How many elements the ring holds at most.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-ccap-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 3, 0).unwrap();
    /// assert_eq!(ring.consumer().unwrap().capacity(), 3);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn capacity(&self) -> usize {
        self.core.capacity as usize
    }

    /// How many elements the ring holds: a snapshot that other handles, in
    /// this process or another, may change at once. Counts slots claimed but
    /// not yet written or read; always in `0..=capacity`, whatever a peer
    /// wrote to the positions.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-clen-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 3, 0).unwrap();
    /// let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// tx.push(1).unwrap();
    /// tx.push(2).unwrap();
    /// assert_eq!(rx.len(), 2);
    /// rx.pop().unwrap();
    /// assert_eq!(rx.len(), 1);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn len(&self) -> usize {
        self.core.len()
    }

    /// Whether the ring holds no element (a snapshot, like [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-cempty-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 3, 0).unwrap();
    /// let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// assert!(rx.is_empty());
    /// tx.push(1).unwrap();
    /// assert!(!rx.is_empty());
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every slot is taken (a snapshot, like [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-cfull-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 1, 0).unwrap();
    /// let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// tx.push(1).unwrap();
    /// assert!(rx.is_full());
    /// rx.pop().unwrap();
    /// assert!(!rx.is_full());
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// Whether every producer ever claimed is gone (dropped, or found dead:
    /// locks are probed at most once per
    /// [`PROBE_INTERVAL`](super::PROBE_INTERVAL)). Elements may still be left
    /// to pop; [`try_pop`](Self::try_pop) returns [`PopError::Closed`] once
    /// they are not.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::error::PopError;
    /// use handoff::shm::mpmc::Mpmc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-mpmc-cclosed-{}", std::process::id()));
    /// let ring = Mpmc::<u32>::create(&path, 2, 0).unwrap();
    /// let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// tx.push(1).unwrap();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// assert_eq!(rx.pop(), Ok(1), "what was pushed before is still there");
    /// assert_eq!(rx.pop(), Err(PopError::Closed));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_closed(&self) -> bool {
        self.core.other_side(PRODUCERS) == Peer::Closed
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        self.core.role.leave(&self.core.region);
        self.core
            .notifier(NOT_FULL)
            .notify_in(Scope::Shared, u32::MAX);
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.core.capacity)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.core.capacity)
            .finish_non_exhaustive()
    }
}
