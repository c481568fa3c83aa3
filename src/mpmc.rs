//! A bounded multi-producer multi-consumer ring: many threads hand values to
//! many threads through a fixed array, without locks.
//!
//! [`channel`] makes a ring of a fixed capacity and returns its two ends. Both
//! [`Producer`] and [`Consumer`] are `Clone + Send + Sync`: clone them to add
//! producers or consumers, share them by reference, or both.
//!
//! # Algorithm
//!
//! Dmitry Vyukov's bounded MPMC queue
//! (<https://www.1024cores.net/home/lock-free-algorithms/queues/bounded-mpmc-queue>):
//! every slot carries a sequence *stamp* that says whose turn it is. A producer
//! at position `p` may write the slot when its stamp is `p`, claims it by
//! moving the tail on with a compare-and-swap, writes the value and sets the
//! stamp to `p + 1`; a consumer at `p` takes the value when the stamp is
//! `p + 1` and hands the slot to the producer of the next lap. crossbeam's
//! `ArrayQueue` is another reading of the same design; this one keeps
//! Vyukov's rule that a thread which finds its slot not yet released reports
//! full or empty instead of spinning, and keeps all index, lap and stamp
//! arithmetic in one helper (`Laps`).
//!
//! The head (consumers) and the tail (producers) live on their own cache
//! lines, each beside the notifier that *its own side* notifies after every
//! move, so the per-operation "is anybody parked?" check reads a line the
//! thread has just written.
//!
//! # Progress
//!
//! * [`try_push`](Producer::try_push) and [`try_pop`](Consumer::try_pop)
//!   never spin and never park. They retry only when a compare-and-swap lost
//!   to another thread, which then made progress.
//! * [`push`](Producer::push) and [`pop`](Consumer::pop) spin briefly, then
//!   yield their core a few dozen times (cheap when threads outnumber
//!   cores), then park on a [`Notifier`]. The timed calls do the same before
//!   their deadline starts, so they may overrun it by those microseconds.
//! * Each value pushed wakes at most one sleeping consumer and each value
//!   popped at most one sleeping producer (a futex wake of one); when nobody
//!   is parked the notify makes no system call. A thread that has announced
//!   itself but not yet gone to sleep also rechecks instead of sleeping: it
//!   was not asleep, so that costs it no wake. A call that succeeds after
//!   parking passes the wake on when the ring shows another ready slot, so a
//!   wake spent on a slot still being written cannot leave a thread asleep
//!   beside a value.
//! * Closing (the last handle of one side dropped) wakes every parked thread
//!   of the other side.
//!
//! # Limitations
//!
//! As in Vyukov's queue, a thread suspended between claiming a slot and
//! publishing it holds up the other side *at that slot*: consumers see the
//! ring as empty there (or producers as full) until it resumes, even if later
//! slots are ready. [`len`](Consumer::len) may count such slots.
//!
//! # Example
//!
//! ```
//! # #[cfg(not(feature = "loom"))] fn main() {
//! use handoff::mpmc::{channel, PopError};
//!
//! let (tx, rx) = channel::<u64>(64).unwrap();
//! std::thread::scope(|s| {
//!     for id in 0..2 {
//!         let tx = tx.clone();
//!         s.spawn(move || {
//!             for i in 0..100 {
//!                 tx.push(id * 1000 + i).unwrap();
//!             }
//!         });
//!     }
//!     drop(tx);
//!     let mut sum = 0;
//!     while let Ok(v) = rx.pop() {
//!         sum += v;
//!     }
//!     assert_eq!(sum, 2 * 4950 + 100 * 1000);
//!     assert_eq!(rx.try_pop(), Err(PopError::Closed));
//! });
//! # }
//! # #[cfg(feature = "loom")] fn main() {}
//! ```

use core::fmt;
use core::mem::MaybeUninit;
use core::time::Duration;

pub use crate::error::{PopError, PushError, ZeroCapacity};
use crate::notify::Notifier;
use crate::sync::atomic::AtomicUsize;
use crate::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use crate::sync::{Arc, Backoff, CachePadded, UnsafeCell};

