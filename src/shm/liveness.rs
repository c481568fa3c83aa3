//! Roles and peer death: who holds which end of a region, and whether they
//! are still alive.
//!
//! A region has a table of [`ROLE_SLOTS`] role words; a ring gives each of its
//! sides a range of them (SPSC: one each; MPMC: 32 each). A handle claims a
//! slot and holds it until it is dropped.
//!
//! # Role words
//!
//! | value    | meaning                                                   |
//! |----------|-----------------------------------------------------------|
//! | `VACANT` | never claimed                                             |
//! | `HELD`   | claimed; the holder is alive while it holds the slot lock |
//! | `GONE`   | the holder dropped its handle (or was found dead)         |
//! | other    | written by a confused peer: treated as `GONE`             |
//!
//! A slot is claimed once: `VACANT` → `HELD` → `GONE`, never back.
//!
//! # Death detection: open-file-description locks
//!
//! Alongside the word, the holder takes an exclusive Linux OFD lock
//! (`fcntl(F_OFD_SETLK)`, see fcntl(2)) on byte `slot` of the region's file,
//! through a file description of its own. The kernel drops that lock when the
//! last descriptor of that description is closed, which includes the
//! process's death by any signal, SIGKILL too. A peer that finds a `HELD`
//! word probes the lock with `F_OFD_GETLK`: no lock means the holder is dead
//! (or mid-drop), and the prober marks the slot `GONE`.
//!
//! The lock is taken before the word becomes `HELD`, so a prober never sees a
//! live holder's `HELD` word without its lock. OFD locks conflict between
//! descriptions even within one process, unlike classic `F_SETLK` locks, so
//! two handles in one process behave as in two.
//!
//! Under Miri (heap regions, no files) there are no locks: a `HELD` word means
//! alive, and only a dropped handle closes its side, which is all that can
//! happen to a region that never leaves its process.

use core::ops::Range;

use super::layout::{ROLES_OFF, ROLE_SLOTS};
use super::region::Region;
use super::ShmError;
use crate::sync::atomic::AtomicU32;
use crate::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

/// Never claimed.
const VACANT: u32 = 0;
/// Claimed by a holder that was alive when it claimed.
const HELD: u32 = 1;
/// Left by its holder, or found dead.
const GONE: u32 = 2;

/// What a side of a ring looks like from the other side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Peer {
    /// Nobody has claimed a slot of that side yet.
    Waiting,
    /// At least one holder is (as far as this check can tell) alive.
    Alive,
    /// Every slot ever claimed is gone: the side is closed.
    Closed,
}

/// The role word of `slot`.
fn word(region: &Region, slot: usize) -> &AtomicU32 {
    debug_assert!(slot < ROLE_SLOTS);
    region.atomic::<AtomicU32>(ROLES_OFF + 4 * slot as u64)
}

/// A claimed slot; dropping it (via [`Role::leave`]) closes it.
#[derive(Debug)]
pub(crate) struct Role {
    slot: usize,
    /// The description holding the slot's lock; closing it releases the lock.
    #[cfg(not(miri))]
    lock: Option<std::fs::File>,
}

impl Role {
    /// Claims the first free slot in `range`.
    ///
    /// # Errors
    ///
    /// [`ShmError::RoleTaken`] when every slot is held or used up;
    /// [`ShmError::Io`] when the lock cannot be taken for another reason.
    pub(crate) fn claim(region: &Region, range: Range<usize>) -> Result<Role, ShmError> {
        for slot in range {
            // Cheap filter: only vacant slots are worth a lock.
            if word(region, slot).load(Relaxed) != VACANT {
                continue;
            }
            if let Some(role) = Self::claim_slot(region, slot)? {
                return Ok(role);
            }
        }
        Err(ShmError::RoleTaken)
    }

    /// Takes `slot`'s lock, then its word; `None` if someone else has either.
    fn claim_slot(region: &Region, slot: usize) -> Result<Option<Role>, ShmError> {
        // The lock first, so that a HELD word always comes with a lock.
        #[cfg(not(miri))]
        let lock = match lock::take(region.file(), slot)? {
            Some(lock) => lock,
            None => return Ok(None),
        };

        // AcqRel: Acquire so the claimer sees the region as the creator left
        // it (pairs with the creator's READY store through the opener's
        // Acquire, and with earlier holders' Release on leaving); Release so a
        // peer's Acquire load of HELD sees our initial reads were done.
        let won = word(region, slot)
            .compare_exchange(VACANT, HELD, AcqRel, Relaxed)
            .is_ok();
        if !won {
            return Ok(None);
        }
        Ok(Some(Role {
            slot,
            #[cfg(not(miri))]
            lock: Some(lock),
        }))
    }

