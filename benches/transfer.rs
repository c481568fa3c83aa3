//! Transfer buffers and the buffer pool.
//!
//! `cargo bench --bench transfer`
//!
//! * `round_trip`: a buffer sent to a worker thread through a ring and sent
//!   back, for 1 KiB and 10 MiB. Only the handle moves, so both sizes should
//!   cost the same. Rings: `handoff::spsc` with blocking `push`/`pop`, the
//!   same busy-polled with `try_push`/`try_pop`, and rtrb's busy-polled SPSC
//!   ring for comparison.
//! * `copy`: what the transfer saves: `Vec::clone` of the same sizes.
//! * `pool`: a loan and its return against allocating and freeing a zeroed
//!   buffer of the same size with `vec![0u8; n]`, and against a pool of
//!   `Vec<u8>` kept in crossbeam's `ArrayQueue`.

#[cfg(not(feature = "loom"))]
criterion::criterion_main!(demo::benches);

#[cfg(feature = "loom")]
fn main() {}

#[cfg(not(feature = "loom"))]
mod demo {

    use criterion::{criterion_group, Criterion, Throughput};
    use std::hint::black_box;
    use std::thread;
    use std::time::Duration;

    use crossbeam_queue::ArrayQueue;
    use handoff::spsc;
    use handoff::transfer::{BufPool, TransferBuf};

    const KIB: usize = 1 << 10;
    const MIB: usize = 1 << 20;

    /// The sizes the issue compares: a small message and a large one.
    const SIZES: [(usize, &str); 2] = [(KIB, "1KiB"), (10 * MIB, "10MiB")];

    /// A buffer of `len` bytes whose pages are all touched.
    fn filled(len: usize) -> TransferBuf {
        let mut buf = TransferBuf::zeroed(len);
        buf.fill(1);
        buf
    }

    /// Round trips of a `len`-byte buffer through two rings made by `make`:
    /// the bench thread sends it to an echoing worker and waits for it back.
    /// `send` delivers a buffer (waiting while the ring is full); `recv`
    /// waits for one and returns `None` once the ring is closed and drained.
    fn round_trip<P: Send + 'static, C: Send + 'static>(
        g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        label: &str,
        make: fn() -> (P, C),
        send: fn(&mut P, TransferBuf),
        recv: fn(&mut C) -> Option<TransferBuf>,
    ) {
        for (len, name) in SIZES {
            let (mut to_worker, mut worker_rx) = make();
            let (mut worker_tx, mut from_worker) = make();
            let worker = thread::spawn(move || {
                while let Some(buf) = recv(&mut worker_rx) {
                    send(&mut worker_tx, buf);
                }
            });
            let mut buf = Some(filled(len));
            g.bench_function(format!("{label}_{name}"), |b| {
                b.iter(|| {
                    send(&mut to_worker, buf.take().unwrap());
                    buf = Some(recv(&mut from_worker).expect("the worker answers"));
                })
            });
            drop(to_worker);
            worker.join().unwrap();
            assert_eq!(buf.unwrap().len(), len);
        }
    }

    /// `handoff::spsc` with blocking calls; `handoff::spsc` busy-polling
    /// `try_push`/`try_pop` exactly as the rtrb line does (the ring's own
    /// cost, without the spin-then-park policy); rtrb busy-polling.
    fn round_trips(c: &mut Criterion) {
        let mut g = c.benchmark_group("round_trip");
        configure(&mut g);
        round_trip(
            &mut g,
            "handoff_spsc",
            || spsc::channel::<TransferBuf>(1).unwrap(),
            |tx, buf| tx.push(buf).unwrap(),
            |rx| rx.pop().ok(),
        );
        round_trip(
            &mut g,
            "handoff_spsc_polled",
            || spsc::channel::<TransferBuf>(1).unwrap(),
            |tx, mut buf| {
                while let Err(spsc::PushError::Full(back)) = tx.try_push(buf) {
                    buf = back;
                    std::hint::spin_loop();
                }
            },
            |rx| loop {
                match rx.try_pop() {
                    Ok(buf) => return Some(buf),
                    Err(spsc::PopError::Closed) => return None,
                    Err(spsc::PopError::Empty) => std::hint::spin_loop(),
                }
            },
        );
        round_trip(
            &mut g,
            "rtrb",
            || rtrb::RingBuffer::<TransferBuf>::new(1),
            |tx, mut buf| {
                while let Err(rtrb::PushError::Full(back)) = tx.push(buf) {
                    buf = back;
                    std::hint::spin_loop();
                }
            },
            |rx| loop {
                match rx.pop() {
                    Ok(buf) => return Some(buf),
                    Err(_) if rx.is_abandoned() => return None,
                    Err(_) => std::hint::spin_loop(),
                }
            },
        );
        g.finish();
    }

    /// The copy a transfer avoids, and the transfer itself.
    fn copy_vs_transfer(c: &mut Criterion) {
        let mut g = c.benchmark_group("copy");
        configure(&mut g);
        for (len, name) in SIZES {
            let v = vec![1u8; len];
            g.throughput(Throughput::Bytes(len as u64));
            g.bench_function(format!("vec_clone_{name}"), |b| {
                b.iter(|| black_box(black_box(&v).clone()))
            });
            let mut buf = filled(len);
            g.bench_function(format!("handoff_transfer_{name}"), |b| {
                b.iter(|| {
                    let moved = black_box(&mut buf).transfer();
                    buf = black_box(moved);
                })
            });
        }
        g.finish();
    }

    /// A loan and return against an allocation and free of the same size.
    fn pool(c: &mut Criterion) {
        let mut g = c.benchmark_group("pool");
        configure(&mut g);
        for (len, name) in [(4 * KIB, "4KiB"), (64 * KIB, "64KiB"), (MIB, "1MiB")] {
            g.throughput(Throughput::Elements(1));
            let pool = BufPool::new(8, len).unwrap();
            g.bench_function(format!("handoff_loan_return_{name}"), |b| {
                b.iter(|| drop(black_box(pool.try_loan().unwrap())))
            });
            g.bench_function(format!("vec_alloc_free_{name}"), |b| {
                b.iter(|| drop(black_box(vec![0u8; black_box(len)])))
            });
            let queue = ArrayQueue::new(8);
            for _ in 0..8 {
                queue.push(vec![0u8; len]).unwrap();
            }
            g.bench_function(format!("crossbeam_arrayqueue_pool_{name}"), |b| {
                b.iter(|| {
                    let v = black_box(queue.pop().unwrap());
                    queue.push(v).unwrap();
                })
            });
        }
        g.finish();
    }

    /// Short suites: the lead re-measures on a quiet machine.
    fn configure(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
        g.sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(2));
    }

    criterion_group!(benches, round_trips, copy_vs_transfer, pool);
}