/// Makes a ring of `capacity` slots and returns its producer and consumer.
///
/// Clone either end for more producers or consumers. The ring is closed for
/// consumers once every [`Producer`] is dropped (they drain what is left, then
/// get [`PopError::Closed`]), and for producers once every [`Consumer`] is
/// dropped (pushes hand the value back in [`PushError::Closed`]).
///
/// # Errors
///
/// [`ZeroCapacity`] if `capacity` is 0.
///
/// # Panics
///
/// If the slots do not fit in memory, as `Vec::with_capacity` does.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::mpmc::{channel, ZeroCapacity};
///
/// let (tx, rx) = channel::<&str>(2).unwrap();
/// tx.try_push("a").unwrap();
/// assert_eq!(rx.try_pop(), Ok("a"));
/// assert_eq!(channel::<u8>(0).unwrap_err(), ZeroCapacity);
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub fn channel<T>(capacity: usize) -> Result<(Producer<T>, Consumer<T>), ZeroCapacity> {
    let shared = Arc::new(Shared::new(capacity)?);
    let producer = Producer {
        shared: shared.clone(),
    };
    Ok((producer, Consumer { shared }))
}

/// The index, lap and stamp arithmetic of the ring, in one place.
///
/// A *position* is `lap + index`: the low bits are the slot index (below
/// `capacity`), then one bit, [`CLOSED`](Self::closed_bit), that only the
/// tail ever carries, then the lap count in units of `one_lap`. Positions
/// wrap around `usize`; since `one_lap` is a power of two, wrapping keeps
/// index and lap apart, and every comparison below is a wrapping difference.
///
/// | stamp of the slot at position `p` | meaning |
/// |-----------------------------------|---------|
/// | `p`                               | free for the producer at `p` |
/// | `p + 1`                           | holds the value pushed at `p` |
/// | `p + one_lap`                     | taken; free for the producer at `p + one_lap` |
#[derive(Clone, Copy, Debug)]
struct Laps {
    /// How many slots the ring has.
    capacity: usize,
    /// The bit above every index: set in the tail once the ring is closed.
    closed: usize,
    /// The step from one lap to the next: twice `closed`.
    one_lap: usize,
}

/// What a slot's stamp says to a thread at some position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Turn {
    /// The slot is this thread's to claim.
    Mine,
    /// The other side has not released the slot yet: the ring is full (for a
    /// producer) or empty (for a consumer) at this position.
    Waiting,
    /// Other threads have moved past this position: reload it.
    Passed,
}

impl Laps {
    fn new(capacity: usize) -> Self {
        // `capacity + 1` stays below `closed`, so `p + 1` never touches it.
        let closed = (capacity + 1).next_power_of_two();
        Laps {
            capacity,
            closed,
            one_lap: closed * 2,
        }
    }

    /// The bit of the tail that says "closed".
    #[inline]
    fn closed_bit(&self) -> usize {
        self.closed
    }

    /// The slot index of a position.
    #[inline]
    fn index(&self, pos: usize) -> usize {
        pos & (self.closed - 1)
    }