    /// Marks the slot `GONE`, publishing everything the holder did before,
    /// then releases its lock.
    pub(crate) fn leave(&mut self, region: &Region) {
        // Release pairs with the Acquire load in `peer`: a peer that sees
        // GONE sees every index store this holder made before leaving.
        word(region, self.slot).store(GONE, Release);
        #[cfg(not(miri))]
        drop(self.lock.take());
    }
}

/// The state of the side holding `range`, from the role words alone (no
/// system call): a holder that died without leaving still looks alive.
#[inline]
pub(crate) fn peer(region: &Region, range: Range<usize>) -> Peer {
    peer_state(region, range, false)
}

/// The state of the side holding `range`, probing the lock of every `HELD`
/// slot: dead holders are found and marked `GONE`. One `fcntl` per held slot.
#[cold]
pub(crate) fn probe(region: &Region, range: Range<usize>) -> Peer {
    peer_state(region, range, true)
}

fn peer_state(region: &Region, range: Range<usize>, probe: bool) -> Peer {
    let (mut claimed, mut alive) = (false, false);
    for slot in range {
        // Acquire pairs with the Release store in `Role::leave`.
        match word(region, slot).load(Acquire) {
            VACANT => {}
            HELD if !probe || holder_alive(region, slot) => {
                claimed = true;
                alive = true;
            }
            HELD => {
                // Dead: record it so later cheap checks see it too. Relaxed:
                // the dead holder published nothing more after its death.
                let _ = word(region, slot).compare_exchange(HELD, GONE, Relaxed, Relaxed);
                claimed = true;
            }
            _ => claimed = true,
        }
    }
    match (claimed, alive) {
        (_, true) => Peer::Alive,
        (true, false) => Peer::Closed,
        (false, false) => Peer::Waiting,
    }
}

/// Whether `slot`'s lock is held by some description.
#[cfg(not(miri))]
fn holder_alive(region: &Region, slot: usize) -> bool {
    lock::held(region.file(), slot)
}

/// Without files, a HELD slot's holder is in this very process, alive.
#[cfg(miri)]
fn holder_alive(_region: &Region, _slot: usize) -> bool {
    true
}

#[cfg(not(miri))]
mod lock {
    //! OFD byte locks on the region's file, one byte per role slot.

    use std::fs::File;
    use std::os::fd::AsRawFd;

    /// An exclusive lock request (or probe) on byte `slot`.
    fn request(slot: usize) -> libc::flock {
        // SAFETY: `flock` is plain integers; all-zero is a valid value.
        let mut fl: libc::flock = unsafe { core::mem::zeroed() };
        fl.l_type = libc::F_WRLCK as libc::c_short;
        fl.l_whence = libc::SEEK_SET as libc::c_short;
        fl.l_start = slot as libc::off_t;
        fl.l_len = 1;
        // OFD requests must carry l_pid == 0 (zeroed above).
        fl
    }

    /// Opens a new description of `file` (so the lock is ours alone) and locks
    /// byte `slot` through it; `None` if another description holds it.
    pub(super) fn take(file: &File, slot: usize) -> std::io::Result<Option<File>> {
        // A second open of the same inode gives a new open file description;
        // `dup` would share the region's.
        let path = format!("/proc/self/fd/{}", file.as_raw_fd());
        let own = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        let mut fl = request(slot);
        // SAFETY: `own` is an open descriptor and `fl` a valid, writable
        // flock for the duration of the call.
        let r = unsafe { libc::fcntl(own.as_raw_fd(), libc::F_OFD_SETLK, &mut fl) };
        if r == 0 {
            return Ok(Some(own));
        }
        // fcntl(2): EAGAIN or EACCES mean a conflicting lock; the rest
        // (EBADF, EINVAL on kernels without OFD locks, ENOLCK) are errors.
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::EACCES) => Ok(None),
            _ => Err(err),
        }
    }

    /// Whether any description holds a lock on byte `slot`.
    pub(super) fn held(file: &File, slot: usize) -> bool {
        let mut fl = request(slot);
        // SAFETY: as in `take`.
        let r = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_GETLK, &mut fl) };
        // GETLK only fails for a bad descriptor or request (EBADF, EINVAL,
        // EFAULT), none possible for our own open file and request. Should it
        // fail anyway, report the holder alive: a wrong "alive" costs a wait,
        // a wrong "dead" would close a live ring.
        r != 0 || fl.l_type != libc::F_UNLCK as libc::c_short
    }
}
