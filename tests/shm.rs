//! Shared regions within one process: creation, opening, roles, the SPSC
//! ring and the counter. Runs under Miri too (regions are heap blocks there).
#![cfg(not(feature = "loom"))]
#![cfg(target_os = "linux")]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use handoff::error::{PopError, PushError};
use handoff::shm::counter::Counter;
use handoff::shm::spsc::Spsc;
use handoff::shm::{remove, ShmError};

/// Iteration counts: Miri is thousands of times slower than native code.
fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 1000).max(4)
    } else {
        n
    }
}

/// A fresh path for a region, removed when dropped.
struct TempRegion(PathBuf);

impl TempRegion {
    fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Relaxed);
        let dir = if cfg!(miri) {
            PathBuf::from("/miri")
        } else {
            std::env::temp_dir()
        };
        TempRegion(dir.join(format!("handoff-shm-{}-{name}-{n}", std::process::id())))
    }
}

impl Drop for TempRegion {
    fn drop(&mut self) {
        let _ = remove(&self.0);
    }
}

#[test]
fn smoke() {
    let path = TempRegion::new("smoke");
    let ring = Spsc::<u64>::create(&path.0, 4, 1).unwrap();
    let mut tx = ring.producer().unwrap();
    let mut rx = Spsc::<u64>::open(&path.0, 1).unwrap().consumer().unwrap();
    assert_eq!(rx.try_pop(), Err(PopError::Empty));
    tx.try_push(7).unwrap();
    tx.push(8).unwrap();
    assert_eq!(rx.try_pop(), Ok(7));
    assert_eq!(rx.pop(), Ok(8));
    assert_eq!(rx.try_pop(), Err(PopError::Empty));
}

#[test]
fn capacity() {
    // Capacity is exact even though the slot array is a power of two.
    for cap in [1usize, 3, 5, 8] {
        let path = TempRegion::new("capacity");
        let ring = Spsc::<u32>::create(&path.0, cap, 0).unwrap();
        assert_eq!(ring.capacity(), cap);
        let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
        assert_eq!(tx.capacity(), cap);
        for round in 0..3u32 {
            for i in 0..cap as u32 {
                tx.try_push(round * 100 + i).unwrap();
            }
            assert_eq!(tx.try_push(99), Err(PushError::Full(99)));
            for i in 0..cap as u32 {
                assert_eq!(rx.try_pop(), Ok(round * 100 + i));
            }
        }
    }
}

#[test]
fn zero_capacity() {
    let path = TempRegion::new("zero");
    assert_eq!(
        Spsc::<u8>::create(&path.0, 0, 0).unwrap_err(),
        ShmError::ZeroCapacity
    );
    // Nothing was created.
    assert!(Spsc::<u8>::open(&path.0, 0).is_err());
}

#[test]
fn zero_sized() {
    let path = TempRegion::new("zst");
    let ring = Spsc::<()>::create(&path.0, 3, 0).unwrap();
    let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    for _ in 0..3 {
        tx.try_push(()).unwrap();
    }
    assert_eq!(tx.try_push(()), Err(PushError::Full(())));
    for _ in 0..3 {
        assert_eq!(rx.try_pop(), Ok(()));
    }
    assert_eq!(rx.try_pop(), Err(PopError::Empty));
}

#[test]
fn create_is_exclusive() {
    let path = TempRegion::new("exclusive");
    let _ring = Spsc::<u64>::create(&path.0, 4, 0).unwrap();
    match Spsc::<u64>::create(&path.0, 4, 0) {
        Err(ShmError::Io { kind, .. }) => assert_eq!(kind, std::io::ErrorKind::AlreadyExists),
        other => panic!("second create: {other:?}"),
    }
}

#[cfg(not(miri))]
#[test]
fn created_file_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let path = TempRegion::new("mode");
    let _ring = Spsc::<u64>::create(&path.0, 4, 0).unwrap();
    let mode = std::fs::metadata(&path.0).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// The file's blocks are allocated by `create`: a sparse file would raise
