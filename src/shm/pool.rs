//! Transfer buffers in a region: a large payload moves between processes as
//! a small [`Descriptor`] sent through a ring, with no copy of the payload.
//!
//! A process loans a [`Buffer`] ([`Pool::try_loan`], [`Pool::loan`],
//! [`Pool::loan_timeout`], as for [`BufPool`](crate::transfer::BufPool)),
//! fills it, and gives it up for its descriptor with
//! [`into_descriptor`](Buffer::into_descriptor): that consumes the handle (the
//! sender keeps nothing that reaches the memory) and returns a
//! [`Descriptor`], `(index, generation)`, plain data to push through an
//! [`Spsc`](super::spsc::Spsc) or [`Mpmc`](super::mpmc::Mpmc) ring. The
//! receiving process turns the descriptor back into a [`Received`] buffer with
//! [`Pool::redeem`]; dropping that returns the buffer to the pool for anyone's
//! next loan.
//!
//! # Buffer state words
//!
//! One `u64` per buffer: the generation in the high 32 bits, the state in the
//! low 32.
//!
//! | state     | meaning                                                   |
//! |-----------|-----------------------------------------------------------|
//! | `FREE`    | in the pool: the next loan may take it                    |
//! | `WRITING` | loaned; its [`Buffer`] handle owns it                     |
//! | `SENT`    | given up for a descriptor; waiting for one [`Pool::redeem`] |
//! | `READING` | redeemed; its [`Received`] handle owns it                 |
//! | other     | written by a confused peer: never loaned or redeemed      |
//!
//! A return to the pool bumps the generation, so a descriptor of an earlier
//! use, a second redeem of the same descriptor, or a made-up one fails with
//! [`ShmError::Stale`]. Generations wrap after 2³² uses of one buffer; a
//! descriptor held back that long could be redeemed again.
//!
//! # Limits
//!
//! A buffer whose holder dies (in `WRITING` or `READING`, or `SENT` and never
//! redeemed) stays out of the pool until the region is recreated. The buffer bytes are
//! reached through raw pointers: [`Buffer::write_at`], [`Received::read_at`]
//! copy, and the `unsafe` slice views say what the caller promises.
//!
//! ```compile_fail
//! # #[cfg(not(feature = "loom"))] fn main() {
//! use handoff::shm::pool::Pool;
//! let pool = Pool::create("/tmp/never", 1, 64).unwrap();
//! let mut buf = pool.try_loan().unwrap();
//! let _descriptor = buf.into_descriptor();
//! buf.write_at(0, b"too late"); // error: `buf` was moved by `into_descriptor`
//! # }
//! # // No shm under loom: fail there too, so the test holds in both builds.
//! # #[cfg(feature = "loom")] fn main() { compile_error!("no shm under loom") }
//! ```

use core::fmt;
use core::time::Duration;
use std::path::Path;
use std::sync::Arc;

use super::layout::{line, Fingerprint, Kind};
use super::park::Blocked;
use super::region::Region;
use super::ShmError;
use crate::notify::Notifier;
use crate::sync::atomic::AtomicU64;
use crate::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::transfer::LoanError;
use crate::wait::Scope;

/// In the pool.
const FREE: u32 = 0;
/// Owned by a `Buffer`.
const WRITING: u32 = 1;
/// Given up for a descriptor, waiting for its redeem.
const SENT: u32 = 2;
/// Owned by a `Received`.
const READING: u32 = 3;

/// Control line of the loan hint (where the next scan starts).
const HINT: u64 = line(0);
/// Notifier that loans waiting for a free buffer park on.
const FREED: u64 = line(2);

/// A state word's value.
fn state(generation: u32, s: u32) -> u64 {
    (u64::from(generation) << 32) | u64::from(s)
}

