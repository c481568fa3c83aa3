//! Shared counters: one exact word, a sharded sum for hot counts, and a latch
//! to wait on.
//!
//! | type | what it is | add | read |
//! |------|------------|-----|------|
//! | [`Counter`] | one atomic word on its own cache line, `Atomics.add` for Rust | wait-free, one read-modify-write | exact at any instant |
//! | [`ShardedCounter`] | cells on separate cache lines, one per thread, summed on read (Java's `LongAdder`) | wait-free, no contention between threads on different cells | [`sum`](ShardedCounter::sum) adds the cells up: exact once the adders are joined, see its docs while they run |
//! | [`Latch`] | a count that threads raise and others wait on until it reaches a target | wait-free | [`wait`](Latch::wait) blocks, with a timeout |
//!
//! All arithmetic wraps modulo 2⁶⁴, as the hardware's atomic add does: adding
//! 1 to `u64::MAX` gives 0, subtracting 1 from 0 gives `u64::MAX`. Nothing
//! panics on overflow, in debug builds or release.
//!
//! # Why not load, add, store
//!
//! A counter that reads the value and then writes back one more, with two
//! separate atomic operations, has no undefined behaviour and still loses
//! counts: two threads read 5, both write 6. `examples/races.rs` shows how
//! many, and the loom model in `loom-tests/counter.rs` finds the interleaving.
//! Every add here is a single read-modify-write, so none is lost.
//!
//! # Ordering
//!
//! [`Counter`] and [`ShardedCounter`] count and publish nothing else: their
//! operations are `Relaxed`. A count read after joining the threads that added
//! (or after any other synchronisation with them) is exact; a count is never a
//! signal that other memory is ready. [`Latch`] is that signal: what a thread
//! wrote before its add is visible to a thread that saw the latch reached.
//!
//! # Example
//!
//! ```
//! # #[cfg(not(feature = "loom"))] fn main() {
//! use std::time::Duration;
//! use handoff::counter::{Counter, Latch, ShardedCounter};
//!
//! let hits = Counter::new(0);
//! let bytes = ShardedCounter::new();
//! let done = Latch::new(4);
//! std::thread::scope(|s| {
//!     for _ in 0..4 {
//!         s.spawn(|| {
//!             hits.increment();
//!             bytes.add(1500);
//!             done.increment();
//!         });
//!     }
//!     assert!(done.wait(Some(Duration::from_secs(10))));
//! });
//! assert_eq!(hits.get(), 4);
//! assert_eq!(bytes.sum(), 6000);
//! # }
//! # #[cfg(feature = "loom")] fn main() {}
//! ```

use core::fmt;
use core::time::Duration;

use crate::error::ZeroCapacity;
use crate::notify::Notifier;
use crate::sync::atomic::AtomicU64;
use crate::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::sync::{Backoff, CachePadded};

/// An exact shared count in one atomic word, padded to its own cache line.
///
/// Each call is one atomic instruction, as fast as a bare `AtomicU64`; the
/// padding keeps a hot counter from
/// slowing down whatever would otherwise share its cache line. When many
/// threads hit one count at once, [`ShardedCounter`] scales where this cannot.
///
/// Arithmetic wraps modulo 2⁶⁴ (see the [module docs](self)); operations are
/// `Relaxed` and order no other memory.
///
/// # Layout
///
/// `#[repr(C)]`: the count is a `u64` at offset 0, then padding up to the size
/// and alignment of crossbeam's `CachePadded` (128 bytes on x86-64 and
/// aarch64). Every bit pattern is a valid counter, so a `Counter` may be placed
/// in memory that other processes map and write.
///
/// | field   | meaning |
/// |---------|---------|
/// | `value` | the count modulo 2⁶⁴; any value is a valid state |
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::counter::Counter;
///
/// static REQUESTS: Counter = Counter::new(0);
///
/// REQUESTS.increment();
/// assert_eq!(REQUESTS.fetch_add(2), 1, "returns the previous value");
/// REQUESTS.sub(1);
/// assert_eq!(REQUESTS.get(), 2);
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[repr(C)]
pub struct Counter {
    /// The count. Every access is `Relaxed`: a read-modify-write always acts
    /// on the latest value in the word's modification order, so no add is
    /// lost whatever the ordering, and the counter publishes nothing else.
    value: CachePadded<AtomicU64>,
}

