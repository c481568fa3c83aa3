//! A region: a file mapped shared, with a header that is checked on open.
//!
//! # Header
//!
//! Every field is an atomic, so reading a header that another process is
//! writing (or scribbling over) is a race on values, never undefined
//! behaviour. The creator fills the fields, then stores `READY` into the state
//! word with Release; an opener loads the state word with Acquire, then copies
//! the fields into a private [`Layout`] and never reads them again.
//!
//! | state word | meaning                                          |
//! |------------|--------------------------------------------------|
//! | `0`        | being created: the other fields mean nothing yet |
//! | `READY`    | fields written; the region may be opened         |
//! | other      | not a region of ours (or a corrupted one)        |
//!
//! # Backing
//!
//! A shared file mapping (memmap2's `MmapRaw`, which hands out a raw pointer
//! and no slice). Under Miri, which cannot map files, a zeroed heap block in a
//! per-process table keyed by path stands in for the file, so the header and
//! ring logic still run under it.

use std::path::Path;
#[cfg(miri)]
use std::sync::Arc;

use super::layout::{Fingerprint, Kind, Layout, HEADER_LEN};
use super::ShmError;
use crate::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use crate::sync::atomic::{AtomicU32, AtomicU64};

/// "HNDOFSHM", little-endian.
const MAGIC: u64 = u64::from_le_bytes(*b"HNDOFSHM");
/// The format version this code writes and accepts.
pub(crate) const VERSION: u32 = 1;
/// The state word's value once the header is complete.
const READY: u32 = 0x5245_4459;

/// The header at offset 0 of every region.
#[repr(C)]
struct Header {
    magic: AtomicU64,
    version: AtomicU32,
    kind: AtomicU32,
    elem_size: AtomicU64,
    elem_align: AtomicU64,
    tag: AtomicU64,
    capacity: AtomicU64,
    extra: AtomicU64,
    total: AtomicU64,
    /// `0` while being created, `READY` afterwards; see the module docs.
    state: AtomicU32,
}

const _: () = assert!(core::mem::size_of::<Header>() as u64 <= HEADER_LEN);

/// A type that may be reached through `&Self` in memory other processes
/// write: every bit pattern is a valid value, and every access to it is
/// atomic, so a peer's concurrent write is a race on values, not a data race.
///
/// # Safety
///
/// Implement it only for atomics and `#[repr(C)]` structs made only of them.
pub(crate) unsafe trait SharedWord {}

// SAFETY: an atomic integer: any bits are a value, every access is atomic.
unsafe impl SharedWord for AtomicU32 {}
// SAFETY: as above.
unsafe impl SharedWord for AtomicU64 {}
// SAFETY: `Notifier` is `#[repr(C)]` and made of two `AtomicU32`s; its docs
// say every bit pattern is a valid state.
unsafe impl SharedWord for crate::notify::Notifier {}
// SAFETY: `Header` is `#[repr(C)]` and made of atomics only.
unsafe impl SharedWord for Header {}
// SAFETY: `counter::Counter` is `#[repr(C)]` around a `CachePadded<AtomicU64>`:
// one atomic and padding that is never read; its docs say every bit pattern
// is a valid counter.
unsafe impl SharedWord for crate::counter::Counter {}

/// A mapped region with a checked layout.
///
/// Every offset handed out by [`Region::ptr`] is inside the mapping: the
/// layout was checked against the real size of the file when it was opened.
pub(crate) struct Region {
    base: *mut u8,
    len: usize,
    layout: Layout,
    backing: Backing,
}

// SAFETY: the region is a block of memory that any thread may access through
// atomics and raw pointers; the pointer is only an address, and the backing
// (a file and a mapping, or a heap block) may be used from any thread.
unsafe impl Send for Region {}
// SAFETY: as above; `Region` has no interior state besides the shared memory,
// which every user reaches through `SharedWord` references (`atomic`) or raw
// pointers (`ptr`): volatile element reads and writes, and byte copies.
unsafe impl Sync for Region {}

#[cfg(not(miri))]
struct Backing {
    file: std::fs::File,
    _map: memmap2::MmapRaw,
}

#[cfg(miri)]
struct Backing {
    _block: Arc<heap::Block>,
}

