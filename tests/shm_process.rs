//! Shared regions between real processes: the test binary starts itself
//! again as a child (selected by an environment variable), and the two talk
//! through a region. Includes SIGKILL tests of peer-death detection.
#![cfg(not(feature = "loom"))]
#![cfg(all(target_os = "linux", not(miri)))]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use handoff::error::{PopError, PushError};
use handoff::shm::counter::Counter;
use handoff::shm::mpmc::Mpmc;
use handoff::shm::pool::{Descriptor, Pool};
use handoff::shm::spsc::Spsc;
use handoff::shm::{remove, ShmError};

/// Set in a child: the region path it works on.
const CHILD_PATH: &str = "HANDOFF_SHM_CHILD_PATH";
/// Set in a child: which part it plays.
const CHILD_ROLE: &str = "HANDOFF_SHM_CHILD_ROLE";
/// A generous cap on every blocking call, so a bug fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(30);

/// In a child started by [`spawn`] for `test`: its path and role.
fn child_args() -> Option<(PathBuf, String)> {
    let path = std::env::var_os(CHILD_PATH)?;
    let role = std::env::var(CHILD_ROLE).ok()?;
    Some((PathBuf::from(path), role))
}

/// Starts this test binary again, running only `test`, as a child playing
/// `role` on the region at `path`.
fn spawn(test: &str, path: &Path, role: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_PATH, path)
        .env(CHILD_ROLE, role)
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

/// A fresh path for a region (or several, with suffixes), removed on drop.
struct Paths(PathBuf);

impl Paths {
    fn new(name: &str) -> Self {
        Paths(std::env::temp_dir().join(format!("handoff-shmp-{}-{name}", std::process::id())))
    }

    fn with(&self, suffix: &str) -> PathBuf {
        let mut p = self.0.clone().into_os_string();
        p.push(suffix);
        PathBuf::from(p)
    }
}

impl Drop for Paths {
    fn drop(&mut self) {
        for suffix in ["", ".a", ".b", ".pool"] {
            let _ = remove(self.with(suffix));
        }
    }
}

/// A 32-byte element whose parts must agree: a torn read shows.
type Element = [u64; 4];

fn element(i: u64) -> Element {
    [i, !i, i.wrapping_mul(0x9E37_79B9_7F4A_7C15), i ^ 0x5555]
}

fn assert_whole(e: Element) -> u64 {
    assert_eq!(e, element(e[0]), "torn or corrupted element");
    e[0]
}

fn kill(mut child: Child) {
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
}

fn assert_success(mut child: Child) {
    assert!(child.wait().unwrap().success(), "child failed");
}

#[test]
fn spsc_values_both_ways() {
    const N: u64 = 200_000;
    if let Some((path, _)) = child_args() {
        // Child: double every value from ring a into ring b.
        let paths = Paths(path);
        let mut rx = Spsc::<u64>::open(paths.with(".a"), 1)
            .unwrap()
            .consumer()
            .unwrap();
        let mut tx = Spsc::<u64>::open(paths.with(".b"), 1)
            .unwrap()
            .producer()
            .unwrap();
        while let Ok(v) = rx.pop_timeout(PATIENCE) {
            tx.push(v * 2).unwrap();
        }
        std::mem::forget(paths);
        return;
    }

    let paths = Paths::new("both-ways");
    let a = Spsc::<u64>::create(paths.with(".a"), 64, 1).unwrap();
    let b = Spsc::<u64>::create(paths.with(".b"), 64, 1).unwrap();
    let mut tx = a.producer().unwrap();
    let mut rx = b.consumer().unwrap();
    let child = spawn("spsc_values_both_ways", &paths.0, "doubler");
    std::thread::scope(|s| {
        s.spawn(move || {
            for i in 0..N {
                tx.push(i).unwrap();
            }
        });
        let mut sum = 0u64;
        for i in 0..N {
            let v = rx.pop_timeout(PATIENCE).unwrap();
            assert_eq!(v, 2 * i);
            sum += v;
        }
        assert_eq!(sum, N * (N - 1));
        assert_eq!(rx.pop_timeout(PATIENCE), Err(PopError::Closed));
    });
    assert_success(child);
}