    /// The position after `pos`: the next index, or index 0 of the next lap.
    #[inline]
    fn next(&self, pos: usize) -> usize {
        if self.index(pos) + 1 < self.capacity {
            pos + 1
        } else {
            (pos & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    /// The stamp a slot is given when the value pushed at `pos` is in it.
    #[inline]
    fn filled(&self, pos: usize) -> usize {
        pos + 1
    }

    /// The stamp a slot is given when the value pushed at `pos` is taken:
    /// the position of the same slot one lap later.
    #[inline]
    fn emptied(&self, pos: usize) -> usize {
        pos.wrapping_add(self.one_lap)
    }

    /// Whose turn a slot with `stamp` is, for a thread that needs `wanted`.
    #[inline]
    fn turn(stamp: usize, wanted: usize) -> Turn {
        match (stamp.wrapping_sub(wanted) as isize).signum() {
            0 => Turn::Mine,
            -1 => Turn::Waiting,
            _ => Turn::Passed,
        }
    }

    /// How many positions lie from `head` up to `tail` (closed bit removed).
    ///
    /// A head that reads as ahead of the tail (a stale tail beside a newer
    /// head: the loads in `len` are Relaxed) counts as an empty ring.
    fn distance(&self, head: usize, tail: usize) -> usize {
        // Laps and indices both grow with the position, so a wrapping
        // difference orders two positions less than half the range apart.
        if (tail.wrapping_sub(head) as isize) < 0 {
            return 0;
        }
        let (hix, tix) = (self.index(head), self.index(tail));
        if hix < tix {
            tix - hix
        } else if hix > tix {
            self.capacity - hix + tix
        } else if head == tail {
            0
        } else {
            self.capacity
        }
    }
}

/// One slot: its stamp (see [`Laps`]) and maybe a value.
struct Slot<T> {
    /// Whose turn the slot is; the table is on [`Laps`].
    stamp: AtomicUsize,
    /// Initialised exactly while the stamp is `filled(p)` for some `p`, and
    /// between a claim and its stamp store, by the thread that claimed it.
    value: UnsafeCell<MaybeUninit<T>>,
}

/// One end's cursor, on its own cache line.
struct End {
    /// The next position this side will claim (the head for consumers, the
    /// tail for producers).
    ///
    /// | tail bits          | meaning |
    /// |--------------------|---------|
    /// | `lap + index`      | open: the next push goes to `index` |
    /// | `... \| closed`    | closed: one side has no handles left; never cleared |
    ///
    /// The head never carries the closed bit.
    pos: AtomicUsize,
    /// Where the *other* side parks; this side notifies it after every move,
    /// so the check for parked threads reads this line, which it just wrote.
    parked: Notifier,
    /// Live handles of this side. Only goes down once it reaches 0, because a
    /// handle is only ever cloned from a live one.
    handles: AtomicUsize,
}

impl End {
    fn new(pos: usize) -> Self {
        End {
            pos: AtomicUsize::new(pos),
            parked: Notifier::new(),
            handles: AtomicUsize::new(1),
        }
    }

    /// Counts one more handle of this side.
    fn add_handle(&self) {
        // Relaxed: as for `Arc`, the new handle is cloned from a live one, so
        // the count cannot be reaching zero meanwhile.
        let old = self.handles.fetch_add(1, Relaxed);
        assert!(old < usize::MAX / 2, "too many handles");
    }
}

/// The state both ends share.
///
/// Relaxed is enough for every access to `head.pos` and `tail.pos` except the
/// closed bit: the positions only say which slot to try; the slot's stamp,
/// loaded with Acquire and stored with Release, is what hands the value over.
struct Shared<T> {
    /// Consumers' cursor; producers park on its notifier when full.
    head: CachePadded<End>,
    /// Producers' cursor; consumers park on its notifier when empty.
    tail: CachePadded<End>,
    laps: Laps,
    slots: Box<[Slot<T>]>,
}

// SAFETY: a value is moved in by one producer and out by one consumer, handed
// over through the slot's stamp (Release store, Acquire load); no `&T` is ever
// shared between threads, so `T: Send` is all that is needed for both.
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as above; every shared access goes through atomics or through a slot
// that the stamp protocol gives to exactly one thread at a time.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    fn new(capacity: usize) -> Result<Self, ZeroCapacity> {
        if capacity == 0 {
            return Err(ZeroCapacity);
        }
        let slots = (0..capacity)
            .map(|i| Slot {
                // Slot `i` is free for the producer at position `i` of lap 0.
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ok(Shared {
            head: CachePadded::new(End::new(0)),
            tail: CachePadded::new(End::new(0)),
            laps: Laps::new(capacity),
            slots,
        })
    }

    /// The notifier consumers park on while the ring is empty.
    #[inline]
    fn not_empty(&self) -> &Notifier {
        &self.tail.parked
    }

    /// The notifier producers park on while the ring is full.
    #[inline]
    fn not_full(&self) -> &Notifier {
        &self.head.parked
    }

    /// Whether the slot at the head holds a value (a snapshot).
    fn head_ready(&self) -> bool {
        // Relaxed head: it only picks the slot. Acquire stamp: as in `try_pop`.
        let pos = self.head.pos.load(Relaxed);
        let stamp = self.slots[self.laps.index(pos)].stamp.load(Acquire);
        Laps::turn(stamp, self.laps.filled(pos)) == Turn::Mine
    }

    /// Whether the slot at the tail is free and the ring open (a snapshot).
    fn tail_free(&self) -> bool {
        // Relaxed tail, Acquire stamp: as in `try_push`. A closed ring has
        // woken every producer already.
        let pos = self.tail.pos.load(Relaxed);
        if pos & self.laps.closed_bit() != 0 {
            return false;
        }
        let stamp = self.slots[self.laps.index(pos)].stamp.load(Acquire);
        Laps::turn(stamp, pos) == Turn::Mine
    }

    /// Whether one side has no handles left.
    #[inline]
    fn is_closed(&self) -> bool {
        // Relaxed: a snapshot; callers that act on closing use `try_pop`.
        self.tail.pos.load(Relaxed) & self.laps.closed_bit() != 0
    }

    /// Pushes into the slot at the tail, or says why not.
    #[inline]
    fn try_push(&self, value: T) -> Result<(), PushError<T>> {
        let laps = self.laps;
        let mut pos = self.tail.pos.load(Relaxed);
        loop {
            // Closed: every consumer is gone.
            if pos & laps.closed_bit() != 0 {
                return Err(PushError::Closed(value));
            }

            // Acquire pairs with the Release stamp store in `try_pop`: the
            // last consumer of this slot has finished reading it.
            let slot = &self.slots[laps.index(pos)];
            let stamp = slot.stamp.load(Acquire);
            match Laps::turn(stamp, pos) {
                Turn::Waiting => return Err(PushError::Full(value)),
                // Whoever moved the tail past `pos` did so before releasing
                // the stamp we acquired, so this load sees a later tail.
                Turn::Passed => pos = self.tail.pos.load(Relaxed),
                // Claim the slot. Relaxed: the stamp, not the tail, orders
                // the value (see `Shared`).
                Turn::Mine => {
                    match self
                        .tail
                        .pos
                        .compare_exchange_weak(pos, laps.next(pos), Relaxed, Relaxed)
                    {
                        Ok(_) => {
                            self.fill(slot, pos, value);
                            return Ok(());
                        }
                        Err(now) => pos = now,
                    }
                }
            }
        }
    }

    /// Writes `value` into the slot claimed at `pos` and hands it over.
    #[inline]
    fn fill(&self, slot: &Slot<T>, pos: usize, value: T) {
        // SAFETY: the compare-and-swap in `try_push` gave this thread the
        // slot: its stamp was `pos`, so its last value was taken (or it never
        // had one), and no other thread touches it until the store below.
        slot.value
            .with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
        // Release pairs with the Acquire stamp load in `try_pop`.
        slot.stamp.store(self.laps.filled(pos), Release);
        self.not_empty().notify_one();
    }

    /// Pops from the slot at the head, or says why not.
    #[inline]
    fn try_pop(&self) -> Result<T, PopError> {
        let laps = self.laps;
        let mut pos = self.head.pos.load(Relaxed);
        loop {
            // Acquire pairs with the Release stamp store in `fill`: the value
            // is written.
            let slot = &self.slots[laps.index(pos)];
            let stamp = slot.stamp.load(Acquire);
            match Laps::turn(stamp, laps.filled(pos)) {
                Turn::Waiting => match self.empty_or_closed() {
                    Some(err) => return Err(err),
                    None => pos = self.head.pos.load(Relaxed),
                },
                // As in `try_push`: the stamp we acquired was released after
                // the head moved past `pos`.
                Turn::Passed => pos = self.head.pos.load(Relaxed),
                // Claim the value. Relaxed: the stamp orders it.
                Turn::Mine => {
                    match self
                        .head
                        .pos
                        .compare_exchange_weak(pos, laps.next(pos), Relaxed, Relaxed)
                    {
                        Ok(_) => return Ok(self.take(slot, pos)),
                        Err(now) => pos = now,
                    }
                }
            }
        }
    }

    /// Moves the value claimed at `pos` out and frees the slot for the next lap.
    #[inline]
    fn take(&self, slot: &Slot<T>, pos: usize) -> T {
        // SAFETY: the compare-and-swap in `try_pop` gave this thread the slot
        // while its stamp was `filled(pos)`: the value is initialised, and the
        // Acquire stamp load made its write visible. No other thread touches
        // the slot until the store below.
        let value = slot.value.with(|p| unsafe { p.read().assume_init() });
        // Release pairs with the Acquire stamp load in `try_push`.
        slot.stamp.store(self.laps.emptied(pos), Release);
        self.not_full().notify_one();
        value
    }

    /// After a consumer found no value: `Empty`, `Closed` once the producers
    /// are gone and nothing is left, or `None` to try again.
    #[cold]
    fn empty_or_closed(&self) -> Option<PopError> {
        // Acquire pairs with the Release `fetch_or` in `close`: every push of
        // every producer is visible once the closed bit is.
        let tail = self.tail.pos.load(Acquire);
        let closed = self.laps.closed_bit();
        if tail & closed == 0 {
            return Some(PopError::Empty);
        }

        // No producer is left, so nothing is half-written: the ring is drained
        // exactly when the head has reached the tail.
        if self.head.pos.load(Relaxed) == tail & !closed {
            Some(PopError::Closed)
        } else {
            None
        }
    }

    /// Drops one handle of the side `end`; the last one closes the ring and
    /// wakes every parked thread of the other side (`peers`).
    fn drop_handle(&self, end: &End, peers: &Notifier) {
        // AcqRel: the last handle acquires every other handle's release, so
        // its Release in `close` publishes all of this side's pushes.
        if end.handles.fetch_sub(1, AcqRel) == 1 {
            self.close();
            peers.notify_all();
        }
    }

    /// Sets the closed bit in the tail; never cleared.
    fn close(&self) {
        // Release pairs with the Acquire tail load in `empty_or_closed`.
        self.tail.pos.fetch_or(self.laps.closed_bit(), Release);
    }

    /// How many values the ring holds, from one consistent pair of cursors.
    fn len(&self) -> usize {
        let closed = self.laps.closed_bit();
        loop {
            // Relaxed: a snapshot that may be stale at once. Reading the tail
            // twice makes the pair consistent with some moment.
            let tail = self.tail.pos.load(Relaxed) & !closed;
            let head = self.head.pos.load(Relaxed);
            if self.tail.pos.load(Relaxed) & !closed == tail {
                return self.laps.distance(head, tail);
            }
        }
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // Every handle is gone, so every claim has been published: the values
        // left are exactly those from the head up to the tail.
        let closed = self.laps.closed_bit();
        // Relaxed: `&mut self` means no other thread is left to race with.
        let tail = self.tail.pos.load(Relaxed) & !closed;
        let mut pos = self.head.pos.load(Relaxed);
        while pos != tail {
            let slot = &self.slots[self.laps.index(pos)];
            // SAFETY: `pos` lies between the head and the tail with no thread
            // left, so the slot holds an initialised value that nobody took.
            slot.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
            pos = self.laps.next(pos);
        }
    }
}

/// Spins briefly, then parks on `notifier`, until `attempt` returns `Some` or
/// `timeout` passes (`None`: never).
///
/// A call that succeeds after parking notifies `notifier` once more if
/// `more_ready` says another thread of its side could now succeed too. A wake
/// can be spent without a result: a consumer woken by the push at `p + 1`
/// finds the slot at `p` still being written and parks again, and the push
/// at `p` then wakes just one consumer. Passing the wake on keeps the other
/// from sleeping beside a ready value while producers stay quiet.
#[cold]
fn spin_then_park<R>(
    notifier: &Notifier,
    timeout: Option<Duration>,
    mut attempt: impl FnMut() -> Option<R>,
    more_ready: impl FnOnce() -> bool,
) -> Option<R> {
    // Spin, then yield: the other side usually moves within a microsecond,
    // and parking costs several; with more threads than cores the other side
    // may be waiting for this core, and giving it up is far cheaper than a
    // park and a wake.
    let mut backoff = Backoff::new();
    while !backoff.is_completed() {
        backoff.snooze();
        if let Some(done) = attempt() {
            return Some(done);
        }
    }

    // Park: every notify reruns the attempt.
    let mut done = None;
    notifier.wait_until(
        || {
            done = attempt();
            done.is_some()
        },
        timeout,
    );

    // Pass a spent wake on (see above); no system call unless someone parks.
    if done.is_some() && more_ready() {
        notifier.notify_one();
    }
    done
}

/// The sending end of a [`channel`]. Clone it for more producers.
///
/// When the last `Producer` is dropped, consumers drain what is left and then
/// get [`PopError::Closed`]; parked consumers are woken.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::mpmc::{self, PopError};
///
/// let (tx, rx) = mpmc::channel::<u32>(8).unwrap();
/// std::thread::scope(|s| {
///     for id in 0..2 {
///         let tx = tx.clone();
///         s.spawn(move || tx.push(id).unwrap());
///     }
/// });
/// drop(tx); // the last producer: the ring closes once drained
/// let mut got = vec![rx.pop().unwrap(), rx.pop().unwrap()];
/// got.sort();
/// assert_eq!(got, [0, 1]);
/// assert_eq!(rx.pop(), Err(PopError::Closed));
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "dropping the last producer closes the ring"]
pub struct Producer<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Producer<T> {
    /// Pushes `value` if a slot is free, without waiting.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] if every slot is taken,
    /// [`PushError::Closed`] if every consumer is gone; both hand `value` back.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::mpmc::{channel, PushError};
    ///
    /// let (tx, rx) = channel(1).unwrap();
    /// assert_eq!(tx.try_push(1), Ok(()));
    /// assert_eq!(tx.try_push(2), Err(PushError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_push(3), Err(PushError::Closed(3)));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn try_push(&self, value: T) -> Result<(), PushError<T>> {
        self.shared.try_push(value)
    }

    /// Pushes `value`, waiting while the ring is full.
    ///
    /// # Errors
    ///
    /// [`PushError::Closed`] with `value` if every consumer is gone (also
    /// while waiting).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::mpmc::channel;
    ///
    /// let (tx, rx) = channel(1).unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| (0..10).for_each(|i| tx.push(i).unwrap()));
    ///     let got: Vec<i32> = (0..10).map(|_| rx.pop().unwrap()).collect();
    ///     assert_eq!(got, (0..10).collect::<Vec<_>>());
    /// });
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn push(&self, value: T) -> Result<(), PushError<T>> {
        match self.try_push(value) {
            Err(PushError::Full(value)) => self.push_blocking(value, None),
            done => done,
        }
    }

    /// Pushes `value`, waiting at most about `timeout` while the ring is full.
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] if the ring was still full when `timeout` had
    /// passed (never earlier), [`PushError::Closed`] if every consumer is
    /// gone; both hand `value` back.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::time::Duration;
    /// use handoff::mpmc::{channel, PushError};
    ///
    /// let (tx, _rx) = channel(1).unwrap();
    /// tx.push(1).unwrap();
    /// let timeout = Duration::from_millis(1);
    /// assert_eq!(tx.push_timeout(2, timeout), Err(PushError::Full(2)));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn push_timeout(&self, value: T, timeout: Duration) -> Result<(), PushError<T>> {
        match self.try_push(value) {
            Err(PushError::Full(value)) => self.push_blocking(value, Some(timeout)),
            done => done,
        }
    }

    /// The slow path of the blocking pushes: spin, then park until a slot
    /// frees, the ring closes or the timeout passes.
    #[cold]
    fn push_blocking(&self, value: T, timeout: Option<Duration>) -> Result<(), PushError<T>> {
        let shared = &*self.shared;
        let mut pending = Some(value);
        let done = spin_then_park(
            shared.not_full(),
            timeout,
            || {
                let value = pending.take().expect("the value waits here between tries");
                match shared.try_push(value) {
                    Err(PushError::Full(value)) => {
                        pending = Some(value);
                        None
                    }
                    done => Some(done),
                }
            },
            || shared.tail_free(),
        );
        done.unwrap_or_else(|| {
            let value = pending
                .take()
                .expect("a timed-out push still holds its value");
            Err(PushError::Full(value))
        })
    }

    /// How many slots the ring has.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::mpmc::channel;
    ///
    /// let (tx, rx) = channel::<u8>(2).unwrap();
    /// assert_eq!(tx.capacity(), 2);
    /// # drop((tx, rx));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.laps.capacity
    }

    /// How many values the ring holds: a snapshot that other threads may
    /// change at once. Counts slots claimed but not yet written or read.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::mpmc::channel;
    ///
    /// let (tx, rx) = channel(2).unwrap();
    /// tx.push(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// # drop((tx, rx));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// Whether the ring holds no value (a snapshot, like [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::mpmc::channel;
    ///
    /// let (tx, rx) = channel(2).unwrap();
    /// assert!(tx.is_empty());
    /// tx.push(1).unwrap();
    /// assert!(!tx.is_empty());
    /// # drop((tx, rx));
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
    /// use handoff::mpmc::channel;
    ///
    /// let (tx, rx) = channel(2).unwrap();
    /// tx.push(1).unwrap();
    /// assert!(!tx.is_full());
    /// tx.push(2).unwrap();
    /// assert!(tx.is_full());
    /// # drop((tx, rx));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// Whether every consumer is gone, so that no push can succeed.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::mpmc::channel;
    ///
    /// let (tx, rx) = channel::<u8>(4).unwrap();
    /// let rx2 = rx.clone();
    /// drop(rx);
    /// assert!(!tx.is_closed());
    /// drop(rx2);
    /// assert!(tx.is_closed());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }
}

