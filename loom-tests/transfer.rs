//! Loom models of the buffer pool: loans, returns and redeems from two or
//! three threads never hand one slot to two owners.
//!
//! Each slot has a model-side `UnsafeCell` that its owner writes on taking the
//! slot and reads before giving it up. Two owners at once, or a hand-over
//! without a happens-before edge (a too-weak ordering in the free list or the
//! descriptor protocol), is a concurrent access that loom reports. Each model
//! also counts its interesting outcomes across iterations and asserts they
//! were reached.
#![cfg(feature = "loom")]

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed as R};

use handoff::transfer::{BufPool, Descriptor, DescriptorError, LoanError, TransferBuf};
use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, Ordering::*};
use loom::sync::Arc;
use loom::thread;

/// Counts how often each outcome of a model was reached.
#[derive(Default)]
struct Seen([AtomicUsize; 4]);

impl Seen {
    fn hit(&self, i: usize) {
        self.0[i].fetch_add(1, R);
    }
    fn count(&self, i: usize) -> usize {
        self.0[i].load(R)
    }
}

/// A pool and one ownership cell per slot.
struct World {
    pool: BufPool,
    owner: Vec<UnsafeCell<usize>>,
}

impl World {
    fn new(slots: usize) -> Arc<Self> {
        Arc::new(World {
            pool: BufPool::new(slots, 8).unwrap(),
            owner: (0..slots).map(|_| UnsafeCell::new(0)).collect(),
        })
    }

    /// Records `me` as the owner of `buf`'s slot.
    fn take(&self, buf: &TransferBuf, me: usize) {
        let slot = buf.descriptor().unwrap().index as usize;
        // SAFETY: loom checks this write against every other access.
        self.owner[slot].with_mut(|p| unsafe { *p = me });
    }

    /// Checks `me` still owns `buf`'s slot, before giving it up.
    fn give(&self, buf: &TransferBuf, me: usize) {
        let slot = buf.descriptor().unwrap().index as usize;
        // SAFETY: loom checks this read against every other access.
        assert_eq!(self.owner[slot].with(|p| unsafe { *p }), me);
    }

    /// One `try_loan` and return; whether the pool had a buffer.
    fn loan_once(&self, me: usize) -> bool {
        match self.pool.try_loan() {
            Ok(buf) => {
                self.take(&buf, me);
                self.give(&buf, me);
                true
            }
            Err(LoanError::Empty) => false,
        }
    }
}

/// Two threads race `try_loan` on a one-slot pool: each gets the slot in
/// turn or one finds the pool empty, never both at once.
#[test]
fn try_loans_never_share_a_slot() {
    for order in [[1, 2], [2, 1]] {
        let seen = std::sync::Arc::new(Seen::default());
        let seen_outer = seen.clone();
        loom::model(move || {
            let world = World::new(1);
            let spawn = |me: usize| {
                let world = world.clone();
                thread::spawn(move || world.loan_once(me))
            };
            let first = spawn(order[0]);
            let second = spawn(order[1]);
            let got = [first.join().unwrap(), second.join().unwrap()];
            assert!(got[0] || got[1], "nobody got the only buffer");
            seen.hit(if got[0] && got[1] { 0 } else { 1 });
            assert_eq!(world.pool.available(), 1);
        });
        assert!(
            seen_outer.count(0) > 0,
            "the slot never went to both in turn"
        );
        assert!(seen_outer.count(1) > 0, "never found the pool empty");
    }
}

/// Three threads loan and return on a two-slot pool (a Treiber stack two
/// deep): slots are never shared, and the pool ends full.
#[test]
fn three_threads_two_slots() {
    for order in [[1, 2, 3], [3, 1, 2]] {
        let seen = std::sync::Arc::new(Seen::default());
        let seen_outer = seen.clone();
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(move || {
            let world = World::new(2);
            let spawn = |me: usize| {
                let world = world.clone();
                thread::spawn(move || world.loan_once(me))
            };
            let a = spawn(order[0]);
            let b = spawn(order[1]);
            let mine = world.loan_once(order[2]);
            let got = [mine, a.join().unwrap(), b.join().unwrap()];
            let empty = got.iter().filter(|&&g| !g).count();
            assert!(empty <= 1, "two of three loans failed with two slots");
            seen.hit(empty);
            assert_eq!(world.pool.available(), 2);
        });
        assert!(seen_outer.count(0) > 0, "never all three loans");
        assert!(
            seen_outer.count(1) > 0,
            "never a loan that found both slots out"
        );
    }
}

