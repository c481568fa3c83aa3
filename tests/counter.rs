//! Counter, ShardedCounter and Latch on real threads, against a plain `u64`.
#![cfg(not(feature = "loom"))]

use std::mem::{align_of, size_of, MaybeUninit};
use std::sync::atomic::{AtomicU64, Ordering::*};
use std::time::{Duration, Instant};

use handoff::counter::{Counter, Latch, ShardedCounter};
use handoff::error::ZeroCapacity;
use proptest::prelude::*;

/// Iteration counts: Miri is thousands of times slower than native code.
fn scaled(n: u64) -> u64 {
    if cfg!(miri) {
        (n / 1000).max(2)
    } else {
        n
    }
}

/// Proptest settings: few cases under Miri, and no failure file there (Miri's
/// isolation forbids the file system, and proptest asks for the working
/// directory to find it).
fn cases() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 });
    if cfg!(miri) {
        config.failure_persistence = None;
    }
    config
}

// ---------------------------------------------------------------------------
// Single-threaded behaviour

#[test]
fn smoke() {
    let c = Counter::new(10);
    c.add(5);
    c.sub(3);
    c.increment();
    assert_eq!(c.fetch_add(2), 13);
    assert_eq!(c.fetch_sub(1), 15);
    assert_eq!(c.get(), 14);
    assert_eq!(Counter::default().get(), 0);

    let s = ShardedCounter::with_cells(4).unwrap();
    s.add(5);
    s.sub(3);
    s.increment();
    assert_eq!(s.sum(), 3);
    assert_eq!(ShardedCounter::default().sum(), 0);

    let l = Latch::new(3);
    assert_eq!((l.count(), l.target(), l.is_reached()), (0, 3, false));
    assert!(!l.add(2));
    assert!(l.increment(), "the add that reaches the target says so");
    assert!(!l.increment(), "later adds do not");
    assert!(l.is_reached() && l.wait(None));
    assert_eq!(l.count(), 4);
}

#[test]
fn counter_new_is_const() {
    static HITS: Counter = Counter::new(7);
    HITS.increment();
    assert_eq!(HITS.get(), 8);
}

#[test]
fn overflow_wraps() {
    let c = Counter::new(u64::MAX);
    assert_eq!(c.fetch_add(1), u64::MAX);
    assert_eq!(c.get(), 0);
    c.sub(1);
    assert_eq!(c.get(), u64::MAX);
    c.add(u64::MAX);
    assert_eq!(c.get(), u64::MAX - 1);
    assert_eq!(c.fetch_sub(u64::MAX), u64::MAX - 1);
    assert_eq!(c.get(), u64::MAX);

    // A sharded count wraps the same way, whichever cells hold the parts.
    let s = ShardedCounter::with_cells(2).unwrap();
    s.sub(1);
    assert_eq!(s.sum(), u64::MAX);
    s.add(2);
    assert_eq!(s.sum(), 1);
    std::thread::spawn(move || {
        s.add(u64::MAX);
        assert_eq!(s.sum(), 0);
    })
    .join()
    .unwrap();

    // A latch carried past u64::MAX holds a small count and is not reached.
    let l = Latch::new(11);
    assert!(l.add(u64::MAX));
    assert!(!l.add(11), "a wrapping add crosses nothing");
    assert_eq!(l.count(), 10);
    assert!(!l.is_reached());
}

#[test]
fn counter_layout_is_a_u64_at_offset_zero() {
    let c = Counter::new(0x0123_4567_89ab_cdef);
    let first = &c as *const Counter as *const u64;
    // SAFETY: Counter is repr(C) with the AtomicU64 (same layout as u64) at
    // offset 0, and no thread writes `c` while we read it.
    assert_eq!(unsafe { first.read() }, 0x0123_4567_89ab_cdef);
    assert!(align_of::<Counter>() >= 64, "padded to a cache line");
    assert_eq!(size_of::<Counter>() % align_of::<Counter>(), 0);
    assert_eq!(
        size_of::<Counter>(),
        size_of::<crossbeam_utils::CachePadded<u64>>()
    );
}

#[test]
fn any_bit_pattern_is_a_counter() {
    for byte in [0x00u8, 0xa5, 0xff] {
        let mut slot = MaybeUninit::<Counter>::uninit();
        // SAFETY: the pointer is valid for one Counter; writing bytes needs no
        // initialised contents.
        unsafe { slot.as_mut_ptr().write_bytes(byte, 1) };
        // SAFETY: every byte is initialised, and an AtomicU64 (the only field;
        // the rest is padding) is valid for any bit pattern.
        let c = unsafe { slot.assume_init() };
        let expected = u64::from_ne_bytes([byte; 8]);
        assert_eq!(c.get(), expected);
        c.increment();
        assert_eq!(c.get(), expected.wrapping_add(1));
    }
}

