//! The SPSC ring on real threads: order, drops, closing, blocking and the
//! slice and chunk calls.
#![cfg(not(feature = "loom"))]

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use handoff::spsc::{self, Consumer, PopError, Producer, PushError, ZeroCapacity};

/// Iteration counts: Miri is thousands of times slower than native code.
fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 10_000).max(50)
    } else {
        n
    }
}

#[test]
fn smoke() {
    let (mut tx, mut rx) = spsc::channel(2).unwrap();
    tx.try_push(1).unwrap();
    tx.try_push(2).unwrap();
    assert_eq!(rx.try_pop(), Ok(1));
    tx.try_push(3).unwrap();
    assert_eq!(rx.try_pop(), Ok(2));
    assert_eq!(rx.try_pop(), Ok(3));
    assert_eq!(rx.try_pop(), Err(PopError::Empty));
}

#[test]
fn capacity() {
    for cap in [1, 2, 3, 5, 8, 1000, 1025] {
        let (mut tx, rx) = spsc::channel(cap).unwrap();
        assert_eq!((tx.capacity(), rx.capacity()), (cap, cap));
        for i in 0..cap {
            assert_eq!(tx.try_push(i), Ok(()), "cap {cap}");
        }
        assert_eq!(tx.try_push(cap), Err(PushError::Full(cap)));
    }
}

#[test]
fn zero_capacity() {
    assert_eq!(spsc::channel::<u8>(0).unwrap_err(), ZeroCapacity);
}

#[test]
fn zero_sized() {
    let (mut tx, mut rx) = spsc::channel::<()>(3).unwrap();
    for _ in 0..3 {
        tx.try_push(()).unwrap();
    }
    assert_eq!(tx.try_push(()), Err(PushError::Full(())));
    assert_eq!(tx.push_slice(&[(); 4]), 0);
    assert_eq!(rx.pop_slice(&mut [(); 2]), 2);
    assert_eq!(rx.try_pop(), Ok(()));
    assert_eq!(rx.try_pop(), Err(PopError::Empty));

    // Many laps of a zero-sized stream on two threads.
    let n = scaled(100_000);
    let t = thread::spawn(move || {
        for _ in 0..n {
            tx.push(()).unwrap();
        }
    });
    for _ in 0..n {
        rx.pop().unwrap();
    }
    t.join().unwrap();
    assert_eq!(rx.pop(), Err(PopError::Closed));
}

#[test]
fn len_empty_full() {
    let (mut tx, mut rx) = spsc::channel(3).unwrap();
    assert!(tx.is_empty() && rx.is_empty());
    assert!(!tx.is_full() && !rx.is_full());
    tx.try_push(1).unwrap();
    assert_eq!((tx.len(), rx.len()), (1, 1));
    tx.try_push(2).unwrap();
    tx.try_push(3).unwrap();
    assert!(tx.is_full() && rx.is_full());
    assert_eq!((tx.len(), rx.len()), (3, 3));
    rx.try_pop().unwrap();
    assert_eq!((tx.len(), rx.len()), (2, 2));
    assert!(!tx.is_full() && !rx.is_empty());
}

/// Pushes `n` values one by one and checks they arrive in order, nothing lost
/// or duplicated.
fn stream_in_order(cap: usize, n: u64, blocking: bool) {
    let (mut tx, mut rx) = spsc::channel::<u64>(cap).unwrap();
    let producer = thread::spawn(move || {
        for i in 0..n {
            if blocking {
                tx.push(i).unwrap();
            } else {
                let mut v = i;
                while let Err(e) = tx.try_push(v) {
                    v = e.into_inner();
                    // Yield, not spin: the test machine may have fewer cores
                    // than running threads.
                    thread::yield_now();
                }
            }
        }
    });
    for expected in 0..n {
        let got = if blocking {
            rx.pop().unwrap()
        } else {
            loop {
                match rx.try_pop() {
                    Ok(v) => break v,
                    Err(e) => {
                        assert_eq!(e, PopError::Empty);
                        thread::yield_now();
                    }
                }
            }
        };
        assert_eq!(got, expected);
    }
    producer.join().unwrap();
    assert_eq!(rx.try_pop(), Err(PopError::Closed));
}

#[test]
fn spsc() {
    let n = scaled(10_000_000) as u64;
    stream_in_order(1024, n, true);
    stream_in_order(1024, n / 10, false);
    stream_in_order(1, n / 100, true);
    stream_in_order(3, n / 100, true);
}

