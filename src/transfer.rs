//! Ownership-transfer buffers: `postMessage(data, [buffer])` for Rust.
//!
//! A [`TransferBuf`] is an owned byte buffer whose bytes change hands in O(1),
//! whatever its length. [`TransferBuf::transfer`] moves the bytes into a new
//! handle and leaves the original *detached*, exactly like a transferred
//! `ArrayBuffer`: its length is 0, [`is_detached`](TransferBuf::is_detached)
//! is true, and every accessor returns a [`Detached`] error. Sending a
//! `TransferBuf` through a ring moves only its handle (a pointer, a length and
//! an owner tag), and the type system stops the sender from touching it again.
//!
//! A [`BufPool`] allocates a fixed number of fixed-size buffers once and lends
//! them out. Dropping a loaned buffer, on any thread, returns it to the pool
//! without a lock or an allocation, so a steady stream of messages allocates
//! nothing. Every slot has an identity, a [`Descriptor`] (pool tag, index,
//! generation) that is plain data: it can travel where a handle cannot (a ring
//! of plain values, a log, a lookup table) and is checked, never trusted, when
//! it is turned back into a buffer with [`BufPool::redeem`]. A `BufPool` lives
//! in one process's heap, so only that process can redeem its descriptors;
//! between processes, `shm::pool` keeps its buffers in the shared region and
//! sends descriptors of its own.
//!
//! # Progress
//!
//! | operation | progress |
//! |-----------|----------|
//! | [`TransferBuf::transfer`], accessors | wait-free, O(1) |
//! | [`BufPool::try_loan`], returning a buffer (drop) | lock-free; a return makes a system call only to wake a parked loan |
//! | [`TransferBuf::into_descriptor`], [`BufPool::redeem`], [`BufPool::check`] | wait-free |
//! | [`BufPool::loan`], [`BufPool::loan_timeout`] | blocking: spin briefly, then park on a [`Notifier`](crate::notify::Notifier) |
//!
//! # Limitations
//!
//! * The pool's free list is a Treiber stack whose head carries a 32-bit tag
//!   against ABA: a thread preempted inside `try_loan` for exactly 2³² other
//!   loans and returns could corrupt it. That needs billions of operations
//!   inside one preemption and is ignored, as in every tagged stack.
//! * A pool's tag is 32 random bits, so a descriptor of another pool is
//!   detected except with probability 2⁻³² (its index, generation and state
//!   must then match too).
//! * A loaned buffer holds whatever its last owner wrote; pools do not clear
//!   buffers between loans.
//! * A descriptor is plain data with no destructor: a slot sent as a
//!   descriptor that is never redeemed stays out of the pool.
//!
//! # Example
//!
//! ```
//! # #[cfg(not(feature = "loom"))] fn main() {
//! use handoff::transfer::{Detached, TransferBuf};
//!
//! let mut buf = TransferBuf::zeroed(10 << 20);
//! buf.as_mut_slice().unwrap()[0] = 42;
//!
//! // O(1): only the handle moves.
//! let moved = buf.transfer();
//! assert_eq!(moved.len(), 10 << 20);
//! assert_eq!(moved.as_slice().unwrap()[0], 42);
//!
//! // The original is detached, like a transferred ArrayBuffer.
//! assert!(buf.is_detached());
//! assert_eq!(buf.len(), 0);
//! assert_eq!(buf.as_slice(), Err(Detached));
//! # }
//! # #[cfg(feature = "loom")] fn main() {}
//! ```
//!
//! A pushed buffer belongs to the ring; the sender cannot use it again:
//!
//! ```compile_fail
//! # #[cfg(not(feature = "loom"))] fn main() {
//! use handoff::spsc;
//! use handoff::transfer::TransferBuf;
//!
//! let (mut tx, _rx) = spsc::channel::<TransferBuf>(1).unwrap();
//! let buf = TransferBuf::zeroed(1024);
//! tx.push(buf).unwrap();
//! buf.len(); // error[E0382]: borrow of moved value: `buf`
//! # }
//! # #[cfg(feature = "loom")] fn main() { compile_error!("not built under loom"); }
//! ```

use core::fmt;

mod buf;
mod pool;

pub use buf::TransferBuf;
pub use pool::BufPool;