/// A sent buffer's name, to push through a ring: plain data.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::shm::pool::{Descriptor, Pool};
/// use handoff::shm::spsc::Spsc;
///
/// let path = std::env::temp_dir().join(format!("doc-pool-desc-{}", std::process::id()));
/// let ring_path = path.with_extension("ring");
/// let pool = Pool::create(&path, 2, 64).unwrap();
/// // Descriptors are plain data: they go through a shared ring.
/// let ring = Spsc::<Descriptor>::create(&ring_path, 2, 0x44).unwrap();
/// let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
/// tx.push(pool.try_loan().unwrap().into_descriptor()).unwrap();
/// let d = rx.pop().unwrap();
/// assert!(d.index < 2);
/// assert!(pool.redeem(d).is_ok());
/// handoff::shm::remove(&path).unwrap();
/// handoff::shm::remove(&ring_path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Descriptor {
    /// Which buffer.
    pub index: u32,
    /// Which use of it.
    pub generation: u32,
}

/// A pool of fixed-size transfer buffers in a shared region.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::shm::pool::Pool;
///
/// let path = std::env::temp_dir().join(format!("doc-pool-{}", std::process::id()));
/// let pool = Pool::create(&path, 2, 1 << 20).unwrap();
/// let mut buf = pool.try_loan().unwrap();
/// buf.write_at(0, b"hello");
/// let d = buf.into_descriptor(); // push `d` through a ring to another process
///
/// let got = Pool::open(&path).unwrap().redeem(d).unwrap();
/// let mut bytes = [0; 5];
/// got.read_at(0, &mut bytes);
/// assert_eq!(&bytes, b"hello");
/// handoff::shm::remove(&path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
pub struct Pool {
    region: Arc<Region>,
}

impl Pool {
    /// Creates a region at `path` with `count` buffers of `buf_len` bytes.
    ///
    /// # Errors
    ///
    /// [`ShmError::ZeroCapacity`] if either is 0, [`ShmError::TooLarge`] for
    /// more than 2³² - 1 buffers or a size that overflows, [`ShmError::Io`]
    /// when the file exists or cannot be created and mapped.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{pool::Pool, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-create-{}", std::process::id()));
    /// assert_eq!(Pool::create(&path, 4, 0).unwrap_err(), ShmError::ZeroCapacity);
    /// let pool = Pool::create(&path, 4, 1 << 16).unwrap();
    /// assert_eq!((pool.capacity(), pool.buf_len()), (4, 1 << 16));
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn create(path: impl AsRef<Path>, count: usize, buf_len: usize) -> Result<Self, ShmError> {
        let print = Fingerprint {
            kind: Kind::Pool,
            elem_size: 1,
            elem_align: 1,
            tag: 0,
            capacity: count as u64,
            extra: buf_len as u64,
        };
        // All-zero state words: every buffer FREE at generation 0.
        let region = Region::create(path.as_ref(), print, |_| {})?;
        Ok(Pool {
            region: Arc::new(region),
        })
    }

