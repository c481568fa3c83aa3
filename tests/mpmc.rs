//! The MPMC ring on real threads: the shared test names of the rings, then a
//! 4-by-4 stress run with checksums, closing while the other side is blocked,
//! and the timed calls.
#![cfg(not(feature = "loom"))]

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use handoff::mpmc::{channel, Consumer, PopError, Producer, PushError, ZeroCapacity};

/// Iteration counts: Miri is thousands of times slower than native code.
fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 10_000).max(20)
    } else {
        n
    }
}

/// A value that counts its drops.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

#[test]
fn smoke() {
    let (tx, rx) = channel(4).unwrap();
    tx.try_push(1).unwrap();
    tx.push(2).unwrap();
    tx.push_timeout(3, Duration::ZERO).unwrap();
    assert_eq!(rx.try_pop(), Ok(1));
    assert_eq!(rx.pop(), Ok(2));
    assert_eq!(rx.pop_timeout(Duration::ZERO), Ok(3));
    assert_eq!(rx.try_pop(), Err(PopError::Empty));
}

#[test]
fn capacity() {
    for cap in [1, 2, 3, 5, 7, 8, 64, 1000] {
        let (tx, rx) = channel(cap).unwrap();
        assert_eq!(tx.capacity(), cap);
        assert_eq!(rx.capacity(), cap);
        // Several laps, each filling the ring exactly, so the lap arithmetic
        // wraps from every index.
        for lap in 0..3 {
            for i in 0..cap {
                tx.try_push(lap * cap + i).unwrap();
            }
            assert_eq!(tx.try_push(usize::MAX), Err(PushError::Full(usize::MAX)));
            for i in 0..cap {
                assert_eq!(rx.try_pop(), Ok(lap * cap + i));
            }
            assert_eq!(rx.try_pop(), Err(PopError::Empty));
        }
    }
}

#[test]
fn capacity_partial_laps() {
    // Keep the ring partly full while the cursors go round many times, so the
    // head and the tail sit on different laps.
    let (tx, rx) = channel(3).unwrap();
    tx.push(0u32).unwrap();
    tx.push(1).unwrap();
    for i in 2..scaled(10_000) as u32 {
        tx.try_push(i).unwrap();
        assert_eq!(rx.try_pop(), Ok(i - 2));
        assert_eq!(rx.len(), 2);
    }
}

#[test]
fn zero_capacity() {
    assert_eq!(channel::<u32>(0).unwrap_err(), ZeroCapacity);
    assert_eq!(channel::<()>(0).unwrap_err(), ZeroCapacity);
}

#[test]
fn zero_sized() {
    let (tx, rx) = channel(3).unwrap();
    for _ in 0..3 {
        tx.try_push(()).unwrap();
    }
    assert_eq!(tx.try_push(()), Err(PushError::Full(())));
    assert_eq!(rx.len(), 3);
    for _ in 0..3 {
        assert_eq!(rx.try_pop(), Ok(()));
    }
    assert_eq!(rx.try_pop(), Err(PopError::Empty));

    // And across threads, counting.
    let n = scaled(100_000);
    thread::scope(|s| {
        s.spawn(|| (0..n).for_each(|_| tx.push(()).unwrap()));
        for _ in 0..n {
            rx.pop().unwrap();
        }
    });
    assert!(rx.is_empty());
}

#[test]
fn len_empty_full() {
    let (tx, rx) = channel(2).unwrap();
    assert!((tx.is_empty(), rx.is_empty()) == (true, true));
    assert!(!tx.is_full() && !rx.is_full());
    assert_eq!(tx.len(), 0);

    tx.push('a').unwrap();
    assert_eq!((tx.len(), rx.len()), (1, 1));
    assert!(!tx.is_empty() && !tx.is_full());

    tx.push('b').unwrap();
    assert_eq!(rx.len(), 2);
    assert!(tx.is_full() && rx.is_full());

    rx.pop().unwrap();
    assert_eq!(rx.len(), 1);
    tx.push('c').unwrap();
    assert!(rx.is_full());
    rx.pop().unwrap();
    rx.pop().unwrap();
    assert!(rx.is_empty());
}

#[test]
fn spsc() {
    let n = scaled(1_000_000) as u64;
    let (tx, rx) = channel(16).unwrap();
    thread::scope(|s| {
        s.spawn(move || (0..n).for_each(|i| tx.push(i).unwrap()));
        for i in 0..n {
            assert_eq!(rx.pop(), Ok(i));
        }
        assert_eq!(rx.pop(), Err(PopError::Closed));
    });
}

