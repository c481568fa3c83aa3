//! Moving many values per commit: `push_slice`/`pop_slice` for `Copy` types,
//! and the chunk API ([`WriteChunk`], [`ReadChunk`]) for any type.
//!
//! A commit publishes (or releases) all its slots with one index store and
//! notifies the other side once, so the per-value cost of synchronisation
//! shrinks with the chunk.

use core::fmt;
#[cfg(not(feature = "loom"))]
use core::ptr;

use super::{Consumer, Layout, PopError, Producer, PushError, Ring};
use crate::sync::atomic::Ordering::Relaxed;

impl<T: Copy> Ring<T> {
    /// Copies `src` into the slots from position `pos` on.
    ///
    /// # Safety
    ///
    /// The caller is the producer and the `src.len()` slots from `pos` are
    /// free (as for [`Ring::write`]).
    unsafe fn copy_in(&self, pos: usize, src: &[T]) {
        #[cfg(not(feature = "loom"))]
        {
            let (a, b) = self.layout.runs(pos, src.len());
            let base = self.base();
            // SAFETY: both runs lie inside the slot array (`Layout::runs`),
            // their slots are free and owned by the producer (the caller's
            // contract), and `src` is a separate borrow: no overlap.
            unsafe {
                ptr::copy_nonoverlapping(src.as_ptr(), base.add(a.start), a.len());
                ptr::copy_nonoverlapping(src.as_ptr().add(a.len()), base.add(b.start), b.len());
            }
        }
        #[cfg(feature = "loom")]
        for (i, value) in src.iter().enumerate() {
            // SAFETY: each of these slots is free (the caller's contract).
            unsafe { self.write(Layout::advance(pos, i), *value) };
        }
    }

    /// Copies the values of the `dst.len()` slots from `pos` into `dst`.
    ///
    /// # Safety
    ///
    /// The caller is the consumer and those slots hold values (as for
    /// [`Ring::read`]); being `Copy`, the values need no drop afterwards.
    unsafe fn copy_out(&self, pos: usize, dst: &mut [T]) {
        #[cfg(not(feature = "loom"))]
        {
            let (a, b) = self.layout.runs(pos, dst.len());
            let base = self.base();
            // SAFETY: both runs lie inside the slot array, hold values and
            // belong to the consumer (the caller's contract); `dst` is a
            // separate unique borrow: no overlap.
            unsafe {
                ptr::copy_nonoverlapping(base.add(a.start), dst.as_mut_ptr(), a.len());
                ptr::copy_nonoverlapping(base.add(b.start), dst.as_mut_ptr().add(a.len()), b.len());
            }
        }
        #[cfg(feature = "loom")]
        for (i, value) in dst.iter_mut().enumerate() {
            // SAFETY: each of these slots holds a value (the caller's contract).
            *value = unsafe { self.read(Layout::advance(pos, i)) };
        }
    }
}

#[cfg(not(feature = "loom"))]
impl<T> Ring<T> {
    /// A pointer to the first slot, valid for the whole slot array.
    #[inline]
    fn base(&self) -> *mut T {
        // Our `UnsafeCell`, std's `UnsafeCell` and `MaybeUninit` are all
        // `repr(transparent)`, so a cell pointer is a `T` pointer; taken from
        // the boxed slice, it may reach every slot, and writing through it is
        // allowed because the slots are inside `UnsafeCell`s.
        self.slots.as_ptr().cast::<T>().cast_mut()
    }
}

impl<T: Copy> Producer<T> {
    /// Copies as many values from the front of `values` as fit, publishes
    /// them with one index store and notifies the consumer once.
    ///
    /// Returns how many were pushed: 0 when the ring is full or the consumer
    /// is gone (tell them apart with [`is_closed`](Self::is_closed)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, mut rx) = handoff::spsc::channel(4).unwrap();
    /// assert_eq!(tx.push_slice(&[1, 2, 3, 4, 5, 6]), 4);
    /// let mut out = [0; 8];
    /// assert_eq!(rx.pop_slice(&mut out), 4);
    /// assert_eq!(out[..4], [1, 2, 3, 4]);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn push_slice(&mut self, values: &[T]) -> usize {
        // Relaxed: as in `try_push`.
        if self.ring.closed.load(Relaxed) {
            return 0;
        }
        let n = self.free_slots(values.len()).min(values.len());
        if n == 0 {
            return 0;
        }
        // SAFETY: `free_slots` found `n` free slots from `tail`.
        unsafe { self.ring.copy_in(self.tail, &values[..n]) };
        self.publish(n);
        n
    }
}