    /// Opens the pool at `path`.
    ///
    /// # Errors
    ///
    /// Every header check has its [`ShmError`]; see its variants.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-open-{}", std::process::id()));
    /// let created = Pool::create(&path, 2, 100).unwrap();
    /// let opened = Pool::open(&path).unwrap(); // another process, typically
    /// assert_eq!((opened.capacity(), opened.buf_len()), (2, 100));
    /// drop(created);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ShmError> {
        let region = Region::open(path.as_ref(), Kind::Pool, 1, 1, 0)?;
        Ok(Pool {
            region: Arc::new(region),
        })
    }

    /// The number of buffers.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-cap-{}", std::process::id()));
    /// let pool = Pool::create(&path, 3, 64).unwrap();
    /// assert_eq!(pool.capacity(), 3);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn capacity(&self) -> usize {
        self.region.layout().slots as usize
    }

    /// The length of each buffer in bytes.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-buflen-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 4096).unwrap();
    /// assert_eq!(pool.buf_len(), 4096);
    /// assert_eq!(pool.try_loan().unwrap().len(), 4096);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn buf_len(&self) -> usize {
        self.region.layout().print.extra as usize
    }

    /// Lends a free buffer, if there is one, without blocking.
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
    /// use handoff::shm::pool::Pool;
    /// use handoff::transfer::LoanError;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-tryloan-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 64).unwrap();
    /// let buf = pool.try_loan().unwrap();
    /// assert_eq!(pool.try_loan().unwrap_err(), LoanError::Empty);
    /// drop(buf);
    /// assert!(pool.try_loan().is_ok());
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn try_loan(&self) -> Result<Buffer, LoanError> {
        self.take_any().ok_or(LoanError::Empty)
    }

    /// Takes some free buffer, scanning from the shared hint.
    fn take_any(&self) -> Option<Buffer> {
        // Start where the last scan left off, so loans spread out.
        let count = self.region.layout().slots;
        // Relaxed: only a starting point; any value is a valid one.
        let start = self.region.atomic::<AtomicU64>(HINT).fetch_add(1, Relaxed);
        (0..count)
            .map(|i| start.wrapping_add(i) % count)
            .find_map(|index| self.take(index as u32))
    }

    /// Takes buffer `index` if it is free.
    fn take(&self, index: u32) -> Option<Buffer> {
        let word = state_word(&self.region, index);
        // Relaxed: a first look; the exchange below decides.
        let now = word.load(Relaxed);
        if now as u32 != FREE {
            return None;
        }
        let generation = (now >> 32) as u32;
        // Acquire pairs with the Release store that returned it: the previous
        // owner's accesses to the bytes are done.
        word.compare_exchange(now, state(generation, WRITING), Acquire, Relaxed)
            .ok()?;
        Some(Buffer {
            owned: Owned::new(Arc::clone(&self.region), index, generation, WRITING),
        })
    }

    /// Lends a buffer, waiting as long as it takes for one to be returned.
    ///
    /// Spins briefly, then parks until a buffer comes back to the pool.
    ///
    /// A pool has no roles, so this call cannot tell a slow peer from a dead
    /// one: buffers held by a process that died never come back (see the
    /// [module docs](self)), and this call then blocks for ever. Use
    /// [`loan_timeout`](Self::loan_timeout) when a peer may die.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-loan-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 64).unwrap();
    /// let held = pool.loan();
    /// std::thread::scope(|s| {
    ///     s.spawn(move || drop(held));
    ///     assert_eq!(pool.loan().len(), 64); // waits for `held` to come back
    /// });
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn loan(&self) -> Buffer {
        match self.loan_within(None) {
            Some(buffer) => buffer,
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
    /// use handoff::shm::pool::Pool;
    /// use handoff::transfer::LoanError;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-loant-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 64).unwrap();
    /// let held = pool.loan_timeout(Duration::from_millis(1)).unwrap();
    /// let waited = pool.loan_timeout(Duration::from_millis(1));
    /// assert_eq!(waited.unwrap_err(), LoanError::Empty);
    /// drop(held);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn loan_timeout(&self, timeout: Duration) -> Result<Buffer, LoanError> {
        self.loan_within(Some(timeout)).ok_or(LoanError::Empty)
    }

    /// A loan that spins briefly, then parks until `timeout` passes (`None`:
    /// never).
    fn loan_within(&self, timeout: Option<Duration>) -> Option<Buffer> {
        let mut blocked = Blocked::new(timeout);
        loop {
            if let Some(buffer) = self.take_any() {
                return Some(buffer);
            }
            let freed: &Notifier = self.region.atomic(FREED);
            if !blocked.pause(freed, || self.any_free()) {
                return self.take_any();
            }
        }
    }

    fn any_free(&self) -> bool {
        let count = self.region.layout().slots as u32;
        // Relaxed: a hint to stop parking; `take` decides with Acquire.
        (0..count).any(|i| state_word(&self.region, i).load(Relaxed) as u32 == FREE)
    }

    /// Turns a descriptor from [`Buffer::into_descriptor`] back into its
    /// buffer, with the bytes its sender wrote. Succeeds once per descriptor:
    /// the buffer then belongs to the returned handle.
    ///
    /// # Errors
    ///
    /// [`ShmError::Stale`] if the descriptor names no buffer, or one that is
    /// not waiting for its redeem at that generation (already redeemed,
    /// returned, reused, or never given up). Nothing changes then.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{pool::Pool, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-redeem-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 64).unwrap();
    /// let mut buf = pool.try_loan().unwrap();
    /// buf.write_at(0, &[7]);
    /// let d = buf.into_descriptor();
    /// let got = Pool::open(&path).unwrap().redeem(d).unwrap(); // another process, typically
    /// let mut byte = [0];
    /// got.read_at(0, &mut byte);
    /// assert_eq!(byte, [7]);
    /// assert_eq!(pool.redeem(d).unwrap_err(), ShmError::Stale, "once only");
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn redeem(&self, descriptor: Descriptor) -> Result<Received, ShmError> {
        let Descriptor { index, generation } = descriptor;
        if u64::from(index) >= self.region.layout().slots {
            return Err(ShmError::Stale);
        }
        // Acquire pairs with the Release store in `Buffer::into_descriptor`: the bytes
        // the sender wrote are visible to us.
        state_word(&self.region, index)
            .compare_exchange(
                state(generation, SENT),
                state(generation, READING),
                Acquire,
                Relaxed,
            )
            .map_err(|_| ShmError::Stale)?;
        Ok(Received {
            owned: Owned::new(Arc::clone(&self.region), index, generation, READING),
        })
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("capacity", &self.capacity())
            .field("buf_len", &self.buf_len())
            .finish()
    }
}