#[test]
fn spsc_slices_and_chunks() {
    let n = scaled(2_000_000) as u64;
    let (mut tx, mut rx) = spsc::channel::<u64>(100).unwrap();
    let producer = thread::spawn(move || {
        let mut next = 0u64;
        while next < n {
            // Alternate slices and chunks of varying sizes.
            let want = 1 + (next % 70) as usize;
            if next % 2 == 0 {
                let batch: Vec<u64> = (next..n.min(next + want as u64)).collect();
                next += tx.push_slice(&batch) as u64;
            } else if let Ok(mut chunk) = tx.write_chunk(want) {
                next += chunk.fill_from_iter(next..n) as u64;
            }
        }
    });
    let mut expected = 0u64;
    let mut buf = [0u64; 37];
    while expected < n {
        if expected % 3 == 0 {
            let got = rx.pop_slice(&mut buf);
            for v in &buf[..got] {
                assert_eq!(*v, expected);
                expected += 1;
            }
        } else if let Ok(chunk) = rx.read_chunk(50) {
            for v in chunk {
                assert_eq!(v, expected);
                expected += 1;
            }
        }
    }
    producer.join().unwrap();
    assert_eq!(rx.try_pop(), Err(PopError::Closed));
}

/// Counts the drops of its values.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

#[test]
fn drops() {
    // Left in the ring, including across the wrap: dropped once, when the
    // last handle goes (whichever it is).
    for producer_last in [true, false] {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = spsc::channel(4).unwrap();
        for _ in 0..3 {
            tx.try_push(Counted(drops.clone())).unwrap();
        }
        drop(rx.try_pop().unwrap());
        drop(rx.try_pop().unwrap());
        for _ in 0..3 {
            tx.try_push(Counted(drops.clone())).unwrap();
        }
        assert_eq!(drops.load(Relaxed), 2);
        if producer_last {
            drop(rx);
            assert_eq!(drops.load(Relaxed), 2, "dropped while the producer lives");
            drop(tx);
        } else {
            drop(tx);
            assert_eq!(drops.load(Relaxed), 2, "dropped while the consumer lives");
            drop(rx);
        }
        assert_eq!(drops.load(Relaxed), 6);
    }

    // A push refused as closed hands the value back, not dropped.
    let drops = Arc::new(AtomicUsize::new(0));
    let (mut tx, rx) = spsc::channel(4).unwrap();
    drop(rx);
    let back = tx.try_push(Counted(drops.clone())).unwrap_err();
    assert!(back.is_closed());
    assert_eq!(drops.load(Relaxed), 0);
    drop(back);
    assert_eq!(drops.load(Relaxed), 1);
}

#[test]
fn drops_across_threads() {
    let drops = Arc::new(AtomicUsize::new(0));
    let n = scaled(100_000);
    let (mut tx, mut rx) = spsc::channel(16).unwrap();
    let d = drops.clone();
    let producer = thread::spawn(move || {
        // Returns how many values it made: each must be dropped once.
        for made in 1..=n {
            if tx.push(Counted(d.clone())).is_err() {
                return made;
            }
        }
        n
    });
    // Pop half; the rest stays for the ring (or the refused push) to drop.
    for _ in 0..n / 2 {
        drop(rx.pop().unwrap());
    }
    drop(rx);
    let made = producer.join().unwrap();
    assert!(made > n / 2);
    assert_eq!(drops.load(Relaxed), made);
}

#[test]
fn drops_in_chunks() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (mut tx, mut rx) = spsc::channel(8).unwrap();
    {
        let mut chunk = tx.write_chunk(5).unwrap();
        for _ in 0..4 {
            chunk.push(Counted(drops.clone())).unwrap();
        }
        // Dropped uncommitted: the written values are published.
    }
    assert_eq!(rx.len(), 4);
    {
        let mut chunk = rx.read_chunk(8).unwrap();
        drop(chunk.next());
        assert_eq!(drops.load(Relaxed), 1);
    }
    // One taken and released, three left.
    assert_eq!(rx.len(), 3);
    drop((tx, rx));
    assert_eq!(drops.load(Relaxed), 4);
}