#[test]
fn capacity() {
    for (asked, got) in [(1, 1), (2, 2), (3, 4), (5, 8), (64, 64)] {
        assert_eq!(ShardedCounter::with_cells(asked).unwrap().cells(), got);
    }
    let default = ShardedCounter::new();
    assert!(default.cells().is_power_of_two());
    let parallelism = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(default.cells() >= parallelism);
}

#[test]
fn zero_capacity() {
    let err = ShardedCounter::with_cells(0).unwrap_err();
    assert_eq!(err, ZeroCapacity);
    assert_eq!(err.to_string(), "capacity must be at least one");
}

#[test]
fn debug_shows_counts() {
    let c = Counter::new(3);
    assert_eq!(format!("{c:?}"), "Counter(3)");
    let s = ShardedCounter::with_cells(2).unwrap();
    s.add(4);
    assert_eq!(format!("{s:?}"), "ShardedCounter { sum: 4, cells: 2 }");
    let l = Latch::new(5);
    l.add(2);
    assert_eq!(format!("{l:?}"), "Latch { count: 2, target: 5 }");
}

// ---------------------------------------------------------------------------
// Against a plain u64

/// One call on a counter; the model applies the same to a `u64`.
#[derive(Clone, Copy, Debug)]
enum Op {
    Add(u64),
    Sub(u64),
    Increment,
    FetchAdd(u64),
    FetchSub(u64),
}

fn op() -> impl Strategy<Value = Op> {
    // Large values as well as small, so that wrapping is exercised.
    let n = prop_oneof![0u64..4, Just(u64::MAX), any::<u64>()];
    prop_oneof![
        n.clone().prop_map(Op::Add),
        n.clone().prop_map(Op::Sub),
        Just(Op::Increment),
        n.clone().prop_map(Op::FetchAdd),
        n.prop_map(Op::FetchSub),
    ]
}

/// The model: what an op does to a plain `u64`.
fn model(value: u64, op: Op) -> u64 {
    match op {
        Op::Add(n) | Op::FetchAdd(n) => value.wrapping_add(n),
        Op::Sub(n) | Op::FetchSub(n) => value.wrapping_sub(n),
        Op::Increment => value.wrapping_add(1),
    }
}

/// Applies `op` to a Counter, checking what the fetch calls return.
fn apply_counter(c: &Counter, op: Op, before: u64) {
    match op {
        Op::Add(n) => c.add(n),
        Op::Sub(n) => c.sub(n),
        Op::Increment => c.increment(),
        Op::FetchAdd(n) => assert_eq!(c.fetch_add(n), before),
        Op::FetchSub(n) => assert_eq!(c.fetch_sub(n), before),
    }
}

/// Applies `op` to a ShardedCounter (which has no fetch calls).
fn apply_sharded(s: &ShardedCounter, op: Op) {
    match op {
        Op::Add(n) | Op::FetchAdd(n) => s.add(n),
        Op::Sub(n) | Op::FetchSub(n) => s.sub(n),
        Op::Increment => s.increment(),
    }
}

fn check_sequence(start: u64, ops: &[Op], cells: usize) {
    let c = Counter::new(start);
    let s = ShardedCounter::with_cells(cells).unwrap();
    s.add(start);
    let mut expected = start;
    for &op in ops {
        apply_counter(&c, op, expected);
        apply_sharded(&s, op);
        expected = model(expected, op);
        assert_eq!(c.get(), expected);
        assert_eq!(s.sum(), expected);
    }
}

/// Each thread runs its own op list; afterwards both counters hold the
/// wrapping total, whatever the interleaving.
fn check_threaded(start: u64, per_thread: &[Vec<Op>], cells: usize) {
    let c = Counter::new(start);
    let s = ShardedCounter::with_cells(cells).unwrap();
    s.add(start);
    std::thread::scope(|scope| {
        for ops in per_thread {
            let (c, s) = (&c, &s);
            scope.spawn(move || {
                for &op in ops {
                    // Another thread may change the counter between ops, so
                    // the previous value returned by a fetch is not checked.
                    apply_counter(c, demote(op), 0);
                    apply_sharded(s, op);
                }
            });
        }
    });
    let expected = per_thread
        .iter()
        .flatten()
        .fold(start, |v, &op| model(v, op));
    assert_eq!(c.get(), expected);
    assert_eq!(s.sum(), expected);
}

/// The same change without the check of the previous value.
fn demote(op: Op) -> Op {
    match op {
        Op::FetchAdd(n) => Op::Add(n),
        Op::FetchSub(n) => Op::Sub(n),
        other => other,
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn ops_match_u64_model(
        start in any::<u64>(),
        ops in prop::collection::vec(op(), 0..64),
        cells in 1usize..5,
    ) {
        check_sequence(start, &ops, cells);
    }

    #[test]
    fn threaded_totals_exact(
        start in any::<u64>(),
        per_thread in prop::collection::vec(prop::collection::vec(op(), 0..32), 1..4),
        cells in 1usize..5,
    ) {
        check_threaded(start, &per_thread, cells);
    }
}

// ---------------------------------------------------------------------------
// Many threads at once

/// Many threads hammering each counter lose no update.
#[test]
fn mpmc() {
    let threads = 4;
    let per_thread = scaled(200_000);
    let c = Counter::new(0);
    let s = ShardedCounter::new();
    let one_cell = ShardedCounter::with_cells(1).unwrap();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                for _ in 0..per_thread {
                    c.increment();
                    s.increment();
                    one_cell.increment();
                }
            });
        }
    });
    let expected = threads * per_thread;
    assert_eq!(c.get(), expected);
    assert_eq!(s.sum(), expected, "exact once the adders are joined");
    assert_eq!(one_cell.sum(), expected, "threads sharing a cell too");
}