#[test]
fn second_producer_in_another_process_is_refused() {
    if let Some((path, _)) = child_args() {
        let ring = Spsc::<u64>::open(&path, 0).unwrap();
        assert_eq!(ring.producer().unwrap_err(), ShmError::RoleTaken);
        // The consumer is free: take it, take a value, leave.
        assert_eq!(ring.consumer().unwrap().pop_timeout(PATIENCE), Ok(11));
        return;
    }
    let paths = Paths::new("second-producer");
    let ring = Spsc::<u64>::create(&paths.0, 4, 0).unwrap();
    let mut tx = ring.producer().unwrap();
    tx.push(11).unwrap();
    assert_success(spawn(
        "second_producer_in_another_process_is_refused",
        &paths.0,
        "intruder",
    ));
}

#[test]
fn counter_incremented_by_four_processes() {
    const N: u64 = 20_000;
    if let Some((path, _)) = child_args() {
        let counter = Counter::open(path).unwrap();
        for _ in 0..N {
            counter.add(1);
        }
        return;
    }
    let paths = Paths::new("counter");
    let counter = Counter::create(&paths.0).unwrap();
    let children: Vec<Child> = (0..4)
        .map(|_| spawn("counter_incremented_by_four_processes", &paths.0, "adder"))
        .collect();
    // Parked on the shared notifier until the last add lands.
    assert_eq!(counter.wait_at_least(4 * N, Some(PATIENCE)), Ok(4 * N));
    children.into_iter().for_each(assert_success);
    assert_eq!(counter.get(), 4 * N);
}

#[test]
fn killed_producer_closes_the_ring() {
    if let Some((path, _)) = child_args() {
        // Child: push for ever; the parent kills it mid-stream.
        let mut tx = Spsc::<Element>::open(path, 9).unwrap().producer().unwrap();
        for i in 0.. {
            if tx.push(element(i)).is_err() {
                break;
            }
        }
        unreachable!("the parent kills this child");
    }

    let paths = Paths::new("kill-producer");
    let ring = Spsc::<Element>::create(&paths.0, 32, 9).unwrap();
    let mut rx = ring.consumer().unwrap();
    let child = spawn("killed_producer_closes_the_ring", &paths.0, "victim");

    // Take some values, then kill the producer with SIGKILL.
    for i in 0..10_000 {
        assert_eq!(assert_whole(rx.pop_timeout(PATIENCE).unwrap()), i);
    }
    kill(child);

    // Every value it pushed is still there, whole and in order; then Closed.
    let mut next = 10_000;
    loop {
        match rx.pop_timeout(PATIENCE) {
            Ok(e) => {
                assert_eq!(assert_whole(e), next);
                next += 1;
            }
            Err(e) => {
                assert_eq!(
                    e,
                    PopError::Closed,
                    "death noticed before the patience ran out"
                );
                break;
            }
        }
    }
    assert!(next - 10_000 <= 32, "at most a ring's worth was left");
}

#[test]
fn killed_consumer_closes_the_ring() {
    if let Some((path, _)) = child_args() {
        // Child: take ten values, then hang until killed.
        let mut rx = Spsc::<u64>::open(path, 0).unwrap().consumer().unwrap();
        for i in 0..10 {
            assert_eq!(rx.pop_timeout(PATIENCE), Ok(i));
        }
        std::thread::sleep(Duration::from_secs(3600));
        return;
    }

    let paths = Paths::new("kill-consumer");
    let ring = Spsc::<u64>::create(&paths.0, 8, 0).unwrap();
    let mut tx = ring.producer().unwrap();
    let child = spawn("killed_consumer_closes_the_ring", &paths.0, "victim");

    // Fill the ring past what the child takes: these pushes block until it
    // has taken its ten.
    for i in 0..18 {
        tx.push_timeout(i, PATIENCE).unwrap();
    }
    kill(child);

    // The ring is full and its consumer dead: a blocked push says Closed.
    assert_eq!(tx.push_timeout(99, PATIENCE), Err(PushError::Closed(99)));
    assert_eq!(tx.try_push(100), Err(PushError::Closed(100)));
}