#[test]
fn closed() {
    // Producer gone: drain, then Closed from every pop form.
    let (mut tx, mut rx) = spsc::channel(4).unwrap();
    tx.try_push(1).unwrap();
    assert!(!rx.is_closed());
    drop(tx);
    assert!(rx.is_closed());
    assert_eq!(rx.peek(), Ok(&1));
    assert_eq!(rx.pop(), Ok(1));
    assert_eq!(rx.peek(), Err(PopError::Closed));
    assert_eq!(rx.try_pop(), Err(PopError::Closed));
    assert_eq!(rx.pop(), Err(PopError::Closed));
    assert_eq!(
        rx.pop_timeout(Duration::from_secs(60)),
        Err(PopError::Closed)
    );
    assert_eq!(rx.read_chunk(4).unwrap_err(), PopError::Closed);
    assert_eq!(rx.pop_slice(&mut [0; 4]), 0);

    // Consumer gone: every push form hands the value back as Closed.
    let (mut tx, rx) = spsc::channel(1).unwrap();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.try_push(1), Err(PushError::Closed(1)));
    assert_eq!(tx.push(2), Err(PushError::Closed(2)));
    assert_eq!(
        tx.push_timeout(3, Duration::from_secs(60)),
        Err(PushError::Closed(3))
    );
    assert_eq!(tx.push_slice(&[4, 5]), 0);
    assert_eq!(tx.write_chunk(1).unwrap_err(), PushError::Closed(()));
}

/// Waits until `handle` has had time to park (it cannot be observed), then
/// runs `close`; the blocked call must return Closed whether or not it had
/// parked yet.
fn close_while_blocked<R: Send + 'static>(
    blocked: impl FnOnce() -> R + Send + 'static,
    close: impl FnOnce(),
) -> R {
    let t = thread::spawn(blocked);
    thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
    close();
    t.join().unwrap()
}

#[test]
fn closed_wakes_blocked_consumer() {
    for timed in [false, true] {
        let (tx, mut rx) = spsc::channel::<u8>(2).unwrap();
        let got = close_while_blocked(
            move || {
                if timed {
                    rx.pop_timeout(Duration::from_secs(3600))
                } else {
                    rx.pop()
                }
            },
            move || drop(tx),
        );
        assert_eq!(got, Err(PopError::Closed));
    }
}

#[test]
fn closed_wakes_blocked_producer() {
    for timed in [false, true] {
        let (mut tx, rx) = spsc::channel::<u8>(1).unwrap();
        tx.try_push(0).unwrap();
        let got = close_while_blocked(
            move || {
                if timed {
                    tx.push_timeout(1, Duration::from_secs(3600))
                } else {
                    tx.push(1)
                }
            },
            move || drop(rx),
        );
        assert_eq!(got, Err(PushError::Closed(1)));
    }
}

#[test]
fn blocked_push_and_pop_are_woken() {
    // A consumer parked on an empty ring gets the value pushed later.
    let (mut tx, mut rx) = spsc::channel::<u32>(1).unwrap();
    let t = thread::spawn(move || rx.pop());
    thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
    tx.push(7).unwrap();
    assert_eq!(t.join().unwrap(), Ok(7));

    // A producer parked on a full ring gets in after one pop.
    let (mut tx, mut rx) = spsc::channel::<u32>(1).unwrap();
    tx.push(1).unwrap();
    let t = thread::spawn(move || {
        tx.push(2).unwrap();
        tx
    });
    thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
    assert_eq!(rx.pop(), Ok(1));
    assert_eq!(rx.pop(), Ok(2));
    drop(t.join().unwrap());
}

#[test]
fn timeout_is_never_early() {
    let (mut tx, mut rx) = spsc::channel::<u8>(1).unwrap();
    for ms in [0u64, 1, 10] {
        let timeout = Duration::from_millis(ms);
        let start = Instant::now();
        assert_eq!(rx.pop_timeout(timeout), Err(PopError::Empty));
        assert!(start.elapsed() >= timeout);
    }
    tx.try_push(0).unwrap();
    for ms in [0u64, 1, 10] {
        let timeout = Duration::from_millis(ms);
        let start = Instant::now();
        assert_eq!(tx.push_timeout(1, timeout), Err(PushError::Full(1)));
        assert!(start.elapsed() >= timeout);
    }
    // A value present means no wait at all.
    assert_eq!(rx.pop_timeout(Duration::from_secs(3600)), Ok(0));
    assert_eq!(tx.push_timeout(2, Duration::from_secs(3600)), Ok(()));
}