/// The state word of buffer `index` (`index < slots`).
fn state_word(region: &Region, index: u32) -> &AtomicU64 {
    region.atomic(region.layout().data_off + 8 * u64::from(index))
}

/// A buffer held by this process, in `WRITING` or `READING`; returns it to
/// the pool when dropped, unless it was given up (`state == SENT`).
struct Owned {
    region: Arc<Region>,
    index: u32,
    generation: u32,
    state: u32,
    ptr: *mut u8,
    len: usize,
}

// SAFETY: `ptr` points into the region that `Owned` keeps alive; the buffer
// is this handle's alone by the state word, whichever thread holds it.
unsafe impl Send for Owned {}
// SAFETY: `&Owned` only reads (copies out through raw pointers).
unsafe impl Sync for Owned {}

impl Owned {
    fn new(region: Arc<Region>, index: u32, generation: u32, state: u32) -> Self {
        let l = *region.layout();
        // In bounds: index < slots, and the layout fits `slots` buffers.
        let ptr = region.ptr::<u8>(l.buffers_off + u64::from(index) * l.stride);
        let len = l.print.extra as usize;
        Owned {
            region,
            index,
            generation,
            state,
            ptr,
            len,
        }
    }

    /// Checks that `[offset, offset + n)` lies in the buffer.
    fn check(&self, offset: usize, n: usize) {
        assert!(
            offset.checked_add(n).is_some_and(|end| end <= self.len),
            "range {offset}+{n} outside a buffer of {} bytes",
            self.len
        );
    }

    fn word(&self) -> &AtomicU64 {
        state_word(&self.region, self.index)
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // A buffer given up for a descriptor belongs to its redeemer now.
        if self.state == SENT {
            return;
        }
        // Return it under the next generation, unless a peer scribbled over
        // the word (then it stays out of use). Release pairs with the Acquire
        // exchange of the next `take`.
        let next = state(self.generation.wrapping_add(1), FREE);
        let mine = state(self.generation, self.state);
        if self
            .word()
            .compare_exchange(mine, next, Release, Relaxed)
            .is_ok()
        {
            self.region
                .atomic::<Notifier>(FREED)
                .notify_in(Scope::Shared, 1);
        }
    }
}

/// A buffer loaned to this process, to fill and give up with
/// [`into_descriptor`](Self::into_descriptor). Dropped instead, it goes back
/// to the pool.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::shm::pool::Pool;
///
/// let path = std::env::temp_dir().join(format!("doc-pool-buffer-{}", std::process::id()));
/// let pool = Pool::create(&path, 1, 64).unwrap();
/// let buf = pool.try_loan().unwrap();
/// assert!(pool.try_loan().is_err());
/// drop(buf); // never given up: back to the pool
/// assert!(pool.try_loan().is_ok());
/// handoff::shm::remove(&path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "a loaned buffer goes back to the pool when dropped"]
pub struct Buffer {
    owned: Owned,
}

