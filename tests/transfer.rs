//! Transfer buffers and the buffer pool on real threads: every state of a
//! buffer (attached, detached, transferred twice, pooled, sent as a
//! descriptor), and a pool emptied, refilled, shared and dropped.
#![cfg(not(feature = "loom"))]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use std::sync::{mpsc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use handoff::error::ZeroCapacity;
use handoff::transfer::{BufPool, Descriptor, DescriptorError, Detached, LoanError, TransferBuf};

/// Iteration counts: Miri is thousands of times slower than native code.
fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 500).max(2)
    } else {
        n
    }
}

/// Asserts every accessor of `buf` reports it detached.
fn assert_detached(buf: &mut TransferBuf) {
    assert!(buf.is_detached());
    assert_eq!(buf.len(), 0);
    assert!(buf.is_empty());
    assert_eq!(buf.as_slice(), Err(Detached));
    assert_eq!(buf.as_mut_slice(), Err(Detached));
    assert_eq!(buf.descriptor(), None);
    assert!(format!("{buf:?}").contains("detached"));
}

#[test]
fn smoke() {
    let mut buf = TransferBuf::zeroed(16);
    buf.as_mut_slice().unwrap()[3] = 7;
    let moved = buf.transfer();
    assert_eq!(moved.as_slice().unwrap()[3], 7);
    assert_detached(&mut buf);
}

#[test]
fn zeroed_is_zero_and_aligned() {
    let big = if cfg!(miri) { 1 << 12 } else { 1 << 20 };
    for len in [0, 1, 63, 64, 65, 4096, big] {
        let buf = TransferBuf::zeroed(len);
        assert_eq!(buf.len(), len);
        assert!(!buf.is_detached());
        let bytes = buf.as_slice().unwrap();
        assert_eq!(bytes.as_ptr() as usize % TransferBuf::ALIGN, 0, "len {len}");
        assert!(bytes.iter().all(|&b| b == 0));
    }
}

#[test]
fn attached_read_write() {
    let mut buf = TransferBuf::zeroed(256);
    for (i, b) in buf.as_mut_slice().unwrap().iter_mut().enumerate() {
        *b = i as u8;
    }
    buf[0] = 200;
    assert_eq!(buf[0], 200);
    assert_eq!(buf.as_slice().unwrap()[255], 255);
    assert_eq!(
        buf.iter().map(|&b| usize::from(b)).sum::<usize>(),
        200 + (1..256).sum::<usize>()
    );
}

#[test]
fn from_vec_and_back_without_copy() {
    let mut v = Vec::with_capacity(100);
    v.extend_from_slice(b"abc");
    let at = v.as_ptr();
    let mut buf = TransferBuf::from(v);
    assert_eq!(buf.len(), 3);
    assert_eq!(buf.as_slice().unwrap(), b"abc");
    let moved = buf.transfer();
    assert_eq!(moved.as_slice().unwrap().as_ptr(), at);
    let back = moved.into_vec().unwrap();
    assert_eq!(back.as_ptr(), at);
    assert_eq!(back.capacity(), 100);
    assert_eq!(back, b"abc");
    assert_eq!(buf.into_vec(), Err(Detached));
}

#[test]
fn into_vec_copies_aligned_buffers() {
    let mut buf = TransferBuf::zeroed(5);
    buf.copy_from_slice(b"12345");
    assert_eq!(buf.into_vec().unwrap(), b"12345");
}

#[test]
fn transfer_moves_the_handle_only() {
    let mut buf = TransferBuf::zeroed(1 << 20);
    let at = buf.as_slice().unwrap().as_ptr();
    let moved = buf.transfer();
    assert_eq!(moved.as_slice().unwrap().as_ptr(), at);
    assert_eq!(moved.len(), 1 << 20);
}

