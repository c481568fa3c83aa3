//! MPMC throughput, side by side with kanal, crossbeam-channel, crossbeam's
//! `ArrayQueue`, flume and concurrent-queue: `u64` values through a ring of
//! capacity 1024, in three shapes.
//!
//! * `mpmc_2p2c_blocking`: 2 producers and 2 consumers, blocking calls.
//! * `mpmc_2p2c_try`: the same with `try_push`/`try_pop` and a spin hint
//!   when full or empty.
//! * `mpmc_1p1c_blocking`: one producer and one consumer, blocking calls.
//!
//! Each iteration spawns the threads, lines them up on a barrier and times
//! the transfer of `VALUES` values from the barrier to the last join.

#[cfg(not(feature = "loom"))]
criterion::criterion_main!(demo::benches);

#[cfg(feature = "loom")]
fn main() {}

#[cfg(not(feature = "loom"))]
mod demo {

    use std::hint::black_box;
    use std::sync::Barrier;
    use std::thread;
    use std::time::{Duration, Instant};

    use criterion::{criterion_group, Criterion, Throughput};

    const CAPACITY: usize = 1024;
    const VALUES: u64 = 200_000;

    /// Moves `VALUES` values from `producers` threads calling `send` to
    /// `consumers` threads calling `recv`, and returns how long it took.
    fn transfer<S, R>(
        producers: u64,
        consumers: u64,
        (tx, rx): (S, R),
        send: impl Fn(&S, u64) + Sync,
        recv: impl Fn(&R) -> u64 + Sync,
    ) -> Duration
    where
        S: Clone + Send,
        R: Clone + Send,
    {
        let barrier = Barrier::new((producers + consumers + 1) as usize);
        let (send, recv, barrier) = (&send, &recv, &barrier);
        thread::scope(|s| {
            let mut threads = Vec::new();
            for _ in 0..producers {
                let tx = tx.clone();
                threads.push(s.spawn(move || {
                    barrier.wait();
                    for i in 0..VALUES / producers {
                        send(&tx, i);
                    }
                }));
            }
            for _ in 0..consumers {
                let rx = rx.clone();
                threads.push(s.spawn(move || {
                    barrier.wait();
                    let mut sum = 0u64;
                    for _ in 0..VALUES / consumers {
                        sum = sum.wrapping_add(recv(&rx));
                    }
                    black_box(sum);
                }));
            }
            drop((tx, rx));
            barrier.wait();
            let start = Instant::now();
            threads.into_iter().for_each(|t| t.join().unwrap());
            start.elapsed()
        })
    }

    /// Times `iters` transfers.
    fn repeat(iters: u64, mut one: impl FnMut() -> Duration) -> Duration {
        (0..iters).map(|_| one()).sum()
    }

    /// Spins until `f` returns `Some`, yielding the core now and then: with
    /// more threads than cores, a pure spin waits for a thread that is not
    /// running. The same loop serves every queue measured.
    #[inline]
    fn spin<V>(mut f: impl FnMut() -> Option<V>) -> V {
        let mut tries = 0u32;
        loop {
            if let Some(v) = f() {
                return v;
            }
            tries += 1;
            if tries % 64 == 0 {
                thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// Blocking calls, `p` producers and `c` consumers, every channel here.
    fn blocking(c: &mut Criterion, name: &str, p: u64, n: u64) {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(VALUES));
        g.bench_function("handoff", |b| {
            b.iter_custom(|iters| {
                repeat(iters, || {
                    let ends = handoff::mpmc::channel(CAPACITY).unwrap();
                    transfer(
                        p,
                        n,
                        ends,
                        |tx, v| tx.push(v).unwrap(),
                        |rx| rx.pop().unwrap(),
                    )
                })
            })
        });
        g.bench_function("kanal", |b| {
            b.iter_custom(|iters| {
                repeat(iters, || {
                    let ends = kanal::bounded(CAPACITY);
                    transfer(
                        p,
                        n,
                        ends,
                        |tx, v| tx.send(v).unwrap(),
                        |rx| rx.recv().unwrap(),
                    )
                })
            })
        });
        g.bench_function("crossbeam-channel", |b| {
            b.iter_custom(|iters| {
                repeat(iters, || {
                    let ends = crossbeam_channel::bounded(CAPACITY);
                    transfer(
                        p,
                        n,
                        ends,
                        |tx, v| tx.send(v).unwrap(),
                        |rx| rx.recv().unwrap(),
                    )
                })
            })
        });
        g.bench_function("flume", |b| {
            b.iter_custom(|iters| {
                repeat(iters, || {
                    let ends = flume::bounded(CAPACITY);
                    transfer(
                        p,
                        n,
                        ends,
                        |tx, v| tx.send(v).unwrap(),
                        |rx| rx.recv().unwrap(),
                    )
                })
            })
        });
        g.finish();
    }

    fn blocking_2p2c(c: &mut Criterion) {
        blocking(c, "mpmc_2p2c_blocking", 2, 2);
    }

    fn blocking_1p1c(c: &mut Criterion) {
        blocking(c, "mpmc_1p1c_blocking", 1, 1);
    }

    /// `try_` calls with a spin when full or empty, 2 producers and 2 consumers.
    fn try_2p2c(c: &mut Criterion) {
        let mut g = c.benchmark_group("mpmc_2p2c_try");
        g.throughput(Throughput::Elements(VALUES));
        g.bench_function("handoff", |b| {
            b.iter_custom(|iters| {
                repeat(iters, || {
                    let ends = handoff::mpmc::channel(CAPACITY).unwrap();
                    transfer(
                        2,
                        2,
                        ends,
                        |tx, v| spin(|| tx.try_push(v).ok()),
                        |rx| spin(|| rx.try_pop().ok()),
                    )
                })
            })
        });
        g.bench_function("crossbeam ArrayQueue", |b| {
            b.iter_custom(|iters| {
                repeat(iters, || {
                    let q = crossbeam_queue::ArrayQueue::new(CAPACITY);
                    transfer(
                        2,
                        2,
                        (&q, &q),
                        |q, v| spin(|| q.push(v).ok()),
                        |q| spin(|| q.pop()),
                    )
                })
            })
        });
        g.bench_function("concurrent-queue", |b| {
            b.iter_custom(|iters| {
                repeat(iters, || {
                    let q = concurrent_queue::ConcurrentQueue::bounded(CAPACITY);
                    transfer(
                        2,
                        2,
                        (&q, &q),
                        |q, v| spin(|| q.push(v).ok()),
                        |q| spin(|| q.pop().ok()),
                    )
                })
            })
        });
        g.finish();
    }

    fn config() -> Criterion {
        Criterion::default()
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(2))
    }

    criterion_group! {
        name = benches;
        config = config();
        targets = blocking_2p2c, try_2p2c, blocking_1p1c
    }
}