/// `producers` threads push `per` values each (tagged with their id) while
/// `consumers` threads pop until closed. Checks the checksum, that nothing is
/// lost or duplicated, and that each consumer saw each producer's values in
/// order.
fn run_mpmc(producers: u64, consumers: usize, per: u64, capacity: usize, blocking: bool) {
    let (tx, rx) = channel::<u64>(capacity).unwrap();
    let histories: Vec<Vec<u64>> = thread::scope(|s| {
        for id in 0..producers {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..per {
                    push(&tx, id << 40 | i, blocking);
                }
            });
        }
        drop(tx);
        let handles: Vec<_> = (0..consumers)
            .map(|_| {
                let rx = rx.clone();
                s.spawn(move || drain(&rx, blocking))
            })
            .collect();
        drop(rx);
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    check_histories(&histories, producers, per);
}

fn push(tx: &Producer<u64>, mut v: u64, blocking: bool) {
    if blocking {
        return tx.push(v).unwrap();
    }
    loop {
        match tx.try_push(v) {
            Ok(()) => return,
            Err(PushError::Full(back)) => v = back,
            Err(PushError::Closed(_)) => panic!("consumers left early"),
        }
        thread::yield_now();
    }
}

fn drain(rx: &Consumer<u64>, blocking: bool) -> Vec<u64> {
    let mut got = Vec::new();
    loop {
        let popped = if blocking { rx.pop() } else { rx.try_pop() };
        match popped {
            Ok(v) => got.push(v),
            Err(PopError::Empty) => thread::yield_now(),
            Err(PopError::Closed) => return got,
        }
    }
}

fn check_histories(histories: &[Vec<u64>], producers: u64, per: u64) {
    // Each consumer sees each producer's values in push order.
    for h in histories {
        let mut last = vec![None; producers as usize];
        for &v in h {
            let (id, i) = ((v >> 40) as usize, v & ((1 << 40) - 1));
            assert!(last[id].is_none_or(|l| l < i), "producer {id} out of order");
            last[id] = Some(i);
        }
    }

    // Nothing lost, nothing duplicated, and the sum agrees.
    let mut all: Vec<u64> = histories.iter().flatten().copied().collect();
    let sum: u64 = all.iter().map(|v| v & ((1 << 40) - 1)).sum();
    assert_eq!(
        sum,
        producers * (per * per.saturating_sub(1) / 2),
        "checksum"
    );
    all.sort_unstable();
    let expected: Vec<u64> = (0..producers)
        .flat_map(|id| (0..per).map(move |i| id << 40 | i))
        .collect();
    assert_eq!(all.len(), expected.len(), "values lost or duplicated");
    assert!(all == expected, "values lost or duplicated");
}

#[test]
fn mpmc() {
    // 4 producers and 4 consumers, 10 million values in all.
    run_mpmc(4, 4, scaled(2_500_000) as u64, 1024, true);
}

#[test]
fn mpmc_small_ring() {
    run_mpmc(4, 4, scaled(200_000) as u64, 1, true);
    run_mpmc(3, 2, scaled(200_000) as u64, 2, true);
}

#[test]
fn mpmc_try_ops() {
    run_mpmc(2, 3, scaled(500_000) as u64, 4, false);
}

#[test]
fn drops() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel(4).unwrap();
    for _ in 0..4 {
        tx.push(Counted(drops.clone())).unwrap();
    }

    // A push into a full ring hands the value back undropped.
    let back = tx
        .try_push(Counted(drops.clone()))
        .unwrap_err()
        .into_inner();
    assert_eq!(drops.load(Relaxed), 0);
    drop(back);
    assert_eq!(drops.load(Relaxed), 1);

    // A popped value is the caller's to drop.
    let v = rx.pop().unwrap();
    assert_eq!(drops.load(Relaxed), 1);
    drop(v);
    assert_eq!(drops.load(Relaxed), 2);

    // Values left are dropped once, when the last handle goes, not before.
    let tx2 = tx.clone();
    drop(tx);
    drop(rx);
    assert_eq!(drops.load(Relaxed), 2);
    drop(tx2);
    assert_eq!(drops.load(Relaxed), 5);
}

