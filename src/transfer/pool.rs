//! The buffer pool: fixed slots, a lock-free free list, and slot identities.
//!
//! The free list is a Treiber stack (R. K. Treiber, *Systems Programming:
//! Coping with Parallelism*, IBM RJ 5118, 1986) of slot indices, linked through
//! a `next` word in each slot and headed by one `AtomicU64` that carries a tag
//! against ABA. Nothing is allocated after [`BufPool::new`].
//!
//! # Head word
//!
//! | bits  | meaning                                                     |
//! |-------|-------------------------------------------------------------|
//! | 63–32 | tag: bumped by every successful push and pop (wrapping)     |
//! | 31–0  | link to the top slot: `index + 1`, or [`NIL`] when empty    |
//!
//! A slot's `next` word holds the link below it while the slot is on the list.
//!
//! # Slot state word
//!
//! `generation << 2 | state`. The state says who owns the slot; the
//! generation counts the slot's hand-overs through the pool and through
//! descriptors (62 bits: it never wraps in practice):
//!
//! | state    | owner                        | moves to                                   |
//! |----------|------------------------------|--------------------------------------------|
//! | `FREE`   | the free list                | `LOANED`, same generation, when popped      |
//! | `LOANED` | one `TransferBuf`            | `FREE`, generation + 1, when the buffer drops; `SENT`, generation + 1, by `into_descriptor` |
//! | `SENT`   | the holder of the descriptor | `LOANED`, same generation, by `redeem` (one compare-exchange, so one winner) |
//!
//! Only the owner writes the word, except `redeem`, whose compare-exchange
//! from `SENT` makes its caller the owner. Each `SENT` word, and so each
//! descriptor `into_descriptor` makes, has a generation no earlier one had: a
//! copy of a descriptor kept after it was redeemed never matches a later send
//! of the same slot.

use core::alloc::Layout;
use core::fmt;
use core::ptr::NonNull;
use core::time::Duration;

use crate::error::ZeroCapacity;
use crate::notify::Notifier;
use crate::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::sync::atomic::{AtomicU32, AtomicU64};
use crate::sync::{Arc, Backoff, CachePadded};

use super::buf::{dangling, TransferBuf};
use super::{Descriptor, DescriptorError, LoanError};

/// The link that ends the free list.
const NIL: u32 = 0;

/// Slot state: on the free list.
const FREE: u64 = 0;
/// Slot state: held by one `TransferBuf`.
const LOANED: u64 = 1;
/// Slot state: given up for a descriptor, not yet redeemed.
const SENT: u64 = 2;
/// The state bits of a slot state word.
const STATE_MASK: u64 = 0b11;
/// The largest generation a state word can hold.
const MAX_GENERATION: u64 = u64::MAX >> 2;

/// The free list's head: a tag and the link to the top slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head {
    tag: u32,
    top: u32,
}

impl Head {
    #[inline]
    fn unpack(word: u64) -> Self {
        Head {
            tag: (word >> 32) as u32,
            top: word as u32,
        }
    }

    #[inline]
    fn pack(self) -> u64 {
        (u64::from(self.tag) << 32) | u64::from(self.top)
    }

    /// The head after replacing the top with `top`.
    #[inline]
    fn with_top(self, top: u32) -> Self {
        Head {
            tag: self.tag.wrapping_add(1),
            top,
        }
    }
}

/// The link to slot `index`.
#[inline]
fn link(index: u32) -> u32 {
    index + 1
}

/// A state word.
#[inline]
fn state_word(generation: u64, state: u64) -> u64 {
    (generation << 2) | state
}

/// The generation of a state word.
#[inline]
fn generation(word: u64) -> u64 {
    word >> 2
}

/// The generation after `generation`.
#[inline]
fn bump(generation: u64) -> u64 {
    generation.wrapping_add(1) & MAX_GENERATION
}

/// Bookkeeping of one slot.
struct Slot {
    /// `generation << 2 | state`; see the module docs.
    state: AtomicU64,
    /// The link below this slot while it is on the free list.
    next: AtomicU32,
}

/// What a pool's handles and its loaned buffers share; freed with the last of
/// them.
pub(super) struct Shared {
    /// The free list's head; see the module docs.
    head: CachePadded<AtomicU64>,
    /// Where blocked loans park; notified by every return.
    notifier: Notifier,
    /// Per-slot state and link.
    slots: Box<[Slot]>,
    /// The first slot's bytes; slot `i` starts `i * stride` bytes later.
    base: NonNull<u8>,
    /// The allocation behind `base`; `None` when no bytes were needed.
    layout: Option<Layout>,
    /// Bytes per buffer.
    buf_len: usize,
    /// Bytes between slots: `buf_len` rounded up to `TransferBuf::ALIGN`.
    stride: usize,
    /// This pool's random tag, copied into its descriptors.
    tag: u32,
}

