//! The buffer handle: who owns the bytes, and the detached state.

use core::alloc::Layout;
use core::fmt;
use core::mem::{self, ManuallyDrop};
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;

use crate::sync::Arc;

use super::pool::Shared;
use super::{Descriptor, Detached};

/// Where a buffer's bytes came from, and so how they go back.
enum Owner {
    /// Transferred away: no bytes, length 0.
    Detached,
    /// The allocation of a `Vec<u8>` of this capacity (alignment 1).
    Vec { capacity: usize },
    /// An allocation of exactly `len` bytes aligned to [`TransferBuf::ALIGN`];
    /// none at all when `len` is 0.
    Aligned,
    /// Slot `index` of a pool, lent to this handle alone.
    Pool { shared: Arc<Shared>, index: u32 },
}

/// An owned byte buffer whose bytes change hands in O(1).
///
/// A buffer is *attached* while it owns bytes, and *detached* once
/// [`transfer`](Self::transfer) has moved them to another handle: then its
/// length is 0 and every accessor returns [`Detached`]. The bytes come from
/// one of three places, which only matters for alignment and for
/// [`into_vec`](Self::into_vec):
///
/// | made by | alignment | `into_vec` |
/// |---------|-----------|------------|
/// | [`zeroed`](Self::zeroed) | [`ALIGN`](Self::ALIGN) | copies |
/// | [`from_vec`](Self::from_vec) | the allocator's (at least 1) | no copy |
/// | [`BufPool`](super::BufPool) loans | [`ALIGN`](Self::ALIGN) | copies, and returns the slot |
///
/// `TransferBuf` also derefs to `[u8]` for convenience; a detached buffer
/// panics there, so code that may see one should use
/// [`as_slice`](Self::as_slice) and [`as_mut_slice`](Self::as_mut_slice).
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::transfer::TransferBuf;
///
/// let mut buf = TransferBuf::from_vec(b"hello".to_vec());
/// buf[0] = b'j';
/// let worker = std::thread::spawn({
///     let buf = buf.transfer();
///     move || buf.into_vec().unwrap()
/// });
/// assert!(buf.is_detached());
/// assert_eq!(worker.join().unwrap(), b"jello");
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "dropping a buffer frees its bytes (or returns them to its pool)"]
pub struct TransferBuf {
    /// Start of the bytes: valid for `len` reads and writes unless detached;
    /// aligned and dangling when `len` is 0.
    ptr: NonNull<u8>,
    /// Number of bytes; 0 when detached.
    len: usize,
    /// Who the bytes belong to.
    owner: Owner,
}

// SAFETY: a TransferBuf owns its bytes alone (its own allocation, a Vec's, or
// a pool slot that the free list lends to one handle at a time, see
// `pool::Shared::pop`), so moving it to another thread moves that ownership;
// `Shared` is Send and Sync.
unsafe impl Send for TransferBuf {}

// SAFETY: a shared reference only reads the bytes (`as_slice`, `Deref`);
// writing needs `&mut TransferBuf`.
unsafe impl Sync for TransferBuf {}

/// An empty allocation's address: dangling, but aligned to `ALIGN`.
#[repr(C, align(64))]
struct Line([u8; TransferBuf::ALIGN]);

/// An aligned, dangling pointer for buffers of length 0.
#[inline]
pub(super) fn dangling() -> NonNull<u8> {
    NonNull::<Line>::dangling().cast()
}

impl TransferBuf {
    /// The alignment of buffers made by [`zeroed`](Self::zeroed) and of every
    /// pool buffer: one cache line.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::{BufPool, TransferBuf};
    ///
    /// let pool = BufPool::new(2, 10).unwrap();
    /// let (a, b) = (pool.try_loan().unwrap(), pool.try_loan().unwrap());
    /// for buf in [&a, &b] {
    ///     assert_eq!(buf.as_ptr() as usize % TransferBuf::ALIGN, 0);
    /// }
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub const ALIGN: usize = 64;

