//! A single-producer single-consumer ring of plain-data elements in a region.
//!
//! The algorithm is the classic Lamport ring with cached indices (as in rtrb):
//! two monotonic 64-bit indices, each written by one side only, on their own
//! control lines; an element lives at `index & mask` of a power-of-two slot
//! array, and at most `capacity` elements are in flight.
//!
//! # Trust
//!
//! Each side keeps its own index privately and only ever reads the other's
//! from the region. An index read from the region is checked before use: if
//! `tail - head` exceeds the capacity, the peer wrote nonsense and the ring
//! reports [`Closed`](crate::error::PopError::Closed) from then on. A slot's
//! position is always `index & mask` with the private mask, so no value in the
//! region can move an access outside the slot array; a peer scribbling over
//! slots can only produce wrong elements, and every bit pattern is a valid
//! element (`T: Pod`).
//!
//! # Index words
//!
//! | word   | line | written by | meaning                                  |
//! |--------|------|------------|------------------------------------------|
//! | `head` | 0    | consumer   | elements popped so far (wrapping `u64`)  |
//! | `tail` | 1    | producer   | elements pushed so far (wrapping `u64`)  |
//!
//! `tail - head` is the number of elements in the ring, `0..=capacity`.

use core::cell::Cell;
use core::fmt;
use core::marker::PhantomData;
use core::time::Duration;
use std::path::Path;
use std::sync::Arc;

use bytemuck::Pod;

use super::layout::{line, Fingerprint, Kind};
use super::liveness::{self, Peer, Role};
use super::park::{Blocked, ProbeClock};
use super::region::Region;
use super::ShmError;
use crate::error::{PopError, PushError};
use crate::notify::Notifier;
use crate::sync::atomic::AtomicU64;
use crate::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::wait::Scope;

/// The producer's role slot.
const PRODUCER: core::ops::Range<usize> = 0..1;
/// The consumer's role slot.
const CONSUMER: core::ops::Range<usize> = 1..2;
/// Control line of the consumer's index.
const HEAD: u64 = line(0);
/// Control line of the producer's index.
const TAIL: u64 = line(1);
/// Notifier the consumer parks on when the ring is empty.
const NOT_EMPTY: u64 = line(2);
/// Notifier the producer parks on when the ring is full.
const NOT_FULL: u64 = line(3);

/// An SPSC ring in a shared region: the handle from which a process claims
/// its [`Producer`] or [`Consumer`].
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::shm::spsc::Spsc;
///
/// let path = std::env::temp_dir().join(format!("doc-spsc-{}", std::process::id()));
/// let ring = Spsc::<u64>::create(&path, 4, 7).unwrap();
/// let mut tx = ring.producer().unwrap();
/// // In another process: Spsc::<u64>::open(&path, 7)?.consumer()?
/// let mut rx = Spsc::<u64>::open(&path, 7).unwrap().consumer().unwrap();
/// tx.try_push(5).unwrap();
/// assert_eq!(rx.try_pop(), Ok(5));
/// handoff::shm::remove(&path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub struct Spsc<T> {
    region: Arc<Region>,
    _elements: PhantomData<fn() -> T>,
}

