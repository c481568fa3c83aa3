//! Loom models of the MPMC ring: two producers and one consumer, one producer
//! and two consumers, two of each, and closing races, at capacity 1 and 2,
//! through the blocking calls (so parking and notifying are checked too).
//!
//! Each model runs in more than one spawn order and asserts, across all its
//! iterations, that its interesting outcomes were reached, so a model that
//! stopped exploring fails instead of passing vacuously. A lost wake-up shows
//! up as a deadlock, which loom reports.
#![cfg(feature = "loom")]

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use std::time::Duration;

use handoff::mpmc::{channel, PopError, PushError};
use loom::sync::atomic::AtomicBool;
use loom::sync::Arc;
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

/// One producer pushes two values; two consumers pop one each with the
/// blocking `pop`. Each value wakes at most one consumer, and no consumer is
/// left parked while a value waits: a lost wake-up is a deadlock.
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
                        thread::spawn(move || rx.pop().unwrap())
                    })
                    .collect();
                drop(rx);
                let produce = move || {
                    tx.push(1).unwrap();
                    tx.push(2).unwrap();
                    tx
                };
                let _tx = if producer_spawned {
                    thread::spawn(produce).join().unwrap()
                } else {
                    produce()
                };
                let got: Vec<u32> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
                seen.hit(if got == [1, 2] { 0 } else { 1 });
                assert!(got == [1, 2] || got == [2, 1], "{got:?}");
            });
            outcomes.assert_reached(&["first consumer got 1", "first consumer got 2"]);
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
/// and gets its value back; or a consumer popped first and the push went in.
///
/// Whether the second consumer pops is decided by a relaxed load of a flag
/// the producer sets without synchronising, so loom explores both; when it
/// does not, only the close can wake the producer.
#[test]
fn close_by_consumers_wakes_producer() {
    for producer_spawned in [false, true] {
        let seen = Seen::new(2);
        let outcomes = seen.clone();
        model(3, move || {
            let (tx, rx) = channel::<u32>(1).unwrap();
            tx.push(1).unwrap();
            let rx2 = rx.clone();
            let skip = Arc::new(AtomicBool::new(false));
            let consumers = [
                thread::spawn(move || drop(rx)),
                thread::spawn({
                    let skip = skip.clone();
                    move || {
                        if !skip.load(Relaxed) {
                            assert_eq!(rx2.try_pop(), Ok(1));
                        }
                    }
                }),
            ];
            let seen = seen.clone();
            let produce = move || {
                skip.store(true, Relaxed);
                match tx.push(2) {
                    Ok(()) => seen.hit(0),
                    Err(PushError::Closed(v)) => {
                        assert_eq!(v, 2);
                        seen.hit(1);
                    }
                    Err(PushError::Full(_)) => unreachable!("an untimed push never reports full"),
                }
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

/// A timed pop on an empty ring, while another thread may or may not push:
/// it returns the value, or `Empty` only when no value was there for it.
///
/// Whether the other thread acts is decided by a relaxed load of a flag the
/// timed caller sets without synchronising, so loom explores both; the
/// yields inside the blocking calls would otherwise always let it act.
#[test]
fn timed_pop() {
    let seen = Seen::new(2);
    let outcomes = seen.clone();
    model(2, move || {
        let (tx, rx) = channel::<u32>(1).unwrap();
        let skip = Arc::new(AtomicBool::new(false));
        let producer = {
            let skip = skip.clone();
            thread::spawn(move || {
                let pushed = !skip.load(Relaxed) && tx.push(2).is_ok();
                (pushed, tx)
            })
        };
        skip.store(true, Relaxed);
        let popped = rx.pop_timeout(Duration::from_millis(1));
        seen.hit(if popped.is_ok() { 0 } else { 1 });
        let (pushed, _tx) = producer.join().unwrap();
        match popped {
            Ok(v) => assert!(pushed && v == 2),
            Err(e) => {
                assert_eq!(e, PopError::Empty);
                assert_eq!(rx.try_pop().is_ok(), pushed, "a pushed value is kept");
            }
        }
    });
    outcomes.assert_reached(&["timed pop got the value", "timed pop timed out"]);
}

/// A timed push on a full ring, while another thread may or may not pop: it
/// goes in, or hands its value back as `Full`.
#[test]
fn timed_push() {
    let seen = Seen::new(2);
    let outcomes = seen.clone();
    model(2, move || {
        let (tx, rx) = channel::<u32>(1).unwrap();
        tx.push(1).unwrap();
        let skip = Arc::new(AtomicBool::new(false));
        let consumer = {
            let skip = skip.clone();
            thread::spawn(move || {
                let popped = if skip.load(Relaxed) {
                    None
                } else {
                    Some(rx.pop())
                };
                (popped, rx)
            })
        };
        skip.store(true, Relaxed);
        let pushed = tx.push_timeout(2, Duration::from_millis(1));
        seen.hit(if pushed.is_ok() { 0 } else { 1 });
        let (popped, rx) = consumer.join().unwrap();
        match pushed {
            Ok(()) => {
                assert_eq!(popped, Some(Ok(1)));
                assert_eq!(rx.try_pop(), Ok(2));
            }
            Err(e) => {
                assert_eq!(e, PushError::Full(2));
                // Nothing lost: the first value is popped or still there.
                let left = if popped.is_some() {
                    Err(PopError::Empty)
                } else {
                    Ok(1)
                };
                assert_eq!(rx.try_pop(), left);
            }
        }
    });
    outcomes.assert_reached(&["timed push went in", "timed push timed out"]);
}

/// Two producers push one value each and two consumers pop one each, all
/// through the blocking calls, at capacity 2. The producers stay alive until
/// both consumers have returned, so a parked consumer can only be woken by a
/// push's notify or by a wake passed on, never by the close.
///
/// A consumer woken by the push into the second slot can find the first slot
/// still being written and park again; the push into the first then wakes one
/// consumer, which must pass the wake on, or the other sleeps beside the
/// second value: a deadlock, which loom reports. With the pass-on removed from
/// `spin_then_park` this model fails within seconds. Reaching that order takes
/// two preemptions; at capacity 1 a bound of 2 ran past twelve minutes here,
/// so capacity 1 is left to the three-thread models above.
///
/// Five threads are too many for loom, so the main thread is the second
/// producer; the other producer is spawned before or after the consumers.
#[test]
fn two_producers_two_consumers() {
    for consumers_first in [true, false] {
        let seen = Seen::new(2);
        let outcomes = seen.clone();
        model(2, move || {
            let (tx, rx) = channel::<u32>(2).unwrap();
            let spawn_consumer = || {
                let rx = rx.clone();
                thread::spawn(move || rx.pop().unwrap())
            };
            let spawn_producer = || {
                let tx = tx.clone();
                thread::spawn(move || {
                    tx.push(1).unwrap();
                    tx
                })
            };
            let (consumers, producer) = if consumers_first {
                let consumers = [spawn_consumer(), spawn_consumer()];
                (consumers, spawn_producer())
            } else {
                let producer = spawn_producer();
                ([spawn_consumer(), spawn_consumer()], producer)
            };
            tx.push(2).unwrap();
            let got = consumers.map(|c| c.join().unwrap());
            seen.hit(if got == [1, 2] { 0 } else { 1 });
            assert!(got == [1, 2] || got == [2, 1], "{got:?}");
            drop(producer.join().unwrap());
            drop(tx);
            assert_eq!(rx.pop(), Err(PopError::Closed));
        });
        outcomes.assert_reached(&["first consumer got 1", "first consumer got 2"]);
    }
}