impl Counter {
    /// A counter holding `value`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Counter;
    ///
    /// let c = Counter::new(41);
    /// c.increment();
    /// assert_eq!(c.get(), 42);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[cfg(not(feature = "loom"))]
    #[inline]
    pub const fn new(value: u64) -> Self {
        Counter {
            value: CachePadded::new(AtomicU64::new(value)),
        }
    }

    /// A counter holding `value`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Counter;
    ///
    /// let c = Counter::new(41);
    /// c.increment();
    /// assert_eq!(c.get(), 42);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[cfg(feature = "loom")]
    pub fn new(value: u64) -> Self {
        Counter {
            value: CachePadded::new(AtomicU64::new(value)),
        }
    }

    /// Adds `n`, wrapping on overflow.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Counter;
    ///
    /// let c = Counter::new(u64::MAX - 1);
    /// c.add(3);
    /// assert_eq!(c.get(), 1, "wrapped past u64::MAX");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn add(&self, n: u64) {
        self.fetch_add(n);
    }

    /// Subtracts `n`, wrapping below zero.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Counter;
    ///
    /// let c = Counter::new(1);
    /// c.sub(2);
    /// assert_eq!(c.get(), u64::MAX, "wrapped below zero");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn sub(&self, n: u64) {
        self.fetch_sub(n);
    }

    /// Adds 1, wrapping on overflow.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Counter;
    ///
    /// let c = Counter::new(0);
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| {
    ///             for _ in 0..1000 {
    ///                 c.increment();
    ///             }
    ///         });
    ///     }
    /// });
    /// assert_eq!(c.get(), 4000, "no increment is lost");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn increment(&self) {
        self.fetch_add(1);
    }

    /// Adds `n`, wrapping on overflow, and returns the value before the add
    /// (JavaScript's `Atomics.add`).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Counter;
    ///
    /// let c = Counter::new(u64::MAX);
    /// assert_eq!(c.fetch_add(2), u64::MAX);
    /// assert_eq!(c.get(), 1, "wrapped");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn fetch_add(&self, n: u64) -> u64 {
        // Relaxed: see the field.
        self.value.fetch_add(n, Relaxed)
    }

    /// Subtracts `n`, wrapping below zero, and returns the value before
    /// (JavaScript's `Atomics.sub`).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Counter;
    ///
    /// let c = Counter::new(5);
    /// assert_eq!(c.fetch_sub(2), 5, "returns the previous value");
    /// assert_eq!(c.get(), 3);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn fetch_sub(&self, n: u64) -> u64 {
        // Relaxed: see the field.
        self.value.fetch_sub(n, Relaxed)
    }

    /// The current count.
    ///
    /// Exact with respect to every add that happens before this call (for
    /// instance in a thread that was joined); adds running at the same time
    /// may or may not be counted.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Counter;
    ///
    /// let c = Counter::new(7);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| c.add(3));
    /// });
    /// // The adding thread was joined, so its add is counted.
    /// assert_eq!(c.get(), 10);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn get(&self) -> u64 {
        // Relaxed: see the field. Coherence still makes the load see every
        // add that happens before it.
        self.value.load(Relaxed)
    }
}

impl Default for Counter {
    /// A counter at zero.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Counter;
    ///
    /// assert_eq!(Counter::default().get(), 0);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    fn default() -> Self {
        Self::new(0)
    }
}

impl fmt::Debug for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Counter").field(&self.get()).finish()
    }
}