impl<T: Pod> Spsc<T> {
    /// Creates a region at `path` holding a ring of `capacity` elements of
    /// `T`, stamped with the caller's `tag` (any number that names `T` for
    /// the processes involved; [`open`](Self::open) must pass the same).
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
    /// use handoff::shm::{spsc::Spsc, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-create-{}", std::process::id()));
    /// assert_eq!(Spsc::<u64>::create(&path, 0, 1).unwrap_err(), ShmError::ZeroCapacity);
    /// let ring = Spsc::<u64>::create(&path, 100, 1).unwrap();
    /// assert_eq!(ring.capacity(), 100);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn create(path: impl AsRef<Path>, capacity: usize, tag: u64) -> Result<Self, ShmError> {
        let print = Fingerprint {
            kind: Kind::Spsc,
            elem_size: core::mem::size_of::<T>() as u64,
            elem_align: core::mem::align_of::<T>() as u64,
            tag,
            capacity: capacity as u64,
            extra: 0,
        };
        // A zero-filled file is an empty ring: nothing to initialise.
        let region = Region::create(path.as_ref(), print, |_| {})?;
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
    /// use handoff::shm::{spsc::Spsc, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-open-{}", std::process::id()));
    /// let _created = Spsc::<[u8; 4]>::create(&path, 8, 0x51).unwrap();
    /// assert!(Spsc::<[u8; 4]>::open(&path, 0x51).is_ok());
    /// // Another tag, or another element type, is refused.
    /// assert_eq!(Spsc::<[u8; 4]>::open(&path, 0x52).unwrap_err(), ShmError::Mismatch("type tag"));
    /// assert_eq!(Spsc::<u64>::open(&path, 0x51).unwrap_err(), ShmError::Mismatch("element size"));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn open(path: impl AsRef<Path>, tag: u64) -> Result<Self, ShmError> {
        let region = Region::open(
            path.as_ref(),
            Kind::Spsc,
            core::mem::size_of::<T>() as u64,
            core::mem::align_of::<T>() as u64,
            tag,
        )?;
        Ok(Self::wrap(region))
    }

    fn wrap(region: Region) -> Self {
        Spsc {
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
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-cap-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 5, 0).unwrap();
    /// assert_eq!(ring.capacity(), 5);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn capacity(&self) -> usize {
        self.region.layout().print.capacity as usize
    }

    /// Claims the producer role.
    ///
    /// # Errors
    ///
    /// [`ShmError::RoleTaken`] if a producer was ever claimed in this region,
    /// by any process; [`ShmError::Corrupt`] if the indices are inconsistent.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{spsc::Spsc, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-producer-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 2, 0).unwrap();
    /// let tx = ring.producer().unwrap();
    /// assert_eq!(ring.producer().unwrap_err(), ShmError::RoleTaken);
    /// // A role is claimed once: dropping the producer closes the ring for good.
    /// drop(tx);
    /// assert_eq!(ring.producer().unwrap_err(), ShmError::RoleTaken);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn producer(&self) -> Result<Producer<T>, ShmError> {
        let role = Role::claim(&self.region, PRODUCER)?;
        let (core, head) = Core::new(Arc::clone(&self.region), role, true)?;
        Ok(Producer {
            // The head checked against the tail in `Core::new`, not a second
            // read that a peer could have changed in between.
            head_cache: head,
            core,
        })
    }

    /// Claims the consumer role.
    ///
    /// # Errors
    ///
    /// As for [`producer`](Self::producer).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{spsc::Spsc, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-consumer-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 2, 0).unwrap();
    /// let _rx = ring.consumer().unwrap();
    /// let again = Spsc::<u32>::open(&path, 0).unwrap(); // another process, typically
    /// assert_eq!(again.consumer().unwrap_err(), ShmError::RoleTaken);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn consumer(&self) -> Result<Consumer<T>, ShmError> {
        let role = Role::claim(&self.region, CONSUMER)?;
        let (core, _tail) = Core::new(Arc::clone(&self.region), role, false)?;
        Ok(Consumer {
            tail_cache: core.mine,
            core,
        })
    }
}

impl<T> fmt::Debug for Spsc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spsc")
            .field("capacity", &self.region.layout().print.capacity)
            .finish_non_exhaustive()
    }
}

/// What both ends hold: the region, the role, private copies of the
/// geometry and of the end's own index.
struct Core<T> {
    region: Arc<Region>,
    role: Role,
    slots: *mut T,
    mask: u64,
    capacity: u64,
    /// This end's own index (tail for the producer, head for the consumer).
    mine: u64,
    /// Set once the peer wrote an impossible index: the ring is closed.
    broken: Cell<bool>,
    probes: ProbeClock,
}

// SAFETY: `slots` points into the region that `Core` keeps alive; the handle
// may move to another thread, which reaches the memory the same way.
unsafe impl<T: Send> Send for Core<T> {}