/// The identity of one loan of a pool slot, as plain data.
///
/// Made by [`TransferBuf::descriptor`] or [`TransferBuf::into_descriptor`],
/// checked by [`BufPool::check`] and turned back into a buffer by
/// [`BufPool::redeem`]. Nothing in it is trusted: a descriptor from another
/// pool, with an index out of range, from an earlier loan of the slot, or
/// already redeemed is reported as a [`DescriptorError`].
///
/// The layout is fixed (`#[repr(C)]`, 16 bytes, integers only, no padding) and
/// the type is [`bytemuck::Pod`], so it can be stored as bytes anywhere and
/// read back as a descriptor. Only the process that owns the pool can redeem
/// it: the buffers themselves live in that process's heap.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::transfer::BufPool;
///
/// let pool = BufPool::new(2, 64).unwrap();
/// let buf = pool.try_loan().unwrap();
/// let id = buf.descriptor().unwrap();
/// assert!(id.index < 2);
/// let bytes: [u8; 16] = bytemuck::cast(id);
/// assert_eq!(bytemuck::cast::<_, handoff::transfer::Descriptor>(bytes), id);
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Descriptor {
    /// The tag of the pool that made it (random per pool).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::BufPool;
    ///
    /// let pool = BufPool::new(2, 8).unwrap();
    /// let (a, b) = (pool.try_loan().unwrap(), pool.try_loan().unwrap());
    /// assert_eq!(a.descriptor().unwrap().pool, b.descriptor().unwrap().pool);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub pool: u32,
    /// The slot's index in its pool.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::BufPool;
    ///
    /// let pool = BufPool::new(2, 8).unwrap();
    /// let (a, b) = (pool.try_loan().unwrap(), pool.try_loan().unwrap());
    /// let (a, b) = (a.descriptor().unwrap().index, b.descriptor().unwrap().index);
    /// assert_ne!(a, b, "two loans at once hold two slots");
    /// assert!(a < 2 && b < 2);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub index: u32,
    /// Which hand-over of the slot this is; bumped each time the slot returns
    /// to the pool or is sent as a descriptor.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::BufPool;
    ///
    /// let pool = BufPool::new(1, 8).unwrap();
    /// let buf = pool.try_loan().unwrap();
    /// let g = buf.descriptor().unwrap().generation;
    /// let sent = buf.into_descriptor().unwrap();
    /// assert_eq!(sent.generation, g + 1, "sent as a descriptor");
    /// drop(pool.redeem(sent).unwrap());
    /// let again = pool.try_loan().unwrap(); // the same slot: the pool has one
    /// assert_eq!(again.descriptor().unwrap().generation, g + 2, "returned to the pool");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub generation: u64,
}

/// The buffer was transferred (or taken apart), so it has no bytes.
///
/// Returned by every accessor of a detached [`TransferBuf`]; the counterpart of
/// the `TypeError` a detached `ArrayBuffer` throws.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::transfer::{Detached, TransferBuf};
///
/// let mut buf = TransferBuf::zeroed(8);
/// let _moved = buf.transfer();
/// assert_eq!(buf.as_slice(), Err(Detached));
/// assert_eq!(Detached.to_string(), "buffer is detached: its bytes were transferred");
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Detached;

impl fmt::Display for Detached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("buffer is detached: its bytes were transferred")
    }
}

impl std::error::Error for Detached {}

/// Why a loan failed.
///
/// [`BufPool::try_loan`] returns it when no buffer is free;
/// [`BufPool::loan_timeout`] when none became free by the deadline.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::transfer::{BufPool, LoanError};
///
/// let pool = BufPool::new(1, 16).unwrap();
/// let _held = pool.try_loan().unwrap();
/// assert_eq!(pool.try_loan().unwrap_err(), LoanError::Empty);
/// assert_eq!(LoanError::Empty.to_string(), "loan from an empty pool");
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoanError {
    /// Every buffer of the pool was out on loan (until the deadline, for a
    /// timed loan).
    Empty,
}

impl fmt::Display for LoanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LoanError::Empty => "loan from an empty pool",
        })
    }
}

impl std::error::Error for LoanError {}

/// Why a [`Descriptor`] was refused by [`BufPool::check`] or
/// [`BufPool::redeem`].
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::transfer::{BufPool, DescriptorError};
///
/// let pool = BufPool::new(1, 16).unwrap();
/// let id = pool.try_loan().unwrap().into_descriptor().unwrap();
///
/// // Refused without effect: another pool, a slot that does not exist.
/// let other = BufPool::new(1, 16).unwrap();
/// assert_eq!(other.redeem(id).unwrap_err(), DescriptorError::WrongPool);
/// let bogus = handoff::transfer::Descriptor { index: 9, ..id };
/// assert_eq!(pool.redeem(bogus).unwrap_err(), DescriptorError::OutOfRange);
/// assert_eq!(
///     DescriptorError::OutOfRange.to_string(),
///     "descriptor index is out of range"
/// );
///
/// let buf = pool.redeem(id).unwrap();
/// // A second redeem of the same descriptor is a duplicate.
/// assert_eq!(pool.redeem(id).unwrap_err(), DescriptorError::InUse);
/// drop(buf);
/// // Once the buffer is back in the pool, the descriptor is stale.
/// assert_eq!(pool.redeem(id).unwrap_err(), DescriptorError::Stale);
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DescriptorError {
    /// The descriptor was made by another pool.
    WrongPool,
    /// The index is not a slot of this pool.
    OutOfRange,
    /// The generation does not match the slot's current one: the hand-over it
    /// named has ended (the buffer came back to the pool, or was redeemed and
    /// sent again).
    Stale,
    /// The descriptor names the current loan, but a buffer holds the slot: it
    /// was redeemed already, or copied while its buffer was still in use.
    InUse,
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DescriptorError::WrongPool => "descriptor belongs to another pool",
            DescriptorError::OutOfRange => "descriptor index is out of range",
            DescriptorError::Stale => "descriptor generation does not match its slot",
            DescriptorError::InUse => "descriptor names a buffer that is in use",
        })
    }
}

impl std::error::Error for DescriptorError {}
