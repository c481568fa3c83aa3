//! A lock-free single-producer single-consumer ring: the fastest way to hand
//! values from one thread to another, the `postMessage` of handoff.
//!
//! [`channel`] returns a [`Producer`] and a [`Consumer`]. Each is [`Send`] and
//! not [`Clone`]: exactly one thread pushes and one thread pops at a time.
//!
//! # Progress
//!
//! * `try_push`, `try_pop`, `peek`, the slice and chunk calls: wait-free, a
//!   bounded number of instructions. A call that moves values ends with one
//!   notify of the other side: on Linux a compiler fence and one load (a
//!   read-modify-write where `membarrier(2)` is unavailable), and a system
//!   call only when the other side is parked.
//! * `push`, `pop` and their timed forms: blocking. They spin briefly with
//!   backoff, then park on a [`Notifier`]; the other side's notify costs a
//!   compiler fence and one load unless someone is parked.
//!
//! # Algorithm
//!
//! The classic Lamport ring with cached indices (as in rtrb, Rigtorp's
//! `SPSCQueue` and DPDK's ring). Positions are free-running `usize` counters
//! that wrap at `usize::MAX`; the slot of a position is the position masked by
//! the slot count, a power of two (see `Layout`). The producer alone writes
//! `tail`, the consumer alone writes `head`, each on its own cache line. Each
//! side keeps a copy of the other's index and reloads the shared one only when
//! its copy says the ring is full (producer) or empty (consumer), so in a
//! steady stream most operations touch no line the other side writes.
//!
//! # State words
//!
//! | word     | written by | meaning |
//! |----------|------------|---------|
//! | `tail`   | producer   | positions below it hold values; stored with `Release` after the slot is written |
//! | `head`   | consumer   | positions below it have been taken; stored with `Release` after the slot is read |
//! | `closed` | either drop | `false`: both handles alive; `true`: one is gone (never reset) |
//!
//! Invariant: `head <= tail <= head + capacity` in wrapping arithmetic, so
//! `tail - head` is the length. Slots at positions `head..tail` hold values
//! owned by the ring; all others are uninitialised.
//!
//! # Limitations
//!
//! * The slot array is rounded up to a power of two so that wrapping is a
//!   mask: `channel::<T>(1025)` allocates 2048 slots, of which at most 1025
//!   are used at once.
//! * `push_slice`/`pop_slice` need `T: Copy`; the chunk API works for any `T`.
//!
//! # Example
//!
//! ```
//! # #[cfg(not(feature = "loom"))] fn main() {
//! use handoff::spsc;
//!
//! let (mut tx, mut rx) = spsc::channel::<u64>(64).unwrap();
//! let sender = std::thread::spawn(move || {
//!     for i in 0..1000 {
//!         tx.push(i).unwrap();
//!     }
//! });
//! for i in 0..1000 {
//!     assert_eq!(rx.pop(), Ok(i));
//! }
//! sender.join().unwrap();
//! // The producer is gone and the ring is drained.
//! assert_eq!(rx.pop(), Err(spsc::PopError::Closed));
//! # }
//! # #[cfg(feature = "loom")] fn main() {}
//! ```

mod chunks;

use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ops::Range;
use core::time::Duration;

pub use self::chunks::{ReadChunk, WriteChunk};
pub use crate::error::{PopError, PushError, ZeroCapacity};

use crate::notify::Notifier;
use crate::sync::atomic::AtomicBool;
use crate::sync::atomic::AtomicUsize;
use crate::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::sync::{Arc, Backoff, CachePadded, UnsafeCell};
use crate::wait::{Deadline, Remaining};

