//! SPSC throughput: handoff's ring against rtrb, ringbuf and crossbeam's
//! `ArrayQueue` (non-blocking), and against crossbeam-channel, kanal and flume
//! bounded channels (blocking). One producer thread, one consumer thread,
//! `u64` values, capacity 1024.
//!
//! `cargo bench --bench spsc`; each group reports values per second.

#[cfg(not(feature = "loom"))]
criterion::criterion_main!(demo::benches);

#[cfg(feature = "loom")]
fn main() {}

#[cfg(not(feature = "loom"))]
mod demo {

    use std::hint::black_box;
    use std::sync::Arc;
    use std::thread;
    use std::time::{Duration, Instant};

    use criterion::{criterion_group, Criterion, Throughput};

    const CAPACITY: usize = 1024;
    /// Values moved per benchmark iteration.
    const VALUES: u64 = 1 << 18;
    /// Values per slice in the slice group.
    const SLICE: usize = 64;

    /// What a side does when the ring is full or empty: spin, and yield now
    /// and then so that a busy machine (more threads than cores) still lets
    /// the other side run. The same for every crate measured.
    #[inline]
    fn idle() {
        use std::cell::Cell;
        thread_local!(static SPINS: Cell<u32> = const { Cell::new(0) });
        SPINS.with(|spins| {
            let k = spins.get().wrapping_add(1);
            spins.set(k);
            if k % 128 == 0 {
                thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        });
    }

    /// Runs `produce(n)` and `consume(n)` on two threads and returns the time
    /// from before the spawn to after both finish.
    fn run_pair(
        n: u64,
        produce: impl FnOnce(u64) + Send,
        consume: impl FnOnce(u64) + Send,
    ) -> Duration {
        let start = Instant::now();
        thread::scope(|s| {
            s.spawn(move || consume(n));
            produce(n);
        });
        start.elapsed()
    }

    /// Moves `iters * VALUES` values through a fresh pair made by `make`.
    fn measure<P, C>(
        iters: u64,
        make: impl FnOnce() -> (P, C),
        produce: impl FnOnce(P, u64) + Send,
        consume: impl FnOnce(C, u64) + Send,
    ) -> Duration
    where
        P: Send,
        C: Send,
    {
        let (p, c) = make();
        run_pair(
            iters * VALUES,
            move |n| produce(p, n),
            move |n| consume(c, n),
        )
    }

    fn configure<'a>(
        c: &'a mut Criterion,
        name: &str,
    ) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
        let mut group = c.benchmark_group(name);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(VALUES));
        group
    }

    /// `try_push`/`try_pop`, spinning while full or empty.
    fn try_push_pop(c: &mut Criterion) {
        let mut group = configure(c, "spsc_try_u64");
        group.bench_function("handoff", |b| {
            b.iter_custom(|iters| {
                measure(
                    iters,
                    || handoff::spsc::channel::<u64>(CAPACITY).unwrap(),
                    |mut tx, n| {
                        for i in 0..n {
                            let mut v = i;
                            while let Err(e) = tx.try_push(v) {
                                v = e.into_inner();
                                idle();
                            }
                        }
                    },
                    |mut rx, n| {
                        for _ in 0..n {
                            loop {
                                if let Ok(v) = rx.try_pop() {
                                    black_box(v);
                                    break;
                                }
                                idle();
                            }
                        }
                    },
                )
            })
        });
        group.bench_function("rtrb", |b| {
            b.iter_custom(|iters| {
                measure(
                    iters,
                    || rtrb::RingBuffer::<u64>::new(CAPACITY),
                    |mut tx, n| {
                        for i in 0..n {
                            while tx.push(i).is_err() {
                                idle();
                            }
                        }
                    },
                    |mut rx, n| {
                        for _ in 0..n {
                            loop {
                                if let Ok(v) = rx.pop() {
                                    black_box(v);
                                    break;
                                }
                                idle();
                            }
                        }
                    },
                )
            })
        });
        group.bench_function("ringbuf", |b| {
            use ringbuf::traits::{Consumer, Producer, Split};
            b.iter_custom(|iters| {
                measure(
                    iters,
                    || ringbuf::HeapRb::<u64>::new(CAPACITY).split(),
                    |mut tx, n| {
                        for i in 0..n {
                            while tx.try_push(i).is_err() {
                                idle();
                            }
                        }
                    },
                    |mut rx, n| {
                        for _ in 0..n {
                            loop {
                                if let Some(v) = rx.try_pop() {
                                    black_box(v);
                                    break;
                                }
                                idle();
                            }
                        }
                    },
                )
            })
        });
        group.bench_function("crossbeam_array_queue", |b| {
            b.iter_custom(|iters| {
                measure(
                    iters,
                    || {
                        let q = Arc::new(crossbeam_queue::ArrayQueue::<u64>::new(CAPACITY));
                        (q.clone(), q)
                    },
                    |q, n| {
                        for i in 0..n {
                            while q.push(i).is_err() {
                                idle();
                            }
                        }
                    },
                    |q, n| {
                        for _ in 0..n {
                            loop {
                                if let Some(v) = q.pop() {
                                    black_box(v);
                                    break;
                                }
                                idle();
                            }
                        }
                    },
                )
            })
        });
        group.finish();
    }

    /// One thread fills half the ring and drains it: the cost of the calls
    /// themselves, without cache-line transfers or scheduling noise.
    fn single_thread(c: &mut Criterion) {
        const BURST: u64 = 512;
        let mut group = c.benchmark_group("spsc_single_thread_u64");
        group
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(2))
            .throughput(Throughput::Elements(BURST));
        let (mut tx, mut rx) = handoff::spsc::channel::<u64>(CAPACITY).unwrap();
        group.bench_function("handoff", |b| {
            b.iter(|| {
                for i in 0..BURST {
                    tx.try_push(black_box(i)).unwrap();
                }
                for _ in 0..BURST {
                    black_box(rx.try_pop().unwrap());
                }
            })
        });
        let (mut tx, mut rx) = rtrb::RingBuffer::<u64>::new(CAPACITY);
        group.bench_function("rtrb", |b| {
            b.iter(|| {
                for i in 0..BURST {
                    tx.push(black_box(i)).unwrap();
                }
                for _ in 0..BURST {
                    black_box(rx.pop().unwrap());
                }
            })
        });
        group.finish();
    }

    /// `push_slice`/`pop_slice` of 64 values (compare with the single-value
    /// rtrb line of `spsc_try_u64`).
    fn slices(c: &mut Criterion) {
        let mut group = configure(c, "spsc_slice64_u64");
        group.bench_function("handoff", |b| {
            b.iter_custom(|iters| {
                measure(
                    iters,
                    || handoff::spsc::channel::<u64>(CAPACITY).unwrap(),
                    |mut tx, n| {
                        let mut batch = [0u64; SLICE];
                        let mut sent = 0;
                        while sent < n {
                            let len = SLICE.min((n - sent) as usize);
                            for (k, v) in batch[..len].iter_mut().enumerate() {
                                *v = sent + k as u64;
                            }
                            let mut done = 0;
                            while done < len {
                                match tx.push_slice(&batch[done..len]) {
                                    0 => idle(),
                                    k => done += k,
                                }
                            }
                            sent += len as u64;
                        }
                    },
                    |mut rx, n| {
                        let mut buf = [0u64; SLICE];
                        let mut got = 0;
                        while got < n {
                            match rx.pop_slice(&mut buf) {
                                0 => idle(),
                                k => {
                                    black_box(&buf[..k]);
                                    got += k as u64;
                                }
                            }
                        }
                    },
                )
            })
        });
        group.bench_function("rtrb_chunks", |b| {
            b.iter_custom(|iters| {
                measure(
                    iters,
                    || rtrb::RingBuffer::<u64>::new(CAPACITY),
                    |mut tx, n| {
                        let mut batch = [0u64; SLICE];
                        let mut sent = 0;
                        while sent < n {
                            let len = SLICE.min((n - sent) as usize);
                            for (k, v) in batch[..len].iter_mut().enumerate() {
                                *v = sent + k as u64;
                            }
                            let mut done = 0;
                            while done < len {
                                let (pushed, _) = tx.push_partial_slice(&batch[done..len]);
                                match pushed.len() {
                                    0 => idle(),
                                    k => done += k,
                                }
                            }
                            sent += len as u64;
                        }
                    },
                    |mut rx, n| {
                        let mut buf = [0u64; SLICE];
                        let mut got = 0;
                        while got < n {
                            let (popped, _) = rx.pop_partial_slice(&mut buf);
                            match popped.len() {
                                0 => idle(),
                                k => {
                                    black_box(&popped[..k]);
                                    got += k as u64;
                                }
                            }
                        }
                    },
                )
            })
        });
        group.finish();
    }

    /// Blocking `push`/`pop` against bounded channels of the same capacity.
    fn blocking(c: &mut Criterion) {
        let mut group = configure(c, "spsc_blocking_u64");
        group.bench_function("handoff", |b| {
            b.iter_custom(|iters| {
                measure(
                    iters,
                    || handoff::spsc::channel::<u64>(CAPACITY).unwrap(),
                    |mut tx, n| (0..n).for_each(|i| tx.push(i).unwrap()),
                    |mut rx, n| {
                        (0..n).for_each(|_| {
                            black_box(rx.pop().unwrap());
                        })
                    },
                )
            })
        });
        group.bench_function("crossbeam_channel", |b| {
            b.iter_custom(|iters| {
                measure(
                    iters,
                    || crossbeam_channel::bounded::<u64>(CAPACITY),
                    |tx, n| (0..n).for_each(|i| tx.send(i).unwrap()),
                    |rx, n| {
                        (0..n).for_each(|_| {
                            black_box(rx.recv().unwrap());
                        })
                    },
                )
            })
        });
        group.bench_function("kanal", |b| {
            b.iter_custom(|iters| {
                measure(
                    iters,
                    || kanal::bounded::<u64>(CAPACITY),
                    |tx, n| (0..n).for_each(|i| tx.send(i).unwrap()),
                    |rx, n| {
                        (0..n).for_each(|_| {
                            black_box(rx.recv().unwrap());
                        })
                    },
                )
            })
        });
        group.bench_function("flume", |b| {
            b.iter_custom(|iters| {
                measure(
                    iters,
                    || flume::bounded::<u64>(CAPACITY),
                    |tx, n| (0..n).for_each(|i| tx.send(i).unwrap()),
                    |rx, n| {
                        (0..n).for_each(|_| {
                            black_box(rx.recv().unwrap());
                        })
                    },
                )
            })
        });
        group.finish();
    }

    criterion_group!(benches, try_push_pop, single_thread, slices, blocking);
}
