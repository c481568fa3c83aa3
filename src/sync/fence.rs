//! Asymmetric fences for the notify/park handshake.
//!
//! A notifier must not miss a waiter that announced itself, and a waiter must
//! not miss a condition the notifier published: a store followed by a load on
//! each side (Dekker's pattern). Making both sides pay a full barrier puts a
//! ~20-cycle fence on every push of a ring, even when nobody is parked.
//!
//! On Linux we move the whole cost to the side that is about to park:
//! `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` makes every running thread of
//! this process pass a full barrier before it returns, so the notifying side
//! needs only a compiler fence. This is the asymmetric-fence technique used by
//! folly's `asymmetricHeavyBarrier` and by Linux's own RCU; see membarrier(2).
//!
//! Where membarrier is unavailable (other targets, old kernels, Miri, loom) or
//! the other side lives in another process, callers fall back to read-modify-
//! write operations on both sides, which order the handshake through the
//! modification order of one word; that symmetric form is what loom checks.
//!
//! # Mode word
//!
//! | value        | meaning                                                      |
//! |--------------|--------------------------------------------------------------|
//! | `UNKNOWN`    | nobody has asked yet                                         |
//! | `EXPEDITED`  | registered with the kernel: light side may skip its barrier  |
//! | `SYMMETRIC`  | not available: both sides use read-modify-writes             |
//!
//! The word only ever moves away from `UNKNOWN`, and `EXPEDITED` and
//! `SYMMETRIC` never follow each other, because registration gives the same
//! answer on every call within one process.

#[cfg(all(target_os = "linux", not(miri), not(feature = "loom")))]
mod imp {
    use std::sync::atomic::AtomicU8;
    use std::sync::atomic::Ordering::{Acquire, Release};

    /// Nobody has asked for the mode yet.
    const UNKNOWN: u8 = 0;
    /// Registered for private expedited membarrier.
    const EXPEDITED: u8 = 1;
    /// Membarrier is unavailable; use symmetric read-modify-writes.
    const SYMMETRIC: u8 = 2;

    // From linux/membarrier.h.
    const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    static MODE: AtomicU8 = AtomicU8::new(UNKNOWN);

    /// Whether the light side may use a compiler fence only.
    ///
    /// Acquire pairs with the Release store in `register`, though nothing is
    /// published through it but the mode itself; it keeps the reasoning local.
    #[inline]
    pub(crate) fn expedited() -> bool {
        match MODE.load(Acquire) {
            EXPEDITED => true,
            UNKNOWN => register(),
            _ => false,
        }
    }

    #[cold]
    fn register() -> bool {
        // SAFETY: membarrier takes two integer arguments (and a cpu id that
        // this command ignores); no memory is passed to the kernel.
        let r = unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
                0,
                0,
            )
        };
        let mode = if r == 0 { EXPEDITED } else { SYMMETRIC };
        // Release pairs with the Acquire load in `expedited`.
        MODE.store(mode, Release);
        mode == EXPEDITED
    }

    /// The heavy side: every running thread of this process passes a full
    /// barrier before this returns.
    #[cold]
    pub(crate) fn heavy() {
        // SAFETY: as in `register`; no memory is passed to the kernel.
        let r =
            unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) };
        // After a successful registration the documented errors (EINVAL,
        // ENOSYS, EPERM) cannot occur; if one did, the light side would have
        // skipped a barrier that nobody supplied, so stopping is the only
        // sound answer.
        assert!(
            r == 0,
            "membarrier failed after registration: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(all(target_os = "linux", not(miri), not(feature = "loom"))))]
mod imp {
    #[inline]
    pub(crate) fn expedited() -> bool {
        false
    }

    #[inline]
    pub(crate) fn heavy() {
        unreachable!("heavy fence requested without expedited membarrier")
    }
}

pub(crate) use imp::{expedited, heavy};

/// The light side of an expedited pair: stops the compiler from moving memory
/// accesses across it; the other side's [`heavy`] supplies the CPU barrier.
///
/// SeqCst because a compiler fence of any weaker ordering still lets the
/// compiler move a later load above an earlier store, and that store-to-load
/// order (the condition's store, then the `waiters` load) is the one the
/// membarrier pairing needs; no hardware order is bought here.
#[inline]
pub(crate) fn light() {
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}