impl<T> Core<T> {
    /// The end's core, starting from the indices as they are; also returns
    /// the other end's index as checked against this end's.
    fn new(region: Arc<Region>, role: Role, producer: bool) -> Result<(Self, u64), ShmError> {
        let l = *region.layout();
        let slots = region.ptr::<T>(l.data_off);
        let mut core = Core {
            region,
            role,
            slots,
            mask: l.slots - 1,
            capacity: l.print.capacity,
            mine: 0,
            broken: Cell::new(false),
            probes: ProbeClock::default(),
        };

        // Start from the indices as they are, if they make sense together.
        // Acquire pairs with the peer's Release index stores.
        let head = core.head_word().load(Acquire);
        let tail = core.tail_word().load(Acquire);
        if !core.in_range(tail.wrapping_sub(head)) {
            core.role.leave(&core.region);
            return Err(ShmError::Corrupt("ring indices"));
        }
        let (mine, other) = if producer { (tail, head) } else { (head, tail) };
        core.mine = mine;
        Ok((core, other))
    }

    /// Whether `len` is a possible number of elements in the ring.
    #[inline]
    fn in_range(&self, len: u64) -> bool {
        len <= self.capacity
    }

    /// The number of elements between `head` and `tail`, if that is a
    /// possible one; otherwise the peer wrote nonsense, and the ring is
    /// closed from now on.
    #[inline]
    fn checked_len(&self, head: u64, tail: u64) -> Option<u64> {
        let len = tail.wrapping_sub(head);
        if self.broken.get() || !self.in_range(len) {
            self.broken.set(true);
            return None;
        }
        Some(len)
    }

    /// Whether the side holding `range` is closed: the ring was broken, or
    /// every holder left, or (probing its lock at most once per
    /// [`PROBE_INTERVAL`](super::PROBE_INTERVAL)) died.
    #[cold]
    fn other_side_closed(&self, range: core::ops::Range<usize>) -> bool {
        let peer = if self.probes.due() {
            liveness::probe(&self.region, range)
        } else {
            liveness::peer(&self.region, range)
        };
        self.broken.get() || peer == Peer::Closed
    }

    /// The slot of `index`: the one place an index becomes an address.
    #[inline]
    fn slot(&self, index: u64) -> *mut T {
        // `index & mask` < slots, and the layout checked that `slots`
        // elements fit in the mapping after `data_off`.
        self.slots.wrapping_add((index & self.mask) as usize)
    }

    #[inline]
    fn head_word(&self) -> &AtomicU64 {
        self.region.atomic(HEAD)
    }

    #[inline]
    fn tail_word(&self) -> &AtomicU64 {
        self.region.atomic(TAIL)
    }

    #[inline]
    fn notifier(&self, off: u64) -> &Notifier {
        self.region.atomic(off)
    }
}

/// The producing end of a shared [`Spsc`] ring.
///
/// Dropping it closes the ring for the consumer, which still pops every
/// element pushed before.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::error::PopError;
/// use handoff::shm::spsc::Spsc;
///
/// let path = std::env::temp_dir().join(format!("doc-spsc-prod-{}", std::process::id()));
/// let ring = Spsc::<u32>::create(&path, 2, 0).unwrap();
/// let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
/// tx.push(1).unwrap();
/// drop(tx);
/// assert_eq!(rx.pop(), Ok(1));
/// assert_eq!(rx.pop(), Err(PopError::Closed));
/// handoff::shm::remove(&path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "dropping the producer closes the ring"]
pub struct Producer<T> {
    core: Core<T>,
    head_cache: u64,
}