impl Region {
    /// Creates the file at `path` (exclusively, mode 0600), sizes it for
    /// `print`, lets `init` write initial values, then marks it ready.
    pub(crate) fn create(
        path: &Path,
        print: Fingerprint,
        init: impl FnOnce(&Region),
    ) -> Result<Region, ShmError> {
        // Size first: nothing touches the file system for an invalid request.
        let layout = Layout::compute(print)?;
        let len = layout.total as usize;

        // A fresh, zeroed mapping of exactly that size.
        let region = Self::create_backing(path, len, layout)?;

        // Fill the header, run the kind's initialisation, then publish.
        let h = region.header();
        h.magic.store(MAGIC, Relaxed);
        h.version.store(VERSION, Relaxed);
        h.kind.store(print.kind as u32, Relaxed);
        h.elem_size.store(print.elem_size, Relaxed);
        h.elem_align.store(print.elem_align, Relaxed);
        h.tag.store(print.tag, Relaxed);
        h.capacity.store(print.capacity, Relaxed);
        h.extra.store(print.extra, Relaxed);
        h.total.store(layout.total, Relaxed);
        init(&region);
        // Release pairs with the Acquire load in `validate`: an opener that
        // sees READY sees every field and every initial value above.
        h.state.store(READY, Release);
        Ok(region)
    }

    /// Opens the region at `path` and checks its header against what the
    /// caller expects: `kind`, element size and alignment, and type tag.
    pub(crate) fn open(
        path: &Path,
        kind: Kind,
        elem_size: u64,
        elem_align: u64,
        tag: u64,
    ) -> Result<Region, ShmError> {
        let (base, len, backing) = Self::open_backing(path)?;
        let layout = validate(base, len as u64, kind, elem_size, elem_align, tag)?;
        Ok(Region {
            base,
            len,
            layout,
            backing,
        })
    }

    /// The checked layout, a private copy.
    #[inline]
    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// A pointer `off` bytes into the region, for a `T` that fits there.
    ///
    /// # Panics
    ///
    /// If `off + size_of::<T>()` runs past the mapping or `off` is not aligned
    /// for `T`: callers pass offsets from the checked layout, so this is a bug
    /// in this module, never the effect of a peer's writes.
    #[inline]
    pub(crate) fn ptr<T>(&self, off: u64) -> *mut T {
        let end = off.checked_add(core::mem::size_of::<T>() as u64);
        assert!(
            end.is_some_and(|e| e <= self.len as u64),
            "region offset out of bounds"
        );
        assert!(off % core::mem::align_of::<T>() as u64 == 0, "misaligned");
        // Within bounds by the assertion, and `len` fits in `usize`.
        self.base.wrapping_add(off as usize).cast()
    }

    /// A shared word (an atomic, or a struct of atomics) `off` bytes into the
    /// region. Only [`SharedWord`] types can be asked for, so no reference to
    /// plain data in the mapping can be made this way.
    #[inline]
    pub(crate) fn atomic<A: SharedWord>(&self, off: u64) -> &A {
        let p = self.ptr::<A>(off);
        // SAFETY: `ptr` checked bounds and alignment; the memory lives as long
        // as `self`; `A: SharedWord` is valid for every bit pattern and only
        // ever accessed atomically, so writes by other processes are races on
        // values, never undefined behaviour.
        unsafe { &*p }
    }

    fn header(&self) -> &Header {
        self.atomic::<Header>(0)
    }

    /// The file behind the mapping (for the advisory locks of roles).
    #[cfg(not(miri))]
    pub(crate) fn file(&self) -> &std::fs::File {
        &self.backing.file
    }
}

