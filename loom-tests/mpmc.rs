//! Loom models of the MPMC ring: two producers and one consumer, one producer
//! and two consumers, and closing races, at capacity 1 and 2, through the
//! blocking calls (so parking and notifying are checked too).
//!
//! Each model runs in more than one spawn order and asserts, across all its
//! iterations, that its interesting outcomes were reached, so a model that
//! stopped exploring fails instead of passing vacuously. A lost wake-up shows
//! up as a deadlock, which loom reports.
#![cfg(feature = "loom")]

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use handoff::mpmc::{channel, PopError, PushError};
use loom::thread;

/// Counts how often each outcome of a model was reached; made outside
/// `loom::model` so the counts survive every iteration.
#[derive(Clone)]
struct Seen(std::sync::Arc<[AtomicUsize]>);

impl Seen {
    fn new(outcomes: usize) -> Self {
        Seen((0..outcomes).map(|_| AtomicUsize::new(0)).collect())
    }
    fn hit(&self, i: usize) {
        self.0[i].fetch_add(1, Relaxed);
    }
    fn assert_reached(&self, names: &[&str]) {
        for (i, name) in names.iter().enumerate() {
            assert!(self.0[i].load(Relaxed) > 0, "never reached: {name}");
        }
    }
}

/// Runs `f` under loom with a preemption bound, to keep the models fast.
fn model(bound: usize, f: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(bound);
    builder.check(f);
}

/// Two producers push one value each with the blocking `push`; one consumer
/// pops both with the blocking `pop`, then sees the ring closed.
#[test]
fn two_producers_one_consumer() {
    for capacity in [1, 2] {
        for consumer_spawned in [false, true] {
            let seen = Seen::new(3);
            let outcomes = seen.clone();
            model(2, move || {
                let (tx, rx) = channel::<u32>(capacity).unwrap();
                let producers: Vec<_> = [1, 2]
                    .map(|v| {
                        let tx = tx.clone();
                        thread::spawn(move || tx.push(v).unwrap())
                    })
                    .into_iter()
                    .collect();
                drop(tx);
                let seen = seen.clone();
                let consume = move || {
                    let got = [rx.pop().unwrap(), rx.pop().unwrap()];
                    assert_eq!(rx.pop(), Err(PopError::Closed));
                    seen.hit(if got == [1, 2] { 0 } else { 1 });
                    assert!(got == [1, 2] || got == [2, 1], "{got:?}");
                };
                if consumer_spawned {
                    let c = thread::spawn(consume);
                    producers.into_iter().for_each(|p| p.join().unwrap());
                    c.join().unwrap();
                } else {
                    consume();
                    producers.into_iter().for_each(|p| p.join().unwrap());
                }
            });
            outcomes.assert_reached(&["order 1, 2", "order 2, 1"]);
        }
    }
}

/// With capacity 1, the second producer finds the ring full and must be
/// woken by the consumer's pop; the consumer may find it empty and be woken
/// by a push.
#[test]
fn two_producers_one_consumer_full_and_empty() {
    for consumer_spawned in [false, true] {
        let seen = Seen::new(2);
        let outcomes = seen.clone();
        model(2, move || {
            let (tx, rx) = channel::<u32>(1).unwrap();
            let producers: Vec<_> = [1, 2]
                .map(|v| {
                    let (tx, seen) = (tx.clone(), seen.clone());
                    thread::spawn(move || match tx.try_push(v) {
                        Ok(()) => {}
                        Err(PushError::Full(v)) => {
                            seen.hit(0);
                            tx.push(v).unwrap();
                        }
                        Err(PushError::Closed(_)) => unreachable!("a consumer is alive"),
                    })
                })
                .into_iter()
                .collect();
            drop(tx);
            let seen = seen.clone();
            let consume = move || {
                let mut sum = 0;
                for _ in 0..2 {
                    sum += match rx.try_pop() {
                        Ok(v) => v,
                        Err(PopError::Empty) => {
                            seen.hit(1);
                            rx.pop().unwrap()
                        }
                        Err(PopError::Closed) => unreachable!("values are still coming"),
                    };
                }
                assert_eq!(sum, 3);
            };
            if consumer_spawned {
                let c = thread::spawn(consume);
                producers.into_iter().for_each(|p| p.join().unwrap());
                c.join().unwrap();
            } else {
                consume();
                producers.into_iter().for_each(|p| p.join().unwrap());
            }
        });
        outcomes.assert_reached(&[
            "a producer found the ring full",
            "the consumer found it empty",
        ]);
    }
}