// SAFETY: `base` points to memory owned by `Shared`; each slot's bytes are
// touched only by the one `TransferBuf` the free list lends it to (see `pop`),
// and everything else is atomic.
unsafe impl Send for Shared {}

// SAFETY: as for Send: shared access goes through atomics, and a slot's bytes
// through its single owner.
unsafe impl Sync for Shared {}

impl Shared {
    /// Allocates `count` zeroed slots of `buf_len` bytes, all free.
    fn new(count: u32, buf_len: usize) -> Self {
        // Lay the slots out on cache-line boundaries.
        let stride = buf_len
            .checked_next_multiple_of(TransferBuf::ALIGN)
            .expect("pool buffer length overflows usize");
        let total = stride
            .checked_mul(count as usize)
            .expect("pool size overflows usize");

        // Allocate them zeroed, so that every byte a buffer shows is initialized.
        let (base, layout) = allocate_zeroed(total);

        // Chain every slot into the free list, slot 0 on top.
        let slots = (0..count)
            .map(|i| Slot {
                state: AtomicU64::new(state_word(0, FREE)),
                next: AtomicU32::new(if i + 1 < count { link(i + 1) } else { NIL }),
            })
            .collect();
        let head = Head {
            tag: 0,
            top: link(0),
        };
        Shared {
            head: CachePadded::new(AtomicU64::new(head.pack())),
            notifier: Notifier::new(),
            slots,
            base,
            layout,
            buf_len,
            stride,
            tag: random_tag(),
        }
    }

    /// Bytes per buffer.
    #[inline]
    pub(super) fn buf_len(&self) -> usize {
        self.buf_len
    }

    /// The first byte of slot `index`.
    #[inline]
    pub(super) fn slot_ptr(&self, index: u32) -> NonNull<u8> {
        // SAFETY: `index < count` (every caller got it from the free list or a
        // checked descriptor), so the offset stays inside the allocation, or
        // is 0 when nothing was allocated.
        unsafe { self.base.add(index as usize * self.stride) }
    }

    /// Takes the top slot off the free list, making the caller its only owner.
    #[inline]
    fn pop(&self) -> Option<u32> {
        // Acquire pairs with the Release compare-exchange in `push` that put
        // the top there: it publishes the top's `next` link, and the bytes and
        // state its last owner wrote.
        let mut word = self.head.load(Acquire);
        loop {
            let head = Head::unpack(word);
            let index = head.top.checked_sub(1)?;

            // Relaxed: the Acquire load above ordered us after the push that
            // wrote this link. If the slot was popped and pushed again since,
            // the tag moved on and the compare-exchange below fails.
            let next = self.slots[index as usize].next.load(Relaxed);

            // Acquire on success pairs with that push as well (every later
            // change of the head is a read-modify-write, so it continues the
            // push's release sequence); on failure we retry from the new head,
            // whose link we are about to read, so Acquire again.
            match self.head.compare_exchange_weak(
                word,
                head.with_top(next).pack(),
                Acquire,
                Acquire,
            ) {
                Ok(_) => return Some(index),
                Err(now) => word = now,
            }
        }
    }

    /// Puts slot `index`, owned by the caller, back on the free list.
    #[inline]
    fn push(&self, index: u32) {
        // Relaxed: the value is only used as the expected value of the
        // compare-exchange, which checks it.
        let mut word = self.head.load(Relaxed);
        loop {
            let head = Head::unpack(word);

            // Relaxed: published by the Release compare-exchange below.
            self.slots[index as usize].next.store(head.top, Relaxed);

            // Release pairs with the Acquire load and compare-exchange in
            // `pop`: the next owner sees this link and every byte we wrote.
            match self.head.compare_exchange_weak(
                word,
                head.with_top(link(index)).pack(),
                Release,
                Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => word = now,
            }
        }
    }

    /// Marks slot `index`, just popped by the caller, as loaned.
    #[inline]
    fn mark_loaned(&self, index: u32) {
        let state = &self.slots[index as usize].state;
        // Relaxed: the caller owns the slot; the word was written by the slot's
        // last owner before its push, which our pop acquired. Nobody but the
        // owner acts on `LOANED` (a redeem only moves a slot out of `SENT`).
        let word = state.load(Relaxed);
        state.store(state_word(generation(word), LOANED), Relaxed);
    }

