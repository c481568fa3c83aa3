//! Loom models of the modelled futex and of the notifier.
//!
//! Each model asserts, across all its iterations, that the interesting
//! outcomes were actually reached, so a model that stopped exploring (or a
//! backend that never sleeps) fails instead of passing vacuously.
#![cfg(feature = "loom")]

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed as R};
use std::time::Duration;

use handoff::notify::Notifier;
use handoff::wait::{wait, wake_one, WaitOutcome};
use loom::sync::atomic::{AtomicBool, AtomicU32, Ordering::*};
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

/// A raw waiter sleeps until a store plus wake; both "slept and woken" and
/// "value already changed" must occur.
#[test]
fn raw_wait_sees_store_or_wake() {
    for waiter_spawned in [true, false] {
        let seen = std::sync::Arc::new(Seen::default());
        let seen_outer = seen.clone();
        loom::model(move || {
            let word = Arc::new(AtomicU32::new(0));
            let waiter = {
                let word = word.clone();
                let seen = seen.clone();
                move || {
                    while word.load(Acquire) == 0 {
                        match wait(&word, 0, None) {
                            WaitOutcome::Woken => seen.hit(0),
                            WaitOutcome::NotEqual => seen.hit(1),
                            WaitOutcome::TimedOut => unreachable!("untimed"),
                        }
                    }
                }
            };
            let waker = {
                let word = word.clone();
                move || {
                    word.store(1, Release);
                    wake_one(&word);
                }
            };
            if waiter_spawned {
                let t = thread::spawn(waiter);
                waker();
                t.join().unwrap();
            } else {
                let t = thread::spawn(waker);
                waiter();
                t.join().unwrap();
            }
        });
        assert!(seen_outer.count(0) > 0, "never slept and was woken");
        assert!(
            seen_outer.count(1) > 0,
            "never saw the value change before sleeping"
        );
    }
}

/// A notify after publishing always reaches a waiter that needs it: a lost
/// wake-up would leave the waiter blocked, which loom reports as a deadlock.
#[test]
fn notifier_loses_no_wakeup() {
    for waiter_spawned in [true, false] {
        let seen = std::sync::Arc::new(Seen::default());
        let seen_outer = seen.clone();
        loom::model(move || {
            let flag = Arc::new(AtomicBool::new(false));
            let n = Arc::new(Notifier::new());
            let waiter = {
                let (flag, n) = (flag.clone(), n.clone());
                move || assert!(n.wait_until(|| flag.load(Acquire), None))
            };
            let notifier = {
                let (flag, n, seen) = (flag.clone(), n.clone(), seen.clone());
                move || {
                    flag.store(true, Release);
                    seen.hit(if n.notify_one() { 0 } else { 1 });
                }
            };
            if waiter_spawned {
                let t = thread::spawn(waiter);
                notifier();
                t.join().unwrap();
            } else {
                let t = thread::spawn(notifier);
                waiter();
                t.join().unwrap();
            }
        });
        assert!(seen_outer.count(0) > 0, "notify never found a waiter");
        assert!(seen_outer.count(1) > 0, "notify never took the fast path");
    }
}

/// The spinning variant parks on the same protocol: no lost wake-up either.
#[test]
fn notifier_spin_then_wait_loses_no_wakeup() {
    let seen = std::sync::Arc::new(Seen::default());
    let seen_outer = seen.clone();
    loom::model(move || {
        let flag = Arc::new(AtomicBool::new(false));
        let n = Arc::new(Notifier::new());
        let t = {
            let (flag, n) = (flag.clone(), n.clone());
            thread::spawn(move || assert!(n.spin_then_wait_until(|| flag.load(Acquire), None)))
        };
        // Loom runs a yielding thread last; yield here too, so that the
        // waiter's spin can end before the flag is set and it really parks.
        thread::yield_now();
        thread::yield_now();
        flag.store(true, Release);
        seen.hit(if n.notify_one() { 0 } else { 1 });
        t.join().unwrap();
    });
    assert!(
        seen_outer.count(0) > 0,
        "notify never found the spinning waiter parked"
    );
    assert!(seen_outer.count(1) > 0, "notify never took the fast path");
}

/// Two waiters and one notify_all: both are released.
#[test]
fn notifier_notify_all_releases_everyone() {
    let seen = std::sync::Arc::new(Seen::default());
    let seen_outer = seen.clone();
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(move || {
        let flag = Arc::new(AtomicBool::new(false));
        let n = Arc::new(Notifier::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let (flag, n) = (flag.clone(), n.clone());
                thread::spawn(move || assert!(n.wait_until(|| flag.load(Acquire), None)))
            })
            .collect();
        flag.store(true, Release);
        seen.hit(if n.notify_all() { 0 } else { 1 });
        for w in waiters {
            w.join().unwrap();
        }
    });
    assert!(seen_outer.count(0) > 0, "notify_all never found a waiter");
    assert!(
        seen_outer.count(1) > 0,
        "notify_all never took the fast path"
    );
}

/// A timed wait either sees the flag or times out, and a timeout is only
/// reported while the flag is still unset from the waiter's point of view.
#[test]
fn notifier_timed_wait_outcomes() {
    let seen = std::sync::Arc::new(Seen::default());
    let seen_outer = seen.clone();
    loom::model(move || {
        let flag = Arc::new(AtomicBool::new(false));
        let n = Arc::new(Notifier::new());
        let t = {
            let (flag, n) = (flag.clone(), n.clone());
            thread::spawn(move || {
                flag.store(true, Release);
                n.notify_one();
            })
        };
        let ready = n.wait_until(|| flag.load(Acquire), Some(Duration::from_millis(1)));
        seen.hit(if ready { 0 } else { 1 });
        t.join().unwrap();
        assert!(flag.load(Acquire));
    });
    assert!(seen_outer.count(0) > 0, "timed wait never saw the flag");
    assert!(seen_outer.count(1) > 0, "timed wait never timed out");
}