impl<T> Clone for Producer<T> {
    fn clone(&self) -> Self {
        self.shared.tail.add_handle();
        Producer {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Producer<T> {
    fn drop(&mut self) {
        let shared = &*self.shared;
        shared.drop_handle(&shared.tail, shared.not_empty());
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_end(f, "Producer", &self.shared)
    }
}

/// The receiving end of a [`channel`]. Clone it for more consumers.
///
/// When the last `Consumer` is dropped, pushes fail with
/// [`PushError::Closed`] and parked producers are woken; values still in the
/// ring are dropped when the last handle of either side goes.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::mpmc::{self, PushError};
///
/// let (tx, rx) = mpmc::channel::<u32>(8).unwrap();
/// for v in 0..4 {
///     tx.push(v).unwrap();
/// }
/// // Two consumers share the values; each value is popped exactly once.
/// let total: u32 = std::thread::scope(|s| {
///     let workers: Vec<_> = (0..2)
///         .map(|_| {
///             let rx = rx.clone();
///             s.spawn(move || std::iter::from_fn(|| rx.try_pop().ok()).sum::<u32>())
///         })
///         .collect();
///     workers.into_iter().map(|w| w.join().unwrap()).sum()
/// });
/// assert_eq!(total, 0 + 1 + 2 + 3);
/// drop(rx); // the last consumer: pushes now fail
/// assert_eq!(tx.push(9), Err(PushError::Closed(9)));
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "dropping the last consumer closes the ring"]
pub struct Consumer<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Consumer<T> {
    /// Pops the oldest value if there is one, without waiting.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] if no value is ready, [`PopError::Closed`] if
    /// every producer is gone and the ring is drained.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::mpmc::{channel, PopError};
    ///
    /// let (tx, rx) = channel(4).unwrap();
    /// assert_eq!(rx.try_pop(), Err(PopError::Empty));
    /// tx.try_push('x').unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_pop(), Ok('x'));
    /// assert_eq!(rx.try_pop(), Err(PopError::Closed));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn try_pop(&self) -> Result<T, PopError> {
        self.shared.try_pop()
    }

    /// Pops the oldest value, waiting while the ring is empty.
    ///
    /// # Errors
    ///
    /// [`PopError::Closed`] once every producer is gone and the ring is
    /// drained (also while waiting).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::mpmc::{channel, PopError};
    ///
    /// let (tx, rx) = channel(4).unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(move || tx.push(5).unwrap());
    ///     assert_eq!(rx.pop(), Ok(5));
    ///     assert_eq!(rx.pop(), Err(PopError::Closed));
    /// });
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn pop(&self) -> Result<T, PopError> {
        match self.try_pop() {
            Err(PopError::Empty) => self.pop_blocking(None),
            done => done,
        }
    }

    /// Pops the oldest value, waiting at most about `timeout` while the ring
    /// is empty.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] if the ring was still empty when `timeout` had
    /// passed (never earlier), [`PopError::Closed`] once every producer is
    /// gone and the ring is drained.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::time::Duration;
    /// use handoff::mpmc::{channel, PopError};
    ///
    /// let (_tx, rx) = channel::<u8>(4).unwrap();
    /// let timeout = Duration::from_millis(1);
    /// assert_eq!(rx.pop_timeout(timeout), Err(PopError::Empty));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn pop_timeout(&self, timeout: Duration) -> Result<T, PopError> {
        match self.try_pop() {
            Err(PopError::Empty) => self.pop_blocking(Some(timeout)),
            done => done,
        }
    }