/// A count for many threads at once: each thread adds to its own cell, on its
/// own cache line, and [`sum`](Self::sum) adds the cells up.
///
/// When threads share one [`Counter`], every add must pull the cache line from
/// the core that added last; here each thread keeps its line, so adds from
/// different cores do not slow each other down. The cost moves to the reader,
/// whose `sum` visits every cell. This is the design of Java's `LongAdder`
/// (Doug Lea, `java.util.concurrent.atomic`), without its growing table.
///
/// # Cells
///
/// A thread takes a number the first time it adds to any `ShardedCounter`
/// (0, 1, 2, ... in order of arrival, shared by all counters) and always uses
/// cell `number % cells`. Threads whose numbers are consecutive therefore get
/// different cells, up to the cell count; threads that do share a cell still
/// count exactly, they only contend like threads on a [`Counter`]. The table
/// never grows: pick the cell count with [`with_cells`](Self::with_cells) when
/// the default (the machine's parallelism, rounded up to a power of two) does
/// not fit.
///
/// Arithmetic wraps modulo 2⁶⁴ (see the [module docs](self)); operations are
/// `Relaxed` and order no other memory.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::counter::ShardedCounter;
///
/// let packets = ShardedCounter::new();
/// std::thread::scope(|s| {
///     for _ in 0..2 {
///         s.spawn(|| {
///             for _ in 0..1000 {
///                 packets.increment();
///             }
///         });
///     }
/// });
/// assert_eq!(packets.sum(), 2000, "exact once the adders are joined");
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub struct ShardedCounter {
    /// One partial count per cell, a power-of-two number of them. Every
    /// access is `Relaxed`, for the reason given on [`Counter`]'s field.
    ///
    /// | word      | meaning |
    /// |-----------|---------|
    /// | cell `i`  | adds minus subs, modulo 2⁶⁴, of the threads whose number is `i` modulo the cell count; any value is valid |
    /// | their sum | the count, modulo 2⁶⁴ |
    cells: Box<[CachePadded<AtomicU64>]>,
}

impl ShardedCounter {
    /// A counter at zero with one cell per hardware thread, rounded up to a
    /// power of two (one cell if the parallelism is unknown).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::ShardedCounter;
    ///
    /// let c = ShardedCounter::new();
    /// assert!(c.cells().is_power_of_two());
    /// assert_eq!(c.sum(), 0);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn new() -> Self {
        Self::build(crate::sync::available_parallelism())
    }

    /// A counter at zero with `cells` cells, rounded up to a power of two.
    ///
    /// # Errors
    ///
    /// [`ZeroCapacity`] if `cells` is 0.
    ///
    /// # Panics
    ///
    /// If `cells` rounded up to a power of two overflows `usize`, or the table
    /// (128 bytes a cell on x86-64) cannot be allocated.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::ShardedCounter;
    /// use handoff::error::ZeroCapacity;
    ///
    /// assert_eq!(ShardedCounter::with_cells(3).unwrap().cells(), 4);
    /// assert_eq!(ShardedCounter::with_cells(0).unwrap_err(), ZeroCapacity);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn with_cells(cells: usize) -> Result<Self, ZeroCapacity> {
        if cells == 0 {
            return Err(ZeroCapacity);
        }
        Ok(Self::build(cells))
    }

    /// The table for `cells` (at least 1) rounded up to a power of two.
    fn build(cells: usize) -> Self {
        let len = cells
            .checked_next_power_of_two()
            .expect("cell count overflows usize");
        ShardedCounter {
            cells: (0..len)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
        }
    }

    /// How many cells the count is spread over (a power of two).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::ShardedCounter;
    ///
    /// assert_eq!(ShardedCounter::with_cells(5).unwrap().cells(), 8);
    /// assert_eq!(ShardedCounter::with_cells(1).unwrap().cells(), 1);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn cells(&self) -> usize {
        self.cells.len()
    }

    /// Adds `n` to the calling thread's cell, wrapping on overflow.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::ShardedCounter;
    ///
    /// let bytes = ShardedCounter::with_cells(4).unwrap();
    /// std::thread::scope(|s| {
    ///     for len in [100, 200, 300] {
    ///         let bytes = &bytes;
    ///         s.spawn(move || bytes.add(len));
    ///     }
    /// });
    /// assert_eq!(bytes.sum(), 600);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn add(&self, n: u64) {
        // Relaxed: see the field.
        self.my_cell().fetch_add(n, Relaxed);
    }

    /// Subtracts `n` from the calling thread's cell, wrapping below zero.
    ///
    /// A cell may go "below zero" while the sum does not; only the sum has a
    /// meaning. See [`sum`](Self::sum) for what a concurrent read can show.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::ShardedCounter;
    ///
    /// let open = ShardedCounter::with_cells(2).unwrap();
    /// open.add(3);
    /// // Another thread subtracts: its cell may go "below zero", the sum not.
    /// std::thread::scope(|s| {
    ///     s.spawn(|| open.sub(1));
    /// });
    /// assert_eq!(open.sum(), 2);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn sub(&self, n: u64) {
        // Relaxed: see the field.
        self.my_cell().fetch_sub(n, Relaxed);
    }

    /// Adds 1 to the calling thread's cell, wrapping on overflow.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::ShardedCounter;
    ///
    /// let c = ShardedCounter::new();
    /// c.increment();
    /// c.increment();
    /// assert_eq!(c.sum(), 2);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn increment(&self) {
        self.add(1);
    }

    /// The wrapping sum of all cells.
    ///
    /// Once every thread that added has been joined (or has otherwise
    /// synchronised with the caller), the sum is exact: it equals the wrapping
    /// total of all adds and subs.
    ///
    /// While adds run, the cells are read one after another, not at one
    /// instant, and the result is only this:
    ///
    /// * every add or sub that happens before the call is counted;
    /// * none that starts after the call returns is counted;
    /// * of those running at the same time, each cell contributes the adds of
    ///   its own threads up to some point, but the points differ from cell to
    ///   cell. The sum may count a later add and miss an earlier one made on
    ///   another cell, so it can be a value the count never held at any one
    ///   instant.
    ///
    /// With adds only (and no wrap), the result therefore lies between what a
    /// `sum` by the same thread just before and just after this one would
    /// return, and successive sums by one thread never go down. With subs
    /// mixed in it need not: if one thread adds 1 and another, having seen
    /// that, subtracts 1 on a different cell, a concurrent sum can read the
    /// sub without the add and return `u64::MAX` (that is, -1). Use a
    /// [`Counter`] when concurrent reads must be exact.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::ShardedCounter;
    ///
    /// let c = ShardedCounter::with_cells(2).unwrap();
    /// c.add(5);
    /// c.sub(7);
    /// assert_eq!(c.sum(), 5u64.wrapping_sub(7));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn sum(&self) -> u64 {
        // Relaxed: see the field. Coherence makes each load see every add to
        // its cell that happens before the call.
        self.cells
            .iter()
            .fold(0, |sum, cell| sum.wrapping_add(cell.load(Relaxed)))
    }

    /// The calling thread's cell.
    #[inline]
    fn my_cell(&self) -> &AtomicU64 {
        // The length is a power of two, so masking is the modulo.
        let index = crate::sync::thread_number() & (self.cells.len() - 1);
        &self.cells[index]
    }
}