#[test]
fn slices() {
    let (mut tx, mut rx) = spsc::channel::<u16>(5).unwrap();
    assert_eq!(tx.push_slice(&[]), 0);
    assert_eq!(tx.push_slice(&[1, 2, 3]), 3);
    assert_eq!(tx.push_slice(&[4, 5, 6, 7]), 2);
    assert_eq!(tx.push_slice(&[8]), 0);
    let mut out = [0; 4];
    assert_eq!(rx.pop_slice(&mut out), 4);
    assert_eq!(out, [1, 2, 3, 4]);
    // Across the end of the slot array (8 slots for capacity 5).
    assert_eq!(tx.push_slice(&[6, 7, 8, 9, 10]), 4);
    let mut out = [0; 8];
    assert_eq!(rx.pop_slice(&mut out), 5);
    assert_eq!(out[..5], [5, 6, 7, 8, 9]);
    assert_eq!(rx.pop_slice(&mut out), 0);
}

#[test]
fn chunks() {
    let (mut tx, mut rx) = spsc::channel::<String>(3).unwrap();
    assert_eq!(rx.read_chunk(2).unwrap_err(), PopError::Empty);
    let mut chunk = tx.write_chunk(10).unwrap();
    assert_eq!(
        (chunk.len(), chunk.written(), chunk.is_empty()),
        (3, 0, false)
    );
    chunk.push("a".into()).unwrap();
    assert_eq!(chunk.fill_from_iter(["b", "c", "d"].map(String::from)), 2);
    assert_eq!(chunk.push("e".into()), Err("e".into()));
    assert_eq!(format!("{chunk:?}"), "WriteChunk { len: 3, written: 3 }");
    // Nothing visible before the commit.
    assert_eq!(rx.len(), 0);
    assert_eq!(chunk.commit(), 3);
    assert_eq!(rx.len(), 3);
    assert_eq!(tx.write_chunk(1).unwrap_err(), PushError::Full(()));
    assert!(tx.write_chunk(0).is_err(), "no free slot even for 0");

    let mut chunk = rx.read_chunk(2).unwrap();
    assert_eq!(chunk.len(), 2);
    assert_eq!(chunk.as_slices().0, ["a", "b"]);
    assert_eq!(chunk.next().as_deref(), Some("a"));
    assert_eq!(chunk.len(), 1);
    assert_eq!(format!("{chunk:?}"), "ReadChunk { len: 2, read: 1 }");
    assert_eq!(chunk.commit(), 1);
    assert_eq!(rx.peek().map(String::as_str), Ok("b"));
    let rest: Vec<String> = rx.read_chunk(5).unwrap().collect();
    assert_eq!(rest, ["b", "c"]);
    assert!(rx.is_empty());
}

#[test]
fn chunk_across_the_wrap() {
    let (mut tx, mut rx) = spsc::channel::<u32>(4).unwrap();
    tx.push_slice(&[0, 1, 2]);
    assert_eq!(rx.pop_slice(&mut [0; 3]), 3);
    // Positions 3..7 cover slots 3, 0, 1, 2.
    assert_eq!(tx.write_chunk(4).unwrap().fill_from_iter(10..), 4);
    let chunk = rx.read_chunk(4).unwrap();
    let (a, b) = chunk.as_slices();
    assert_eq!((a, b), (&[10][..], &[11, 12, 13][..]));
    assert_eq!(chunk.collect::<Vec<_>>(), [10, 11, 12, 13]);
}

#[test]
fn peek() {
    let (mut tx, mut rx) = spsc::channel::<u8>(2).unwrap();
    assert_eq!(rx.peek(), Err(PopError::Empty));
    tx.try_push(9).unwrap();
    assert_eq!(rx.peek(), Ok(&9));
    assert_eq!(rx.peek(), Ok(&9));
    assert_eq!(rx.try_pop(), Ok(9));
    assert_eq!(rx.peek(), Err(PopError::Empty));
}

#[test]
fn debug_and_errors() {
    let (mut tx, rx) = spsc::channel::<Vec<u8>>(2).unwrap();
    tx.try_push(vec![1]).unwrap();
    assert_eq!(
        format!("{tx:?}"),
        "Producer { capacity: 2, len: 1, closed: false }"
    );
    assert_eq!(
        format!("{rx:?}"),
        "Consumer { capacity: 2, len: 1, closed: false }"
    );
    let e = PushError::Full(vec![1u8]);
    assert_eq!(format!("{e:?}"), "Full(..)");
    assert_eq!(e.to_string(), "push on a full ring");
    assert_eq!(
        PopError::Closed.to_string(),
        "pop on a closed and drained ring"
    );
}

#[test]
fn handles_are_send() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Producer<std::cell::Cell<u8>>>();
    send::<Consumer<std::cell::Cell<u8>>>();
    sync::<Consumer<u8>>();
    sync::<Producer<std::cell::Cell<u8>>>();
}