/// Creates a ring of `capacity` slots and returns its two ends.
///
/// # Errors
///
/// [`ZeroCapacity`] if `capacity` is 0: such a ring could never move a value.
///
/// # Panics
///
/// If `capacity` rounded up to a power of two overflows `usize`, or the slot
/// array cannot be allocated (like `Vec::with_capacity`).
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::spsc::{self, ZeroCapacity};
///
/// let (mut tx, mut rx) = spsc::channel::<&str>(2).unwrap();
/// tx.try_push("hello").unwrap();
/// assert_eq!(rx.try_pop(), Ok("hello"));
/// assert_eq!(spsc::channel::<u8>(0).unwrap_err(), ZeroCapacity);
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub fn channel<T>(capacity: usize) -> Result<(Producer<T>, Consumer<T>), ZeroCapacity> {
    let ring = Arc::new(Ring::new(Layout::new(capacity)?));
    let producer = Producer {
        ring: ring.clone(),
        tail: 0,
        head_cache: 0,
    };
    let consumer = Consumer {
        ring,
        head: 0,
        tail_cache: 0,
        _shares_t: PhantomData,
    };
    Ok((producer, consumer))
}

/// Where positions land in the slot array: the one place that wraps, masks or
/// measures positions.
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// How many values the ring holds at most.
    capacity: usize,
    /// Slot count minus one; the slot count is a power of two `>= capacity`.
    mask: usize,
}

impl Layout {
    /// The layout for `capacity` values.
    fn new(capacity: usize) -> Result<Self, ZeroCapacity> {
        if capacity == 0 {
            return Err(ZeroCapacity);
        }
        let slots = capacity
            .checked_next_power_of_two()
            .expect("spsc capacity overflows usize when rounded to a power of two");
        Ok(Layout {
            capacity,
            mask: slots - 1,
        })
    }

    /// How many slots the array has.
    #[inline]
    fn slots(self) -> usize {
        self.mask + 1
    }

    /// The slot of position `pos`.
    #[inline]
    fn slot(self, pos: usize) -> usize {
        pos & self.mask
    }

    /// The position `n` after `pos`.
    #[inline]
    fn advance(pos: usize, n: usize) -> usize {
        pos.wrapping_add(n)
    }

    /// How many values lie between `head` and `tail`.
    #[inline]
    fn len(head: usize, tail: usize) -> usize {
        tail.wrapping_sub(head)
    }

    /// How many slots are free between `head` and `tail`.
    #[inline]
    fn free(self, head: usize, tail: usize) -> usize {
        self.capacity - Self::len(head, tail)
    }

    /// The `n` slots from position `pos` as at most two contiguous runs of
    /// the slot array (the second is empty unless the run wraps).
    #[inline]
    #[cfg_attr(feature = "loom", allow(dead_code))] // loom copies cell by cell
    fn runs(self, pos: usize, n: usize) -> (Range<usize>, Range<usize>) {
        let start = self.slot(pos);
        let first = n.min(self.slots() - start);
        (start..start + first, 0..n - first)
    }
}

