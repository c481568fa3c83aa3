//! Loom models: the lost update of a load-then-store counter, the exactness of
//! `Counter` and `ShardedCounter` in every interleaving, what a concurrent
//! `sum` may show, and the latch's wake-up and publication.
//!
//! Each model asserts, across all its iterations, that its interesting
//! outcomes were actually reached, so a model that stopped exploring fails
//! instead of passing vacuously.
#![cfg(feature = "loom")]

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed as R};
use std::time::Duration;

use handoff::counter::{Counter, Latch, ShardedCounter};
use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use loom::sync::Arc;
use loom::thread;

/// Counts how often each outcome of a model was reached. Created outside
/// `loom::model`, so it survives across iterations.
#[derive(Clone)]
struct Seen(std::sync::Arc<[AtomicUsize]>);

impl Seen {
    fn new(outcomes: usize) -> Self {
        Seen((0..outcomes).map(|_| AtomicUsize::new(0)).collect())
    }
    fn hit(&self, i: usize) {
        self.0[i].fetch_add(1, R);
    }
    fn count(&self, i: usize) -> usize {
        self.0[i].load(R)
    }
}

/// A model checker with a preemption bound, for the models with three threads
/// or a parking waiter.
fn bounded(bound: usize) -> loom::model::Builder {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder
}

/// Runs `a` on a spawned thread and `b` on the model's main thread, or the
/// other way round: each scenario is checked in both spawn orders.
fn both<A, B>(spawn_first: bool, a: A, b: B)
where
    A: FnOnce() + Send + 'static,
    B: FnOnce() + Send + 'static,
{
    if spawn_first {
        let t = thread::spawn(a);
        b();
        t.join().unwrap();
    } else {
        let t = thread::spawn(b);
        a();
        t.join().unwrap();
    }
}

// ---------------------------------------------------------------------------
// The race

/// The counter this module exists to prevent: it reads, then writes back one
/// more, with two separate atomic operations. No undefined behaviour, but two
/// threads can both read the same value.
struct RacyCounter(AtomicU64);

impl RacyCounter {
    fn increment(&self) {
        let value = self.0.load(Relaxed);
        self.0.store(value + 1, Relaxed);
    }
}

/// Loom finds the interleaving that loses an update (final count 1), and the
/// ones that do not (final count 2).
#[test]
fn racy_counter_loses_an_update() {
    for spawn_first in [true, false] {
        let seen = Seen::new(3);
        let outer = seen.clone();
        loom::model(move || {
            let c = Arc::new(RacyCounter(AtomicU64::new(0)));
            let (a, b) = (c.clone(), c.clone());
            both(spawn_first, move || a.increment(), move || b.increment());
            seen.hit(c.0.load(Relaxed) as usize);
        });
        assert!(outer.count(1) > 0, "never lost an update");
        assert!(outer.count(2) > 0, "never counted both");
        assert_eq!(outer.count(0), 0, "lost both updates");
    }
}

// ---------------------------------------------------------------------------
// Counter

/// Two threads add and subtract; in every interleaving the total is exact and
/// each `fetch_add` returns a value the counter really held.
#[test]
fn counter_is_exact_with_two_threads() {
    for spawn_first in [true, false] {
        // Outcome: what thread A's fetch_add returned (10, or 8 after B's sub).
        let seen = Seen::new(11);
        let outer = seen.clone();
        loom::model(move || {
            let c = Arc::new(Counter::new(10));
            let (a, b, seen) = (c.clone(), c.clone(), seen.clone());
            both(
                spawn_first,
                move || {
                    let before = a.fetch_add(1);
                    assert!(before == 10 || before == 8, "{before}");
                    seen.hit(before as usize);
                    a.increment();
                },
                move || b.sub(2),
            );
            assert_eq!(c.get(), 10);
        });
        assert!(outer.count(10) > 0, "A never added first");
        assert!(outer.count(8) > 0, "B never subtracted first");
    }
}