impl<T: Pod> Producer<T> {
    /// Pushes `value` if there is room, without blocking.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] when the ring is full, [`PushError::Closed`] when
    /// the consumer is gone (dropped, or found dead: see the
    /// [module docs](super) on liveness) or wrote an impossible index.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::error::PushError;
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-trypush-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 1, 0).unwrap();
    /// let (mut tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// assert_eq!(tx.try_push(1), Ok(()));
    /// assert_eq!(tx.try_push(2), Err(PushError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_push(3), Err(PushError::Closed(3)));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), PushError<T>> {
        // A consumer that left cleanly, seen in its role word (one load).
        if self.core.broken.get() || liveness::peer(&self.core.region, CONSUMER) == Peer::Closed {
            return Err(PushError::Closed(value));
        }

        // Room, first by the cached head, then by the consumer's real one.
        let tail = self.core.mine;
        if tail.wrapping_sub(self.head_cache) >= self.core.capacity && !self.refresh_head() {
            return Err(self.full_or_closed(value));
        }

        // Write the element, then publish it.
        // SAFETY: `slot` is inside the slot array (see `Core::slot`); the
        // consumer does not read it before the tail store below, and a
        // misbehaving peer can only race on plain bytes through raw pointers.
        unsafe { core::ptr::write_volatile(self.core.slot(tail), value) };
        self.core.mine = tail.wrapping_add(1);
        // Release pairs with the consumer's Acquire load of the tail.
        self.core.tail_word().store(self.core.mine, Release);
        self.core.notifier(NOT_EMPTY).notify_in(Scope::Shared, 1);
        Ok(())
    }

    /// Rereads the consumer's head; whether there is room now.
    #[cold]
    fn refresh_head(&mut self) -> bool {
        // Acquire pairs with the consumer's Release store of the head, so its
        // reads of the freed slots are done before we overwrite them.
        let head = self.core.head_word().load(Acquire);
        let Some(len) = self.core.checked_len(head, self.core.mine) else {
            return false;
        };
        self.head_cache = head;
        len < self.core.capacity
    }

    /// The error for a full ring: `Closed` if the consumer turns out dead.
    #[cold]
    fn full_or_closed(&mut self, value: T) -> PushError<T> {
        if self.core.other_side_closed(CONSUMER) {
            return PushError::Closed(value);
        }
        PushError::Full(value)
    }

    /// Pushes `value`, blocking while the ring is full.
    ///
    /// # Errors
    ///
    /// [`PushError::Closed`] when the consumer is gone; it is noticed within
    /// about [`PROBE_INTERVAL`](super::PROBE_INTERVAL) of its death.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-push-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 1, 0).unwrap();
    /// let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// std::thread::scope(|s| {
    ///     s.spawn(move || {
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
    pub fn push(&mut self, value: T) -> Result<(), PushError<T>> {
        match self.try_push(value) {
            Err(PushError::Full(value)) => self.push_slow(value, None),
            other => other,
        }
    }

    /// Pushes `value`, blocking for at most `timeout` while the ring is full.
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
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-pusht-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 1, 0).unwrap();
    /// let (mut tx, _rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// tx.push(1).unwrap();
    /// let full = tx.push_timeout(2, Duration::from_millis(1));
    /// assert_eq!(full, Err(PushError::Full(2)));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn push_timeout(&mut self, value: T, timeout: Duration) -> Result<(), PushError<T>> {
        match self.try_push(value) {
            Err(PushError::Full(value)) => self.push_slow(value, Some(timeout)),
            other => other,
        }
    }

    /// The blocking path of `push`: spin, then park on `NOT_FULL` in probe
    /// slices until `timeout` passes (`None`: never).
    #[cold]
    fn push_slow(&mut self, mut value: T, timeout: Option<Duration>) -> Result<(), PushError<T>> {
        let mut blocked = Blocked::new(timeout);
        loop {
            // Probe a consumer that may have died without leaving.
            if blocked.probe_due() && liveness::probe(&self.core.region, CONSUMER) == Peer::Closed {
                return Err(PushError::Closed(value));
            }

            // Spin or park until the consumer frees a slot (or leaves).
            let core = &self.core;
            let tail = core.mine;
            let ready = || {
                // Acquire pairs with the consumer's Release head store.
                tail.wrapping_sub(core.head_word().load(Acquire)) < core.capacity
                    || liveness::peer(&core.region, CONSUMER) == Peer::Closed
            };
            if !blocked.pause(core.notifier(NOT_FULL), ready) {
                return self.try_push(value);
            }

            match self.try_push(value) {
                Err(PushError::Full(back)) => value = back,
                other => return other,
            }
        }
    }

    /// How many elements the ring holds at most.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-pcap-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 3, 0).unwrap();
    /// assert_eq!(ring.producer().unwrap().capacity(), 3);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn capacity(&self) -> usize {
        self.core.capacity as usize
    }

    /// How many elements are in the ring: a snapshot, exact for elements
    /// pushed by this handle, and at least as many as the consumer has left.
    ///
    /// The consumer's index is read from the region and checked: if it is
    /// impossible, the ring is closed from then on and this returns 0.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-plen-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 3, 0).unwrap();
    /// let (mut tx, _rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// tx.push(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn len(&self) -> usize {
        // Relaxed: a snapshot; nothing is read on its strength, and the head
        // only grows toward our tail, so it can only overstate the length.
        let head = self.core.head_word().load(Relaxed);
        self.core.checked_len(head, self.core.mine).unwrap_or(0) as usize
    }

    /// Whether the ring holds no element (a snapshot, see [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-pempty-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 3, 0).unwrap();
    /// let (mut tx, _rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
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

    /// Whether the ring holds `capacity` elements (a snapshot, see
    /// [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-pfull-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 1, 0).unwrap();
    /// let (mut tx, _rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// assert!(!tx.is_full());
    /// tx.push(1).unwrap();
    /// assert!(tx.is_full());
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// Whether the consumer is gone: it dropped its handle, or died (its lock
    /// is probed at most once per [`PROBE_INTERVAL`](super::PROBE_INTERVAL)),
    /// or wrote an impossible index. Pushes then return
    /// [`PushError::Closed`].
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-pclosed-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 2, 0).unwrap();
    /// let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_closed(&self) -> bool {
        self.core.other_side_closed(CONSUMER)
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        // Leave (publishing the last tail), then wake a parked consumer.
        self.core.role.leave(&self.core.region);
        self.core
            .notifier(NOT_EMPTY)
            .notify_in(Scope::Shared, u32::MAX);
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("pushed", &self.core.mine)
            .field("capacity", &self.core.capacity)
            .finish_non_exhaustive()
    }
}

