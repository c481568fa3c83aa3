//! A tour of handoff: every primitive on a small, real workload, measured
//! beside the crates people would otherwise use, in the same run.
//!
//! Run with `cargo run --release --example tour` (under a minute on 2 cores).
//!
//! 1. races: two threads add to a racy counter, `Counter`, `ShardedCounter`
//! 2. wait/notify: the three outcomes, and what a notify costs
//! 3. SPSC ring: handoff beside rtrb and crossbeam-channel
//! 4. MPMC ring: handoff beside kanal and crossbeam-channel
//! 5. transfer: a 10 MiB buffer handed to a thread, beside a copy
//! 6. processes: this program again as a child, sharing a ring

fn main() {
    #[cfg(not(feature = "loom"))]
    demo::main();
    #[cfg(feature = "loom")]
    eprintln!("examples run on real threads: build them without --features loom");
}

#[cfg(not(feature = "loom"))]
mod demo {
    use std::hint::black_box;
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::*};
    use std::time::{Duration, Instant};

    use handoff::counter::{Counter, ShardedCounter};
    use handoff::notify::Notifier;
    use handoff::transfer::TransferBuf;
    use handoff::wait::{wait, wake_one, WaitOutcome};
    use handoff::{mpmc, spsc};

    const SECTIONS: usize = 6;
    const CHILD_ENV: &str = "HANDOFF_TOUR_CHILD";

    /// Values moved through each ring in one run.
    const RING_VALUES: u64 = 10_000_000;
    const RING_CAPACITY: usize = 1024;

    pub fn main() {
        if let Ok(path) = std::env::var(CHILD_ENV) {
            processes::child(&path);
            return;
        }
        let started = Instant::now();
        println!("handoff tour: every primitive, measured beside its alternatives\n");
        let lost = races();
        wait_notify();
        let spsc = spsc_rings();
        let mpmc = mpmc_rings();
        let transfer = transfer();
        let ipc = processes::parent();
        println!(
            "\nsummary: racy counter lost {:.1}% of its adds, handoff's lost none; \
             SPSC {:.2}x rtrb, MPMC {:.2}x kanal, 10 MiB transfer {:.0}x cheaper than a copy, \
             {:.1} M values/s between processes; {:.1} s in all",
            lost,
            spsc,
            mpmc,
            transfer,
            ipc,
            started.elapsed().as_secs_f64()
        );
    }

    /// Prints the progress line of a section.
    fn section(n: usize, title: &str) {
        println!("[{n}/{SECTIONS}] {title}");
        let _ = std::io::stdout().flush();
    }

    /// Prints one figure with its unit.
    fn row(label: &str, value: String) {
        println!("    {label:<44} {value}");
    }

    fn mega_per_sec(count: u64, elapsed: Duration) -> f64 {
        count as f64 / elapsed.as_secs_f64() / 1e6
    }

    /// Runs each contender (a closure returning a rate) `ROUNDS` times,
    /// taking turns so that a burst of noise on this machine hits every one
    /// alike, and returns each one's best rate: the run least disturbed by
    /// other work on the machine.
    fn best_rates<const N: usize>(mut contenders: [&mut dyn FnMut() -> f64; N]) -> [f64; N] {
        const ROUNDS: usize = 5;
        let mut best = [0.0f64; N];
        for _ in 0..ROUNDS {
            for (b, run) in best.iter_mut().zip(contenders.iter_mut()) {
                *b = b.max(run());
            }
        }
        best
    }

    /// Waits for a retry: spin, yielding now and then so that two busy threads
    /// on two cores never starve a third (the same loop for every crate).
    fn backoff(spins: &mut u32) {
        *spins += 1;
        if *spins % 128 == 0 {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }

    // ---- 1. races ---------------------------------------------------------

    const PER_THREAD: u64 = 1_000_000;

    /// Runs `add` PER_THREAD times on each of two threads released together.
    fn race(add: impl Fn() + Sync) -> Duration {
        let ready = AtomicUsize::new(0);
        let go = AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    ready.fetch_add(1, Relaxed);
                    while !go.load(Acquire) {
                        std::hint::spin_loop();
                    }
                    for _ in 0..PER_THREAD {
                        add();
                    }
                });
            }
            while ready.load(Relaxed) < 2 {
                std::thread::yield_now();
            }
            let start = Instant::now();
            go.store(true, Release);
            start
        })
        .elapsed()
    }

    /// Returns the racy counter's loss in percent (the worst of a few runs).
    fn races() -> f64 {
        section(1, "races: 2 threads each add 1,000,000");
        let expected = 2 * PER_THREAD;

        // Load, then store: two atomic operations, so adds can be lost.
        let mut worst = 0;
        let mut racy_time = Duration::ZERO;
        for _ in 0..5 {
            let racy = AtomicU64::new(0);
            racy_time = race(|| {
                let r = black_box(&racy);
                r.store(r.load(Relaxed) + 1, Relaxed);
            });
            worst = worst.max(expected - racy.load(Relaxed));
        }
        row(
            "racy load-then-store: updates lost",
            format!("{worst} of {expected} ({:.1?})", racy_time),
        );

        let counter = Counter::new(0);
        let t = race(|| black_box(&counter).increment());
        row(
            "Counter (one atomic add)",
            format!("{} exact ({t:.1?})", counter.get()),
        );
        assert_eq!(counter.get(), expected);

        let sharded = ShardedCounter::new();
        let t = race(|| black_box(&sharded).increment());
        row(
            "ShardedCounter (a cell per thread)",
            format!("{} exact ({t:.1?})", sharded.sum()),
        );
        assert_eq!(sharded.sum(), expected);
        worst as f64 * 100.0 / expected as f64
    }

    // ---- 2. wait/notify ---------------------------------------------------

    fn wait_notify() {
        section(2, "wait/notify: Atomics.wait and Atomics.notify");
        let word = AtomicU32::new(0);
        row(
            "wait(word = 0, expected 1)",
            format!("{:?}", wait(&word, 1, None)),
        );
        let start = Instant::now();
        let timed_out = wait(&word, 0, Some(Duration::from_millis(20)));
        row(
            "wait(word = 0, expected 0, 20 ms)",
            format!("{timed_out:?} after {:.1?}", start.elapsed()),
        );

        // A worker sleeps until the main thread stores and wakes it.
        let woken = std::thread::scope(|s| {
            let worker = s.spawn(|| {
                let mut last = WaitOutcome::NotEqual;
                while word.load(Acquire) == 0 {
                    last = wait(&word, 0, None);
                }
                last
            });
            std::thread::sleep(Duration::from_millis(10));
            word.store(1, Release);
            wake_one(&word);
            worker.join().unwrap()
        });
        row(
            "worker's wait, after a store and wake_one",
            format!("{woken:?}"),
        );

        // The notifier: no system call when nobody is parked.
        let n = Notifier::new();
        let rounds = 2_000_000u32;
        let start = Instant::now();
        for _ in 0..rounds {
            black_box(n.notify_one());
        }
        let notify = start.elapsed().as_secs_f64() * 1e9 / f64::from(rounds);
        let start = Instant::now();
        for _ in 0..rounds / 20 {
            atomic_wait::wake_one(black_box(&word));
        }
        let futex = start.elapsed().as_secs_f64() * 1e9 / f64::from(rounds / 20);
        row(
            "notify with nobody parked: handoff",
            format!("{notify:.1} ns"),
        );
        row(
            "wake with nobody waiting: atomic-wait",
            format!("{futex:.0} ns ({:.0}x)", futex / notify),
        );
    }

    // ---- 3. SPSC ----------------------------------------------------------

    /// Moves RING_VALUES through a ring: `push` on a new thread, `pop` here.
    fn stream<P: Send>(
        producer: P,
        push: impl Fn(&mut P, u64) + Send,
        mut pop: impl FnMut() -> u64,
    ) -> f64 {
        std::thread::scope(|s| {
            let start = Instant::now();
            s.spawn(move || {
                let mut producer = producer;
                for i in 0..RING_VALUES {
                    push(&mut producer, i);
                }
            });
            let mut sum = 0u64;
            for _ in 0..RING_VALUES {
                sum = sum.wrapping_add(pop());
            }
            assert_eq!(sum, RING_VALUES * (RING_VALUES - 1) / 2, "nothing lost");
            mega_per_sec(RING_VALUES, start.elapsed())
        })
    }

    /// Returns handoff's spinning SPSC rate over rtrb's.
    fn spsc_rings() -> f64 {
        section(3, "SPSC ring, u64, capacity 1024, 10 M values (best of 5)");
        let mut ours_try = || {
            let (tx, mut rx) = spsc::channel::<u64>(RING_CAPACITY).unwrap();
            stream(
                tx,
                |tx, v| {
                    let (mut v, mut spins) = (v, 0);
                    while let Err(e) = tx.try_push(v) {
                        v = e.into_inner();
                        backoff(&mut spins);
                    }
                },
                || {
                    let mut spins = 0;
                    loop {
                        match rx.try_pop() {
                            Ok(v) => return v,
                            Err(_) => backoff(&mut spins),
                        }
                    }
                },
            )
        };
        let mut rtrb = || {
            let (tx, mut rx) = rtrb::RingBuffer::<u64>::new(RING_CAPACITY);
            stream(
                tx,
                |tx, v| {
                    let mut spins = 0;
                    while tx.push(v).is_err() {
                        backoff(&mut spins);
                    }
                },
                || {
                    let mut spins = 0;
                    loop {
                        match rx.pop() {
                            Ok(v) => return v,
                            Err(_) => backoff(&mut spins),
                        }
                    }
                },
            )
        };
        let mut ours_block = || {
            let (tx, mut rx) = spsc::channel::<u64>(RING_CAPACITY).unwrap();
            stream(tx, |tx, v| tx.push(v).unwrap(), || rx.pop().unwrap())
        };
        let mut crossbeam = || {
            let (tx, rx) = crossbeam_channel::bounded::<u64>(RING_CAPACITY);
            stream(tx, |tx, v| tx.send(v).unwrap(), || rx.recv().unwrap())
        };
        let [ours_try, rtrb, ours_block, crossbeam] =
            best_rates([&mut ours_try, &mut rtrb, &mut ours_block, &mut crossbeam]);
        row(
            "handoff::spsc try_push/try_pop",
            format!("{ours_try:.1} M values/s"),
        );
        row("rtrb push/pop", format!("{rtrb:.1} M values/s"));
        row(
            "handoff::spsc push/pop (blocking)",
            format!("{ours_block:.1} M values/s"),
        );
        row(
            "crossbeam-channel bounded send/recv",
            format!("{crossbeam:.1} M values/s"),
        );
        ours_try / rtrb
    }

    // ---- 4. MPMC ----------------------------------------------------------

    /// Two producers and two consumers move RING_VALUES in all.
    fn two_by_two<P: Clone + Send, C: Clone + Send>(
        producer: P,
        consumer: C,
        push: impl Fn(&P, u64) + Sync,
        pop: impl Fn(&C) -> Option<u64> + Sync,
    ) -> f64 {
        let sum = AtomicU64::new(0);
        let start = Instant::now();
        std::thread::scope(|s| {
            for half in 0..2u64 {
                let producer = producer.clone();
                let push = &push;
                s.spawn(move || {
                    for i in (half..RING_VALUES).step_by(2) {
                        push(&producer, i);
                    }
                });
            }
            drop(producer);
            for _ in 0..2 {
                let (consumer, pop, sum) = (consumer.clone(), &pop, &sum);
                s.spawn(move || {
                    let mut local = 0u64;
                    while let Some(v) = pop(&consumer) {
                        local = local.wrapping_add(v);
                    }
                    sum.fetch_add(local, Relaxed);
                });
            }
            drop(consumer);
        });
        let rate = mega_per_sec(RING_VALUES, start.elapsed());
        assert_eq!(
            sum.load(Relaxed),
            RING_VALUES * (RING_VALUES - 1) / 2,
            "nothing lost"
        );
        rate
    }

    /// Returns handoff's blocking MPMC rate over kanal's.
    fn mpmc_rings() -> f64 {
        section(
            4,
            "MPMC ring, 2 producers + 2 consumers, blocking, 10 M values (best of 5)",
        );
        let mut ours = || {
            let (tx, rx) = mpmc::channel::<u64>(RING_CAPACITY).unwrap();
            two_by_two(tx, rx, |tx, v| tx.push(v).unwrap(), |rx| rx.pop().ok())
        };
        let mut kanal = || {
            let (tx, rx) = kanal::bounded::<u64>(RING_CAPACITY);
            two_by_two(tx, rx, |tx, v| tx.send(v).unwrap(), |rx| rx.recv().ok())
        };
        let mut crossbeam = || {
            let (tx, rx) = crossbeam_channel::bounded::<u64>(RING_CAPACITY);
            two_by_two(tx, rx, |tx, v| tx.send(v).unwrap(), |rx| rx.recv().ok())
        };
        let [ours, kanal, crossbeam] = best_rates([&mut ours, &mut kanal, &mut crossbeam]);
        row("handoff::mpmc push/pop", format!("{ours:.1} M values/s"));
        row("kanal bounded send/recv", format!("{kanal:.1} M values/s"));
        row(
            "crossbeam-channel bounded send/recv",
            format!("{crossbeam:.1} M values/s"),
        );
        ours / kanal
    }

    // ---- 5. transfer ------------------------------------------------------

    /// Returns how many times cheaper a round trip is than one copy.
    fn transfer() -> f64 {
        section(5, "transfer: a 10 MiB buffer to a worker thread and back");
        const LEN: usize = 10 << 20;
        let mut buf = TransferBuf::zeroed(LEN);
        buf.as_mut_slice().unwrap().fill(7);

        // The detached state, as after postMessage(buf, [buf]).
        let moved = buf.transfer();
        row(
            "after transfer(): sender's len",
            format!("{} bytes, is_detached() = {}", buf.len(), buf.is_detached()),
        );
        row(
            "sender's as_slice()",
            format!("{:?}", buf.as_slice().map(|s| s.len())),
        );

        // Round trips through two SPSC rings: only the handle moves.
        let (mut to_worker, mut inbox) = spsc::channel::<TransferBuf>(1).unwrap();
        let (mut outbox, mut from_worker) = spsc::channel::<TransferBuf>(1).unwrap();
        let rounds = 10_000u32;
        let (round_trip, checksum) = std::thread::scope(|s| {
            let worker = s.spawn(move || {
                let mut sum = 0u64;
                while let Ok(buf) = inbox.pop() {
                    sum = sum.wrapping_add(u64::from(buf[LEN - 1]));
                    outbox.push(buf).unwrap();
                }
                sum
            });
            let mut buf = Some(moved);
            let mut round_trip = || {
                to_worker.push(buf.take().unwrap()).unwrap();
                buf = Some(from_worker.pop().unwrap());
            };
            // Warm up: until both threads are running, each round parks.
            for _ in 0..rounds {
                round_trip();
            }
            let start = Instant::now();
            for _ in 0..rounds {
                round_trip();
            }
            let per = start.elapsed() / rounds;
            drop(to_worker);
            (per, worker.join().unwrap())
        });
        assert_eq!(checksum, 7 * 2 * u64::from(rounds));

        // What postMessage without a transfer list does: a copy.
        let source = vec![7u8; LEN];
        let start = Instant::now();
        let copies = 20u32;
        for _ in 0..copies {
            black_box(black_box(&source).clone());
        }
        let copy = start.elapsed() / copies;
        row(
            "round trip through two SPSC rings",
            format!("{round_trip:.1?} (worker checksum {checksum})"),
        );
        row("one copy (Vec::clone)", format!("{copy:.1?}"));
        copy.as_secs_f64() / round_trip.as_secs_f64()
    }

    // ---- 6. processes -----------------------------------------------------

    #[cfg(target_os = "linux")]
    mod processes {
        use std::path::PathBuf;
        use std::process::Command;
        use std::time::Instant;

        use handoff::shm::spsc::Spsc;

        const VALUES: u64 = 5_000_000;
        const TAG: u64 = 0x70_75_72;

        /// The child: sums what arrives, then answers with the sum.
        pub fn child(path: &str) {
            let ring = Spsc::<u64>::open(path, TAG).expect("the parent created the ring");
            let answer = Spsc::<u64>::open(format!("{path}.answer"), TAG).expect("answer ring");
            let (mut rx, mut tx) = (ring.consumer().unwrap(), answer.producer().unwrap());
            let mut sum = 0u64;
            while let Ok(v) = rx.pop() {
                sum = sum.wrapping_add(v);
            }
            tx.push(sum).unwrap();
        }

        /// The parent: creates the rings, starts the child, streams values.
        /// Returns the rate in millions of values a second.
        pub fn parent() -> f64 {
            super::section(
                6,
                "processes: this program again as a child, sharing a ring",
            );
            let dir = if std::path::Path::new("/dev/shm").is_dir() {
                PathBuf::from("/dev/shm")
            } else {
                std::env::temp_dir()
            };
            let path = dir.join(format!("handoff-tour-{}", std::process::id()));
            let answer_path = PathBuf::from(format!("{}.answer", path.display()));
            let ring = Spsc::<u64>::create(&path, 1 << 14, TAG).unwrap();
            let answer = Spsc::<u64>::create(&answer_path, 1, TAG).unwrap();
            let (mut tx, mut rx) = (ring.producer().unwrap(), answer.consumer().unwrap());

            let mut child = Command::new(std::env::current_exe().unwrap())
                .env(super::CHILD_ENV, &path)
                .spawn()
                .expect("start the child process");
            let start = Instant::now();
            for i in 0..VALUES {
                tx.push(i).unwrap();
            }
            drop(tx);
            let sum = rx.pop().expect("the child answers");
            let rate = super::mega_per_sec(VALUES, start.elapsed());
            assert!(child.wait().unwrap().success());
            handoff::shm::remove(&path).unwrap();
            handoff::shm::remove(&answer_path).unwrap();

            let expected = VALUES * (VALUES - 1) / 2;
            super::row(
                "child process's sum of 5 M values",
                format!("{sum} (expected {expected})"),
            );
            super::row(
                "throughput between the processes",
                format!("{rate:.1} M values/s"),
            );
            assert_eq!(sum, expected);
            rate
        }
    }

    #[cfg(not(target_os = "linux"))]
    mod processes {
        pub fn child(_: &str) {}

        pub fn parent() -> f64 {
            super::section(6, "processes: shared regions need Linux; skipped");
            0.0
        }
    }
}