/// Three threads each take a ticket with `fetch_add`: the tickets are always
/// 0, 1 and 2 in some order, and the count ends at 3.
#[test]
fn counter_is_exact_with_three_threads() {
    // Outcome i: thread i took ticket 0.
    let seen = Seen::new(3);
    let outer = seen.clone();
    bounded(3).check(move || {
        let c = Arc::new(Counter::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let c = c.clone();
                thread::spawn(move || c.fetch_add(1))
            })
            .collect();
        let mine = c.fetch_add(1);
        let mut tickets: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        tickets.push(mine);
        if let Some(first) = tickets.iter().position(|&t| t == 0) {
            seen.hit(first);
        }
        tickets.sort_unstable();
        assert_eq!(tickets, [0, 1, 2]);
        assert_eq!(c.get(), 3);
    });
    for i in 0..3 {
        assert!(outer.count(i) > 0, "thread {i} never took ticket 0");
    }
}

// ---------------------------------------------------------------------------
// ShardedCounter

/// Two adders and a concurrent sum, with one shared cell and with a cell
/// each. The concurrent sum may show 0, 1 or 2, counts the add that was
/// published to it, and the sum after joining is exact.
#[test]
fn sharded_counter_is_exact_and_sum_is_bounded() {
    for cells in [1, 2] {
        for spawn_first in [true, false] {
            // Outcomes 0..=2: the concurrent sum; 3: the flag was seen.
            let seen = Seen::new(4);
            let outer = seen.clone();
            bounded(3).check(move || {
                let s = Arc::new(ShardedCounter::with_cells(cells).unwrap());
                let published = Arc::new(AtomicBool::new(false));
                let adders = {
                    let (s, published) = (s.clone(), published.clone());
                    move || {
                        let other = {
                            let s = s.clone();
                            thread::spawn(move || s.increment())
                        };
                        s.increment();
                        // Release pairs with the reader's Acquire: this add
                        // happens before a sum that saw the flag.
                        published.store(true, Release);
                        other.join().unwrap();
                    }
                };
                let reader = {
                    let (s, published, seen) = (s.clone(), published.clone(), seen.clone());
                    move || {
                        let was_published = published.load(Acquire);
                        let sum = s.sum();
                        assert!(sum <= 2, "counted an add that never happened: {sum}");
                        if was_published {
                            seen.hit(3);
                            assert!(sum >= 1, "missed an add that happened before the sum");
                        }
                        seen.hit(sum as usize);
                    }
                };
                both(spawn_first, adders, reader);
                assert_eq!(s.sum(), 2, "exact once the adders are joined");
            });
            for v in 0..=2 {
                assert!(
                    outer.count(v) > 0,
                    "{cells} cells: concurrent sum never saw {v}"
                );
            }
            assert!(outer.count(3) > 0, "{cells} cells: the flag was never seen");
        }
    }
}

/// Three adders on two cells (so two of them share one): exact after joining,
/// with adds and subs mixed.
#[test]
fn sharded_counter_is_exact_with_three_threads() {
    // Outcome: the cell count, to show each configuration ran.
    let seen = Seen::new(3);
    let outer = seen.clone();
    for cells in [1, 2] {
        let seen = seen.clone();
        bounded(3).check(move || {
            let s = Arc::new(ShardedCounter::with_cells(cells).unwrap());
            let threads: Vec<_> = [3u64, 5]
                .into_iter()
                .map(|n| {
                    let s = s.clone();
                    thread::spawn(move || s.add(n))
                })
                .collect();
            s.sub(1);
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(s.sum(), 7);
            seen.hit(cells);
        });
    }
    assert!(outer.count(1) > 0 && outer.count(2) > 0);
}

// ---------------------------------------------------------------------------
// Latch

/// Two plain slots that workers write before counting and the waiter reads
/// after the latch is reached; loom checks every access for a data race.
struct Slots([UnsafeCell<u32>; 2]);

// SAFETY: slot i is written only by worker i, and read only by the waiter
// after the latch is reached, which the latch orders after both writes; loom
// verifies that order on every access.
unsafe impl Sync for Slots {}