/// The memory both handles share.
struct Ring<T> {
    /// The consumer's position: see the state table in the module docs.
    head: CachePadded<AtomicUsize>,
    /// The producer's position: see the state table in the module docs.
    tail: CachePadded<AtomicUsize>,
    /// Read-mostly from here on.
    layout: Layout,
    /// Whether a handle has been dropped; see the state table.
    closed: AtomicBool,
    /// The consumer parks here while the ring is empty.
    not_empty: Notifier,
    /// The producer parks here while the ring is full.
    not_full: Notifier,
    /// `layout.slots()` cells; those at positions `head..tail` are initialised.
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: the index protocol gives each slot to one thread at a time, and the
// values it holds are moved from the producer's thread to the consumer's: that
// needs `T: Send` and nothing more, as for any channel. Everything else in the
// ring is atomics.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as for `Send`; shared access goes through atomics, and a slot is
// only touched by the side that owns it under the index protocol.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    fn new(layout: Layout) -> Self {
        Ring {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            layout,
            closed: AtomicBool::new(false),
            not_empty: Notifier::new(),
            not_full: Notifier::new(),
            slots: (0..layout.slots())
                .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
                .collect(),
        }
    }

    /// The cell of position `pos`.
    #[inline]
    fn cell(&self, pos: usize) -> &UnsafeCell<MaybeUninit<T>> {
        let slot = self.layout.slot(pos);
        debug_assert!(slot < self.slots.len());
        // SAFETY: `slot` is masked by `layout.mask`, and `slots` has
        // `mask + 1` cells (built in `new` from the same layout).
        unsafe { self.slots.get_unchecked(slot) }
    }

    /// Moves `value` into the slot of position `pos`.
    ///
    /// # Safety
    ///
    /// The caller is the producer and `pos` is free: `tail <= pos < head +
    /// capacity`, not yet published.
    #[inline]
    unsafe fn write(&self, pos: usize, value: T) {
        // SAFETY: the caller owns the free slot, so no one else reads or
        // writes it until it is published with the `Release` store of `tail`.
        self.cell(pos).with_mut(|p| unsafe { (*p).write(value) });
    }

    /// Moves the value out of the slot of position `pos`.
    ///
    /// # Safety
    ///
    /// The caller is the consumer and `pos` holds a value: `head <= pos <
    /// tail`, with `tail` loaded with `Acquire`; the slot is then uninitialised
    /// and the caller must not read it again.
    #[inline]
    unsafe fn read(&self, pos: usize) -> T {
        // SAFETY: the `Acquire` load of `tail` that showed `pos < tail`
        // synchronised with the producer's `Release` store after the write;
        // the producer will not touch the slot until `head` passes it.
        self.cell(pos).with(|p| unsafe { (*p).assume_init_read() })
    }

    /// A shared reference to the value at position `pos`.
    ///
    /// # Safety
    ///
    /// As for [`read`](Self::read), and the slot must stay unreleased (`head`
    /// not past `pos`) while the reference lives.
    #[inline]
    unsafe fn get(&self, pos: usize) -> &T {
        // SAFETY: initialised and owned by the consumer (the caller's
        // contract); the producer does not write it while it is unreleased.
        self.cell(pos).with(|p| unsafe { (*p).assume_init_ref() })
    }

    /// Marks the ring closed and wakes a peer parked on `peer`.
    fn close(&self, peer: &Notifier) {
        // Release pairs with the Acquire loads of `closed` in the peer's
        // `ready` checks: the last index store of this side is visible once
        // the peer sees `closed`.
        self.closed.store(true, Release);
        peer.notify_all();
    }

    /// Whether a handle has been dropped, for callers that then reload the
    /// other side's index.
    #[inline]
    fn is_closed(&self) -> bool {
        // Acquire pairs with the Release store in `close`.
        self.closed.load(Acquire)
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // The last handle is gone (Arc's drop orders every earlier access
        // before this), so Relaxed reads the final positions.
        let head = self.head.load(Relaxed);
        let tail = self.tail.load(Relaxed);
        let mut pos = head;
        while pos != tail {
            // SAFETY: positions `head..tail` hold values (the ring's
            // invariant), and no handle is left to read them.
            drop(unsafe { self.read(pos) });
            pos = Layout::advance(pos, 1);
        }
    }
}

/// The pushing end of a ring made by [`channel`].
///
/// Dropping it closes the ring: the consumer drains what is left, then gets
/// [`PopError::Closed`].
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::spsc::{self, PopError, Producer};
///
/// let (tx, mut rx) = spsc::channel::<u32>(4).unwrap();
/// // The producer can move to another thread, and closes the ring when done.
/// let sender = std::thread::spawn(move || {
///     let mut tx: Producer<u32> = tx;
///     for i in 1..=3 {
///         tx.push(i).unwrap();
///     }
/// });
/// let mut got = Vec::new();
/// while let Ok(v) = rx.pop() {
///     got.push(v);
/// }
/// assert_eq!(got, [1, 2, 3]);
/// assert_eq!(rx.try_pop(), Err(PopError::Closed));
/// sender.join().unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "dropping the producer closes the ring"]
pub struct Producer<T> {
    ring: Arc<Ring<T>>,
    /// The next position to write; equal to the shared `tail`, which only
    /// this handle stores.
    tail: usize,
    /// The consumer's `head` as last loaded; never ahead of the real one.
    head_cache: usize,
}