/// The consuming end of a shared [`Spsc`] ring.
///
/// Dropping it closes the ring for the producer.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::error::PushError;
/// use handoff::shm::spsc::Spsc;
///
/// let path = std::env::temp_dir().join(format!("doc-spsc-cons-{}", std::process::id()));
/// let ring = Spsc::<u32>::create(&path, 2, 0).unwrap();
/// let (mut tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
/// drop(rx);
/// assert_eq!(tx.push(1), Err(PushError::Closed(1)));
/// handoff::shm::remove(&path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "dropping the consumer closes the ring"]
pub struct Consumer<T> {
    core: Core<T>,
    tail_cache: u64,
}

impl<T: Pod> Consumer<T> {
    /// Pops the oldest element, without blocking.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] when the ring is empty; [`PopError::Closed`] when
    /// it is empty and the producer is gone, or when the producer wrote an
    /// impossible index.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::error::PopError;
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-trypop-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 2, 0).unwrap();
    /// let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// assert_eq!(rx.try_pop(), Err(PopError::Empty));
    /// tx.push(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_pop(), Ok(1));
    /// assert_eq!(rx.try_pop(), Err(PopError::Closed));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn try_pop(&mut self) -> Result<T, PopError> {
        // An element, first by the cached tail, then by the producer's.
        let head = self.core.mine;
        if self.tail_cache == head && !self.refresh_tail() {
            return Err(self.empty_or_closed());
        }

        // Read the element, then hand its slot back.
        // SAFETY: `slot` is inside the slot array (see `Core::slot`); the
        // producer wrote it before its Release tail store, which we acquired
        // in `refresh_tail`, and does not rewrite it before our head store.
        let value = unsafe { core::ptr::read_volatile(self.core.slot(head)) };
        self.core.mine = head.wrapping_add(1);
        // Release pairs with the producer's Acquire load of the head.
        self.core.head_word().store(self.core.mine, Release);
        self.core.notifier(NOT_FULL).notify_in(Scope::Shared, 1);
        Ok(value)
    }

    /// Rereads the producer's tail; whether an element is there now.
    #[cold]
    fn refresh_tail(&mut self) -> bool {
        if self.core.broken.get() {
            return false;
        }
        // Acquire pairs with the producer's Release store of the tail.
        let tail = self.core.tail_word().load(Acquire);
        if self.core.checked_len(self.core.mine, tail).is_none() {
            return false;
        }
        self.tail_cache = tail;
        tail != self.core.mine
    }

    /// The error for an empty ring: `Closed` once the producer is gone and
    /// everything it pushed has been popped.
    #[cold]
    fn empty_or_closed(&mut self) -> PopError {
        if self.core.broken.get() {
            return PopError::Closed;
        }
        // The producer's last pushes happened before it left: look again.
        if self.core.other_side_closed(PRODUCER) && !self.refresh_tail() {
            return PopError::Closed;
        }
        PopError::Empty
    }

    /// Pops the oldest element, blocking while the ring is empty.
    ///
    /// # Errors
    ///
    /// [`PopError::Closed`] once the ring is empty and the producer is gone;
    /// a producer's death is noticed within about
    /// [`PROBE_INTERVAL`](super::PROBE_INTERVAL).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::error::PopError;
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-pop-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 2, 0).unwrap();
    /// let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// std::thread::scope(|s| {
    ///     s.spawn(move || tx.push(7).unwrap()); // then drops `tx`
    ///     assert_eq!(rx.pop(), Ok(7));
    ///     assert_eq!(rx.pop(), Err(PopError::Closed));
    /// });
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn pop(&mut self) -> Result<T, PopError> {
        match self.try_pop() {
            Err(PopError::Empty) => self.pop_slow(None),
            other => other,
        }
    }

    /// Pops the oldest element, blocking for at most `timeout`.
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
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-popt-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 2, 0).unwrap();
    /// let (_tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    /// assert_eq!(rx.pop_timeout(Duration::from_millis(1)), Err(PopError::Empty));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn pop_timeout(&mut self, timeout: Duration) -> Result<T, PopError> {
        match self.try_pop() {
            Err(PopError::Empty) => self.pop_slow(Some(timeout)),
            other => other,
        }
    }

    /// The blocking path of `pop`: spin, then park on `NOT_EMPTY` in probe
    /// slices until `timeout` passes (`None`: never).
    #[cold]
    fn pop_slow(&mut self, timeout: Option<Duration>) -> Result<T, PopError> {
        let mut blocked = Blocked::new(timeout);
        loop {
            // Probe a producer that may have died without leaving.
            if blocked.probe_due() && liveness::probe(&self.core.region, PRODUCER) == Peer::Closed {
                return self.try_pop();
            }

            // Spin or park until the producer publishes (or leaves).
            let core = &self.core;
            let head = core.mine;
            let ready = || {
                // Acquire pairs with the producer's Release tail store.
                core.tail_word().load(Acquire) != head
                    || liveness::peer(&core.region, PRODUCER) == Peer::Closed
            };
            if !blocked.pause(core.notifier(NOT_EMPTY), ready) {
                return self.try_pop();
            }

            match self.try_pop() {
                Err(PopError::Empty) => {}
                other => return other,
            }
        }
    }

    /// How many elements the ring holds at most.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-ccap-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 3, 0).unwrap();
    /// assert_eq!(ring.consumer().unwrap().capacity(), 3);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn capacity(&self) -> usize {
        self.core.capacity as usize
    }

    /// How many elements are in the ring: a snapshot, at least as many as
    /// this handle can pop now (the producer may push more).
    ///
    /// The producer's index is read from the region and checked: if it is
    /// impossible, the ring is closed from then on and this returns 0.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-clen-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 3, 0).unwrap();
    /// let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
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
        // Relaxed: a snapshot; no element is read on its strength (`try_pop`
        // acquires), and the tail only grows away from our head, so it can
        // only understate the length.
        let tail = self.core.tail_word().load(Relaxed);
        self.core.checked_len(self.core.mine, tail).unwrap_or(0) as usize
    }

    /// Whether the ring holds no element (a snapshot, see [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-cempty-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 3, 0).unwrap();
    /// let (mut tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
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

    /// Whether the ring holds `capacity` elements (a snapshot, see
    /// [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-cfull-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 1, 0).unwrap();
    /// let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
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

    /// Whether the producer is gone: it dropped its handle, or died (its lock
    /// is probed at most once per [`PROBE_INTERVAL`](super::PROBE_INTERVAL)),
    /// or wrote an impossible index. Elements it pushed before may still be
    /// in the ring; [`try_pop`](Self::try_pop) returns [`PopError::Closed`]
    /// once they are popped.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::error::PopError;
    /// use handoff::shm::spsc::Spsc;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-spsc-cclosed-{}", std::process::id()));
    /// let ring = Spsc::<u32>::create(&path, 2, 0).unwrap();
    /// let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
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
        self.core.other_side_closed(PRODUCER)
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        // Leave, then wake a producer parked on a full ring.
        self.core.role.leave(&self.core.region);
        self.core
            .notifier(NOT_FULL)
            .notify_in(Scope::Shared, u32::MAX);
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("popped", &self.core.mine)
            .field("capacity", &self.core.capacity)
            .finish_non_exhaustive()
    }
}