impl Default for ShardedCounter {
    /// Same as [`ShardedCounter::new`]: one cell per hardware thread.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::ShardedCounter;
    ///
    /// let c = ShardedCounter::default();
    /// assert_eq!(c.cells(), ShardedCounter::new().cells());
    /// assert_eq!(c.sum(), 0);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ShardedCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The sum is only a snapshot for humans, as documented on `sum`.
        f.debug_struct("ShardedCounter")
            .field("sum", &self.sum())
            .field("cells", &self.cells())
            .finish()
    }
}

/// A count that threads raise and other threads wait on until it reaches a
/// target: workers count up, a waiter parks until they are all done.
///
/// The latch is *reached* when its count is at least its target; it counts
/// up only, so once reached it stays reached unless the count wraps (below).
/// Everything a thread wrote before its
/// [`add`](Self::add) is visible to a thread that then sees the latch reached
/// ([`wait`](Self::wait) returned `true`, or [`is_reached`](Self::is_reached)).
///
/// Only the add that crosses the target notifies, so the others cost one
/// atomic add and a compare, and that one notify makes no system call when
/// nobody is parked. Waiters spin briefly, then park on a [`Notifier`].
///
/// The count wraps modulo 2⁶⁴ like the other counters: an add that carries it
/// past `u64::MAX` leaves a small count, and the latch reads as not reached.
/// A latch is meant for counts far below that.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use handoff::counter::Latch;
///
/// let results = [const { AtomicU32::new(0) }; 3];
/// let done = Latch::new(3);
/// std::thread::scope(|s| {
///     for (i, slot) in results.iter().enumerate() {
///         let done = &done;
///         s.spawn(move || {
///             slot.store(i as u32 * 10, Ordering::Relaxed);
///             done.increment();
///         });
///     }
///     assert!(done.wait(None));
///     // The latch publishes what each worker wrote before counting.
///     let total: u32 = results.iter().map(|r| r.load(Ordering::Relaxed)).sum();
///     assert_eq!(total, 30);
/// });
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub struct Latch {
    /// The count, raised with `Release` adds and read with `Acquire` loads.
    ///
    /// | value            | meaning |
    /// |------------------|---------|
    /// | `0 ..target`     | not reached: waiters park |
    /// | `target..=MAX`   | reached: waiters return `true` |
    count: CachePadded<AtomicU64>,
    /// The count at which the latch is reached; fixed at construction.
    target: u64,
    /// Where waiters park until the add that crosses the target notifies.
    notifier: Notifier,
}