/// One producer pushes two values and leaves; two consumers pop until the
/// ring is closed. Each value is popped exactly once, whichever consumer
/// gets it, and both consumers end with `Closed`.
#[test]
fn one_producer_two_consumers() {
    for capacity in [1, 2] {
        for producer_spawned in [false, true] {
            let seen = Seen::new(2);
            let outcomes = seen.clone();
            model(2, move || {
                let (tx, rx) = channel::<u32>(capacity).unwrap();
                let consumers: Vec<_> = (0..2)
                    .map(|_| {
                        let rx = rx.clone();
                        thread::spawn(move || {
                            let mut got = Vec::new();
                            while let Ok(v) = rx.pop() {
                                got.push(v);
                            }
                            got
                        })
                    })
                    .collect();
                drop(rx);
                let produce = move || {
                    tx.push(1).unwrap();
                    tx.push(2).unwrap();
                    // Leaving closes the ring and ends the consumers' loops.
                    drop(tx);
                };
                if producer_spawned {
                    thread::spawn(produce).join().unwrap();
                } else {
                    produce();
                }
                let got: Vec<Vec<u32>> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
                let mut all: Vec<u32> = got.iter().flatten().copied().collect();
                // One consumer sees the producer's values in push order.
                assert!(got.iter().all(|g| g.windows(2).all(|w| w[0] < w[1])));
                all.sort_unstable();
                assert_eq!(all, [1, 2]);
                seen.hit(if got.iter().any(|g| g.len() == 2) {
                    0
                } else {
                    1
                });
            });
            outcomes.assert_reached(&["one consumer got both", "each consumer got one"]);
        }
    }
}

/// A consumer blocked on an empty ring is woken by the last producer's drop;
/// a value pushed before the drop is always popped first, never lost behind
/// `Closed`.
#[test]
fn close_by_producers_wakes_consumer() {
    for consumer_spawned in [false, true] {
        let seen = Seen::new(2);
        let outcomes = seen.clone();
        model(3, move || {
            let (tx, rx) = channel::<u32>(1).unwrap();
            let tx2 = tx.clone();
            let producers = [
                thread::spawn(move || drop(tx)),
                thread::spawn(move || {
                    tx2.push(7).unwrap();
                    drop(tx2);
                }),
            ];
            let seen = seen.clone();
            let consume = move || {
                // Whether or not the value came before the close was seen.
                let first = rx.pop();
                seen.hit(if rx.is_closed() { 0 } else { 1 });
                assert_eq!(first, Ok(7));
                assert_eq!(rx.pop(), Err(PopError::Closed));
            };
            if consumer_spawned {
                let c = thread::spawn(consume);
                producers.into_iter().for_each(|p| p.join().unwrap());
                c.join().unwrap();
            } else {
                consume();
                producers.into_iter().for_each(|p| p.join().unwrap());
            }
        });
        outcomes.assert_reached(&["closed before the first pop returned", "popped while open"]);
    }
}

/// A producer blocked on a full ring is woken by the last consumer's drop
/// and gets its value back; or the consumer popped first and the push went
/// in. Both consumers leave; the value left (if any) is dropped with the ring.
#[test]
fn close_by_consumers_wakes_producer() {
    for producer_spawned in [false, true] {
        let seen = Seen::new(2);
        let outcomes = seen.clone();
        model(3, move || {
            let (tx, rx) = channel::<u32>(1).unwrap();
            tx.push(1).unwrap();
            let rx2 = rx.clone();
            let consumers = [
                thread::spawn(move || drop(rx)),
                thread::spawn(move || {
                    let _ = rx2.try_pop();
                }),
            ];
            let seen = seen.clone();
            let produce = move || match tx.push(2) {
                Ok(()) => seen.hit(0),
                Err(PushError::Closed(v)) => {
                    assert_eq!(v, 2);
                    seen.hit(1);
                }
                Err(PushError::Full(_)) => unreachable!("an untimed push never reports full"),
            };
            if producer_spawned {
                let p = thread::spawn(produce);
                consumers.into_iter().for_each(|c| c.join().unwrap());
                p.join().unwrap();
            } else {
                produce();
                consumers.into_iter().for_each(|c| c.join().unwrap());
            }
        });
        outcomes.assert_reached(&["push went in", "push saw the ring closed"]);
    }
}

/// Timed calls on a capacity-1 ring: each either succeeds or reports full or
/// empty at the deadline, never loses or duplicates the value.
#[test]
fn timed_calls() {
    let seen = Seen::new(4);
    let outcomes = seen.clone();
    model(2, move || {
        let (tx, rx) = channel::<u32>(1).unwrap();
        tx.push(1).unwrap();
        let producer = {
            let seen = seen.clone();
            thread::spawn(move || {
                let pushed = tx.push_timeout(2, core::time::Duration::from_millis(1));
                seen.hit(if pushed.is_ok() { 0 } else { 1 });
                pushed.is_ok()
            })
        };
        let popped = rx.pop_timeout(core::time::Duration::from_millis(1));
        assert_eq!(popped, Ok(1), "a value was there from the start");
        let second = rx.pop_timeout(core::time::Duration::from_millis(1));
        seen.hit(if second.is_ok() { 2 } else { 3 });
        let pushed = producer.join().unwrap();
        if let Ok(v) = second {
            assert!(pushed && v == 2);
        } else if pushed {
            assert_eq!(rx.try_pop(), Ok(2));
        }
    });
    outcomes.assert_reached(&[
        "timed push went in",
        "timed push timed out",
        "second timed pop got the value",
        "second timed pop timed out",
    ]);
}