#[test]
fn drops_across_laps() {
    // Values left behind after the cursors wrapped are still dropped once.
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel(3).unwrap();
    for _ in 0..7 {
        tx.push(Counted(drops.clone())).unwrap();
        drop(rx.pop().unwrap());
    }
    tx.push(Counted(drops.clone())).unwrap();
    tx.push(Counted(drops.clone())).unwrap();
    assert_eq!(drops.load(Relaxed), 7);
    drop((tx, rx));
    assert_eq!(drops.load(Relaxed), 9);
}

#[test]
fn drops_threaded() {
    // Producers and consumers race; the consumers leave early, closing the
    // ring under the producers and leaving values behind. Every value made is
    // dropped exactly once: popped, handed back as closed, or left in the ring.
    let drops = Arc::new(AtomicUsize::new(0));
    let n = scaled(20_000);
    let (tx, rx) = channel(8).unwrap();
    let (made, popped) = thread::scope(|s| {
        let producers: Vec<_> = (0..2)
            .map(|_| {
                let (tx, drops) = (tx.clone(), drops.clone());
                s.spawn(move || {
                    let mut made = 0;
                    for _ in 0..n {
                        made += 1;
                        if tx.push(Counted(drops.clone())).is_err() {
                            break;
                        }
                    }
                    made
                })
            })
            .collect();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                s.spawn(move || (0..n / 2).inspect(|_| drop(rx.pop().unwrap())).count())
            })
            .collect();
        drop(rx);
        let popped: usize = consumers.into_iter().map(|c| c.join().unwrap()).sum();
        let made: usize = producers.into_iter().map(|p| p.join().unwrap()).sum();
        (made, popped)
    });
    assert_eq!(popped, n);
    assert!(drops.load(Relaxed) >= popped);
    drop(tx);
    assert_eq!(drops.load(Relaxed), made);
}

#[test]
fn closed() {
    // Consumers gone: pushes hand the value back.
    let (tx, rx) = channel(2).unwrap();
    let rx2 = rx.clone();
    drop(rx);
    assert!(!tx.is_closed());
    tx.push(1).unwrap();
    drop(rx2);
    assert!(tx.is_closed());
    assert_eq!(tx.try_push(2), Err(PushError::Closed(2)));
    assert_eq!(tx.push(3), Err(PushError::Closed(3)));
    assert_eq!(
        tx.push_timeout(4, Duration::from_secs(60)),
        Err(PushError::Closed(4))
    );

    // Producers gone: consumers drain, then see closed.
    let (tx, rx) = channel(4).unwrap();
    let tx2 = tx.clone();
    tx.push(1).unwrap();
    tx2.push(2).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.try_pop(), Ok(1));
    assert_eq!(rx.pop(), Ok(2));
    assert_eq!(rx.try_pop(), Err(PopError::Closed));
    assert_eq!(rx.pop(), Err(PopError::Closed));
    assert_eq!(
        rx.pop_timeout(Duration::from_secs(60)),
        Err(PopError::Closed)
    );
}

/// Gives blocked threads time to park, by sleeping; the tests below pass
/// whether or not they did, only exercising less.
fn let_them_park() {
    thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
}

#[test]
fn closed_wakes_blocked_consumers() {
    let (tx, rx) = channel::<u32>(2).unwrap();
    thread::scope(|s| {
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                s.spawn(move || rx.pop())
            })
            .collect();
        let_them_park();
        drop(tx);
        for w in waiters {
            assert_eq!(w.join().unwrap(), Err(PopError::Closed));
        }
    });
}

#[test]
fn closed_wakes_blocked_producers() {
    let (tx, rx) = channel(1).unwrap();
    tx.push(0).unwrap();
    thread::scope(|s| {
        let waiters: Vec<_> = (1..4)
            .map(|i| {
                let tx = tx.clone();
                s.spawn(move || tx.push(i))
            })
            .collect();
        let_them_park();
        drop(rx);
        let mut back: Vec<i32> = waiters
            .into_iter()
            .map(|w| w.join().unwrap().unwrap_err())
            .map(|e| {
                assert!(e.is_closed());
                e.into_inner()
            })
            .collect();
        back.sort_unstable();
        assert_eq!(back, [1, 2, 3]);
    });
}