impl Buffer {
    /// Its size in bytes.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-blen-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 100).unwrap();
    /// assert_eq!(pool.try_loan().unwrap().len(), 100);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn len(&self) -> usize {
        self.owned.len
    }

    /// Whether it has size 0 (never: pools refuse size 0).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-bempty-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 100).unwrap();
    /// assert!(!pool.try_loan().unwrap().is_empty());
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_empty(&self) -> bool {
        self.owned.len == 0
    }

    /// Copies `bytes` into the buffer at `offset`.
    ///
    /// # Panics
    ///
    /// If the range runs past the buffer.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-write-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 8).unwrap();
    /// let mut buf = pool.try_loan().unwrap();
    /// buf.write_at(4, b"tail");
    /// let got = pool.redeem(buf.into_descriptor()).unwrap();
    /// let mut out = [0; 4];
    /// got.read_at(4, &mut out);
    /// assert_eq!(&out, b"tail");
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn write_at(&mut self, offset: usize, bytes: &[u8]) {
        self.owned.check(offset, bytes.len());
        // SAFETY: the range is inside this buffer (checked), which this
        // handle owns by its state word; the destination is raw shared memory.
        unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.owned.ptr.add(offset), bytes.len())
        };
    }

    /// A raw pointer to the first byte, for writing in place.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-mutptr-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 8).unwrap();
    /// let mut buf = pool.try_loan().unwrap();
    /// let p = buf.as_mut_ptr();
    /// // SAFETY: `p` points to the buffer's 8 bytes, which this handle owns; a raw
    /// // write never makes a reference to memory another process may write.
    /// unsafe { p.add(7).write_volatile(42) };
    /// let got = pool.redeem(buf.into_descriptor()).unwrap();
    /// let mut last = [0];
    /// got.read_at(7, &mut last);
    /// assert_eq!(last, [42]);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.owned.ptr
    }

    /// The buffer as a mutable slice.
    ///
    /// # Safety
    ///
    /// No other process may access this buffer while the slice lives. The
    /// pool's protocol gives this handle the buffer alone, but nothing stops
    /// a misbehaving process from writing to the mapping anyway.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-mutslice-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 4).unwrap();
    /// let mut buf = pool.try_loan().unwrap();
    /// // SAFETY: no other process touches this pool while the slice lives.
    /// unsafe { buf.as_mut_slice() }.copy_from_slice(b"abcd");
    /// let got = pool.redeem(buf.into_descriptor()).unwrap();
    /// // SAFETY: as above.
    /// assert_eq!(unsafe { got.as_slice() }, b"abcd");
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub unsafe fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: in bounds and owned by this handle; exclusivity against
        // other processes is the caller's promise.
        unsafe { core::slice::from_raw_parts_mut(self.owned.ptr, self.owned.len) }
    }

    /// Gives up the buffer for its [`Descriptor`], plain data that
    /// [`Pool::redeem`] turns back into the buffer exactly once, in any
    /// process that opened the pool.
    ///
    /// This process keeps no handle to the buffer. Until it is redeemed the
    /// buffer belongs to whoever holds the descriptor; a descriptor that is
    /// never redeemed keeps its buffer out of the pool.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::{pool::Pool, ShmError};
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-intodesc-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 64).unwrap();
    /// let d = pool.try_loan().unwrap().into_descriptor();
    /// // Given up, not returned: no loan can take it until it is redeemed.
    /// assert!(pool.try_loan().is_err());
    /// let got = pool.redeem(d).unwrap();
    /// drop(got);
    /// assert_eq!(pool.redeem(d).unwrap_err(), ShmError::Stale);
    /// assert!(pool.try_loan().is_ok());
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn into_descriptor(mut self) -> Descriptor {
        let d = Descriptor {
            index: self.owned.index,
            generation: self.owned.generation,
        };
        // Release pairs with the Acquire exchange in `Pool::redeem`: our
        // writes to the bytes happen before the receiver's reads.
        self.owned.word().store(state(d.generation, SENT), Release);
        // No longer ours: dropping the handle must not return it.
        self.owned.state = SENT;
        d
    }
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("index", &self.owned.index)
            .field("generation", &self.owned.generation)
            .field("len", &self.owned.len)
            .finish()
    }
}