#[test]
fn mpmc_two_producer_processes() {
    const N: u64 = 50_000;
    if let Some((path, role)) = child_args() {
        let base: u64 = role.parse().unwrap();
        let ring = Mpmc::<Element>::open(path, 5).unwrap();
        let tx = ring.producer().unwrap();
        for i in 0..N {
            tx.push(element(base + i)).unwrap();
        }
        return;
    }

    let paths = Paths::new("mpmc");
    let ring = Mpmc::<Element>::create(&paths.0, 64, 5).unwrap();
    let rx1 = ring.consumer().unwrap();
    let rx2 = ring.consumer().unwrap();
    let children = [
        spawn("mpmc_two_producer_processes", &paths.0, "0"),
        spawn("mpmc_two_producer_processes", &paths.0, "1000000"),
    ];
    // Two consumer threads; each producer's values arrive in its order.
    let seen: Vec<Vec<u64>> = std::thread::scope(|s| {
        [rx1, rx2]
            .map(|rx| {
                s.spawn(move || {
                    let mut got = Vec::new();
                    while let Ok(e) = rx.pop_timeout(PATIENCE) {
                        got.push(assert_whole(e));
                    }
                    got
                })
            })
            .map(|h| h.join().unwrap())
            .into()
    });
    children.into_iter().for_each(assert_success);
    let mut all: Vec<u64> = seen.into_iter().flatten().collect();
    all.sort_unstable();
    let expected: Vec<u64> = (0..N).chain(1_000_000..1_000_000 + N).collect();
    assert_eq!(all, expected);
}

#[test]
fn killed_mpmc_producer_closes_the_ring() {
    if let Some((path, _)) = child_args() {
        let tx = Mpmc::<u64>::open(path, 0).unwrap().producer().unwrap();
        for i in 0.. {
            if tx.push(i).is_err() {
                break;
            }
        }
        unreachable!("the parent kills this child");
    }
    let paths = Paths::new("kill-mpmc");
    let ring = Mpmc::<u64>::create(&paths.0, 16, 0).unwrap();
    let rx = ring.consumer().unwrap();
    let child = spawn("killed_mpmc_producer_closes_the_ring", &paths.0, "victim");
    for i in 0..1000 {
        assert_eq!(rx.pop_timeout(PATIENCE), Ok(i));
    }
    kill(child);
    let mut next = 1000;
    loop {
        match rx.pop_timeout(PATIENCE) {
            Ok(v) => {
                assert_eq!(v, next);
                next += 1;
            }
            Err(e) => {
                assert_eq!(e, PopError::Closed);
                break;
            }
        }
    }
}

#[test]
fn transfer_buffers_both_ways() {
    const BUF: usize = 1 << 20;
    const ROUNDS: u64 = 8;
    if let Some((path, _)) = child_args() {
        // Child: redeem each buffer, check it, answer with a buffer of its
        // own holding the checksum pattern shifted by one.
        let paths = Paths(path);
        let pool = Pool::open(paths.with(".pool")).unwrap();
        let mut rx = Spsc::<Descriptor>::open(paths.with(".a"), 2)
            .unwrap()
            .consumer()
            .unwrap();
        let mut tx = Spsc::<Descriptor>::open(paths.with(".b"), 2)
            .unwrap()
            .producer()
            .unwrap();
        while let Ok(d) = rx.pop_timeout(PATIENCE) {
            let got = pool.redeem(d).unwrap();
            let mut bytes = vec![0u8; BUF];
            got.read_at(0, &mut bytes);
            let round = u64::from(bytes[0]);
            assert!(bytes.iter().all(|&b| b == bytes[0]));
            // A second redeem of the same descriptor is refused.
            assert_eq!(pool.redeem(d).unwrap_err(), ShmError::Stale);
            drop(got);

            let mut reply = pool.loan_timeout(PATIENCE).unwrap();
            reply.write_at(0, &vec![(round + 1) as u8; BUF]);
            tx.push(reply.into_descriptor()).unwrap();
        }
        std::mem::forget(paths);
        return;
    }

    let paths = Paths::new("transfer");
    let pool = Pool::create(paths.with(".pool"), 4, BUF).unwrap();
    let a = Spsc::<Descriptor>::create(paths.with(".a"), 4, 2).unwrap();
    let b = Spsc::<Descriptor>::create(paths.with(".b"), 4, 2).unwrap();
    let (mut tx, mut rx) = (a.producer().unwrap(), b.consumer().unwrap());
    let child = spawn("transfer_buffers_both_ways", &paths.0, "echo");
    for round in 0..ROUNDS {
        let mut buf = pool.loan_timeout(PATIENCE).unwrap();
        buf.write_at(0, &vec![round as u8; BUF]);
        tx.push(buf.into_descriptor()).unwrap();

        let reply = pool.redeem(rx.pop_timeout(PATIENCE).unwrap()).unwrap();
        let mut bytes = vec![0u8; BUF];
        reply.read_at(0, &mut bytes);
        assert!(bytes.iter().all(|&b| b == round as u8 + 1));
    }
    drop(tx);
    assert_success(child);
}
