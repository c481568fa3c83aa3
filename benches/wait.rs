//! wait/notify against atomic-wait and std's park/unpark.
//!
//! `cargo bench --bench wait`
//!
//! * `notify_no_waiter`: the cost of telling nobody. The notifier skips the
//!   system call that a bare futex wake (ours or atomic-wait's) always makes.
//! * `ping_pong`: round trips between two threads that take turns on one word,
//!   each parking until the other hands the turn back.

#[cfg(not(feature = "loom"))]
criterion::criterion_main!(demo::benches);

#[cfg(feature = "loom")]
fn main() {}

#[cfg(not(feature = "loom"))]
mod demo {

    use std::hint::black_box;
    use std::sync::atomic::{AtomicU32, Ordering::*};
    use std::thread;
    use std::time::{Duration, Instant};

    use criterion::{criterion_group, Criterion, Throughput};
    use handoff::notify::Notifier;

    fn notify_no_waiter(c: &mut Criterion) {
        let mut g = c.benchmark_group("notify_no_waiter");
        g.throughput(Throughput::Elements(1));
        let notifier = Notifier::new();
        let word = AtomicU32::new(0);
        g.bench_function("handoff_notifier", |b| {
            b.iter(|| black_box(notifier.notify_one()))
        });
        g.bench_function("handoff_wake_one", |b| {
            b.iter(|| black_box(handoff::wait::wake_one(&word)))
        });
        g.bench_function("atomic_wait_wake_one", |b| {
            b.iter(|| atomic_wait::wake_one(black_box(&word)))
        });
        g.finish();
    }

    /// One way for a thread to wait for its turn and hand the turn over.
    trait Turns: Sync {
        fn wait_for(&self, turn: &AtomicU32, value: u32);
        fn hand_over(&self, turn: &AtomicU32, value: u32, peer: usize);
    }

    /// Parks on a notifier per side.
    struct ViaNotifier([Notifier; 2]);

    /// Spins briefly on a notifier per side, then parks.
    struct ViaNotifierSpin([Notifier; 2]);

    impl Turns for ViaNotifierSpin {
        fn wait_for(&self, turn: &AtomicU32, value: u32) {
            let me = (value & 1) as usize;
            self.0[me].spin_then_wait_until(|| turn.load(Acquire) == value, None);
        }
        fn hand_over(&self, turn: &AtomicU32, value: u32, peer: usize) {
            turn.store(value, Release);
            self.0[peer].notify_one();
        }
    }

    impl Turns for ViaNotifier {
        fn wait_for(&self, turn: &AtomicU32, value: u32) {
            let me = (value & 1) as usize;
            self.0[me].wait_until(|| turn.load(Acquire) == value, None);
        }
        fn hand_over(&self, turn: &AtomicU32, value: u32, peer: usize) {
            turn.store(value, Release);
            self.0[peer].notify_one();
        }
    }

    /// Bare futex through atomic-wait: always wakes, waits while unchanged.
    struct ViaAtomicWait;

    impl Turns for ViaAtomicWait {
        fn wait_for(&self, turn: &AtomicU32, value: u32) {
            loop {
                let seen = turn.load(Acquire);
                if seen == value {
                    return;
                }
                atomic_wait::wait(turn, seen);
            }
        }
        fn hand_over(&self, turn: &AtomicU32, value: u32, _peer: usize) {
            turn.store(value, Release);
            atomic_wait::wake_one(turn);
        }
    }

    /// Runs `rounds` round trips and returns the time they took.
    fn round_trips<T: Turns>(turns: &T, rounds: u64, unpark: bool) -> Duration {
        let turn = AtomicU32::new(0);
        let rounds = rounds as u32;
        let me = thread::current();
        let (turn, me) = (&turn, &me);
        thread::scope(|s| {
            let partner = s.spawn(move || {
                for i in 0..rounds {
                    if unpark {
                        while turn.load(Acquire) != 2 * i + 1 {
                            thread::park();
                        }
                        turn.store(2 * i + 2, Release);
                        me.unpark();
                    } else {
                        turns.wait_for(turn, 2 * i + 1);
                        turns.hand_over(turn, 2 * i + 2, 0);
                    }
                }
            });
            let start = Instant::now();
            for i in 0..rounds {
                if unpark {
                    turn.store(2 * i + 1, Release);
                    partner.thread().unpark();
                    while turn.load(Acquire) != 2 * i + 2 {
                        thread::park();
                    }
                } else {
                    turns.hand_over(turn, 2 * i + 1, 1);
                    turns.wait_for(turn, 2 * i + 2);
                }
            }
            let elapsed = start.elapsed();
            partner.join().unwrap();
            elapsed
        })
    }

    fn ping_pong(c: &mut Criterion) {
        let mut g = c.benchmark_group("ping_pong");
        g.throughput(Throughput::Elements(1));
        let notifiers = ViaNotifier([Notifier::new(), Notifier::new()]);
        g.bench_function("handoff_notifier", |b| {
            b.iter_custom(|n| round_trips(&notifiers, n, false))
        });
        let spinning = ViaNotifierSpin([Notifier::new(), Notifier::new()]);
        g.bench_function("handoff_notifier_spin_then_park", |b| {
            b.iter_custom(|n| round_trips(&spinning, n, false))
        });
        g.bench_function("atomic_wait", |b| {
            b.iter_custom(|n| round_trips(&ViaAtomicWait, n, false))
        });
        g.bench_function("std_park_unpark", |b| {
            b.iter_custom(|n| round_trips(&ViaAtomicWait, n, true))
        });
        g.finish();
    }

    fn config() -> Criterion {
        Criterion::default()
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
    }

    criterion_group! { name = benches; config = config(); targets = notify_no_waiter, ping_pong }
}