/// Checks the header at `base` against the expectations and the mapping's
/// real length; returns the private layout.
fn validate(
    base: *mut u8,
    len: u64,
    kind: Kind,
    elem_size: u64,
    elem_align: u64,
    tag: u64,
) -> Result<Layout, ShmError> {
    // The header itself must be there.
    if len < HEADER_LEN {
        return Err(ShmError::Truncated);
    }
    // SAFETY: `base` is page-aligned and at least HEADER_LEN bytes are mapped;
    // the header is made of atomics, valid for every bit pattern.
    let h = unsafe { &*(base as *const Header) };

    // Acquire pairs with the Release store in `Region::create`.
    if h.state.load(Acquire) != READY {
        return Err(ShmError::NotReady);
    }
    if h.magic.load(Relaxed) != MAGIC {
        return Err(ShmError::NotARegion);
    }
    let version = h.version.load(Relaxed);
    if version != VERSION {
        return Err(ShmError::Version(version));
    }

    // Copy the fingerprint out once; from here on only the copy is used.
    let found = Fingerprint {
        kind: Kind::from_u32(h.kind.load(Relaxed)).ok_or(ShmError::Mismatch("kind"))?,
        elem_size: h.elem_size.load(Relaxed),
        elem_align: h.elem_align.load(Relaxed),
        tag: h.tag.load(Relaxed),
        capacity: h.capacity.load(Relaxed),
        extra: h.extra.load(Relaxed),
    };
    let total = h.total.load(Relaxed);
    check_expected(&found, kind, elem_size, elem_align, tag)?;

    // Recompute the layout and hold it against the header and the file.
    let layout = Layout::compute(found).map_err(|e| match e {
        ShmError::ZeroCapacity => ShmError::Corrupt("capacity"),
        ShmError::TooLarge | ShmError::Unsupported => ShmError::Corrupt("size"),
        other => other,
    })?;
    if layout.total != total {
        return Err(ShmError::Corrupt("length"));
    }
    if len < layout.total {
        return Err(ShmError::Truncated);
    }
    Ok(layout)
}

/// Whether a found fingerprint is the one the caller asked for.
fn check_expected(
    found: &Fingerprint,
    kind: Kind,
    elem_size: u64,
    elem_align: u64,
    tag: u64,
) -> Result<(), ShmError> {
    if found.kind != kind {
        return Err(ShmError::Mismatch("kind"));
    }
    if found.elem_size != elem_size {
        return Err(ShmError::Mismatch("element size"));
    }
    if found.elem_align != elem_align {
        return Err(ShmError::Mismatch("element alignment"));
    }
    if found.tag != tag {
        return Err(ShmError::Mismatch("type tag"));
    }
    Ok(())
}

/// The file-backed implementation.
#[cfg(not(miri))]
impl Region {
    fn create_backing(path: &Path, len: usize, layout: Layout) -> Result<Region, ShmError> {
        use std::os::unix::fs::OpenOptionsExt;

        // Exclusive and owner-only: nobody else can have it open yet.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;

        // From here on a failure removes the file again.
        let mapped =
            reserve(&file, len).and_then(|()| memmap2::MmapOptions::new().len(len).map_raw(&file));
        let map = match mapped {
            Ok(map) => map,
            Err(e) => {
                let _ = std::fs::remove_file(path);
                return Err(e.into());
            }
        };
        Ok(Region {
            base: map.as_mut_ptr(),
            len,
            layout,
            backing: Backing { file, _map: map },
        })
    }

    fn open_backing(path: &Path) -> Result<(*mut u8, usize, Backing), ShmError> {
        // Map the file's real length, checked to fit the address space.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        let real = file.metadata()?.len();
        if real < HEADER_LEN {
            return Err(ShmError::Truncated);
        }
        let len = usize::try_from(real)
            .ok()
            .filter(|&l| l <= isize::MAX as usize)
            .ok_or(ShmError::TooLarge)?;
        let map = memmap2::MmapOptions::new().len(len).map_raw(&file)?;
        Ok((map.as_mut_ptr(), len, Backing { file, _map: map }))
    }
}

/// Sizes the new file to `len` bytes with its blocks allocated.
///
/// A merely extended (sparse) file has no blocks yet: on a full file system
/// (a small tmpfs, a full disk) the mapping would raise SIGBUS at the first
/// write to a page that cannot be allocated, inside `create` or at any later
/// push. `posix_fallocate` reports that as `ENOSPC` now, while `create` can
/// still remove the file. Where the file system cannot preallocate, the file
/// is extended as before.
#[cfg(not(miri))]
fn reserve(file: &std::fs::File, len: usize) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;

    let len_off =
        libc::off_t::try_from(len).map_err(|_| std::io::Error::from_raw_os_error(libc::EFBIG))?;
    // SAFETY: `file` is an open descriptor for the duration of the call; the
    // call takes no pointers.
    let r = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len_off) };
    // posix_fallocate(3) returns the error number itself. EOPNOTSUPP and
    // EINVAL: the file system cannot preallocate (musl has no emulation).
    match r {
        0 => Ok(()),
        libc::EOPNOTSUPP | libc::EINVAL => file.set_len(len as u64),
        errno => Err(std::io::Error::from_raw_os_error(errno)),
    }
}