impl<T: Copy> Consumer<T> {
    /// Copies as many of the oldest values as fit into `dst`, releases their
    /// slots with one index store and notifies the producer once.
    ///
    /// Returns how many were popped: 0 when the ring is empty (tell "empty"
    /// from "closed and drained" with [`is_closed`](Self::is_closed)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, mut rx) = handoff::spsc::channel(8).unwrap();
    /// tx.push_slice(b"abc");
    /// let mut out = [0u8; 2];
    /// assert_eq!(rx.pop_slice(&mut out), 2);
    /// assert_eq!(&out, b"ab");
    /// assert_eq!(rx.try_pop(), Ok(b'c'));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn pop_slice(&mut self, dst: &mut [T]) -> usize {
        let n = self.ready_slots(dst.len()).min(dst.len());
        if n == 0 {
            return 0;
        }
        // SAFETY: `ready_slots` found `n` values from `head`.
        unsafe { self.ring.copy_out(self.head, &mut dst[..n]) };
        self.release(n);
        n
    }
}

impl<T> Producer<T> {
    /// Reserves up to `max` free slots to fill one value at a time, then
    /// publish with one commit.
    ///
    /// The chunk holds `min(max, free slots)` slots (none if `max` is 0,
    /// which still fails when no slot is free). Values written into it
    /// reach the consumer when it is committed or dropped.
    ///
    /// # Errors
    ///
    /// [`PushError::Closed`] if the consumer is gone, [`PushError::Full`] if
    /// no slot is free.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, mut rx) = handoff::spsc::channel(4).unwrap();
    /// let mut chunk = tx.write_chunk(3).unwrap();
    /// assert_eq!(chunk.len(), 3);
    /// assert_eq!(chunk.fill_from_iter(["a", "b"].map(String::from)), 2);
    /// assert_eq!(chunk.commit(), 2);
    /// assert_eq!(rx.try_pop().as_deref(), Ok("a"));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn write_chunk(&mut self, max: usize) -> Result<WriteChunk<'_, T>, PushError<()>> {
        // Relaxed: as in `try_push`.
        if self.ring.closed.load(Relaxed) {
            return Err(PushError::Closed(()));
        }
        // At least one slot, so that `max == 0` still reloads a stale cache.
        let free = self.free_slots(max.max(1));
        if free == 0 {
            return Err(PushError::Full(()));
        }
        Ok(WriteChunk {
            len: free.min(max),
            written: 0,
            producer: self,
        })
    }
}

impl<T> Consumer<T> {
    /// Takes up to `max` of the oldest values as a chunk to read one at a
    /// time (it is an [`Iterator`]), then release with one commit.
    ///
    /// The chunk holds `min(max, values ready)` values (none if `max` is 0,
    /// which still fails when no value is ready). Values not taken out
    /// of it stay in the ring.
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
    /// let (mut tx, mut rx) = handoff::spsc::channel(4).unwrap();
    /// tx.push_slice(&[1, 2, 3]);
    /// let chunk = rx.read_chunk(8).unwrap();
    /// assert_eq!(chunk.len(), 3);
    /// assert_eq!(chunk.sum::<i32>(), 6); // taking all, then the drop commits
    /// assert!(rx.is_empty());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn read_chunk(&mut self, max: usize) -> Result<ReadChunk<'_, T>, PopError> {
        // At least one value, so that `max == 0` still reloads a stale cache.
        let mut ready = self.ready_slots(max.max(1));
        if ready == 0 {
            // As in `pop_when_empty`: after seeing `closed`, reload `tail`.
            if !self.ring.is_closed() {
                return Err(PopError::Empty);
            }
            ready = self.ready_slots(1);
            if ready == 0 {
                return Err(PopError::Closed);
            }
        }
        Ok(ReadChunk {
            len: ready.min(max),
            read: 0,
            consumer: self,
        })
    }
}

/// Free slots reserved by [`Producer::write_chunk`], filled one value at a
/// time and published together.
///
/// Dropping the chunk commits what was written, like [`commit`](Self::commit).
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// let (mut tx, mut rx) = handoff::spsc::channel(8).unwrap();
/// {
///     let mut chunk = tx.write_chunk(8).unwrap();
///     for word in ["one", "two", "three"] {
///         chunk.push(word.to_string()).unwrap();
///     }
///     // Dropped here: the three values are published with one index store.
/// }
/// assert_eq!(rx.len(), 3);
/// assert_eq!(rx.try_pop().as_deref(), Ok("one"));
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "values written into a chunk reach the consumer when it is committed or dropped"]
pub struct WriteChunk<'a, T> {
    producer: &'a mut Producer<T>,
    /// How many slots from the producer's `tail` are reserved.
    len: usize,
    /// How many of them hold values (the first `written`).
    written: usize,
}