impl Latch {
    /// A latch at count 0 that is reached at `target` (at once if `target` is
    /// 0).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Latch;
    ///
    /// assert!(!Latch::new(1).is_reached());
    /// assert!(Latch::new(0).is_reached(), "a target of 0 is reached at once");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn new(target: u64) -> Self {
        Latch {
            count: CachePadded::new(AtomicU64::new(0)),
            target,
            notifier: Notifier::new(),
        }
    }

    /// Raises the count by `n`, wrapping on overflow, and wakes the waiters if
    /// this add reached the target.
    ///
    /// Returns whether this call was the one that reached it: exactly one add
    /// does, unless the target is 0 or the count wraps.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Latch;
    ///
    /// let latch = Latch::new(10);
    /// assert!(!latch.add(4));
    /// assert!(latch.add(8), "this add carried the count from 4 to 12");
    /// assert!(!latch.add(1), "already reached: no other add reaches it");
    /// assert_eq!(latch.count(), 13);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn add(&self, n: u64) -> bool {
        // Release pairs with the Acquire load in `is_reached`: what this
        // thread wrote before counting is visible to whoever sees the target
        // reached. An earlier add's Release is carried to that reader too,
        // because every later add continues its release sequence.
        let before = self.count.fetch_add(n, Release);
        let after = before.wrapping_add(n);

        // Only the add that carries the count across the target notifies.
        let crossed = before < self.target && after >= self.target;
        if crossed {
            self.notifier.notify_all();
        }
        crossed
    }

    /// Raises the count by 1; see [`add`](Self::add).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Latch;
    ///
    /// let done = Latch::new(3);
    /// let reached = std::thread::scope(|s| {
    ///     let workers: Vec<_> = (0..3).map(|_| s.spawn(|| done.increment())).collect();
    ///     workers.into_iter().map(|w| w.join().unwrap()).collect::<Vec<bool>>()
    /// });
    /// assert_eq!(reached.iter().filter(|&&r| r).count(), 1, "exactly one worker reached it");
    /// assert!(done.is_reached());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn increment(&self) -> bool {
        self.add(1)
    }

    /// The current count.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Latch;
    ///
    /// let latch = Latch::new(2);
    /// latch.add(5);
    /// assert_eq!(latch.count(), 5, "the count may pass the target");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn count(&self) -> u64 {
        // Relaxed: a number for the caller, not a signal; `is_reached` is the
        // signal.
        self.count.load(Relaxed)
    }

    /// The count at which the latch is reached.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Latch;
    ///
    /// let latch = Latch::new(4);
    /// latch.increment();
    /// assert_eq!((latch.count(), latch.target()), (1, 4));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn target(&self) -> u64 {
        self.target
    }

    /// Whether the count has reached the target, without blocking.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::counter::Latch;
    ///
    /// let latch = Latch::new(2);
    /// latch.increment();
    /// assert!(!latch.is_reached());
    /// latch.increment();
    /// assert!(latch.is_reached());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn is_reached(&self) -> bool {
        // Acquire pairs with the Release add in `add`.
        self.count.load(Acquire) >= self.target
    }

    /// Blocks until the count reaches the target or `timeout` passes (`None`:
    /// no timeout). Returns whether the target was reached; `false` only once
    /// the timeout has passed, never early.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::time::Duration;
    /// use handoff::counter::Latch;
    ///
    /// let latch = Latch::new(2);
    /// latch.increment();
    /// assert!(!latch.wait(Some(Duration::from_millis(1))), "only 1 of 2");
    /// assert!(latch.increment(), "this add reached the target");
    /// assert!(latch.wait(None));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        // Spin briefly: workers often finish within microseconds.
        let mut backoff = Backoff::new();
        while !backoff.is_completed() {
            if self.is_reached() {
                return true;
            }
            backoff.snooze();
        }

        // Park until the crossing add notifies.
        self.notifier.wait_until(|| self.is_reached(), timeout)
    }
}

impl fmt::Debug for Latch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latch")
            .field("count", &self.count())
            .field("target", &self.target)
            .finish()
    }
}