/// A blocking loan waits for the buffer another thread returns; whether it
/// found the buffer out when it started or not, it ends up with it.
#[test]
fn blocking_loan_gets_the_returned_buffer() {
    for loaner_spawned in [true, false] {
        let seen = std::sync::Arc::new(Seen::default());
        let seen_outer = seen.clone();
        loom::model(move || {
            let world = World::new(1);
            let returned = Arc::new(AtomicBool::new(false));
            let held = world.pool.try_loan().unwrap();
            world.take(&held, 1);
            let returner = {
                let (world, returned) = (world.clone(), returned.clone());
                move || {
                    world.give(&held, 1);
                    returned.store(true, Release);
                    drop(held);
                }
            };
            let loaner = {
                let (world, returned, seen) = (world.clone(), returned.clone(), seen.clone());
                move || {
                    let before = returned.load(Acquire);
                    let buf = world.pool.loan();
                    world.take(&buf, 2);
                    world.give(&buf, 2);
                    seen.hit(if before { 0 } else { 1 });
                }
            };
            if loaner_spawned {
                let t = thread::spawn(loaner);
                returner();
                t.join().unwrap();
            } else {
                let t = thread::spawn(returner);
                loaner();
                t.join().unwrap();
            }
            assert_eq!(world.pool.available(), 1);
        });
        assert!(
            seen_outer.count(0) > 0,
            "loan never started after the return"
        );
        assert!(seen_outer.count(1) > 0, "loan never had to wait");
    }
}

/// Two blocked loans and one buffer: each return notifies one loan, and no
/// wake-up is lost (a lost one leaves a loan parked: a loom deadlock).
#[test]
fn two_blocked_loans_both_served() {
    let seen = std::sync::Arc::new(Seen::default());
    let seen_outer = seen.clone();
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(move || {
        let world = World::new(1);
        let order = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let held = world.pool.try_loan().unwrap();
        let loaners: Vec<_> = (0..2)
            .map(|i| {
                let (world, order, seen) = (world.clone(), order.clone(), seen.clone());
                thread::spawn(move || {
                    let buf = world.pool.loan();
                    world.take(&buf, 2 + i);
                    if order.fetch_add(1, Relaxed) == 0 {
                        seen.hit(i);
                    }
                    world.give(&buf, 2 + i);
                })
            })
            .collect();
        drop(held);
        for t in loaners {
            t.join().unwrap();
        }
        assert_eq!(world.pool.available(), 1);
    });
    assert!(
        seen_outer.count(0) > 0,
        "the first loaner was never served first"
    );
    assert!(
        seen_outer.count(1) > 0,
        "the second loaner was never served first"
    );
}

/// A descriptor raced by two redeemers while it is being sent: at most one
/// redeem wins, and the winner sees what the sender wrote (the cell access is
/// ordered by the send's Release and the redeem's Acquire). A redeem before
/// the send is refused as stale; one after the other's win as in use.
#[test]
fn descriptor_redeemed_at_most_once() {
    for sender_spawned in [true, false] {
        let seen = std::sync::Arc::new(Seen::default());
        let seen_outer = seen.clone();
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(move || {
            let world = World::new(1);
            let buf = world.pool.try_loan().unwrap();
            // The first send of a slot has the next generation; redeemers
            // know it in advance, as a forger would.
            let held = buf.descriptor().unwrap();
            let expected = Descriptor {
                generation: held.generation + 1,
                ..held
            };
            let sender = {
                let world = world.clone();
                move || {
                    world.take(&buf, 1);
                    assert_eq!(buf.into_descriptor().unwrap(), expected);
                }
            };
            let redeemer = |me: usize| {
                let (world, seen) = (world.clone(), seen.clone());
                move || match world.pool.redeem(expected) {
                    Ok(buf) => {
                        world.give(&buf, 1);
                        world.take(&buf, me);
                        seen.hit(0);
                        true
                    }
                    Err(DescriptorError::Stale) => {
                        seen.hit(1);
                        false
                    }
                    Err(DescriptorError::InUse) => {
                        seen.hit(2);
                        false
                    }
                    Err(e) => panic!("unexpected {e:?}"),
                }
            };
            let a = thread::spawn(redeemer(2));
            let won = if sender_spawned {
                let s = thread::spawn(sender);
                let mine = redeemer(3)();
                s.join().unwrap();
                [mine, a.join().unwrap()]
            } else {
                let b = thread::spawn(redeemer(3));
                sender();
                [a.join().unwrap(), b.join().unwrap()]
            };
            assert!(!(won[0] && won[1]), "one descriptor redeemed twice");

            // A descriptor nobody redeemed is still good once, then stale.
            if !won[0] && !won[1] {
                drop(world.pool.redeem(expected).unwrap());
            }
            assert_eq!(world.pool.available(), 1);
        });
        assert!(seen_outer.count(0) > 0, "no redeem ever won");
        assert!(
            seen_outer.count(1) > 0,
            "no redeem ever came before the send"
        );
        assert!(seen_outer.count(2) > 0, "no redeem ever lost to the other");
    }
}
