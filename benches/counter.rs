//! Counter throughput: `Counter`, `ShardedCounter` and `Latch` against a bare
//! `AtomicU64` and against per-thread padded cells (the limit a sharded
//! counter can approach), with 1 and 2 threads adding to one count.
//!
//! Run with `cargo bench --bench counter`. Each iteration is one add per
//! thread; throughput is reported in adds per second over all threads.

#[cfg(not(feature = "loom"))]
criterion::criterion_main!(demo::benches);

#[cfg(feature = "loom")]
fn main() {}

#[cfg(not(feature = "loom"))]
mod demo {

    use std::hint::black_box;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
    use std::time::{Duration, Instant};

    use criterion::{criterion_group, Criterion, Throughput};
    use crossbeam_utils::CachePadded;
    use handoff::counter::{Counter, Latch, ShardedCounter};

    /// Runs `adds(thread, iters)` on `threads` threads released together and
    /// returns the time from the release to the last thread's end. One thread
    /// runs on the caller, so the 1-thread numbers carry no spawn or wake cost.
    fn timed<F: Fn(usize, u64) + Sync>(threads: usize, iters: u64, adds: F) -> Duration {
        if threads == 1 {
            let began = Instant::now();
            adds(0, iters);
            return began.elapsed();
        }

        // Spin at the start line so that every thread is running when the clock
        // starts.
        let arrived = AtomicUsize::new(0);
        let go = AtomicBool::new(false);
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let (arrived, go, adds) = (&arrived, &go, &adds);
                    s.spawn(move || {
                        arrived.fetch_add(1, Relaxed);
                        while !go.load(Acquire) {
                            std::hint::spin_loop();
                        }
                        adds(t, iters);
                    })
                })
                .collect();
            while arrived.load(Relaxed) < threads {
                std::thread::yield_now();
            }
            let began = Instant::now();
            go.store(true, Release);
            for w in workers {
                w.join().unwrap();
            }
            began.elapsed()
        })
    }

    /// The same contenders with 1 and with 2 threads. Every add passes the
    /// counter through `black_box`, so the compiler cannot fold a loop of adds to
    /// one address into one add.
    fn counters(c: &mut Criterion) {
        for threads in [1usize, 2] {
            let mut group = c.benchmark_group(format!("counter/{threads}-thread"));
            group
                .sample_size(10)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(2))
                .throughput(Throughput::Elements(threads as u64));

            group.bench_function("AtomicU64 fetch_add", |b| {
                let shared = CachePadded::new(AtomicU64::new(0));
                b.iter_custom(|iters| {
                    timed(threads, iters, |_, n| {
                        for _ in 0..n {
                            black_box(&*shared).fetch_add(1, Relaxed);
                        }
                    })
                });
            });

            group.bench_function("padded cell per thread", |b| {
                let cells: Vec<_> = (0..threads)
                    .map(|_| CachePadded::new(AtomicU64::new(0)))
                    .collect();
                b.iter_custom(|iters| {
                    timed(threads, iters, |t, n| {
                        for _ in 0..n {
                            black_box(&*cells[t]).fetch_add(1, Relaxed);
                        }
                    })
                });
            });

            group.bench_function("handoff Counter", |b| {
                let counter = Counter::new(0);
                b.iter_custom(|iters| {
                    timed(threads, iters, |_, n| {
                        for _ in 0..n {
                            black_box(&counter).increment();
                        }
                    })
                });
            });

            group.bench_function("handoff ShardedCounter", |b| {
                let counter = ShardedCounter::new();
                b.iter_custom(|iters| {
                    timed(threads, iters, |_, n| {
                        for _ in 0..n {
                            black_box(&counter).increment();
                        }
                    })
                });
            });

            group.bench_function("handoff Latch", |b| {
                // Never reached: every add takes the no-notify path.
                let latch = Latch::new(u64::MAX);
                b.iter_custom(|iters| {
                    timed(threads, iters, |_, n| {
                        for _ in 0..n {
                            black_box(&latch).increment();
                        }
                    })
                });
            });

            group.finish();
        }
    }

    criterion_group!(benches, counters);
}