/// With adds only, a sum taken while adders run lies between the totals
/// before and after it, and never goes down between two sums.
#[test]
fn sum_while_adding_is_bounded_and_monotonic() {
    let s = ShardedCounter::with_cells(4).unwrap();
    let added = AtomicU64::new(0);
    let per_thread = scaled(100_000);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..per_thread {
                    s.increment();
                    // Counted after the add: a lower bound on the sum's total.
                    added.fetch_add(1, Release);
                }
            });
        }
        let mut last = 0;
        while last < 2 * per_thread {
            let lower = added.load(Acquire);
            let sum = s.sum();
            assert!(
                sum >= lower,
                "sum {sum} missed adds that came before it ({lower})"
            );
            assert!(sum <= 2 * per_thread);
            assert!(sum >= last, "sum went down from {last} to {sum}");
            last = sum;
        }
    });
}

// ---------------------------------------------------------------------------
// The latch

#[test]
fn latch_zero_target_is_reached_at_once() {
    let l = Latch::new(0);
    assert!(l.is_reached());
    assert!(l.wait(Some(Duration::ZERO)));
    assert!(!l.increment(), "nothing to cross");
}

#[test]
fn latch_timeout_is_never_early() {
    let l = Latch::new(1);
    for ms in [0u64, 1, 10] {
        let timeout = Duration::from_millis(ms);
        let start = Instant::now();
        assert!(!l.wait(Some(timeout)));
        assert!(
            start.elapsed() >= timeout,
            "returned after {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn latch_releases_every_waiter() {
    let l = Latch::new(3);
    let released = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                assert!(l.wait(None));
                released.fetch_add(1, Relaxed);
            });
        }
        // Give the waiters time to park, so the notify takes its slow path.
        std::thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
        for _ in 0..3 {
            s.spawn(|| l.increment());
        }
    });
    assert_eq!(released.load(Relaxed), 3);
}

#[test]
fn latch_publishes_what_workers_wrote() {
    let rounds = scaled(2_000);
    for _ in 0..rounds {
        let slots = [const { AtomicU64::new(0) }; 2];
        let l = Latch::new(2);
        std::thread::scope(|s| {
            for (i, slot) in slots.iter().enumerate() {
                let l = &l;
                s.spawn(move || {
                    slot.store(i as u64 + 1, Relaxed);
                    l.increment();
                });
            }
            assert!(l.wait(None));
            assert_eq!(slots[0].load(Relaxed) + slots[1].load(Relaxed), 3);
        });
    }
}

/// Adds that stay below the target never release a waiter; the add that
/// reaches it does, and is the only one that says so.
fn check_latch_never_early(target: u64, below: &[u64], above: &[u64]) {
    let l = Latch::new(target);
    let crossings = AtomicU64::new(0);
    let count = |adds: &[u64]| {
        for &n in adds {
            if l.add(n) {
                crossings.fetch_add(1, Relaxed);
            }
        }
    };

    // Phase 1: two threads add less than the target in total while a timed
    // waiter runs; the waiter must time out.
    let (first, second) = below.split_at(below.len() / 2);
    std::thread::scope(|s| {
        s.spawn(|| count(first));
        s.spawn(|| count(second));
        assert!(
            !l.wait(Some(Duration::from_millis(1))),
            "released before the target"
        );
    });
    assert!(l.count() < target && !l.is_reached());

    // Phase 2: enough to reach it; an untimed waiter is released.
    let rest = [&[target - l.count()][..], above].concat();
    let (first, second) = rest.split_at(rest.len() / 2);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| l.wait(None));
        s.spawn(|| count(first));
        s.spawn(|| count(second));
        assert!(waiter.join().unwrap());
    });
    assert!(l.count() >= target);
    assert_eq!(
        crossings.load(Relaxed),
        1,
        "exactly one add reached the target"
    );
}

/// Splits generated adds into a prefix that stays below `target` and the rest.
fn split_below(target: u64, adds: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let mut total = 0;
    let cut = adds
        .iter()
        .position(|&n| {
            total += n;
            total >= target
        })
        .unwrap_or(adds.len());
    (adds[..cut].to_vec(), adds[cut..].to_vec())
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn latch_never_returns_before_target(
        target in 1u64..40,
        adds in prop::collection::vec(0u64..5, 0..24),
    ) {
        let (below, above) = split_below(target, &adds);
        check_latch_never_early(target, &below, &above);
    }
}