#[test]
fn closed_by_consumers_while_busy() {
    // Two producers push until closed while two consumers pop a few values
    // each and leave; the last to leave closes the ring under the producers,
    // who may be blocked on it. Every push that succeeded was popped or is
    // left in the ring (at most its capacity).
    for round in 0..scaled(200) {
        let (tx, rx) = channel::<usize>(2).unwrap();
        let (pushed, popped) = thread::scope(|s| {
            let pushers: Vec<_> = (0..2)
                .map(|_| {
                    let tx = tx.clone();
                    s.spawn(move || (0..).take_while(|&i| tx.push(i).is_ok()).count())
                })
                .collect();
            drop(tx);
            let poppers: Vec<_> = (0..2)
                .map(|c| {
                    let rx = rx.clone();
                    s.spawn(move || {
                        let n = round % 7 + c;
                        (0..n).for_each(|_| assert!(rx.pop().is_ok()));
                        n
                    })
                })
                .collect();
            drop(rx);
            let popped: usize = poppers.into_iter().map(|p| p.join().unwrap()).sum();
            let pushed: usize = pushers.into_iter().map(|p| p.join().unwrap()).sum();
            (pushed, popped)
        });
        assert!(popped <= pushed, "popped {popped} of {pushed}");
        assert!(pushed <= popped + 2, "more than a ring's worth left behind");
    }
}

#[test]
fn closed_by_producers_while_busy() {
    // Producers push a few values each and leave while consumers are popping
    // and often blocked: the consumers get every value, then Closed.
    for round in 0..scaled(200) {
        run_mpmc(2, 3, round as u64 % 5, 1 + round % 2, true);
    }
}

#[test]
fn closed_by_consumers_while_producers_blocked() {
    // Producers block on a full ring; the only consumer pops a few, then
    // leaves; every producer returns Closed.
    let (tx, rx) = channel(1).unwrap();
    thread::scope(|s| {
        let pushers: Vec<_> = (0..3)
            .map(|_| {
                let tx = tx.clone();
                s.spawn(move || (0..).take_while(|&i| tx.push(i).is_ok()).count())
            })
            .collect();
        for _ in 0..scaled(1000) {
            rx.pop().unwrap();
        }
        drop(rx);
        let pushed: usize = pushers.into_iter().map(|p| p.join().unwrap()).sum();
        assert!(pushed >= scaled(1000));
    });
}

#[test]
fn pop_timeout_never_early() {
    let (_tx, rx) = channel::<u8>(1).unwrap();
    for ms in [0u64, 1, 5] {
        let timeout = Duration::from_millis(ms);
        let start = Instant::now();
        assert_eq!(rx.pop_timeout(timeout), Err(PopError::Empty));
        assert!(start.elapsed() >= timeout);
    }
}

#[test]
fn push_timeout_never_early() {
    let (tx, _rx) = channel(1).unwrap();
    tx.push(0u8).unwrap();
    for ms in [0u64, 1, 5] {
        let timeout = Duration::from_millis(ms);
        let start = Instant::now();
        assert_eq!(tx.push_timeout(1, timeout), Err(PushError::Full(1)));
        assert!(start.elapsed() >= timeout);
    }
}

#[test]
fn timed_calls_succeed_when_the_other_side_moves() {
    let (tx, rx) = channel(1).unwrap();
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..scaled(10_000) {
                tx.push_timeout(i, Duration::from_secs(60)).unwrap();
            }
        });
        for i in 0..scaled(10_000) {
            assert_eq!(rx.pop_timeout(Duration::from_secs(60)), Ok(i));
        }
    });
}

#[test]
fn handles_are_send_sync_clone() {
    fn check<X: Send + Sync + Clone>() {}
    check::<Producer<String>>();
    check::<Consumer<String>>();
    check::<Producer<()>>();
}

#[test]
fn debug_never_shows_values() {
    let (tx, rx) = channel(3).unwrap();
    tx.push("secret").unwrap();
    let d = format!("{tx:?} {rx:?}");
    assert_eq!(
        d,
        "Producer { capacity: 3, len: 1, closed: false } \
         Consumer { capacity: 3, len: 1, closed: false }"
    );
    drop(rx);
    assert!(format!("{tx:?}").contains("closed: true"));
}

#[test]
fn errors_display_and_compare() {
    assert_eq!(PushError::Full(1), PushError::Full(1));
    assert_ne!(PushError::Full(1), PushError::Closed(1));
    assert_eq!(format!("{:?}", PushError::Closed("x")), "Closed(..)");
    for s in [
        PushError::Full(()).to_string(),
        PopError::Empty.to_string(),
        PopError::Closed.to_string(),
        ZeroCapacity.to_string(),
    ] {
        assert!(!s.ends_with('.') && s.chars().next().unwrap().is_lowercase());
    }
}
