//! Loom models of the SPSC ring: the handoff of a value, full and empty, the
//! blocking path (no lost wake-up, no deadlock) and closing while blocked.
//!
//! Every scenario runs in both spawn orders, and each asserts across its
//! iterations that its interesting outcomes were reached, so a model that
//! stopped exploring fails instead of passing vacuously.
#![cfg(feature = "loom")]

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed as R};

use handoff::spsc::{self, Consumer, PopError, Producer, PushError};
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

type Shared = std::sync::Arc<Seen>;

/// Runs `producer` and `consumer` on two threads, the one named by
/// `producer_spawned` on a spawned thread and the other on the model's main
/// thread.
fn run_pair<P, C>(producer_spawned: bool, producer: P, consumer: C)
where
    P: FnOnce() + Send + 'static,
    C: FnOnce() + Send + 'static,
{
    if producer_spawned {
        let t = thread::spawn(producer);
        consumer();
        t.join().unwrap();
    } else {
        let t = thread::spawn(consumer);
        producer();
        t.join().unwrap();
    }
}

/// Runs `model` with a preemption bound, so that the blocking models finish
/// in seconds.
fn check(bound: usize, model: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder.check(model);
}

/// Non-blocking handoff through a ring of capacity 1: every value pushed is
/// popped once, in order; the producer sees `Full` and the consumer `Empty` in
/// some interleavings.
#[test]
fn handoff_full_and_empty() {
    for producer_spawned in [true, false] {
        let seen: Shared = Default::default();
        let outer = seen.clone();
        check(3, move || {
            let (mut tx, mut rx) = spsc::channel::<u32>(1).unwrap();
            let pushed = loom::sync::Arc::new(loom::sync::Mutex::new(Vec::new()));
            let producer = {
                let (seen, pushed) = (seen.clone(), pushed.clone());
                move || {
                    for v in [1, 2] {
                        match tx.try_push(v) {
                            Ok(()) => pushed.lock().unwrap().push(v),
                            Err(PushError::Full(_)) => seen.hit(0),
                            Err(PushError::Closed(_)) => unreachable!("consumer alive"),
                        }
                    }
                    // Keep the producer alive until here: no Closed for the
                    // consumer's two tries.
                    drop(tx);
                }
            };
            let consumer = {
                let (seen, pushed) = (seen.clone(), pushed.clone());
                move || {
                    let mut popped = Vec::new();
                    for _ in 0..2 {
                        match rx.try_pop() {
                            Ok(v) => {
                                seen.hit(1);
                                popped.push(v);
                            }
                            Err(PopError::Empty) => seen.hit(2),
                            Err(PopError::Closed) => seen.hit(3),
                        }
                    }
                    // Drain after the producer is gone (blocking: returns
                    // Closed once drained), then compare with what was pushed.
                    while let Ok(v) = rx.pop() {
                        popped.push(v);
                    }
                    assert_eq!(popped, *pushed.lock().unwrap());
                }
            };
            run_pair(producer_spawned, producer, consumer);
        });
        assert!(outer.count(0) > 0, "producer never saw Full");
        assert!(outer.count(1) > 0, "consumer never got a value");
        assert!(outer.count(2) > 0, "consumer never saw Empty");
    }
}

/// Blocking push and pop through capacity 1 and 2: no lost wake-up (loom
/// reports a deadlock if a parked side is never woken), values in order, and
/// `Closed` once the producer is gone.
#[test]
fn blocking_handoff_loses_no_wakeup() {
    for capacity in [1, 2] {
        for producer_spawned in [true, false] {
            let seen: Shared = Default::default();
            let outer = seen.clone();
            check(2, move || {
                let (mut tx, mut rx) = spsc::channel::<u32>(capacity).unwrap();
                let producer = {
                    let seen = seen.clone();
                    move || {
                        for v in [1, 2] {
                            // Whether this push had to wait for room.
                            seen.hit(if tx.is_full() { 0 } else { 1 });
                            tx.push(v).unwrap();
                        }
                    }
                };
                let consumer = {
                    let seen = seen.clone();
                    move || {
                        for v in [1, 2] {
                            // Whether this pop had to wait for a value.
                            seen.hit(if rx.is_empty() { 2 } else { 3 });
                            assert_eq!(rx.pop(), Ok(v));
                        }
                        assert_eq!(rx.pop(), Err(PopError::Closed));
                    }
                };
                run_pair(producer_spawned, producer, consumer);
            });
            if capacity == 1 {
                assert!(outer.count(0) > 0, "push never waited for room");
            }
            assert!(outer.count(1) > 0, "push never found room at once");
            assert!(outer.count(2) > 0, "pop never waited for a value");
            assert!(outer.count(3) > 0, "pop never found a value at once");
        }
    }
}