impl<T> WriteChunk<'_, T> {
    /// How many slots the chunk reserved.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, _rx) = handoff::spsc::channel::<u8>(4).unwrap();
    /// tx.try_push(0).unwrap();
    /// assert_eq!(tx.write_chunk(10).unwrap().len(), 3, "only 3 slots are free");
    /// assert_eq!(tx.write_chunk(2).unwrap().len(), 2);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the chunk reserved no slot (only when asked for 0).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, _rx) = handoff::spsc::channel::<u8>(4).unwrap();
    /// assert!(tx.write_chunk(0).unwrap().is_empty());
    /// assert!(!tx.write_chunk(1).unwrap().is_empty());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many values have been written into the chunk.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, _rx) = handoff::spsc::channel(4).unwrap();
    /// let mut chunk = tx.write_chunk(4).unwrap();
    /// chunk.push(1).unwrap();
    /// chunk.push(2).unwrap();
    /// assert_eq!((chunk.written(), chunk.len()), (2, 4));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn written(&self) -> usize {
        self.written
    }

    /// Writes `value` into the next reserved slot.
    ///
    /// # Errors
    ///
    /// Hands `value` back if every reserved slot is written.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, _rx) = handoff::spsc::channel(1).unwrap();
    /// let mut chunk = tx.write_chunk(5).unwrap();
    /// assert_eq!(chunk.push('x'), Ok(()));
    /// assert_eq!(chunk.push('y'), Err('y'));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn push(&mut self, value: T) -> Result<(), T> {
        if self.written == self.len {
            return Err(value);
        }
        let pos = Layout::advance(self.producer.tail, self.written);
        // SAFETY: `pos` is one of the `len` free slots reserved from `tail`
        // by `write_chunk`, and not written yet; `&mut Producer` keeps every
        // other write away until the commit.
        unsafe { self.producer.ring.write(pos, value) };
        self.written += 1;
        Ok(())
    }

    /// Writes values from `iter` until it ends or the chunk is full, and
    /// returns how many it wrote.
    ///
    /// The iterator is not advanced past the value that fills the chunk, so
    /// a `&mut` iterator passed in can be resumed for the next chunk.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, mut rx) = handoff::spsc::channel(4).unwrap();
    /// let mut values = 1..=6;
    /// let mut chunk = tx.write_chunk(4).unwrap();
    /// assert_eq!(chunk.fill_from_iter(&mut values), 4, "stopped when full");
    /// chunk.commit();
    /// assert_eq!(values.next(), Some(5), "nothing was lost");
    /// assert_eq!(rx.pop_slice(&mut [0; 4]), 4);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn fill_from_iter(&mut self, iter: impl IntoIterator<Item = T>) -> usize {
        let before = self.written;
        for value in iter.into_iter().take(self.len - self.written) {
            if self.push(value).is_err() {
                unreachable!("take() stops at the chunk's end");
            }
        }
        self.written - before
    }

    /// Publishes the written values with one index store, notifies the
    /// consumer once, and returns how many were published.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, rx) = handoff::spsc::channel(4).unwrap();
    /// let mut chunk = tx.write_chunk(4).unwrap();
    /// chunk.push('a').unwrap();
    /// assert_eq!(rx.len(), 0, "not published before the commit");
    /// assert_eq!(chunk.commit(), 1, "only written slots are published");
    /// assert_eq!(rx.len(), 1);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn commit(mut self) -> usize {
        self.publish()
    }

    /// Publishes what was written so far; the chunk is left with nothing to
    /// publish.
    fn publish(&mut self) -> usize {
        let n = self.written;
        if n > 0 {
            self.producer.publish(n);
            self.len -= n;
            self.written = 0;
        }
        n
    }
}

impl<T> Drop for WriteChunk<'_, T> {
    fn drop(&mut self) {
        self.publish();
    }
}

impl<T> fmt::Debug for WriteChunk<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteChunk")
            .field("len", &self.len)
            .field("written", &self.written)
            .finish()
    }
}