    /// Returns slot `index` from its dropped buffer: ends the loan, puts the
    /// slot on the free list and notifies a parked loan.
    pub(super) fn release(&self, index: u32) {
        // End the loan: descriptors of this generation go stale. Relaxed: we
        // own the word, and the push below publishes it to the next owner.
        let state = &self.slots[index as usize].state;
        let word = state.load(Relaxed);
        state.store(state_word(bump(generation(word)), FREE), Relaxed);

        // Hand the slot to the next loan, and wake one if it is parked.
        self.push(index);
        self.notifier.notify_one();
    }

    /// The descriptor of slot `index`'s current loan; the caller holds it.
    pub(super) fn descriptor(&self, index: u32) -> Descriptor {
        // Relaxed: only the owner (the caller) changes the word.
        let word = self.slots[index as usize].state.load(Relaxed);
        Descriptor {
            pool: self.tag,
            index,
            generation: generation(word),
        }
    }

    /// Gives up slot `index`, held by the caller, for a descriptor of a new
    /// generation.
    pub(super) fn send(&self, index: u32) -> Descriptor {
        let held = self.descriptor(index);
        let descriptor = Descriptor {
            generation: bump(held.generation),
            ..held
        };
        // Release pairs with the Acquire compare-exchange in `redeem`: the
        // redeemer sees every byte the sender wrote.
        self.slots[index as usize]
            .state
            .store(state_word(descriptor.generation, SENT), Release);
        descriptor
    }

    /// The slot a descriptor names, and the state word it would have while
    /// sent, or why the descriptor names nothing here.
    fn resolve(&self, d: Descriptor) -> Result<(&Slot, u64), DescriptorError> {
        if d.pool != self.tag {
            return Err(DescriptorError::WrongPool);
        }
        let slot = self
            .slots
            .get(d.index as usize)
            .ok_or(DescriptorError::OutOfRange)?;
        if d.generation > MAX_GENERATION {
            return Err(DescriptorError::Stale);
        }
        Ok((slot, state_word(d.generation, SENT)))
    }
}

/// `total` zeroed bytes aligned to `TransferBuf::ALIGN`, and the layout to
/// free them with (`None`, and a dangling pointer, when `total` is 0).
fn allocate_zeroed(total: usize) -> (NonNull<u8>, Option<Layout>) {
    if total == 0 {
        return (dangling(), None);
    }
    let layout =
        Layout::from_size_align(total, TransferBuf::ALIGN).expect("pool size overflows isize");
    // SAFETY: the layout has a nonzero size.
    let raw = unsafe { std::alloc::alloc_zeroed(layout) };
    let base = NonNull::new(raw).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
    (base, Some(layout))
}

/// Why a state word is not the `sent` word a descriptor expected.
fn refusal(word: u64, sent: u64) -> DescriptorError {
    if generation(word) == generation(sent) && word & STATE_MASK == LOANED {
        DescriptorError::InUse
    } else {
        DescriptorError::Stale
    }
}

/// A tag that tells this pool's descriptors from other pools'.
fn random_tag() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    // Each RandomState has fresh keys (random per thread, then counted up),
    // so hashing a constant gives a fresh random value.
    RandomState::new().hash_one(0x5eed_u32) as u32
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(layout) = self.layout {
            // SAFETY: allocated in `new` with this layout; the last handle and
            // the last loaned buffer are gone, so nothing points into it.
            unsafe { std::alloc::dealloc(self.base.as_ptr(), layout) };
        }
    }
}

/// A fixed number of fixed-size buffers, allocated once and lent out.
///
/// [`try_loan`](Self::try_loan) takes a free buffer; [`loan`](Self::loan) and
/// [`loan_timeout`](Self::loan_timeout) wait for one. Dropping a loaned
/// [`TransferBuf`], on any thread, returns it: lock-free, with no allocation.
/// Clones of a `BufPool` are handles to the same pool. When the last handle is
/// dropped while buffers are still out, those buffers stay fully usable, and
/// the pool's memory is freed when the last of them is dropped.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::transfer::BufPool;
///
/// let pool = BufPool::new(4, 64 << 10).unwrap();
/// let mut buf = pool.try_loan().unwrap();
/// buf[..5].copy_from_slice(b"hello");
/// let worker = std::thread::spawn(move || buf[..5].to_vec());
/// assert_eq!(worker.join().unwrap(), b"hello"); // the buffer went home
/// assert_eq!(pool.available(), 4);
///
/// // A clone is another handle to the same buffers.
/// let handle = pool.clone();
/// let _held = handle.try_loan().unwrap();
/// assert_eq!(pool.available(), 3);
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[derive(Clone)]
pub struct BufPool {
    shared: Arc<Shared>,
}