/// A consumer blocked on an empty ring returns `Closed` when the producer is
/// dropped, after taking what the producer pushed first.
#[test]
fn close_wakes_blocked_consumer() {
    for producer_spawned in [true, false] {
        let seen: Shared = Default::default();
        let outer = seen.clone();
        check(3, move || {
            let (mut tx, mut rx): (Producer<u32>, Consumer<u32>) = spsc::channel(1).unwrap();
            let producer = move || {
                tx.try_push(7).unwrap();
                drop(tx);
            };
            let consumer = {
                let seen = seen.clone();
                move || {
                    assert_eq!(rx.pop(), Ok(7));
                    // Whether the close came before this pop or while it
                    // spins or parks.
                    seen.hit(if rx.is_closed() { 0 } else { 1 });
                    assert_eq!(rx.pop(), Err(PopError::Closed));
                }
            };
            run_pair(producer_spawned, producer, consumer);
        });
        assert!(outer.count(0) > 0, "close never came before the last pop");
        assert!(outer.count(1) > 0, "close never came during the last pop");
    }
}

/// A producer blocked on a full ring returns `Closed` with its value when the
/// consumer is dropped.
#[test]
fn close_wakes_blocked_producer() {
    for consumer_spawned in [true, false] {
        let seen: Shared = Default::default();
        let outer = seen.clone();
        check(3, move || {
            let (mut tx, rx): (Producer<u32>, Consumer<u32>) = spsc::channel(1).unwrap();
            tx.try_push(1).unwrap();
            let producer = {
                let seen = seen.clone();
                move || {
                    seen.hit(if tx.is_closed() { 0 } else { 1 });
                    assert_eq!(tx.push(2), Err(PushError::Closed(2)));
                }
            };
            let consumer = move || drop(rx);
            run_pair(!consumer_spawned, producer, consumer);
        });
        assert!(outer.count(0) > 0, "close never came before the push");
        assert!(outer.count(1) > 0, "close never came during the push");
    }
}

/// Slices and chunks commit with one index store: the consumer sees all of a
/// commit or none of it, in order.
#[test]
fn slice_and_chunk_commits() {
    for producer_spawned in [true, false] {
        let seen: Shared = Default::default();
        let outer = seen.clone();
        check(3, move || {
            let (mut tx, mut rx) = spsc::channel::<u32>(2).unwrap();
            let producer = move || {
                assert_eq!(tx.push_slice(&[1, 2]), 2);
                let mut chunk = loop {
                    match tx.write_chunk(2) {
                        Ok(chunk) => break chunk,
                        Err(e) => {
                            assert_eq!(e, PushError::Full(()));
                            thread::yield_now();
                        }
                    }
                };
                chunk.fill_from_iter(3..);
                chunk.commit();
            };
            let consumer = {
                let seen = seen.clone();
                move || {
                    let mut got = Vec::new();
                    let mut buf = [0; 2];
                    let n = rx.pop_slice(&mut buf);
                    // All of the first commit or nothing of it.
                    assert!(n == 0 || n == 2, "saw {n} of a 2-value commit");
                    seen.hit(if n == 0 { 0 } else { 1 });
                    got.extend_from_slice(&buf[..n]);
                    while got.len() < 4 {
                        match rx.read_chunk(2) {
                            Ok(chunk) => got.extend(chunk),
                            Err(_) => thread::yield_now(),
                        }
                    }
                    assert_eq!(got, [1, 2, 3, 4]);
                }
            };
            run_pair(producer_spawned, producer, consumer);
        });
        assert!(outer.count(0) > 0, "consumer never found the ring empty");
        assert!(outer.count(1) > 0, "consumer never saw a whole commit");
    }
}