/// Values lent by [`Consumer::read_chunk`], taken out one at a time (it is an
/// [`Iterator`]) and released together.
///
/// Dropping the chunk releases the values taken, like
/// [`commit`](Self::commit); values not taken stay in the ring.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// let (mut tx, mut rx) = handoff::spsc::channel(8).unwrap();
/// tx.push_slice(&[10, 20, 30, 40]);
/// let mut chunk = rx.read_chunk(8).unwrap();
/// assert_eq!(chunk.len(), 4);
/// let firsts: Vec<i32> = chunk.by_ref().take(3).collect();
/// assert_eq!(firsts, [10, 20, 30]);
/// drop(chunk); // releases the three values taken
/// assert_eq!(rx.try_pop(), Ok(40), "the value not taken stayed");
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "iterate the chunk to take its values"]
pub struct ReadChunk<'a, T> {
    consumer: &'a mut Consumer<T>,
    /// How many values from the consumer's `head` the chunk covers.
    len: usize,
    /// How many of them were taken out (the first `read`).
    read: usize,
}

impl<T> ReadChunk<'_, T> {
    /// The values still in the chunk, as at most two slices in ring order.
    ///
    /// Not available under `--features loom`, whose cells cannot be viewed
    /// as slices.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, mut rx) = handoff::spsc::channel(4).unwrap();
    /// tx.push_slice(&[1, 2, 3]);
    /// let mut chunk = rx.read_chunk(4).unwrap();
    /// assert_eq!(chunk.next(), Some(1));
    /// let (a, b) = chunk.as_slices();
    /// assert_eq!([a, b].concat(), [2, 3]);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[cfg(not(feature = "loom"))]
    pub fn as_slices(&self) -> (&[T], &[T]) {
        let ring = &self.consumer.ring;
        let pos = Layout::advance(self.consumer.head, self.read);
        let (a, b) = ring.layout.runs(pos, self.len - self.read);
        let base = ring.base();
        // SAFETY: both runs lie inside the slot array and hold values not yet
        // taken or released (the chunk's invariant), which the producer does
        // not touch; `&self` keeps `next` from moving them out meanwhile.
        unsafe {
            (
                core::slice::from_raw_parts(base.add(a.start), a.len()),
                core::slice::from_raw_parts(base.add(b.start), b.len()),
            )
        }
    }

    /// Releases the slots of the values taken with one index store, notifies
    /// the producer once, and returns how many were released.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, mut rx) = handoff::spsc::channel(2).unwrap();
    /// tx.push_slice(&[1, 2]);
    /// assert!(tx.is_full());
    /// let mut chunk = rx.read_chunk(2).unwrap();
    /// assert_eq!(chunk.next(), Some(1));
    /// assert_eq!(chunk.commit(), 1, "only taken values are released");
    /// assert_eq!(tx.push_slice(&[3]), 1, "one slot is free again");
    /// assert_eq!(rx.len(), 2);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn commit(mut self) -> usize {
        self.release()
    }

    /// Releases what was taken so far.
    fn release(&mut self) -> usize {
        let n = self.read;
        if n > 0 {
            self.consumer.release(n);
            self.len -= n;
            self.read = 0;
        }
        n
    }
}

impl<T> Iterator for ReadChunk<'_, T> {
    type Item = T;

    /// Takes the next value out of the chunk; its slot is released with the
    /// others at the commit.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// let (mut tx, mut rx) = handoff::spsc::channel(4).unwrap();
    /// tx.push_slice(&[7, 8]);
    /// let mut chunk = rx.read_chunk(4).unwrap();
    /// assert_eq!(chunk.next(), Some(7));
    /// assert_eq!(chunk.len(), 1, "one value left in the chunk");
    /// assert_eq!(chunk.next(), Some(8));
    /// assert_eq!(chunk.next(), None);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    fn next(&mut self) -> Option<T> {
        if self.read == self.len {
            return None;
        }
        let pos = Layout::advance(self.consumer.head, self.read);
        // SAFETY: `pos` is one of the `len` values `read_chunk` found from
        // `head`, not taken yet; after this the chunk counts it as taken and
        // never reads it again.
        let value = unsafe { self.consumer.ring.read(pos) };
        self.read += 1;
        Some(value)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.len - self.read;
        (left, Some(left))
    }
}

impl<T> ExactSizeIterator for ReadChunk<'_, T> {}

impl<T> Drop for ReadChunk<'_, T> {
    fn drop(&mut self) {
        self.release();
    }
}

impl<T> fmt::Debug for ReadChunk<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counts only; the values are not read.
        f.debug_struct("ReadChunk")
            .field("len", &self.len)
            .field("read", &self.read)
            .finish()
    }
}