impl<T> Producer<T> {
    /// Pushes `value` if there is a free slot, without waiting.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] if every slot holds a value, [`PushError::Closed`]
    /// if the consumer is gone; both hand `value` back.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::spsc::{self, PushError};
    ///
    /// let (mut tx, rx) = spsc::channel(1).unwrap();
    /// assert_eq!(tx.try_push(1), Ok(()));
    /// assert_eq!(tx.try_push(2), Err(PushError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_push(3), Err(PushError::Closed(3)));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), PushError<T>> {
        // Relaxed: a consumer that is about to close may still see this
        // value; the ring then drops it with the rest.
        if self.ring.closed.load(Relaxed) {
            return Err(PushError::Closed(value));
        }
        if self.free_slots(1) == 0 {
            return Err(PushError::Full(value));
        }
        // SAFETY: `free_slots` found the slot at `tail` free.
        unsafe { self.ring.write(self.tail, value) };
        self.publish(1);
        Ok(())
    }

    /// Pushes `value`, waiting while the ring is full.
    ///
    /// Spins briefly, then parks until the consumer frees a slot.
    ///
    /// # Errors
    ///
    /// [`PushError::Closed`] with `value` if the consumer is gone (or goes
    /// while this waits).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::spsc;
    ///
    /// let (mut tx, mut rx) = spsc::channel(1).unwrap();
    /// let t = std::thread::spawn(move || {
    ///     tx.push(1).unwrap();
    ///     tx.push(2).unwrap(); // waits until 1 is popped
    /// });
    /// assert_eq!(rx.pop(), Ok(1));
    /// assert_eq!(rx.pop(), Ok(2));
    /// t.join().unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn push(&mut self, value: T) -> Result<(), PushError<T>> {
        match self.try_push(value) {
            Err(PushError::Full(value)) => self.push_contended(value, None),
            done => done,
        }
    }

    /// Pushes `value`, waiting at most `timeout` while the ring is full.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] if the ring was still full at the deadline (never
    /// before it), [`PushError::Closed`] if the consumer is gone; both hand
    /// `value` back.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::time::Duration;
    /// use handoff::spsc::{self, PushError};
    ///
    /// let (mut tx, _rx) = spsc::channel(1).unwrap();
    /// tx.push(1).unwrap();
    /// let full = tx.push_timeout(2, Duration::from_millis(1));
    /// assert_eq!(full, Err(PushError::Full(2)));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn push_timeout(&mut self, value: T, timeout: Duration) -> Result<(), PushError<T>> {
        match self.try_push(value) {
            Err(PushError::Full(value)) => self.push_contended(value, Some(timeout)),
            done => done,
        }
    }

    /// The blocking path of `push`: spin, then park on `not_full`.
    #[cold]
    fn push_contended(
        &mut self,
        mut value: T,
        timeout: Option<Duration>,
    ) -> Result<(), PushError<T>> {
        let deadline = Deadline::after(timeout);

        // Spin: a busy consumer frees a slot within a few hundred nanoseconds,
        // far sooner than a park and wake (several microseconds).
        let mut backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            match self.try_push(value) {
                Err(PushError::Full(v)) => value = v,
                done => return done,
            }
        }

        // Park until a slot is free, the consumer is gone, or the deadline.
        loop {
            let Some(timeout) = time_left(&deadline) else {
                return self.try_push(value);
            };
            let (ring, tail) = (&*self.ring, self.tail);
            let ready = ring.not_full.wait_until(
                || ring.is_closed() || ring.layout.free(ring.head.load(Acquire), tail) > 0,
                timeout,
            );
            match self.try_push(value) {
                Err(PushError::Full(v)) if ready => value = v,
                done => return done,
            }
        }
    }

    /// How many values fit now, reloading the consumer's `head` only if the
    /// cached copy shows fewer than `wanted` free slots.
    #[inline]
    fn free_slots(&mut self, wanted: usize) -> usize {
        let free = self.ring.layout.free(self.head_cache, self.tail);
        if free >= wanted {
            return free;
        }
        // Acquire pairs with the consumer's Release store of `head` in
        // `Consumer::release`: its reads of the freed slots happen before our
        // next writes to them.
        self.head_cache = self.ring.head.load(Acquire);
        self.ring.layout.free(self.head_cache, self.tail)
    }

    /// Publishes the `n` values written after `tail` and notifies the consumer.
    #[inline]
    fn publish(&mut self, n: usize) {
        self.tail = Layout::advance(self.tail, n);
        // Release pairs with the consumer's Acquire load of `tail` in
        // `Consumer::ready_slots` (and its park check): the slot writes happen
        // before the consumer reads them.
        self.ring.tail.store(self.tail, Release);
        self.ring.not_empty.notify_one();
    }

    /// How many values the ring can hold at once.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (tx, _rx) = handoff::spsc::channel::<u8>(3).unwrap();
    /// assert_eq!(tx.capacity(), 3);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn capacity(&self) -> usize {
        self.ring.layout.capacity
    }

    /// How many values are in the ring: exact for values pushed by this
    /// handle, and at least as many as the consumer has left.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, _rx) = handoff::spsc::channel(3).unwrap();
    /// tx.try_push(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn len(&self) -> usize {
        // Relaxed: a snapshot; `head` only grows toward `tail`, so it can
        // only overstate the length.
        Layout::len(self.ring.head.load(Relaxed), self.tail)
    }

    /// Whether the ring holds no value (a snapshot, see [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, mut rx) = handoff::spsc::channel(2).unwrap();
    /// assert!(tx.is_empty());
    /// tx.try_push(1).unwrap();
    /// assert!(!tx.is_empty());
    /// rx.try_pop().unwrap();
    /// assert!(tx.is_empty());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every slot holds a value (a snapshot, see [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, _rx) = handoff::spsc::channel(2).unwrap();
    /// tx.try_push(1).unwrap();
    /// assert!(!tx.is_full());
    /// tx.try_push(2).unwrap();
    /// assert!(tx.is_full());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// Whether the consumer is gone.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (tx, rx) = handoff::spsc::channel::<u8>(1).unwrap();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_closed(&self) -> bool {
        self.ring.is_closed()
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        self.ring.close(&self.ring.not_empty);
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Atomic snapshots only; no slot is read.
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The popping end of a ring made by [`channel`].
///
/// Dropping it closes the ring: the producer's pushes fail with
/// [`PushError::Closed`], and values still in the ring are dropped when the
/// producer goes too.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::spsc::{self, Consumer, PushError};
///
/// let (mut tx, rx) = spsc::channel::<String>(4).unwrap();
/// // The consumer can move to another thread; dropping it there closes the ring.
/// let worker = std::thread::spawn(move || {
///     let mut rx: Consumer<String> = rx;
///     rx.pop().unwrap().len()
/// });
/// tx.push(String::from("four")).unwrap();
/// assert_eq!(worker.join().unwrap(), 4);
/// let refused = tx.try_push(String::from("late")).unwrap_err();
/// assert!(matches!(refused, PushError::Closed(_)));
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "dropping the consumer closes the ring"]
pub struct Consumer<T> {
    ring: Arc<Ring<T>>,
    /// The next position to read; equal to the shared `head`, which only
    /// this handle stores.
    head: usize,
    /// The producer's `tail` as last loaded; never ahead of the real one.
    tail_cache: usize,
    /// Opts out of the automatic `Sync`: see the impls below.
    _shares_t: PhantomData<*const T>,
}