/// SIGBUS on the first write to a page a full file system cannot supply
/// (inside `create` for an MPMC ring, or at any later push).
#[cfg(not(miri))]
#[test]
fn created_file_is_preallocated() {
    use std::os::unix::fs::MetadataExt;
    // tmpfs, where preallocation is always supported, when it is there.
    let dir = std::path::Path::new("/dev/shm");
    let path = if dir.is_dir() {
        TempRegion(dir.join(format!("handoff-shm-{}-prealloc", std::process::id())))
    } else {
        TempRegion::new("prealloc")
    };
    let _ring = Spsc::<[u64; 8]>::create(&path.0, 1 << 12, 0).unwrap();
    let meta = std::fs::metadata(&path.0).unwrap();
    assert!(
        meta.blocks() * 512 >= meta.len(),
        "{} of {} bytes allocated",
        meta.blocks() * 512,
        meta.len()
    );
}

#[test]
fn open_checks_the_fingerprint() {
    let path = TempRegion::new("fingerprint");
    let _ring = Spsc::<u64>::create(&path.0, 4, 42).unwrap();
    assert_eq!(
        Spsc::<u64>::open(&path.0, 41).unwrap_err(),
        ShmError::Mismatch("type tag")
    );
    assert_eq!(
        Spsc::<u32>::open(&path.0, 42).unwrap_err(),
        ShmError::Mismatch("element size")
    );
    assert_eq!(
        Spsc::<[u32; 2]>::open(&path.0, 42).unwrap_err(),
        ShmError::Mismatch("element alignment")
    );
    assert_eq!(
        Counter::open(&path.0).unwrap_err(),
        ShmError::Mismatch("kind")
    );
    assert!(Spsc::<u64>::open(&path.0, 42).is_ok());
}

#[test]
fn roles_are_claimed_once() {
    let path = TempRegion::new("roles");
    let ring = Spsc::<u64>::create(&path.0, 4, 0).unwrap();
    let other = Spsc::<u64>::open(&path.0, 0).unwrap();
    let tx = ring.producer().unwrap();
    assert_eq!(other.producer().unwrap_err(), ShmError::RoleTaken);
    let rx = other.consumer().unwrap();
    assert_eq!(ring.consumer().unwrap_err(), ShmError::RoleTaken);
    // A dropped role stays used: the ring is closed, not reopened.
    drop(tx);
    assert_eq!(other.producer().unwrap_err(), ShmError::RoleTaken);
    drop(rx);
}

