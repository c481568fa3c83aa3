//! Lost updates, and the counters that prevent them.
//!
//! N threads (2 unless given on the command line) each add 1,000,000 to three
//! counters in turn:
//!
//! * a racy counter that reads the value, then writes back one more, with two
//!   separate atomic operations: no undefined behaviour, but when two threads
//!   read the same value one of their adds is lost;
//! * `handoff::counter::Counter`: one atomic read-modify-write per add;
//! * `handoff::counter::ShardedCounter`: one cell per thread, summed at the end.
//!
//! Run with `cargo run --release --example races -- 4`.

fn main() {
    #[cfg(not(feature = "loom"))]
    demo::main();
    #[cfg(feature = "loom")]
    eprintln!("examples run on real threads: build them without --features loom");
}

#[cfg(not(feature = "loom"))]
mod demo {

    use std::hint::black_box;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
    use std::time::{Duration, Instant};

    use handoff::counter::{Counter, ShardedCounter};

    const PER_THREAD: u64 = 1_000_000;

    /// The counter not to write: load, then store, as two separate operations.
    /// Another thread's add that lands between the two is overwritten.
    struct RacyCounter(AtomicU64);

    impl RacyCounter {
        fn increment(&self) {
            let value = self.0.load(Relaxed);
            self.0.store(value + 1, Relaxed);
        }
    }

    /// Runs `add` PER_THREAD times on each of `threads` threads and returns
    /// the time from the start signal to the last thread's end.
    ///
    /// The threads spin at the start line rather than block: a run lasts about
    /// a millisecond, less than a blocked thread takes to wake, so blocked
    /// threads would mostly run one after another and never race.
    ///
    /// Each `add` passes its counter through `black_box`, so the compiler
    /// cannot fold a million adds to one address into a single add.
    fn race(threads: usize, add: impl Fn() + Sync) -> Duration {
        let arrived = AtomicUsize::new(0);
        let go = AtomicBool::new(false);
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        arrived.fetch_add(1, Relaxed);
                        while !go.load(Acquire) {
                            std::hint::spin_loop();
                        }
                        for _ in 0..PER_THREAD {
                            add();
                        }
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

    fn report(name: &str, threads: usize, total: u64, took: Duration) {
        let expected = threads as u64 * PER_THREAD;
        let lost = expected - total;
        let ns_per_add = took.as_secs_f64() * 1e9 / expected as f64;
        println!(
            "{name:<16} total {total:>10}  lost {lost:>9} ({:>5.1}%)  {:>8.1} ms  {ns_per_add:>6.2} ns/add",
            lost as f64 * 100.0 / expected as f64,
            took.as_secs_f64() * 1e3,
        );
    }

    pub fn main() {
        let threads: usize = std::env::args()
            .nth(1)
            .map(|a| a.parse().expect("usage: races [threads]"))
            .unwrap_or(2);
        println!(
            "{threads} threads x {PER_THREAD} adds = {} expected\n",
            threads as u64 * PER_THREAD
        );

        // (a) Load, then store: adds are lost whenever two threads interleave.
        let racy = RacyCounter(AtomicU64::new(0));
        let took = race(threads, || black_box(&racy).increment());
        report("racy load+store", threads, racy.0.load(Relaxed), took);

        // (b) One read-modify-write per add: exact, but every add from another
        // core has to fetch the cache line first.
        let counter = Counter::new(0);
        let took = race(threads, || black_box(&counter).increment());
        report("Counter", threads, counter.get(), took);

        // (c) One cell per thread: exact once the threads are joined, and the
        // threads no longer pass one cache line back and forth.
        let sharded = ShardedCounter::new();
        let took = race(threads, || black_box(&sharded).increment());
        report("ShardedCounter", threads, sharded.sum(), took);

        if threads > 1 && racy.0.load(Relaxed) == threads as u64 * PER_THREAD {
            println!(
                "\n(the racy counter got lucky this time: run it again, or with more threads)"
            );
        }
    }
}