// SAFETY: sending the consumer sends the right to take values out of the
// ring, which `T: Send` allows, as for any channel receiver.
unsafe impl<T: Send> Send for Consumer<T> {}
// SAFETY: through `&Consumer` a thread can read atomics and get `&T` (`peek`,
// `ReadChunk::as_slices`), so sharing it needs `T: Sync` besides `T: Send`.
unsafe impl<T: Send + Sync> Sync for Consumer<T> {}

impl<T> Consumer<T> {
    /// Pops the oldest value, without waiting.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] if the ring holds no value, [`PopError::Closed`] if
    /// it holds none and the producer is gone.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::spsc::{self, PopError};
    ///
    /// let (mut tx, mut rx) = spsc::channel(2).unwrap();
    /// assert_eq!(rx.try_pop(), Err(PopError::Empty));
    /// tx.try_push('a').unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_pop(), Ok('a'));
    /// assert_eq!(rx.try_pop(), Err(PopError::Closed));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn try_pop(&mut self) -> Result<T, PopError> {
        if self.ready_slots(1) == 0 {
            return self.pop_when_empty();
        }
        // SAFETY: `ready_slots` found a value at `head`.
        let value = unsafe { self.ring.read(self.head) };
        self.release(1);
        Ok(value)
    }

    /// `try_pop` found nothing: tell `Empty` from `Closed`, popping a value
    /// the producer pushed just before it closed.
    #[cold]
    fn pop_when_empty(&mut self) -> Result<T, PopError> {
        if !self.ring.is_closed() {
            return Err(PopError::Empty);
        }
        // The producer's last `tail` store happened before it closed, so
        // this reload sees it.
        if self.ready_slots(1) == 0 {
            return Err(PopError::Closed);
        }
        // SAFETY: `ready_slots` found a value at `head`.
        let value = unsafe { self.ring.read(self.head) };
        self.release(1);
        Ok(value)
    }

    /// Pops the oldest value, waiting while the ring is empty.
    ///
    /// Spins briefly, then parks until the producer pushes.
    ///
    /// # Errors
    ///
    /// [`PopError::Closed`] once the producer is gone and the ring is drained.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, mut rx) = handoff::spsc::channel(4).unwrap();
    /// std::thread::spawn(move || tx.push(42).unwrap());
    /// assert_eq!(rx.pop(), Ok(42));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn pop(&mut self) -> Result<T, PopError> {
        match self.try_pop() {
            Err(PopError::Empty) => self.pop_contended(None),
            done => done,
        }
    }

    /// Pops the oldest value, waiting at most `timeout` while the ring is
    /// empty.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] if the ring was still empty at the deadline (never
    /// before it), [`PopError::Closed`] once the producer is gone and the ring
    /// is drained.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::time::Duration;
    /// use handoff::spsc::{self, PopError};
    ///
    /// let (_tx, mut rx) = spsc::channel::<u8>(1).unwrap();
    /// assert_eq!(rx.pop_timeout(Duration::from_millis(1)), Err(PopError::Empty));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn pop_timeout(&mut self, timeout: Duration) -> Result<T, PopError> {
        match self.try_pop() {
            Err(PopError::Empty) => self.pop_contended(Some(timeout)),
            done => done,
        }
    }

    /// The blocking path of `pop`: spin, then park on `not_empty`.
    #[cold]
    fn pop_contended(&mut self, timeout: Option<Duration>) -> Result<T, PopError> {
        let deadline = Deadline::after(timeout);

        // Spin: a busy producer pushes within a few hundred nanoseconds, far
        // sooner than a park and wake (several microseconds).
        let mut backoff = Backoff::new();
        while !backoff.is_completed() {
            backoff.snooze();
            match self.try_pop() {
                Err(PopError::Empty) => {}
                done => return done,
            }
        }

        // Park until a value arrives, the producer is gone, or the deadline.
        loop {
            let Some(timeout) = time_left(&deadline) else {
                return self.try_pop();
            };
            let (ring, head) = (&*self.ring, self.head);
            let ready = ring.not_empty.wait_until(
                || ring.is_closed() || Layout::len(head, ring.tail.load(Acquire)) > 0,
                timeout,
            );
            match self.try_pop() {
                Err(PopError::Empty) if ready => {}
                done => return done,
            }
        }
    }

    /// A reference to the oldest value, without popping it.
    ///
    /// # Errors
    ///
    /// As for [`try_pop`](Self::try_pop): [`PopError::Empty`] or
    /// [`PopError::Closed`].
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, mut rx) = handoff::spsc::channel(2).unwrap();
    /// tx.try_push(String::from("hi")).unwrap();
    /// assert_eq!(rx.peek().map(|s| s.as_str()), Ok("hi"));
    /// assert_eq!(rx.try_pop().as_deref(), Ok("hi"));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn peek(&self) -> Result<&T, PopError> {
        // Acquire pairs with the producer's Release store in `publish`.
        let ready = Layout::len(self.head, self.tail_cache) > 0
            || Layout::len(self.head, self.ring.tail.load(Acquire)) > 0;
        if !ready {
            // As in `pop_when_empty`: after seeing `closed`, reload `tail`.
            let closed = self.ring.is_closed();
            if !closed || Layout::len(self.head, self.ring.tail.load(Acquire)) == 0 {
                return Err(if closed {
                    PopError::Closed
                } else {
                    PopError::Empty
                });
            }
        }
        // SAFETY: a value is at `head` (checked above through an Acquire load
        // of `tail`), and `&self` keeps `pop` from releasing it while the
        // reference lives.
        Ok(unsafe { self.ring.get(self.head) })
    }

    /// How many values can be popped now, reloading the producer's `tail`
    /// only if the cached copy shows fewer than `wanted`.
    #[inline]
    fn ready_slots(&mut self, wanted: usize) -> usize {
        let ready = Layout::len(self.head, self.tail_cache);
        if ready >= wanted {
            return ready;
        }
        // Acquire pairs with the producer's Release store of `tail` in
        // `Producer::publish`: its slot writes happen before our reads.
        self.tail_cache = self.ring.tail.load(Acquire);
        Layout::len(self.head, self.tail_cache)
    }

    /// Hands the `n` slots read after `head` back to the producer and
    /// notifies it.
    #[inline]
    fn release(&mut self, n: usize) {
        self.head = Layout::advance(self.head, n);
        // Release pairs with the producer's Acquire load of `head` in
        // `Producer::free_slots` (and its park check): our reads of the slots
        // happen before the producer overwrites them.
        self.ring.head.store(self.head, Release);
        self.ring.not_full.notify_one();
    }

    /// How many values the ring can hold at once.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (_tx, rx) = handoff::spsc::channel::<u8>(1025).unwrap();
    /// assert_eq!(rx.capacity(), 1025, "not the rounded-up slot count");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn capacity(&self) -> usize {
        self.ring.layout.capacity
    }

    /// How many values are in the ring: at least as many as this handle can
    /// pop now (a snapshot; the producer may push more).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, rx) = handoff::spsc::channel(3).unwrap();
    /// tx.try_push(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn len(&self) -> usize {
        // Relaxed: a snapshot; `tail` only grows away from `head`, so it can
        // only understate the length.
        Layout::len(self.head, self.ring.tail.load(Relaxed))
    }

    /// Whether the ring holds no value (a snapshot, see [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, mut rx) = handoff::spsc::channel(2).unwrap();
    /// assert!(rx.is_empty());
    /// tx.try_push('a').unwrap();
    /// assert!(!rx.is_empty());
    /// rx.try_pop().unwrap();
    /// assert!(rx.is_empty());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every slot holds a value (a snapshot, see [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, mut rx) = handoff::spsc::channel(1).unwrap();
    /// tx.try_push('a').unwrap();
    /// assert!(rx.is_full());
    /// rx.try_pop().unwrap();
    /// assert!(!rx.is_full());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// Whether the producer is gone. Values it pushed before may still be
    /// in the ring.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (tx, rx) = handoff::spsc::channel::<u8>(1).unwrap();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_closed(&self) -> bool {
        self.ring.is_closed()
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        self.ring.close(&self.ring.not_full);
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Atomic snapshots only; no slot is read.
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The timeout for the next park: `Some(None)` for none, `None` once the
/// deadline has passed.
#[inline]
fn time_left(deadline: &Deadline) -> Option<Option<Duration>> {
    match deadline.remaining() {
        Remaining::Forever => Some(None),
        Remaining::Left(left) => Some(Some(left)),
        Remaining::Passed => None,
    }
}