#[test]
fn closed() {
    // Producer gone: the consumer drains what was pushed, then sees Closed.
    let path = TempRegion::new("closed");
    let ring = Spsc::<u64>::create(&path.0, 4, 0).unwrap();
    let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    tx.push(1).unwrap();
    tx.push(2).unwrap();
    drop(tx);
    assert_eq!(rx.try_pop(), Ok(1));
    assert_eq!(rx.pop(), Ok(2));
    assert_eq!(rx.try_pop(), Err(PopError::Closed));
    assert_eq!(rx.pop(), Err(PopError::Closed));

    // Consumer gone: every push returns Closed with the value.
    let path = TempRegion::new("closed2");
    let ring = Spsc::<u64>::create(&path.0, 1, 0).unwrap();
    let (mut tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    tx.push(1).unwrap();
    drop(rx);
    assert_eq!(tx.try_push(2), Err(PushError::Closed(2)));
    assert_eq!(tx.push(3), Err(PushError::Closed(3)));
}

#[test]
fn len_empty_full() {
    let path = TempRegion::new("len");
    let ring = Spsc::<u32>::create(&path.0, 3, 0).unwrap();
    let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    assert!(tx.is_empty() && rx.is_empty());
    assert_eq!((tx.len(), rx.len()), (0, 0));
    for i in 0..3 {
        assert!(!tx.is_full());
        tx.try_push(i).unwrap();
        assert_eq!((tx.len(), rx.len()), (i as usize + 1, i as usize + 1));
    }
    assert!(tx.is_full() && rx.is_full());
    rx.try_pop().unwrap();
    assert_eq!((tx.len(), rx.len()), (2, 2));
    assert!(!tx.is_full() && !rx.is_empty());
}

#[test]
fn is_closed() {
    let path = TempRegion::new("is-closed");
    let ring = Spsc::<u32>::create(&path.0, 2, 0).unwrap();
    let (mut tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    assert!(!tx.is_closed() && !rx.is_closed());
    tx.push(1).unwrap();
    drop(tx);
    // Closed with an element still to pop.
    assert!(rx.is_closed());
    assert_eq!(rx.len(), 1);

    let path = TempRegion::new("is-closed2");
    let ring = Spsc::<u32>::create(&path.0, 2, 0).unwrap();
    let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    drop(rx);
    assert!(tx.is_closed());
}

#[test]
fn blocked_pop_wakes_on_close() {
    let path = TempRegion::new("wake-close");
    let ring = Spsc::<u64>::create(&path.0, 2, 0).unwrap();
    let (tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    std::thread::scope(|s| {
        let popper = s.spawn(move || rx.pop());
        std::thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
        drop(tx);
        assert_eq!(popper.join().unwrap(), Err(PopError::Closed));
    });
}

#[test]
fn timeouts_are_never_early() {
    let path = TempRegion::new("timeout");
    let ring = Spsc::<u64>::create(&path.0, 1, 0).unwrap();
    let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    let timeout = Duration::from_millis(15);
    let start = Instant::now();
    assert_eq!(rx.pop_timeout(timeout), Err(PopError::Empty));
    assert!(start.elapsed() >= timeout);
    tx.push(1).unwrap();
    let start = Instant::now();
    assert_eq!(tx.push_timeout(2, timeout), Err(PushError::Full(2)));
    assert!(start.elapsed() >= timeout);
}

#[test]
fn spsc() {
    // Two threads, each with its own open of the region, as two processes
    // would have.
    let path = TempRegion::new("spsc");
    let ring = Spsc::<[u64; 2]>::create(&path.0, 16, 3).unwrap();
    let n = scaled(200_000) as u64;
    let mut tx = ring.producer().unwrap();
    let p = path.0.clone();
    std::thread::scope(|s| {
        s.spawn(move || {
            for i in 0..n {
                tx.push([i, !i]).unwrap();
            }
        });
        let mut rx = Spsc::<[u64; 2]>::open(&p, 3).unwrap().consumer().unwrap();
        for i in 0..n {
            assert_eq!(rx.pop(), Ok([i, !i]));
        }
        assert_eq!(rx.pop(), Err(PopError::Closed));
    });
}

#[test]
fn counter_across_threads() {
    let path = TempRegion::new("counter");
    let counter = Counter::create(&path.0).unwrap();
    let n = scaled(10_000) as u64;
    std::thread::scope(|s| {
        for _ in 0..4 {
            let p = path.0.clone();
            s.spawn(move || {
                let c = Counter::open(&p).unwrap();
                for _ in 0..n {
                    c.add(1);
                }
            });
        }
        assert_eq!(counter.wait_at_least(4 * n, None), Ok(4 * n));
    });
    assert_eq!(counter.get(), 4 * n);
    let start = Instant::now();
    let timeout = Duration::from_millis(5);
    assert_eq!(counter.wait_at_least(4 * n + 1, Some(timeout)), Err(4 * n));
    assert!(start.elapsed() >= timeout);
}

#[test]
fn counter_methods_match_the_in_process_counter() {
    let path = TempRegion::new("counter-methods");
    let shared = Counter::create(&path.0).unwrap();
    let local = handoff::counter::Counter::new(0);
    // The same calls give the same results, wrapping included.
    assert_eq!(shared.fetch_add(5), local.fetch_add(5));
    shared.increment();
    local.increment();
    shared.sub(10);
    local.sub(10);
    assert_eq!(shared.fetch_sub(1), local.fetch_sub(1));
    shared.add(2);
    local.add(2);
    assert_eq!(shared.get(), local.get());
    assert_eq!(shared.get(), 0u64.wrapping_sub(3));
    assert_eq!(format!("{shared:?}"), format!("{local:?}"));
}

#[test]
fn removed_region_stays_usable() {
    let path = TempRegion::new("removed");
    let ring = Spsc::<u8>::create(&path.0, 2, 0).unwrap();
    remove(&path.0).unwrap();
    let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    tx.push(5).unwrap();
    assert_eq!(rx.pop(), Ok(5));
    assert!(Spsc::<u8>::open(&path.0, 0).is_err());
    assert!(matches!(remove(&path.0), Err(ShmError::Io { .. })));
}

#[test]
fn errors_display_and_debug() {
    let all = [
        ShmError::Io {
            kind: std::io::ErrorKind::NotFound,
            code: Some(2),
        },
        ShmError::ZeroCapacity,
        ShmError::TooLarge,
        ShmError::Unsupported,
        ShmError::NotReady,
        ShmError::NotARegion,
        ShmError::Version(9),
        ShmError::Mismatch("kind"),
        ShmError::Corrupt("length"),
        ShmError::Truncated,
        ShmError::RoleTaken,
        ShmError::Stale,
    ];
    for e in all {
        let s = e.to_string();
        assert!(
            !s.ends_with('.') && s.chars().next().unwrap().is_lowercase(),
            "{s}"
        );
        assert!(!format!("{e:?}").is_empty());
        assert_eq!(e, e);
    }
    assert_eq!(format!("{:?}", ShmError::Version(9)), "Version(9)");
    assert_eq!(format!("{:?}", ShmError::RoleTaken), "RoleTaken");
}

mod mpmc_ring {
    use super::*;
    use handoff::shm::mpmc::Mpmc;

    #[test]
    fn smoke() {
        let path = TempRegion::new("mpmc-smoke");
        let ring = Mpmc::<u32>::create(&path.0, 3, 0).unwrap();
        assert_eq!(ring.capacity(), 3);
        let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
        assert_eq!(rx.try_pop(), Err(PopError::Empty));
        for round in 0..3 {
            for i in 0..3 {
                tx.try_push(round * 10 + i).unwrap();
            }
            assert_eq!(tx.try_push(9), Err(PushError::Full(9)));
            for i in 0..3 {
                assert_eq!(rx.try_pop(), Ok(round * 10 + i));
            }
        }
    }

    /// Capacity 1 is where a stamp for "holds `p`" and one for "free for
    /// `p + capacity`" could coincide: every small capacity, several laps.
    #[test]
    fn capacity() {
        for capacity in 1..=4u32 {
            let path = TempRegion::new("mpmc-capacity");
            let ring = Mpmc::<u32>::create(&path.0, capacity as usize, 0).unwrap();
            let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
            for lap in 0..5 {
                for i in 0..capacity {
                    assert_eq!(tx.try_push(lap * 100 + i), Ok(()), "capacity {capacity}");
                }
                assert_eq!(
                    tx.try_push(99),
                    Err(PushError::Full(99)),
                    "capacity {capacity}"
                );
                for i in 0..capacity {
                    assert_eq!(rx.try_pop(), Ok(lap * 100 + i), "capacity {capacity}");
                }
                assert_eq!(rx.try_pop(), Err(PopError::Empty), "capacity {capacity}");
            }
        }
    }

    #[test]
    fn zero_capacity() {
        let path = TempRegion::new("mpmc-zero");
        assert_eq!(
            Mpmc::<u32>::create(&path.0, 0, 0).unwrap_err(),
            ShmError::ZeroCapacity
        );
    }

    #[test]
    fn closed() {
        let path = TempRegion::new("mpmc-closed");
        let ring = Mpmc::<u32>::create(&path.0, 4, 0).unwrap();
        let (tx1, tx2, rx) = (
            ring.producer().unwrap(),
            ring.producer().unwrap(),
            ring.consumer().unwrap(),
        );
        tx1.push(1).unwrap();
        drop(tx1);
        // One producer is left: not closed.
        assert_eq!(rx.pop(), Ok(1));
        assert_eq!(rx.try_pop(), Err(PopError::Empty));
        tx2.push(2).unwrap();
        drop(tx2);
        assert_eq!(rx.pop(), Ok(2));
        assert_eq!(rx.pop(), Err(PopError::Closed));

        let tx = ring.producer().unwrap();
        drop(rx);
        assert_eq!(tx.push(3), Err(PushError::Closed(3)));
    }

    #[test]
    fn len_empty_full() {
        let path = TempRegion::new("mpmc-len");
        let ring = Mpmc::<u32>::create(&path.0, 3, 0).unwrap();
        let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
        assert_eq!(tx.capacity(), 3);
        assert_eq!(rx.capacity(), 3);
        assert!(tx.is_empty() && rx.is_empty());
        for i in 0..3 {
            assert!(!rx.is_full());
            tx.try_push(i).unwrap();
            assert_eq!((tx.len(), rx.len()), (i as usize + 1, i as usize + 1));
        }
        assert!(tx.is_full() && rx.is_full());
        rx.try_pop().unwrap();
        assert_eq!((tx.len(), rx.len()), (2, 2));
    }

    #[test]
    fn is_closed() {
        let path = TempRegion::new("mpmc-is-closed");
        let ring = Mpmc::<u32>::create(&path.0, 2, 0).unwrap();
        let (tx1, tx2, rx) = (
            ring.producer().unwrap(),
            ring.producer().unwrap(),
            ring.consumer().unwrap(),
        );
        assert!(!tx1.is_closed() && !rx.is_closed());
        drop(tx1);
        assert!(!rx.is_closed(), "one producer is left");
        drop(tx2);
        assert!(rx.is_closed());
        let tx = ring.producer().unwrap();
        drop(rx);
        assert!(tx.is_closed());
    }

    #[test]
    fn roles_run_out() {
        let path = TempRegion::new("mpmc-roles");
        let ring = Mpmc::<u8>::create(&path.0, 1, 0).unwrap();
        let held: Vec<_> = (0..32).map(|_| ring.producer().unwrap()).collect();
        assert_eq!(ring.producer().unwrap_err(), ShmError::RoleTaken);
        drop(held);
        // Slots are claimed once over the region's life.
        assert_eq!(ring.producer().unwrap_err(), ShmError::RoleTaken);
    }

    #[test]
    fn mpmc() {
        let path = TempRegion::new("mpmc-threads");
        let ring = Mpmc::<u64>::create(&path.0, 8, 0).unwrap();
        let n = scaled(50_000) as u64;
        let total = std::thread::scope(|s| {
            for p in 0..2u64 {
                let tx = ring.producer().unwrap();
                s.spawn(move || {
                    for i in 0..n {
                        tx.push(p * n + i).unwrap();
                    }
                });
            }
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    let rx = ring.consumer().unwrap();
                    s.spawn(move || {
                        let mut sum = 0u64;
                        while let Ok(v) = rx.pop() {
                            sum += v;
                        }
                        sum
                    })
                })
                .collect();
            consumers
                .into_iter()
                .map(|h| h.join().unwrap())
                .sum::<u64>()
        });
        assert_eq!(total, (0..2 * n).sum::<u64>());
    }
}

mod transfer_pool {
    use super::*;
    use handoff::shm::pool::{Descriptor, Pool};
    use handoff::transfer::LoanError;

    #[test]
    fn smoke() {
        let path = TempRegion::new("pool-smoke");
        let pool = Pool::create(&path.0, 2, 1000).unwrap();
        assert_eq!((pool.capacity(), pool.buf_len()), (2, 1000));
        let mut buf = pool.try_loan().unwrap();
        assert_eq!(buf.len(), 1000);
        buf.write_at(990, b"0123456789");
        let d = buf.into_descriptor();
        let other = Pool::open(&path.0).unwrap();
        let got = other.redeem(d).unwrap();
        let mut out = [0; 10];
        got.read_at(990, &mut out);
        assert_eq!(&out, b"0123456789");
    }

    #[test]
    fn zero_capacity() {
        let path = TempRegion::new("pool-zero");
        assert_eq!(
            Pool::create(&path.0, 0, 8).unwrap_err(),
            ShmError::ZeroCapacity
        );
        assert_eq!(
            Pool::create(&path.0, 8, 0).unwrap_err(),
            ShmError::ZeroCapacity
        );
    }

    #[test]
    fn capacity() {
        let path = TempRegion::new("pool-capacity");
        let pool = Pool::create(&path.0, 3, 8).unwrap();
        let held: Vec<_> = std::iter::from_fn(|| pool.try_loan().ok())
            .take(10)
            .collect();
        assert_eq!(held.len(), 3);
        let start = Instant::now();
        assert_eq!(
            pool.loan_timeout(Duration::from_millis(5)).unwrap_err(),
            LoanError::Empty
        );
        assert!(start.elapsed() >= Duration::from_millis(5));
        drop(held);
        let again: Vec<_> = std::iter::from_fn(|| pool.try_loan().ok())
            .take(10)
            .collect();
        assert_eq!(again.len(), 3);
    }

    #[test]
    fn stale_and_duplicate_descriptors() {
        let path = TempRegion::new("pool-stale");
        let pool = Pool::create(&path.0, 1, 8).unwrap();
        let d = pool.try_loan().unwrap().into_descriptor();
        // Not loaned while given up for its descriptor.
        assert_eq!(pool.try_loan().unwrap_err(), LoanError::Empty);
        let got = pool.redeem(d).unwrap();
        assert_eq!(pool.redeem(d).unwrap_err(), ShmError::Stale, "duplicate");
        drop(got);
        assert_eq!(pool.redeem(d).unwrap_err(), ShmError::Stale, "freed");
        // The buffer is reused under a new generation; the old one stays stale.
        let d2 = pool.try_loan().unwrap().into_descriptor();
        assert_eq!(d2.index, d.index);
        assert_ne!(d2.generation, d.generation);
        assert_eq!(
            pool.redeem(d).unwrap_err(),
            ShmError::Stale,
            "old generation"
        );
        let made_up = Descriptor {
            index: 7,
            generation: 0,
        };
        assert_eq!(pool.redeem(made_up).unwrap_err(), ShmError::Stale);
        assert!(pool.redeem(d2).is_ok());
    }

    #[test]
    fn drops() {
        // A buffer never given up and a redeemed one both go back to the pool.
        let path = TempRegion::new("pool-drops");
        let pool = Pool::create(&path.0, 1, 8).unwrap();
        drop(pool.try_loan().unwrap());
        let d = pool.try_loan().unwrap().into_descriptor();
        drop(pool.redeem(d).unwrap());
        assert!(pool.try_loan().is_ok());
    }

    #[test]
    fn blocked_loan_wakes_when_returned() {
        let path = TempRegion::new("pool-wake");
        let pool = Pool::create(&path.0, 1, 8).unwrap();
        let held = pool.try_loan().unwrap();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| pool.loan().len());
            std::thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 10 }));
            drop(held);
            assert_eq!(waiter.join().unwrap(), 8);
        });
    }
}