#[test]
fn detached_state() {
    let mut buf = TransferBuf::from_vec(vec![1, 2, 3]);
    let _moved = buf.transfer();
    assert_detached(&mut buf);
    assert_eq!(buf.into_vec(), Err(Detached));
}

#[test]
fn detached_into_descriptor_hands_buffer_back() {
    let mut buf = TransferBuf::zeroed(4);
    let _moved = buf.transfer();
    let mut back = buf.into_descriptor().unwrap_err();
    assert_detached(&mut back);
}

#[test]
#[should_panic(expected = "TransferBuf was transferred")]
fn detached_deref_panics() {
    let mut buf = TransferBuf::zeroed(4);
    let _moved = buf.transfer();
    let _ = buf[0];
}

#[test]
#[should_panic(expected = "TransferBuf was transferred")]
fn detached_deref_mut_panics() {
    let mut buf = TransferBuf::zeroed(4);
    let _moved = buf.transfer();
    buf[0] = 1;
}

#[test]
fn transferred_twice() {
    // Transferring a detached buffer yields another detached buffer.
    let mut a = TransferBuf::from_vec(vec![5; 10]);
    let mut b = a.transfer();
    let mut again = a.transfer();
    assert_detached(&mut a);
    assert_detached(&mut again);

    // A chain of transfers keeps the bytes and detaches each hop.
    let c = b.transfer();
    assert_detached(&mut b);
    assert_eq!(c.as_slice().unwrap(), &[5; 10]);
}

#[test]
fn transfer_to_worker_thread() {
    let (tx, rx) = mpsc::channel::<TransferBuf>();
    let worker = thread::spawn(move || {
        let buf = rx.recv().unwrap();
        buf.iter().map(|&b| u64::from(b)).sum::<u64>()
    });
    let mut buf = TransferBuf::from_vec(vec![3; 1000]);
    tx.send(buf.transfer()).unwrap();
    assert_detached(&mut buf);
    assert_eq!(worker.join().unwrap(), 3000);
}

#[test]
fn zero_sized() {
    // An empty buffer is attached, not detached.
    let mut buf = TransferBuf::zeroed(0);
    assert!(!buf.is_detached());
    assert_eq!(buf.as_slice(), Ok(&[][..]));
    let mut moved = buf.transfer();
    assert!(buf.is_detached());
    assert_eq!(moved.as_mut_slice(), Ok(&mut [][..]));

    // A pool of empty buffers still counts them out and back.
    let pool = BufPool::new(2, 0).unwrap();
    let a = pool.try_loan().unwrap();
    let b = pool.try_loan().unwrap();
    assert_eq!((a.len(), b.len()), (0, 0));
    assert_eq!(pool.try_loan().unwrap_err(), LoanError::Empty);
    drop((a, b));
    assert_eq!(pool.available(), 2);
}

#[test]
fn zero_capacity() {
    assert_eq!(BufPool::new(0, 64).unwrap_err(), ZeroCapacity);
    assert_eq!(BufPool::new(0, 0).unwrap_err(), ZeroCapacity);
}

#[test]
fn capacity() {
    let pool = BufPool::new(3, 100).unwrap();
    assert_eq!(pool.capacity(), 3);
    assert_eq!(pool.buf_len(), 100);
    let bufs: Vec<_> = (0..3).map(|_| pool.try_loan().unwrap()).collect();
    assert!(bufs.iter().all(|b| b.len() == 100));
    assert!(format!("{pool:?}").contains("capacity: 3"));
}

#[test]
fn pool_buffers_are_aligned_and_disjoint() {
    let pool = BufPool::new(4, 100).unwrap();
    let mut bufs: Vec<_> = (0..4).map(|_| pool.try_loan().unwrap()).collect();
    for (i, buf) in bufs.iter_mut().enumerate() {
        assert_eq!(
            buf.as_slice().unwrap().as_ptr() as usize % TransferBuf::ALIGN,
            0
        );
        buf.fill(i as u8 + 1);
    }
    for (i, buf) in bufs.iter().enumerate() {
        assert!(
            buf.iter().all(|&b| b == i as u8 + 1),
            "slot {i} overwritten"
        );
    }
    let mut indices: Vec<_> = bufs.iter().map(|b| b.descriptor().unwrap().index).collect();
    indices.sort_unstable();
    assert_eq!(indices, [0, 1, 2, 3]);
}

