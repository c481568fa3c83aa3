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

    /// Round trips through two `handoff::spsc` rings with blocking calls.
    fn round_trip_spsc(c: &mut Criterion) {
        let mut g = c.benchmark_group("round_trip");
        configure(&mut g);
        for (len, name) in SIZES {
            let (mut to_worker, mut worker_rx) = spsc::channel::<TransferBuf>(1).unwrap();
            let (mut worker_tx, mut from_worker) = spsc::channel::<TransferBuf>(1).unwrap();
            let worker = thread::spawn(move || {
                while let Ok(buf) = worker_rx.pop() {
                    worker_tx.push(buf).unwrap();
                }
            });
            let mut buf = Some(filled(len));
            g.bench_function(format!("handoff_spsc_{name}"), |b| {
                b.iter(|| {
                    to_worker.push(buf.take().unwrap()).unwrap();
                    buf = Some(from_worker.pop().unwrap());
                })
            });
            drop(to_worker);
            worker.join().unwrap();
            assert_eq!(buf.unwrap().len(), len);
        }
        g.finish();
    }

    /// Round trips through two `handoff::spsc` rings, both sides busy-polling
    /// with `try_push`/`try_pop` exactly as the rtrb line does: the ring's own
    /// cost, without the spin-then-park policy of the blocking calls.
    fn round_trip_spsc_polled(c: &mut Criterion) {
        let mut g = c.benchmark_group("round_trip");
        configure(&mut g);
        for (len, name) in SIZES {
            let (mut to_worker, mut worker_rx) = spsc::channel::<TransferBuf>(1).unwrap();
            let (mut worker_tx, mut from_worker) = spsc::channel::<TransferBuf>(1).unwrap();
            let worker = thread::spawn(move || loop {
                match worker_rx.try_pop() {
                    Ok(buf) => {
                        let mut buf = buf;
                        while let Err(spsc::PushError::Full(back)) = worker_tx.try_push(buf) {
                            buf = back;
                            std::hint::spin_loop();
                        }
                    }
                    Err(spsc::PopError::Closed) => return,
                    Err(spsc::PopError::Empty) => std::hint::spin_loop(),
                }
            });
            let mut buf = Some(filled(len));
            g.bench_function(format!("handoff_spsc_polled_{name}"), |b| {
                b.iter(|| {
                    if to_worker.try_push(buf.take().unwrap()).is_err() {
                        unreachable!("the worker empties the ring before answering");
                    }
                    loop {
                        if let Ok(back) = from_worker.try_pop() {
                            buf = Some(back);
                            break;
                        }
                        std::hint::spin_loop();
                    }
                })
            });
            drop(to_worker);
            worker.join().unwrap();
            assert_eq!(buf.unwrap().len(), len);
        }
        g.finish();
    }

    /// Round trips through two rtrb rings, both sides busy-polling.
    fn round_trip_rtrb(c: &mut Criterion) {
        let mut g = c.benchmark_group("round_trip");
        configure(&mut g);
        for (len, name) in SIZES {
            let (mut to_worker, mut worker_rx) = rtrb::RingBuffer::<TransferBuf>::new(1);
            let (mut worker_tx, mut from_worker) = rtrb::RingBuffer::<TransferBuf>::new(1);
            let worker = thread::spawn(move || loop {
                match worker_rx.pop() {
                    Ok(buf) => {
                        let mut buf = buf;
                        while let Err(rtrb::PushError::Full(back)) = worker_tx.push(buf) {
                            buf = back;
                            std::hint::spin_loop();
                        }
                    }
                    Err(_) if worker_rx.is_abandoned() => return,
                    Err(_) => std::hint::spin_loop(),
                }
            });
            let mut buf = Some(filled(len));
            g.bench_function(format!("rtrb_{name}"), |b| {
                b.iter(|| {
                    if to_worker.push(buf.take().unwrap()).is_err() {
                        unreachable!("the worker empties the ring before answering");
                    }
                    loop {
                        if let Ok(back) = from_worker.pop() {
                            buf = Some(back);
                            break;
                        }
                        std::hint::spin_loop();
                    }
                })
            });
            drop(to_worker);
            worker.join().unwrap();
            assert_eq!(buf.unwrap().len(), len);
        }
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

    criterion_group!(
        benches,
        round_trip_spsc,
        round_trip_spsc_polled,
        round_trip_rtrb,
        copy_vs_transfer,
        pool
    );
}
