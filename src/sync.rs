//! The one door to atomics, cells, threads, spin hints and fences.
//!
//! Every other module takes these from here and never names `std::sync::atomic`
//! or `loom` itself, so that `--features loom` swaps the whole crate onto loom's
//! model in one place. Futex waits are switched the same way, in
//! [`crate::wait`]'s backend dispatch.

#[cfg(not(feature = "loom"))]
pub(crate) use std::sync::atomic;

#[cfg(feature = "loom")]
pub(crate) use loom::sync::atomic;

#[allow(unused_imports)]
#[cfg(not(feature = "loom"))]
pub(crate) use std::sync::Arc;

#[allow(unused_imports)]
#[cfg(feature = "loom")]
pub(crate) use loom::sync::Arc;

#[allow(unused_imports)]
#[cfg(not(feature = "loom"))]
pub(crate) use std::thread;

#[allow(unused_imports)]
#[cfg(feature = "loom")]
pub(crate) use loom::thread;

#[allow(unused_imports)]
pub(crate) use crossbeam_utils::CachePadded;

/// The modelled futex of `wait`'s loom backend is built from these.
#[cfg(feature = "loom")]
pub(crate) use loom::{
    lazy_static,
    sync::{Condvar, Mutex},
};

/// How many threads the machine runs at once (1 when unknown). Not modelled:
/// loom has no such notion, and the answer only sizes tables.
#[inline]
#[allow(dead_code)]
pub(crate) fn available_parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Puts the calling OS thread to sleep; for the polling fallback of `wait`,
/// which is never compiled under loom.
#[cfg(not(feature = "loom"))]
#[inline]
#[allow(dead_code)]
pub(crate) fn sleep(duration: core::time::Duration) {
    std::thread::sleep(duration);
}

/// An `UnsafeCell` with loom's closure API, so the same code checks accesses
/// under loom and compiles to a bare pointer otherwise.
#[cfg(not(feature = "loom"))]
#[derive(Debug)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

#[cfg(not(feature = "loom"))]
#[allow(dead_code)]
impl<T> UnsafeCell<T> {
    #[inline]
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    #[inline]
    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(not(feature = "loom"))]
#[allow(dead_code)]
impl<T: ?Sized> UnsafeCell<T> {
    /// Runs `f` with a shared pointer to the contents.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a unique pointer to the contents.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[allow(unused_imports)]
#[cfg(feature = "loom")]
pub(crate) use loom::cell::UnsafeCell;

/// Tells the processor (or loom's scheduler) that this thread is spinning.
#[inline]
#[allow(dead_code)]
pub(crate) fn spin_hint() {
    #[cfg(not(feature = "loom"))]
    core::hint::spin_loop();
    #[cfg(feature = "loom")]
    loom::thread::yield_now();
}

/// Bounded spinning before a thread parks: [`SPINS`](Self::SPINS) steps of one
/// spin hint each, then [`YIELDS`](Self::YIELDS) steps that yield the core.
///
/// Each step is followed by the caller's check, so a condition made true while
/// we spin is seen within one spin hint (tens of nanoseconds), not after the
/// next doubling of an exponential backoff such as crossbeam's: a round trip
/// between two threads is then paid once, not rounded up to the next step.
///
/// The yields are many because a park and its wake cost microseconds of
/// system calls, more on a virtual machine, while a yield costs a fraction of
/// one, and on a busy machine (more threads than cores, or a host that
/// deschedules a virtual CPU) the other side often needs this core to move at
/// all. Measured on the project's 2-core VM: a buffer's round trip through two
/// SPSC rings with blocking calls took 1.4-1.9 µs with 4 yields (it parked
/// often) and 0.70-0.78 µs with 64, as fast as busy-polling; the MPMC ring
/// with 2 producers and 2 consumers had settled on 64 the same way. A thread
/// that parks anyway spends about 20 µs here first.
///
/// Under loom every step yields, because loom cannot make progress through a
/// busy loop that never yields, and one step completes the spin.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    steps: u32,
}

#[allow(dead_code)]
impl Backoff {
    /// Steps that spin once each.
    const SPINS: u32 = 128;
    /// Steps that yield the core, after the spinning ones.
    const YIELDS: u32 = 64;

    #[inline]
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// One step: a spin hint, or a yield once the spinning steps are spent.
    #[inline]
    pub(crate) fn snooze(&mut self) {
        #[cfg(not(feature = "loom"))]
        if self.steps < Self::SPINS {
            core::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
        #[cfg(feature = "loom")]
        loom::thread::yield_now();
        self.steps += 1;
    }

    /// Whether spinning has gone on long enough that the caller should park.
    #[inline]
    pub(crate) fn is_completed(&self) -> bool {
        #[cfg(not(feature = "loom"))]
        return self.steps >= Self::SPINS + Self::YIELDS;
        // Under loom one step is enough: the model explores the interleavings
        // that spinning would have waited for.
        #[cfg(feature = "loom")]
        return self.steps >= 1;
    }
}

/// A small number for the calling thread, handed out in the order in which
/// threads first ask (0, 1, 2, ...). Sharded structures pick their shard with
/// it: any `n` consecutive numbers fall on `n` different shards of a
/// power-of-two table at least `n` long.
///
/// Outside loom: a thread-local read after the first call. Under loom the
/// thread-local and the counter are loom's, so numbering restarts with every
/// execution of a model and depends only on its schedule.
#[inline]
#[allow(dead_code)]
pub(crate) fn thread_number() -> usize {
    thread_number::get()
}

#[cfg(not(feature = "loom"))]
mod thread_number {
    use std::cell::Cell;

    use super::atomic::AtomicUsize;
    use super::atomic::Ordering::Relaxed;

    /// Marks a thread that has not asked yet.
    const UNSET: usize = usize::MAX;

    /// The next number to hand out.
    static NEXT: AtomicUsize = AtomicUsize::new(0);

    std::thread_local! {
        static NUMBER: Cell<usize> = const { Cell::new(UNSET) };
    }

    #[inline]
    pub(super) fn get() -> usize {
        let number = NUMBER.with(Cell::get);
        if number != UNSET {
            return number;
        }
        assign()
    }

    #[cold]
    fn assign() -> usize {
        // Relaxed: the number only has to be unique-ish; nothing is published
        // through it. Wrapping onto `UNSET` would take 2^64 threads.
        let number = NEXT.fetch_add(1, Relaxed);
        NUMBER.with(|n| n.set(number));
        number
    }
}

#[cfg(feature = "loom")]
mod thread_number {
    use std::cell::Cell;

    use super::atomic::AtomicUsize;
    use super::atomic::Ordering::Relaxed;

    /// Marks a thread that has not asked yet.
    const UNSET: usize = usize::MAX;

    loom::lazy_static! {
        /// The next number to hand out, reset for every execution.
        static ref NEXT: AtomicUsize = AtomicUsize::new(0);
    }

    loom::thread_local! {
        static NUMBER: Cell<usize> = Cell::new(UNSET);
    }

    pub(super) fn get() -> usize {
        let number = NUMBER.with(Cell::get);
        if number != UNSET {
            return number;
        }
        // Relaxed: as outside loom, nothing is published through the number.
        let number = NEXT.fetch_add(1, Relaxed);
        NUMBER.with(|n| n.set(number));
        number
    }
}

pub(crate) mod fence;