#[test]
fn len_empty_full() {
    let pool = BufPool::new(2, 8).unwrap();
    assert_eq!(pool.available(), 2);
    let a = pool.try_loan().unwrap();
    assert_eq!(pool.available(), 1);
    let b = pool.try_loan().unwrap();
    assert_eq!(pool.available(), 0);
    drop(a);
    assert_eq!(pool.available(), 1);
    drop(b);
    assert_eq!(pool.available(), 2);
}

#[test]
fn pool_exhausted_then_refilled() {
    let pool = BufPool::new(3, 32).unwrap();
    for _round in 0..3 {
        let held: Vec<_> = (0..3).map(|_| pool.try_loan().unwrap()).collect();
        assert_eq!(pool.try_loan().unwrap_err(), LoanError::Empty);
        assert_eq!(
            pool.loan_timeout(Duration::ZERO).unwrap_err(),
            LoanError::Empty
        );
        drop(held);
        assert_eq!(pool.available(), 3);
    }
}

#[test]
fn loaned_buffer_keeps_last_owners_bytes() {
    let pool = BufPool::new(1, 4).unwrap();
    let mut buf = pool.try_loan().unwrap();
    assert_eq!(buf.as_slice().unwrap(), &[0; 4]);
    buf.copy_from_slice(b"left");
    drop(buf);
    assert_eq!(pool.try_loan().unwrap().as_slice().unwrap(), b"left");
}

#[test]
fn returned_from_another_thread() {
    let pool = BufPool::new(1, 64).unwrap();
    let mut buf = pool.try_loan().unwrap();
    buf[0] = 9;
    let seen = thread::spawn(move || buf[0]).join().unwrap();
    assert_eq!(seen, 9);
    assert_eq!(pool.available(), 1);
    assert_eq!(pool.try_loan().unwrap()[0], 9);
}

#[test]
fn pool_transfer_keeps_the_slot() {
    let pool = BufPool::new(1, 8).unwrap();
    let mut buf = pool.try_loan().unwrap();
    let id = buf.descriptor().unwrap();
    let moved = buf.transfer();
    assert_detached(&mut buf);
    drop(buf);
    assert_eq!(pool.available(), 0, "a detached handle returns nothing");
    assert_eq!(moved.descriptor(), Some(id));
    drop(moved);
    assert_eq!(pool.available(), 1);
}

#[test]
fn pool_into_vec_copies_and_returns_the_slot() {
    let pool = BufPool::new(1, 3).unwrap();
    let mut buf = pool.try_loan().unwrap();
    buf.copy_from_slice(b"xyz");
    assert_eq!(buf.into_vec().unwrap(), b"xyz");
    assert_eq!(pool.available(), 1);
}

#[test]
fn blocking_loan_waits_for_a_return() {
    let pool = BufPool::new(1, 8).unwrap();
    let held = pool.loan();
    let returned = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            thread::sleep(Duration::from_millis(20));
            returned.store(true, Release);
            drop(held);
        });
        let buf = pool.loan();
        assert!(returned.load(Acquire), "loaned before the return");
        assert_eq!(buf.len(), 8);
    });
}