    /// The slow path of the blocking pops: spin, then park until a value
    /// arrives, the ring closes or the timeout passes.
    #[cold]
    fn pop_blocking(&self, timeout: Option<Duration>) -> Result<T, PopError> {
        let shared = &*self.shared;
        let done = spin_then_park(
            shared.not_empty(),
            timeout,
            || match shared.try_pop() {
                Err(PopError::Empty) => None,
                done => Some(done),
            },
            || shared.head_ready(),
        );
        done.unwrap_or(Err(PopError::Empty))
    }

    /// How many slots the ring has.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::mpmc::channel;
    ///
    /// let (tx, rx) = channel::<u8>(2).unwrap();
    /// assert_eq!(rx.capacity(), 2);
    /// # drop((tx, rx));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.laps.capacity
    }

    /// How many values the ring holds: a snapshot that other threads may
    /// change at once. Counts slots claimed but not yet written or read.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::mpmc::channel;
    ///
    /// let (tx, rx) = channel(2).unwrap();
    /// tx.push(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// # drop((tx, rx));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// Whether the ring holds no value (a snapshot, like [`len`](Self::len)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::mpmc::channel;
    ///
    /// let (tx, rx) = channel(2).unwrap();
    /// assert!(rx.is_empty());
    /// tx.push(1).unwrap();
    /// assert!(!rx.is_empty());
    /// # drop((tx, rx));
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
    /// use handoff::mpmc::channel;
    ///
    /// let (tx, rx) = channel(2).unwrap();
    /// tx.push(1).unwrap();
    /// assert!(!rx.is_full());
    /// tx.push(2).unwrap();
    /// assert!(rx.is_full());
    /// # drop((tx, rx));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity()
    }

    /// Whether every producer is gone. Values may still be left to pop;
    /// [`try_pop`](Self::try_pop) says [`PopError::Closed`] once they are not.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::mpmc::{channel, PopError};
    ///
    /// let (tx, rx) = channel(4).unwrap();
    /// tx.push(1).unwrap();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// assert_eq!(rx.pop(), Ok(1));
    /// assert_eq!(rx.pop(), Err(PopError::Closed));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }
}

impl<T> Clone for Consumer<T> {
    fn clone(&self) -> Self {
        self.shared.head.add_handle();
        Consumer {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Consumer<T> {
    fn drop(&mut self) {
        let shared = &*self.shared;
        shared.drop_handle(&shared.head, shared.not_full());
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        debug_end(f, "Consumer", &self.shared)
    }
}

/// The `Debug` of both ends: cursors only, never a slot, never a wait.
fn debug_end<T>(f: &mut fmt::Formatter<'_>, name: &str, shared: &Shared<T>) -> fmt::Result {
    f.debug_struct(name)
        .field("capacity", &shared.laps.capacity)
        .field("len", &shared.len())
        .field("closed", &shared.is_closed())
        .finish()
}