/// A buffer redeemed from a peer's descriptor; it goes back to the pool when
/// dropped.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::shm::pool::Pool;
///
/// let path = std::env::temp_dir().join(format!("doc-pool-received-{}", std::process::id()));
/// let pool = Pool::create(&path, 1, 64).unwrap();
/// let d = pool.try_loan().unwrap().into_descriptor();
/// let got = pool.redeem(d).unwrap();
/// assert!(pool.try_loan().is_err());
/// drop(got); // back to the pool
/// assert!(pool.try_loan().is_ok());
/// handoff::shm::remove(&path).unwrap();
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[must_use = "a redeemed buffer goes back to the pool when dropped"]
pub struct Received {
    owned: Owned,
}

impl Received {
    /// Its size in bytes.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-rlen-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 100).unwrap();
    /// let got = pool.redeem(pool.try_loan().unwrap().into_descriptor()).unwrap();
    /// assert_eq!(got.len(), 100);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn len(&self) -> usize {
        self.owned.len
    }

    /// Whether it has size 0 (never: pools refuse size 0).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-rempty-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 100).unwrap();
    /// let got = pool.redeem(pool.try_loan().unwrap().into_descriptor()).unwrap();
    /// assert!(!got.is_empty());
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_empty(&self) -> bool {
        self.owned.len == 0
    }

    /// Copies bytes from `offset` into `out`.
    ///
    /// # Panics
    ///
    /// If the range runs past the buffer.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-read-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 8).unwrap();
    /// let mut buf = pool.try_loan().unwrap();
    /// buf.write_at(0, b"headtail");
    /// let got = pool.redeem(buf.into_descriptor()).unwrap();
    /// let mut head = [0; 4];
    /// got.read_at(0, &mut head);
    /// assert_eq!(&head, b"head");
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn read_at(&self, offset: usize, out: &mut [u8]) {
        self.owned.check(offset, out.len());
        // SAFETY: the range is inside this buffer (checked), which this
        // handle owns by its state word; the source is raw shared memory.
        unsafe {
            core::ptr::copy_nonoverlapping(self.owned.ptr.add(offset), out.as_mut_ptr(), out.len())
        };
    }

    /// A raw pointer to the first byte, for reading in place.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-ptr-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 8).unwrap();
    /// let mut buf = pool.try_loan().unwrap();
    /// buf.write_at(0, &[9]);
    /// let got = pool.redeem(buf.into_descriptor()).unwrap();
    /// // SAFETY: `as_ptr` points to the buffer's 8 bytes, which this handle owns; a
    /// // raw read never makes a reference to memory another process may write.
    /// assert_eq!(unsafe { got.as_ptr().read_volatile() }, 9);
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn as_ptr(&self) -> *const u8 {
        self.owned.ptr
    }

    /// The buffer as a slice.
    ///
    /// # Safety
    ///
    /// No other process may write to this buffer while the slice lives (see
    /// [`Buffer::as_mut_slice`]).
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::shm::pool::Pool;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-pool-slice-{}", std::process::id()));
    /// let pool = Pool::create(&path, 1, 2).unwrap();
    /// let mut buf = pool.try_loan().unwrap();
    /// buf.write_at(0, b"ok");
    /// let got = pool.redeem(buf.into_descriptor()).unwrap();
    /// // SAFETY: no other process writes to this pool while the slice lives.
    /// let bytes = unsafe { got.as_slice() };
    /// assert_eq!(bytes, b"ok");
    /// handoff::shm::remove(&path).unwrap();
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub unsafe fn as_slice(&self) -> &[u8] {
        // SAFETY: in bounds and owned by this handle; the absence of writers
        // elsewhere is the caller's promise.
        unsafe { core::slice::from_raw_parts(self.owned.ptr, self.owned.len) }
    }
}

impl fmt::Debug for Received {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Received")
            .field("index", &self.owned.index)
            .field("generation", &self.owned.generation)
            .field("len", &self.owned.len)
            .finish()
    }
}