/// Removes the region's file. Processes that have it mapped keep using it;
/// the memory goes away with the last mapping.
#[cfg(not(miri))]
pub(crate) fn remove(path: &Path) -> Result<(), ShmError> {
    Ok(std::fs::remove_file(path)?)
}

/// The heap stand-in used under Miri.
#[cfg(miri)]
impl Region {
    fn create_backing(path: &Path, len: usize, layout: Layout) -> Result<Region, ShmError> {
        let block = heap::create(path, len)?;
        Ok(Region {
            base: block.ptr,
            len,
            layout,
            backing: Backing { _block: block },
        })
    }

    fn open_backing(path: &Path) -> Result<(*mut u8, usize, Backing), ShmError> {
        let block = heap::open(path)?;
        if (block.len as u64) < HEADER_LEN {
            return Err(ShmError::Truncated);
        }
        Ok((block.ptr, block.len, Backing { _block: block }))
    }
}

#[cfg(miri)]
pub(crate) use heap::remove;

#[cfg(miri)]
pub(crate) mod heap {
    //! Heap blocks standing in for files under Miri, keyed by path.

    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex, PoisonError};

    use crate::shm::ShmError;

    /// A zeroed, page-aligned heap block.
    pub(crate) struct Block {
        pub(crate) ptr: *mut u8,
        pub(crate) len: usize,
    }

    // SAFETY: the block is plain memory accessed through atomics and raw
    // pointers, like a mapping.
    unsafe impl Send for Block {}
    // SAFETY: as above.
    unsafe impl Sync for Block {}

    impl Drop for Block {
        fn drop(&mut self) {
            // SAFETY: allocated in `create` with this very layout.
            unsafe { std::alloc::dealloc(self.ptr, layout(self.len)) }
        }
    }

    fn layout(len: usize) -> std::alloc::Layout {
        std::alloc::Layout::from_size_align(len.max(1), 4096).expect("checked length")
    }

    static FILES: Mutex<Option<HashMap<PathBuf, Arc<Block>>>> = Mutex::new(None);

    fn with_files<R>(f: impl FnOnce(&mut HashMap<PathBuf, Arc<Block>>) -> R) -> R {
        let mut files = FILES.lock().unwrap_or_else(PoisonError::into_inner);
        f(files.get_or_insert_with(HashMap::new))
    }

    /// Creates a zeroed block for `path`, failing if one exists.
    pub(crate) fn create(path: &Path, len: usize) -> Result<Arc<Block>, ShmError> {
        with_files(|files| {
            if files.contains_key(path) {
                return Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists).into());
            }
            // SAFETY: the layout has a non-zero size.
            let ptr = unsafe { std::alloc::alloc_zeroed(layout(len)) };
            if ptr.is_null() {
                return Err(ShmError::TooLarge);
            }
            let block = Arc::new(Block { ptr, len });
            files.insert(path.to_owned(), Arc::clone(&block));
            Ok(block)
        })
    }

    /// The block for `path`.
    pub(crate) fn open(path: &Path) -> Result<Arc<Block>, ShmError> {
        with_files(|files| files.get(path).cloned())
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound).into())
    }

    /// Forgets the block for `path`; open regions keep theirs.
    pub(crate) fn remove(path: &Path) -> Result<(), ShmError> {
        with_files(|files| files.remove(path))
            .map(drop)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound).into())
    }

    /// Replaces the block for `path` with a copy of its first `len` bytes
    /// (zero-extended): a truncated or grown file, for tests.
    #[cfg(test)]
    pub(crate) fn resize(path: &Path, len: usize) {
        with_files(|files| {
            let old = files.remove(path).expect("block exists");
            // SAFETY: the layout has a non-zero size.
            let ptr = unsafe { std::alloc::alloc_zeroed(layout(len)) };
            assert!(!ptr.is_null());
            // SAFETY: both blocks are live, distinct and at least this long.
            unsafe { std::ptr::copy_nonoverlapping(old.ptr, ptr, len.min(old.len)) };
            files.insert(path.to_owned(), Arc::new(Block { ptr, len }));
        });
    }
}