    /// A buffer of `len` zero bytes, aligned to [`ALIGN`](Self::ALIGN).
    ///
    /// # Panics
    ///
    /// If `len` rounded up to `ALIGN` exceeds `isize::MAX`. Running out of
    /// memory aborts, as for `Vec`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::TransferBuf;
    ///
    /// let buf = TransferBuf::zeroed(4096);
    /// assert_eq!(buf.len(), 4096);
    /// assert!(buf.iter().all(|&b| b == 0));
    /// assert_eq!(buf.as_slice().unwrap().as_ptr() as usize % TransferBuf::ALIGN, 0);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn zeroed(len: usize) -> Self {
        let ptr = if len == 0 {
            dangling()
        } else {
            let layout = Self::layout(len);
            // SAFETY: the layout has a nonzero size (len > 0).
            let raw = unsafe { std::alloc::alloc_zeroed(layout) };
            NonNull::new(raw).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
        };
        TransferBuf {
            ptr,
            len,
            owner: Owner::Aligned,
        }
    }

    /// Takes a vector's bytes without copying them.
    ///
    /// The buffer's length is the vector's length; its spare capacity is kept
    /// (and handed back by [`into_vec`](Self::into_vec)) but not accessible.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::TransferBuf;
    ///
    /// let v = vec![1u8, 2, 3];
    /// let at = v.as_ptr();
    /// let buf = TransferBuf::from_vec(v);
    /// assert_eq!(buf.as_slice().unwrap().as_ptr(), at);
    /// let back = buf.into_vec().unwrap();
    /// assert_eq!(back.as_ptr(), at);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn from_vec(vec: Vec<u8>) -> Self {
        let mut vec = ManuallyDrop::new(vec);
        TransferBuf {
            // SAFETY: a Vec's pointer is never null (it dangles when the
            // capacity is 0).
            ptr: unsafe { NonNull::new_unchecked(vec.as_mut_ptr()) },
            len: vec.len(),
            owner: Owner::Vec {
                capacity: vec.capacity(),
            },
        }
    }

    /// A handle to a pool slot; the caller has taken the slot off the free list
    /// for this handle alone.
    pub(super) fn lent(shared: Arc<Shared>, index: u32) -> Self {
        TransferBuf {
            ptr: shared.slot_ptr(index),
            len: shared.buf_len(),
            owner: Owner::Pool { shared, index },
        }
    }

    /// A buffer with no bytes that reports itself detached.
    fn detached() -> Self {
        TransferBuf {
            ptr: dangling(),
            len: 0,
            owner: Owner::Detached,
        }
    }

    /// Moves the bytes into a new buffer in O(1) and detaches this one.
    ///
    /// Nothing is copied or allocated, whatever the length. Afterwards this
    /// buffer has length 0, [`is_detached`](Self::is_detached) is true, and its
    /// accessors return [`Detached`]. Transferring a detached buffer returns
    /// another detached buffer (where JavaScript would throw), so the result
    /// must be checked before use, as every accessor does.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::TransferBuf;
    ///
    /// let mut a = TransferBuf::zeroed(3);
    /// let b = a.transfer();
    /// assert_eq!((a.len(), b.len()), (0, 3));
    /// assert!(a.is_detached() && !b.is_detached());
    /// assert!(a.transfer().is_detached());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn transfer(&mut self) -> TransferBuf {
        mem::replace(self, TransferBuf::detached())
    }

    /// Whether the bytes were transferred away.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::TransferBuf;
    ///
    /// let mut buf = TransferBuf::zeroed(0);
    /// assert!(!buf.is_detached(), "empty is not detached");
    /// let _ = buf.transfer();
    /// assert!(buf.is_detached());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn is_detached(&self) -> bool {
        matches!(self.owner, Owner::Detached)
    }

    /// The number of bytes; 0 when detached.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::TransferBuf;
    ///
    /// assert_eq!(TransferBuf::zeroed(7).len(), 7);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer has no bytes (true when detached).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::TransferBuf;
    ///
    /// assert!(TransferBuf::zeroed(0).is_empty());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes.
    ///
    /// # Errors
    ///
    /// [`Detached`] if the buffer was transferred.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::{Detached, TransferBuf};
    ///
    /// let mut buf = TransferBuf::from_vec(vec![9]);
    /// assert_eq!(buf.as_slice(), Ok(&[9u8][..]));
    /// let _ = buf.transfer();
    /// assert_eq!(buf.as_slice(), Err(Detached));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn as_slice(&self) -> Result<&[u8], Detached> {
        if self.is_detached() {
            return Err(Detached);
        }
        // SAFETY: attached, so `ptr` is valid for `len` bytes (see the field),
        // initialized (zeroed, a Vec's initialized prefix, or pool memory
        // allocated zeroed), and owned by this handle alone; `&self` keeps
        // writers out for the slice's lifetime.
        Ok(unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) })
    }

    /// The bytes, for writing.
    ///
    /// # Errors
    ///
    /// [`Detached`] if the buffer was transferred.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::TransferBuf;
    ///
    /// let mut buf = TransferBuf::zeroed(2);
    /// buf.as_mut_slice().unwrap().copy_from_slice(&[4, 5]);
    /// assert_eq!(&buf[..], &[4, 5]);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    pub fn as_mut_slice(&mut self) -> Result<&mut [u8], Detached> {
        if self.is_detached() {
            return Err(Detached);
        }
        // SAFETY: as in `as_slice`, and `&mut self` makes this the only
        // reference to the bytes for the slice's lifetime.
        Ok(unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) })
    }

    /// The bytes as a `Vec<u8>`: without copying for a buffer made by
    /// [`from_vec`](Self::from_vec), by copying otherwise (a pool buffer then
    /// goes back to its pool).
    ///
    /// # Errors
    ///
    /// [`Detached`] if the buffer was transferred (it had nothing to give).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::{Detached, TransferBuf};
    ///
    /// let mut buf = TransferBuf::from_vec(vec![1, 2]);
    /// let moved = buf.transfer();
    /// assert_eq!(buf.into_vec(), Err(Detached));
    /// assert_eq!(moved.into_vec(), Ok(vec![1, 2]));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn into_vec(self) -> Result<Vec<u8>, Detached> {
        let capacity = match self.owner {
            Owner::Vec { capacity } => capacity,
            _ => return self.as_slice().map(<[u8]>::to_vec),
        };
        let this = ManuallyDrop::new(self);
        // SAFETY: `ptr`, `len` and `capacity` are the parts of the Vec taken
        // apart in `from_vec`, unchanged since; `this` will not drop them.
        Ok(unsafe { Vec::from_raw_parts(this.ptr.as_ptr(), this.len, capacity) })
    }

    /// The identity of this buffer's pool slot, or `None` if it did not come
    /// from a pool (or is detached).
    ///
    /// It names the slot and its current generation, for logs and
    /// comparisons, but cannot be redeemed:
    /// [`BufPool::redeem`](super::BufPool::redeem) refuses it as
    /// [`InUse`](super::DescriptorError::InUse) while this buffer holds the
    /// slot and as [`Stale`](super::DescriptorError::Stale) once the slot has
    /// moved on. [`into_descriptor`](Self::into_descriptor) gives the slot up.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::{BufPool, TransferBuf};
    ///
    /// let pool = BufPool::new(1, 8).unwrap();
    /// assert_eq!(pool.try_loan().unwrap().descriptor().unwrap().index, 0);
    /// assert_eq!(TransferBuf::zeroed(8).descriptor(), None);
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn descriptor(&self) -> Option<Descriptor> {
        match &self.owner {
            Owner::Pool { shared, index } => Some(shared.descriptor(*index)),
            _ => None,
        }
    }

    /// Gives up a pool buffer for its [`Descriptor`], plain data that
    /// [`BufPool::redeem`](super::BufPool::redeem) turns back into the buffer
    /// exactly once, on any thread.
    ///
    /// Until it is redeemed the slot belongs to whoever holds the descriptor;
    /// a descriptor that is never redeemed keeps its slot out of the pool.
    ///
    /// # Errors
    ///
    /// Hands the buffer back unchanged if it did not come from a pool or is
    /// detached.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::{BufPool, TransferBuf};
    ///
    /// let pool = BufPool::new(1, 8).unwrap();
    /// let mut buf = pool.try_loan().unwrap();
    /// buf[0] = 7;
    /// let id = buf.into_descriptor().unwrap();
    /// let back = std::thread::scope(|s| s.spawn(|| pool.redeem(id).unwrap()).join().unwrap());
    /// assert_eq!(back[0], 7);
    ///
    /// let plain = TransferBuf::zeroed(8);
    /// assert!(plain.into_descriptor().is_err());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn into_descriptor(self) -> Result<Descriptor, TransferBuf> {
        if !matches!(self.owner, Owner::Pool { .. }) {
            return Err(self);
        }
        let mut this = ManuallyDrop::new(self);
        match mem::replace(&mut this.owner, Owner::Detached) {
            // The Arc is dropped here: a descriptor holds no reference.
            Owner::Pool { shared, index } => Ok(shared.send(index)),
            _ => unreachable!("checked above"),
        }
    }

    /// The allocation layout of a `zeroed` buffer of `len > 0` bytes.
    fn layout(len: usize) -> Layout {
        Layout::from_size_align(len, Self::ALIGN).expect("TransferBuf length overflows isize")
    }
}