impl BufPool {
    /// A pool of `count` buffers of `buf_len` zeroed bytes each, every buffer
    /// aligned to [`TransferBuf::ALIGN`].
    ///
    /// `buf_len` may be 0 (buffers with no bytes, still counted out and back).
    ///
    /// # Errors
    ///
    /// [`ZeroCapacity`] if `count` is 0.
    ///
    /// # Panics
    ///
    /// If `count` exceeds `u32::MAX - 1` or the pool's size overflows `isize`.
    /// Running out of memory aborts, as for `Vec`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::error::ZeroCapacity;
    /// use handoff::transfer::BufPool;
    ///
    /// assert_eq!(BufPool::new(0, 64).unwrap_err(), ZeroCapacity);
    /// let pool = BufPool::new(2, 100).unwrap();
    /// assert_eq!((pool.capacity(), pool.buf_len()), (2, 100));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn new(count: usize, buf_len: usize) -> Result<Self, ZeroCapacity> {
        if count == 0 {
            return Err(ZeroCapacity);
        }
        let count = u32::try_from(count)
            .ok()
            .filter(|&c| c < u32::MAX)
            .expect("a pool holds at most u32::MAX - 1 buffers");
        Ok(BufPool {
            shared: Arc::new(Shared::new(count, buf_len)),
        })
    }

    /// The number of buffers.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::BufPool;
    ///
    /// let pool = BufPool::new(3, 8).unwrap();
    /// let _held = pool.try_loan().unwrap();
    /// assert_eq!(pool.capacity(), 3, "loans do not change it");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.shared.slots.len()
    }

    /// The length of each buffer.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::BufPool;
    ///
    /// let pool = BufPool::new(1, 100).unwrap();
    /// assert_eq!(pool.buf_len(), 100);
    /// assert_eq!(pool.try_loan().unwrap().len(), 100, "not rounded up to ALIGN");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn buf_len(&self) -> usize {
        self.shared.buf_len
    }

    /// How many buffers are in the pool right now: a snapshot that may be
    /// stale as soon as it returns, counted by scanning every slot (O(n)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::BufPool;
    ///
    /// let pool = BufPool::new(3, 8).unwrap();
    /// let held = pool.try_loan().unwrap();
    /// assert_eq!(pool.available(), 2);
    /// drop(held);
    /// assert_eq!(pool.available(), 3);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn available(&self) -> usize {
        // Relaxed: a snapshot; no decision is made from it.
        self.shared
            .slots
            .iter()
            .filter(|s| s.state.load(Relaxed) & STATE_MASK == FREE)
            .count()
    }

    /// Lends a free buffer, if there is one.
    ///
    /// The buffer holds whatever its last owner wrote (zeroes the first time).
    ///
    /// # Errors
    ///
    /// [`LoanError::Empty`] if every buffer is out.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::{BufPool, LoanError};
    ///
    /// let pool = BufPool::new(1, 8).unwrap();
    /// let buf = pool.try_loan().unwrap();
    /// assert_eq!(pool.try_loan().unwrap_err(), LoanError::Empty);
    /// drop(buf);
    /// assert!(pool.try_loan().is_ok());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn try_loan(&self) -> Result<TransferBuf, LoanError> {
        let index = self.shared.pop().ok_or(LoanError::Empty)?;
        Ok(self.lend(index))
    }

    /// Lends a buffer, waiting as long as it takes for one to be returned.
    ///
    /// Spins briefly, then parks until a buffer is returned.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::BufPool;
    ///
    /// let pool = BufPool::new(1, 8).unwrap();
    /// let held = pool.loan();
    /// std::thread::scope(|s| {
    ///     s.spawn(move || drop(held));
    ///     assert_eq!(pool.loan().len(), 8);
    /// });
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn loan(&self) -> TransferBuf {
        match self.loan_within(None) {
            Some(buf) => buf,
            None => unreachable!("an untimed loan returns only with a buffer"),
        }
    }

    /// Lends a buffer, waiting at most `timeout` for one to be returned.
    ///
    /// # Errors
    ///
    /// [`LoanError::Empty`] if no buffer was free by the deadline (never
    /// before it).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::time::Duration;
    /// use handoff::transfer::{BufPool, LoanError};
    ///
    /// let pool = BufPool::new(1, 8).unwrap();
    /// let held = pool.loan_timeout(Duration::from_millis(1)).unwrap();
    /// let waited = pool.loan_timeout(Duration::from_millis(1));
    /// assert_eq!(waited.unwrap_err(), LoanError::Empty);
    /// drop(held);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn loan_timeout(&self, timeout: Duration) -> Result<TransferBuf, LoanError> {
        self.loan_within(Some(timeout)).ok_or(LoanError::Empty)
    }

    /// Whether `descriptor` names a buffer sent by this pool's
    /// [`TransferBuf::into_descriptor`] and not redeemed yet, so that
    /// [`redeem`](Self::redeem) would take it now.
    ///
    /// # Errors
    ///
    /// The [`DescriptorError`] that `redeem` would return now.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::{BufPool, DescriptorError};
    ///
    /// let pool = BufPool::new(1, 8).unwrap();
    /// let buf = pool.try_loan().unwrap();
    /// let peeked = buf.descriptor().unwrap();
    /// assert_eq!(pool.check(peeked), Err(DescriptorError::InUse));
    /// let sent = buf.into_descriptor().unwrap();
    /// assert_eq!(pool.check(sent), Ok(()));
    /// let other = BufPool::new(1, 8).unwrap();
    /// assert_eq!(other.check(sent), Err(DescriptorError::WrongPool));
    /// # drop(pool.redeem(sent));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn check(&self, descriptor: Descriptor) -> Result<(), DescriptorError> {
        let (slot, sent) = self.shared.resolve(descriptor)?;
        // Relaxed: an answer about this instant only; `redeem` acquires.
        let word = slot.state.load(Relaxed);
        if word == sent {
            Ok(())
        } else {
            Err(refusal(word, sent))
        }
    }

    /// Turns a descriptor from [`TransferBuf::into_descriptor`] back into
    /// its buffer, with the bytes its sender wrote. Succeeds once per
    /// descriptor: the slot then belongs to the returned buffer.
    ///
    /// # Errors
    ///
    /// A [`DescriptorError`] if the descriptor is from another pool, out of
    /// range, stale (its loan ended) or in use (already redeemed, or copied
    /// from a buffer that still holds the slot). Nothing changes then.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::{BufPool, DescriptorError};
    ///
    /// let pool = BufPool::new(2, 8).unwrap();
    /// let mut buf = pool.try_loan().unwrap();
    /// buf[0] = 1;
    /// let id = buf.into_descriptor().unwrap();
    /// let back = pool.redeem(id).unwrap();
    /// assert_eq!(back[0], 1);
    /// assert_eq!(pool.redeem(id).unwrap_err(), DescriptorError::InUse);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn redeem(&self, descriptor: Descriptor) -> Result<TransferBuf, DescriptorError> {
        let (slot, sent) = self.shared.resolve(descriptor)?;
        let loaned = state_word(descriptor.generation, LOANED);
        // Acquire pairs with the Release store in `Shared::send`: we see the
        // sender's bytes. Relaxed on failure: nothing is taken.
        match slot.state.compare_exchange(sent, loaned, Acquire, Relaxed) {
            Ok(_) => Ok(TransferBuf::lent(
                Arc::clone(&self.shared),
                descriptor.index,
            )),
            Err(word) => Err(refusal(word, sent)),
        }
    }

    /// Hands popped slot `index` to a new buffer.
    #[inline]
    fn lend(&self, index: u32) -> TransferBuf {
        self.shared.mark_loaned(index);
        TransferBuf::lent(Arc::clone(&self.shared), index)
    }

    /// A loan that spins briefly, then parks until `timeout` passes.
    fn loan_within(&self, timeout: Option<Duration>) -> Option<TransferBuf> {
        let mut backoff = Backoff::new();
        loop {
            if let Some(index) = self.shared.pop() {
                return Some(self.lend(index));
            }
            if backoff.is_completed() {
                return self.loan_parked(timeout);
            }
            backoff.snooze();
        }
    }

    /// The slow path of a blocking loan: park on the notifier that every
    /// return notifies.
    #[cold]
    fn loan_parked(&self, timeout: Option<Duration>) -> Option<TransferBuf> {
        // Pop inside the readiness check, so that a buffer seen is a buffer
        // taken; once one is taken the check stays true without popping again.
        let mut taken = None;
        self.shared.notifier.wait_until(
            || {
                if taken.is_none() {
                    taken = self.shared.pop();
                }
                taken.is_some()
            },
            timeout,
        );
        taken.map(|index| self.lend(index))
    }
}

impl fmt::Debug for BufPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Reads only atomic bookkeeping, never a buffer's bytes.
        f.debug_struct("BufPool")
            .field("capacity", &self.capacity())
            .field("buf_len", &self.buf_len())
            .field("available", &self.available())
            .finish()
    }
}