/// Two workers each write their own slot, then count; the waiter is released
/// only at the target and then reads both slots. A lost wake-up would leave
/// the waiter blocked (loom reports a deadlock); a missing Release/Acquire
/// would make the slot reads a data race (loom reports a causality violation).
#[test]
fn latch_releases_the_waiter_and_publishes() {
    for spawn_first in [true, false] {
        // Outcomes 0, 1: which worker reached the target; 2: the waiter found
        // the latch not yet reached; 3: it found it reached.
        let seen = Seen::new(4);
        let outer = seen.clone();
        bounded(3).check(move || {
            let latch = Arc::new(Latch::new(2));
            let slots = Arc::new(Slots([UnsafeCell::new(0), UnsafeCell::new(0)]));
            let workers = {
                let (latch, slots, seen) = (latch.clone(), slots.clone(), seen.clone());
                move || {
                    let other = {
                        let (latch, slots) = (latch.clone(), slots.clone());
                        // SAFETY (model): slot 1 is written only by this thread.
                        thread::spawn(move || {
                            slots.0[1].with_mut(|p| unsafe { *p = 2 });
                            latch.increment()
                        })
                    };
                    // SAFETY (model): slot 0 is written only by this thread.
                    slots.0[0].with_mut(|p| unsafe { *p = 1 });
                    let mine = latch.increment();
                    let theirs = other.join().unwrap();
                    assert!(mine != theirs, "exactly one add reaches the target");
                    seen.hit(if mine { 0 } else { 1 });
                }
            };
            let waiter = {
                let (latch, slots, seen) = (latch.clone(), slots.clone(), seen.clone());
                move || {
                    seen.hit(if latch.is_reached() { 3 } else { 2 });
                    assert!(latch.wait(None));
                    // SAFETY (model): both writers counted after writing, and
                    // the latch was reached, so their writes happen before.
                    let sum =
                        slots.0[0].with(|p| unsafe { *p }) + slots.0[1].with(|p| unsafe { *p });
                    assert_eq!(sum, 3);
                }
            };
            both(spawn_first, workers, waiter);
        });
        for i in 0..4 {
            assert!(outer.count(i) > 0, "latch outcome {i} never reached");
        }
    }
}

/// A timed wait returns `true` only if the worker counted, and then sees what
/// it wrote; otherwise it times out. The worker counts only if it has not yet
/// seen the waiter's `hurry` flag, so loom explores a wait that nothing will
/// satisfy (which must time out) as well as one that is satisfied, before or
/// after the waiter parks.
#[test]
fn latch_timed_wait_outcomes() {
    for spawn_first in [true, false] {
        // Outcomes 0: reached; 1: timed out; 2: the worker did not count.
        let seen = Seen::new(3);
        let outer = seen.clone();
        loom::model(move || {
            let latch = Arc::new(Latch::new(1));
            let result = Arc::new(AtomicU64::new(0));
            let hurry = Arc::new(AtomicBool::new(false));
            let worker = {
                let (latch, result, hurry, seen) =
                    (latch.clone(), result.clone(), hurry.clone(), seen.clone());
                move || {
                    if hurry.load(Relaxed) {
                        seen.hit(2);
                        return;
                    }
                    // Relaxed: the latch's Release add publishes it.
                    result.store(42, Relaxed);
                    assert!(latch.increment());
                }
            };
            let waiter = {
                let (latch, result, hurry, seen) =
                    (latch.clone(), result.clone(), hurry.clone(), seen.clone());
                move || {
                    hurry.store(true, Relaxed);
                    let reached = latch.wait(Some(Duration::from_millis(1)));
                    if reached {
                        assert_eq!(result.load(Relaxed), 42, "reached but not published");
                    }
                    seen.hit(if reached { 0 } else { 1 });
                    reached
                }
            };
            let reached = if spawn_first {
                let t = thread::spawn(worker);
                let reached = waiter();
                t.join().unwrap();
                reached
            } else {
                let t = thread::spawn(waiter);
                worker();
                t.join().unwrap()
            };
            if !latch.is_reached() {
                assert!(!reached, "released though nobody counted");
            }
        });
        assert!(outer.count(0) > 0, "timed wait never saw the target");
        assert!(outer.count(1) > 0, "timed wait never timed out");
        assert!(outer.count(2) > 0, "the worker never saw the hurry flag");
    }
}
