//! Shared regions: the SPSC ring between two processes against the same ring
//! between two threads (and rtrb between two threads), and a transfer-buffer
//! round trip between processes for 4 KiB and 10 MiB buffers.
//!
//! The bench binary starts itself again as the child process (selected by an
//! environment variable); both sides run the same loop as the thread variant.
//! Run with `cargo bench --bench shm`.

fn main() {
    #[cfg(not(feature = "loom"))]
    demo::main();
    #[cfg(feature = "loom")]
    eprintln!("examples run on real threads: build them without --features loom");
}

#[cfg(not(feature = "loom"))]
mod demo {

    use std::hint::black_box;
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use criterion::{Criterion, Throughput};
    use handoff::shm::pool::{Descriptor, Pool};
    use handoff::shm::spsc::Spsc;

    /// Set in the child: "<mode> <base path>".
    const CHILD_ENV: &str = "HANDOFF_SHM_BENCH_CHILD";
    /// Tells the consumer to answer on the ack ring.
    const MARK: u64 = u64::MAX;
    /// Tells the consumer to stop.
    const QUIT: u64 = u64::MAX - 1;
    const RING: usize = 4096;

    /// A directory for regions: memory-backed `/dev/shm` where there is one.
    fn region_dir() -> PathBuf {
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        }
    }

    fn with_suffix(base: &Path, suffix: &str) -> PathBuf {
        let mut p = base.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    }

    /// The consuming side of the ring benchmark: pop until QUIT, answer MARKs.
    fn ring_consumer(base: &Path) {
        let mut rx = Spsc::<u64>::open(with_suffix(base, ".data"), 0)
            .unwrap()
            .consumer()
            .unwrap();
        let mut ack = Spsc::<u64>::open(with_suffix(base, ".ack"), 0)
            .unwrap()
            .producer()
            .unwrap();
        let mut sum = 0u64;
        while let Ok(v) = rx.pop() {
            match v {
                MARK => ack.push(sum).unwrap(),
                QUIT => break,
                v => sum = sum.wrapping_add(v),
            }
        }
    }

    /// The receiving side of the transfer benchmark: redeem, touch, return, ack.
    fn transfer_receiver(base: &Path) {
        let pool = Pool::open(with_suffix(base, ".pool")).unwrap();
        let mut rx = Spsc::<Descriptor>::open(with_suffix(base, ".data"), 1)
            .unwrap()
            .consumer()
            .unwrap();
        let mut ack = Spsc::<u64>::open(with_suffix(base, ".ack"), 0)
            .unwrap()
            .producer()
            .unwrap();
        while let Ok(d) = rx.pop() {
            let got = pool.redeem(d).unwrap();
            let mut first = [0u8; 1];
            got.read_at(0, &mut first);
            drop(got);
            ack.push(u64::from(first[0])).unwrap();
        }
    }

    /// The sender's end of a ring benchmark, wherever the consumer runs.
    struct RingBench {
        base: PathBuf,
        tx: handoff::shm::spsc::Producer<u64>,
        ack: handoff::shm::spsc::Consumer<u64>,
    }

    impl RingBench {
        fn new(name: &str) -> Self {
            let base = region_dir().join(format!("handoff-bench-{}-{name}", std::process::id()));
            let data = Spsc::<u64>::create(with_suffix(&base, ".data"), RING, 0).unwrap();
            let ack = Spsc::<u64>::create(with_suffix(&base, ".ack"), 4, 0).unwrap();
            RingBench {
                tx: data.producer().unwrap(),
                ack: ack.consumer().unwrap(),
                base,
            }
        }

        /// Sends `n` values and waits until the consumer has taken them all.
        fn run(&mut self, n: u64) -> Duration {
            let start = Instant::now();
            for i in 0..n {
                self.tx.push(black_box(i)).unwrap();
            }
            self.tx.push(MARK).unwrap();
            black_box(self.ack.pop().unwrap());
            start.elapsed()
        }

        fn finish(mut self) {
            self.tx.push(QUIT).unwrap();
            for s in [".data", ".ack", ".pool"] {
                let _ = handoff::shm::remove(with_suffix(&self.base, s));
            }
        }
    }

    fn spawn_child(mode: &str, base: &Path) -> Child {
        Command::new(std::env::current_exe().unwrap())
            .env(CHILD_ENV, format!("{mode} {}", base.display()))
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    }

    fn bench_spsc(c: &mut Criterion) {
        let mut group = c.benchmark_group("shm_spsc");
        group.throughput(Throughput::Elements(1));

        // Between two processes.
        let mut bench = RingBench::new("proc");
        let mut child = spawn_child("ring", &bench.base);
        group.bench_function("handoff_shm/processes", |b| b.iter_custom(|n| bench.run(n)));
        bench.finish();
        assert!(child.wait().unwrap().success());

        // The same ring between two threads of one process.
        let mut bench = RingBench::new("threads");
        let base = bench.base.clone();
        let consumer = std::thread::spawn(move || ring_consumer(&base));
        group.bench_function("handoff_shm/threads", |b| b.iter_custom(|n| bench.run(n)));
        bench.finish();
        consumer.join().unwrap();

        // rtrb between two threads, same protocol, for reference.
        let (mut tx, mut rx) = rtrb::RingBuffer::<u64>::new(RING);
        let (mut ack_tx, mut ack_rx) = rtrb::RingBuffer::<u64>::new(4);
        let consumer = std::thread::spawn(move || {
            let mut sum = 0u64;
            loop {
                let Ok(v) = rx.pop() else {
                    std::hint::spin_loop();
                    continue;
                };
                match v {
                    MARK => while ack_tx.push(sum).is_err() {},
                    QUIT => break,
                    v => sum = sum.wrapping_add(v),
                }
            }
        });
        let mut push = |v: u64| while tx.push(v).is_err() {};
        group.bench_function("rtrb/threads", |b| {
            b.iter_custom(|n| {
                let start = Instant::now();
                for i in 0..n {
                    push(black_box(i));
                }
                push(MARK);
                loop {
                    if let Ok(v) = ack_rx.pop() {
                        black_box(v);
                        break;
                    }
                }
                start.elapsed()
            })
        });
        push(QUIT);
        consumer.join().unwrap();
        group.finish();
    }

    fn bench_transfer(c: &mut Criterion) {
        let mut group = c.benchmark_group("shm_transfer");
        for (label, size) in [("4KiB", 4 << 10), ("10MiB", 10 << 20)] {
            let base = region_dir().join(format!(
                "handoff-bench-{}-transfer-{label}",
                std::process::id()
            ));
            let pool = Pool::create(with_suffix(&base, ".pool"), 2, size).unwrap();
            let data = Spsc::<Descriptor>::create(with_suffix(&base, ".data"), 4, 1).unwrap();
            let ack = Spsc::<u64>::create(with_suffix(&base, ".ack"), 4, 0).unwrap();
            let (mut tx, mut ack_rx) = (data.producer().unwrap(), ack.consumer().unwrap());
            let mut child = spawn_child("transfer", &base);

            // One round trip: loan, write a byte, give up the descriptor, the
            // child redeems, reads, returns the buffer and acknowledges.
            group.bench_function(format!("handoff_shm/{label}"), |b| {
                b.iter(|| {
                    let mut buf = pool.loan();
                    buf.write_at(0, &[7]);
                    tx.push(buf.into_descriptor()).unwrap();
                    black_box(ack_rx.pop().unwrap())
                })
            });
            drop(tx);
            assert!(child.wait().unwrap().success());
            for s in [".data", ".ack", ".pool"] {
                let _ = handoff::shm::remove(with_suffix(&base, s));
            }
        }
        group.finish();
    }

    pub fn main() {
        // In the child: play the consuming side, then exit.
        if let Ok(spec) = std::env::var(CHILD_ENV) {
            let (mode, base) = spec.split_once(' ').unwrap();
            match mode {
                "ring" => ring_consumer(Path::new(base)),
                _ => transfer_receiver(Path::new(base)),
            }
            return;
        }

        let mut c = Criterion::default()
            .sample_size(10)
            .measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_secs(1))
            .configure_from_args();
        bench_spsc(&mut c);
        bench_transfer(&mut c);
        c.final_summary();
    }
}