#[test]
fn loan_timeout_is_never_early() {
    let pool = BufPool::new(1, 8).unwrap();
    let _held = pool.try_loan().unwrap();
    for ms in [0u64, 1, 10] {
        let timeout = Duration::from_millis(ms);
        let start = Instant::now();
        assert_eq!(pool.loan_timeout(timeout).unwrap_err(), LoanError::Empty);
        assert!(
            start.elapsed() >= timeout,
            "gave up after {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn loan_timeout_gets_a_returned_buffer() {
    let pool = BufPool::new(1, 8).unwrap();
    let held = pool.try_loan().unwrap();
    thread::scope(|s| {
        s.spawn(move || {
            thread::sleep(Duration::from_millis(10));
            drop(held);
        });
        assert!(pool.loan_timeout(Duration::from_secs(60)).is_ok());
    });
}

#[test]
fn pool_dropped_while_loaned() {
    let pool = BufPool::new(2, 16).unwrap();
    let mut a = pool.try_loan().unwrap();
    let b = pool.clone().try_loan().unwrap();
    assert_eq!(pool.try_loan().unwrap_err(), LoanError::Empty);
    drop(pool);

    // The buffers outlive every handle and keep working; Miri's leak check
    // proves the memory is freed with the last of them.
    a.fill(0xAB);
    let worker = thread::spawn(move || {
        let sum: u32 = a.iter().map(|&x| u32::from(x)).sum();
        drop(a);
        sum
    });
    assert_eq!(worker.join().unwrap(), 16 * 0xAB);
    assert_eq!(b.len(), 16);
    drop(b);
}

#[test]
fn pool_dropped_with_a_descriptor_out() {
    let pool = BufPool::new(1, 16).unwrap();
    let id = pool.try_loan().unwrap().into_descriptor().unwrap();
    assert_eq!(id.index, 0);
    drop(pool);
    // The unredeemed slot's memory went with the pool; nothing leaks.
}

#[test]
fn descriptor_round_trip_across_threads() {
    let pool = BufPool::new(2, 32).unwrap();
    let mut buf = pool.try_loan().unwrap();
    buf.fill(0x5A);
    let id = buf.into_descriptor().unwrap();
    assert_eq!(pool.available(), 1);
    assert_eq!(pool.check(id), Ok(()));

    // Plain data: through bytes, as another process would read it.
    let bytes: [u8; 16] = bytemuck::cast(id);
    let remote = pool.clone();
    let sum = thread::spawn(move || {
        let id: Descriptor = bytemuck::cast(bytes);
        let buf = remote.redeem(id).unwrap();
        buf.iter().map(|&b| u32::from(b)).sum::<u32>()
    })
    .join()
    .unwrap();
    assert_eq!(sum, 32 * 0x5A);
    assert_eq!(pool.available(), 2);
}

#[test]
fn duplicate_descriptor_is_refused() {
    let pool = BufPool::new(1, 8).unwrap();
    let id = pool.try_loan().unwrap().into_descriptor().unwrap();
    let buf = pool.redeem(id).unwrap();
    assert_eq!(pool.check(id), Err(DescriptorError::InUse));
    assert_eq!(pool.redeem(id).unwrap_err(), DescriptorError::InUse);

    // A descriptor peeked from a buffer that still holds the slot.
    let peeked = buf.descriptor().unwrap();
    assert_eq!(peeked, id);
    assert_eq!(pool.redeem(peeked).unwrap_err(), DescriptorError::InUse);
    drop(buf);
    assert_eq!(pool.available(), 1);
}

#[test]
fn stale_descriptor_is_refused() {
    let pool = BufPool::new(1, 8).unwrap();
    let old = pool.try_loan().unwrap().into_descriptor().unwrap();
    drop(pool.redeem(old).unwrap());
    assert_eq!(pool.redeem(old).unwrap_err(), DescriptorError::Stale);

    // The slot's next loan has a new generation; the old one stays stale.
    let current = pool.try_loan().unwrap().into_descriptor().unwrap();
    assert_eq!(current.index, old.index);
    assert_ne!(current.generation, old.generation);
    assert_eq!(pool.check(old), Err(DescriptorError::Stale));
    assert_eq!(pool.redeem(old).unwrap_err(), DescriptorError::Stale);
    assert!(pool.redeem(current).is_ok());
}

#[test]
fn kept_copy_of_a_resent_descriptor_is_stale() {
    // A redeems and sends the slot on; a copy of the first descriptor kept
    // by someone must not take the second hand-over.
    let pool = BufPool::new(1, 8).unwrap();
    let first = pool.try_loan().unwrap().into_descriptor().unwrap();
    let second = pool.redeem(first).unwrap().into_descriptor().unwrap();
    assert_ne!(first, second);
    assert_eq!(pool.redeem(first).unwrap_err(), DescriptorError::Stale);
    assert!(pool.redeem(second).is_ok());
}

#[test]
fn forged_descriptors_are_refused() {
    let pool = BufPool::new(2, 8).unwrap();
    let other = BufPool::new(2, 8).unwrap();
    let id = pool.try_loan().unwrap().into_descriptor().unwrap();

    assert_eq!(other.redeem(id).unwrap_err(), DescriptorError::WrongPool);
    let far = Descriptor { index: 2, ..id };
    assert_eq!(pool.redeem(far).unwrap_err(), DescriptorError::OutOfRange);
    let future = Descriptor {
        generation: id.generation + 1,
        ..id
    };
    assert_eq!(pool.redeem(future).unwrap_err(), DescriptorError::Stale);
    let huge = Descriptor {
        generation: u64::MAX,
        ..id
    };
    assert_eq!(pool.redeem(huge).unwrap_err(), DescriptorError::Stale);
    let free_slot = Descriptor {
        index: 1 - id.index,
        ..id
    };
    assert_eq!(pool.redeem(free_slot).unwrap_err(), DescriptorError::Stale);

    // None of that changed anything: the real one still works once.
    assert!(pool.redeem(id).is_ok());
}

#[test]
fn plain_buffers_have_no_descriptor() {
    let buf = TransferBuf::zeroed(8);
    assert_eq!(buf.descriptor(), None);
    let back = buf.into_descriptor().unwrap_err();
    assert_eq!(back.len(), 8, "handed back unchanged");
}

#[test]
fn descriptor_is_plain_data() {
    assert_eq!(std::mem::size_of::<Descriptor>(), 16);
    let d: Descriptor = bytemuck::Zeroable::zeroed();
    assert_eq!(
        d,
        Descriptor {
            pool: 0,
            index: 0,
            generation: 0
        }
    );
}

#[test]
fn drops() {
    // Every kind of buffer frees or returns its bytes exactly once; Miri's
    // leak and double-free checks see the rest.
    let pool = BufPool::new(2, 64).unwrap();
    let mut bufs = vec![
        TransferBuf::zeroed(100),
        TransferBuf::zeroed(0),
        TransferBuf::from_vec(vec![1; 10]),
        TransferBuf::from_vec(Vec::new()),
        pool.try_loan().unwrap(),
    ];
    let moved: Vec<_> = bufs.iter_mut().map(TransferBuf::transfer).collect();
    drop(bufs);
    assert_eq!(pool.available(), 1);
    drop(moved);
    assert_eq!(pool.available(), 2);
}

#[test]
fn spsc() {
    // One thread loans and sends, another checks and returns.
    let pool = BufPool::new(4, 64).unwrap();
    let (tx, rx) = mpsc::sync_channel::<TransferBuf>(4);
    let n = scaled(20_000);
    thread::scope(|s| {
        s.spawn(|| {
            for i in 0..n {
                let mut buf = pool.loan();
                buf.fill(i as u8);
                tx.send(buf).unwrap();
            }
            drop(tx);
        });
        let mut count = 0;
        while let Ok(buf) = rx.recv() {
            assert!(buf.iter().all(|&b| b == count as u8));
            count += 1;
        }
        assert_eq!(count, n);
    });
    assert_eq!(pool.available(), 4);
}

#[test]
fn mpmc() {
    // Threads loan and return concurrently; each slot has an owner flag that
    // a second owner would find already set.
    const SLOTS: usize = 3;
    let pool = BufPool::new(SLOTS, 16).unwrap();
    let owned: Vec<AtomicBool> = (0..SLOTS).map(|_| AtomicBool::new(false)).collect();
    let loans = AtomicUsize::new(0);
    let threads = 4;
    let n = scaled(20_000);
    let start = Barrier::new(threads);
    thread::scope(|s| {
        for t in 0..threads {
            let (pool, owned, loans, start) = (&pool, &owned, &loans, &start);
            s.spawn(move || {
                start.wait();
                for i in 0..n {
                    let buf = if i % 2 == 0 {
                        pool.loan()
                    } else {
                        match pool.try_loan() {
                            Ok(buf) => buf,
                            Err(LoanError::Empty) => continue,
                        }
                    };
                    let slot = buf.descriptor().unwrap().index as usize;
                    assert!(!owned[slot].swap(true, AcqRel), "slot {slot} owned twice");
                    let mut buf = buf;
                    buf.fill(t as u8);
                    assert!(buf.iter().all(|&b| b == t as u8));
                    owned[slot].store(false, Release);
                    loans.fetch_add(1, Relaxed);
                }
            });
        }
    });
    assert!(loans.load(Relaxed) >= n * threads / 2);
    assert_eq!(pool.available(), SLOTS);
}

#[test]
fn closed() {
    // The pool's "other side gone": every handle dropped with a buffer out,
    // which keeps working and is freed alone.
    let pool = BufPool::new(1, 8).unwrap();
    let mut buf = pool.try_loan().unwrap();
    drop(pool);
    buf[7] = 1;
    let moved = buf.transfer();
    assert_eq!(moved[7], 1);
    assert_eq!(moved.descriptor().map(|d| d.index), Some(0));
}

#[test]
fn errors_display_and_compare() {
    assert_eq!(
        Detached.to_string(),
        "buffer is detached: its bytes were transferred"
    );
    assert_eq!(format!("{Detached:?}"), "Detached");
    assert_eq!(LoanError::Empty.to_string(), "loan from an empty pool");
    assert_eq!(format!("{:?}", LoanError::Empty), "Empty");
    let all = [
        (
            DescriptorError::WrongPool,
            "descriptor belongs to another pool",
        ),
        (
            DescriptorError::OutOfRange,
            "descriptor index is out of range",
        ),
        (
            DescriptorError::Stale,
            "descriptor generation does not match its slot",
        ),
        (
            DescriptorError::InUse,
            "descriptor names a buffer that is in use",
        ),
    ];
    for (i, (e, text)) in all.iter().enumerate() {
        assert_eq!(e.to_string(), *text);
        assert!(!text.ends_with('.') && text.chars().next().unwrap().is_lowercase());
        for (j, (f, _)) in all.iter().enumerate() {
            assert_eq!(i == j, e == f);
        }
    }
    assert_eq!(format!("{:?}", DescriptorError::InUse), "InUse");
    let _: &dyn std::error::Error = &Detached;
    let _: &dyn std::error::Error = &LoanError::Empty;
    let _: &dyn std::error::Error = &DescriptorError::Stale;
}

#[test]
fn debug_never_shows_bytes() {
    let buf = TransferBuf::from_vec(vec![0x42; 1000]);
    let text = format!("{buf:?}");
    assert!(text.contains("len: 1000"), "{text}");
    assert!(!text.contains("66"), "{text}");
    let pool = BufPool::new(1, 8).unwrap();
    let loaned = pool.try_loan().unwrap();
    assert!(format!("{loaned:?}").contains("slot: 0"));
    assert!(format!("{pool:?}").contains("available: 0"));
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<TransferBuf>();
    send_sync::<BufPool>();
    send_sync::<Descriptor>();
}