impl Drop for TransferBuf {
    fn drop(&mut self) {
        match &self.owner {
            Owner::Detached => {}
            Owner::Vec { capacity } => {
                // SAFETY: the parts of the Vec taken apart in `from_vec`.
                drop(unsafe { Vec::from_raw_parts(self.ptr.as_ptr(), self.len, *capacity) });
            }
            Owner::Aligned if self.len == 0 => {}
            Owner::Aligned => {
                // SAFETY: allocated in `zeroed` with this very layout.
                unsafe { std::alloc::dealloc(self.ptr.as_ptr(), Self::layout(self.len)) };
            }
            // The Arc field is dropped after this, so the pool's memory
            // outlives the return.
            Owner::Pool { shared, index } => shared.release(*index),
        }
    }
}

impl From<Vec<u8>> for TransferBuf {
    /// Same as [`TransferBuf::from_vec`]: no copy.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::TransferBuf;
    ///
    /// let buf: TransferBuf = vec![1, 2, 3].into();
    /// assert_eq!(buf.as_slice(), Ok(&[1u8, 2, 3][..]));
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    fn from(vec: Vec<u8>) -> Self {
        TransferBuf::from_vec(vec)
    }
}

impl Deref for TransferBuf {
    type Target = [u8];

    /// The bytes.
    ///
    /// # Panics
    ///
    /// If the buffer is detached; [`TransferBuf::as_slice`] reports that as
    /// an error instead.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use std::panic::{catch_unwind, AssertUnwindSafe};
    /// use handoff::transfer::TransferBuf;
    ///
    /// let mut buf = TransferBuf::from_vec(b"abc".to_vec());
    /// assert_eq!(buf.first(), Some(&b'a')); // any `[u8]` method
    /// let _moved = buf.transfer();
    /// let read = catch_unwind(AssertUnwindSafe(|| buf.first().copied()));
    /// assert!(read.is_err(), "a detached buffer panics on deref");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    #[track_caller]
    fn deref(&self) -> &[u8] {
        match self.as_slice() {
            Ok(bytes) => bytes,
            Err(Detached) => detached_access(),
        }
    }
}

impl DerefMut for TransferBuf {
    /// The bytes, for writing.
    ///
    /// # Panics
    ///
    /// If the buffer is detached; [`TransferBuf::as_mut_slice`] reports that
    /// as an error instead.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::transfer::TransferBuf;
    ///
    /// let mut buf = TransferBuf::zeroed(4);
    /// buf[1..3].copy_from_slice(b"hi");
    /// buf.reverse();
    /// assert_eq!(&buf[..], b"\0ih\0");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    #[inline]
    #[track_caller]
    fn deref_mut(&mut self) -> &mut [u8] {
        match self.as_mut_slice() {
            Ok(bytes) => bytes,
            Err(Detached) => detached_access(),
        }
    }
}

/// The panic of a deref of a detached buffer.
#[cold]
#[track_caller]
fn detached_access() -> ! {
    panic!("TransferBuf was transferred: a detached buffer has no bytes (use as_slice to check)")
}

impl fmt::Debug for TransferBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never shows the bytes: they may be large.
        let mut d = f.debug_struct("TransferBuf");
        match &self.owner {
            Owner::Detached => d.field("detached", &true),
            Owner::Vec { capacity } => d.field("len", &self.len).field("capacity", capacity),
            Owner::Aligned => d.field("len", &self.len),
            Owner::Pool { index, .. } => d.field("len", &self.len).field("slot", index),
        };
        d.finish()
    }
}
