//! Header and index corruption on regions reached through the crate's own
//! view, so it runs under Miri too (heap regions there). The file-based
//! version, with truncation, is `tests/shm_corrupt.rs`.

use std::path::PathBuf;

use proptest::prelude::*;

use super::layout::{Fingerprint, Kind};
use super::mpmc::Mpmc;
use super::region::Region;
use super::spsc::Spsc;
use super::{remove, ShmError};
use crate::sync::atomic::AtomicUsize;
use crate::sync::atomic::Ordering::Relaxed;

fn fresh_path() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Relaxed);
    let dir = if cfg!(miri) {
        PathBuf::from("/miri")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("handoff-shmu-{}-{n}", std::process::id()))
}

/// Overwrites `bytes.len()` bytes at `offset` of a live region.
fn scribble(region: &Region, offset: u64, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        let p = region.ptr::<u8>(offset + i as u64);
        // SAFETY: in bounds (checked by `ptr`); the region is shared memory
        // reached through a raw pointer, as a hostile peer would.
        unsafe { core::ptr::write_volatile(p, *b) };
    }
}

const SPSC: Fingerprint = Fingerprint {
    kind: Kind::Spsc,
    elem_size: 8,
    elem_align: 8,
    tag: 3,
    capacity: 5,
    extra: 0,
};

/// Scribbles over the header (and beyond), then opens and uses the ring:
/// errors or wrong values, never a panic.
fn header_case(offset: u64, bytes: Vec<u8>) {
    let path = fresh_path();
    let region = Region::create(&path, SPSC, |_| {}).unwrap();
    scribble(&region, offset, &bytes);
    if let Ok(ring) = Spsc::<u64>::open(&path, 3) {
        if let Ok(mut tx) = ring.producer() {
            let _ = tx.try_push(1);
        }
        if let Ok(mut rx) = ring.consumer() {
            let _ = rx.try_pop();
        }
    }
    remove(&path).unwrap();
}

/// Random words over the ring indices of rings in use.
fn index_case(head: u64, tail: u64, stamp: u64) {
    let path = fresh_path();
    let ring = Spsc::<u64>::create(&path, 4, 0).unwrap();
    let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    let _ = tx.try_push(1);
    let region = Region::open(&path, Kind::Spsc, 8, 8, 0).unwrap();
    scribble(&region, super::layout::line(0), &head.to_ne_bytes());
    scribble(&region, super::layout::line(1), &tail.to_ne_bytes());
    for i in 0..6 {
        let _ = tx.try_push(i);
        let _ = rx.try_pop();
        assert!(tx.len() <= 4 && rx.len() <= 4);
        let _ = (tx.is_closed(), rx.is_closed());
    }
    remove(&path).unwrap();

    let path = fresh_path();
    let ring = Mpmc::<u64>::create(&path, 3, 0).unwrap();
    let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    let region = Region::open(&path, Kind::Mpmc, 8, 8, 0).unwrap();
    let data = region.layout().data_off;
    scribble(&region, super::layout::line(0), &head.to_ne_bytes());
    scribble(&region, data + 16 * (stamp % 3), &stamp.to_ne_bytes());
    for i in 0..5 {
        let _ = tx.try_push(i);
        let _ = rx.try_pop();
        assert!(tx.len() <= 3 && rx.len() <= 3);
        let _ = (tx.is_closed(), rx.is_closed());
    }
    remove(&path).unwrap();
}

#[test]
fn impossible_index_closes_the_spsc_ring() {
    let path = fresh_path();
    let ring = Spsc::<u64>::create(&path, 4, 0).unwrap();
    let (mut tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    tx.try_push(1).unwrap();
    assert_eq!((tx.len(), tx.is_closed()), (1, false));
    // A head 100 behind the tail: more elements than the capacity.
    let region = Region::open(&path, Kind::Spsc, 8, 8, 0).unwrap();
    let head = 1u64.wrapping_sub(100);
    scribble(&region, super::layout::line(0), &head.to_ne_bytes());
    assert_eq!(tx.len(), 0);
    assert!(tx.is_closed());
    assert!(tx.try_push(2).unwrap_err().is_closed());
    drop(rx);
    remove(&path).unwrap();
}

/// Few cases under Miri, and no failure file (Miri's isolation forbids it).
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 });
    if cfg!(miri) {
        config.failure_persistence = None;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn scribbled_header(offset in 0u64..1024, bytes in prop::collection::vec(any::<u8>(), 1..16)) {
        header_case(offset, bytes);
    }

    #[test]
    fn scribbled_indices(head in any::<u64>(), tail in any::<u64>(), stamp in any::<u64>()) {
        index_case(head, tail, stamp);
    }
}

#[test]
fn every_header_field_is_checked() {
    // (offset, a wrong value, the error): magic, version, kind, element
    // size, alignment, tag, extra, length, state.
    let cases: [(u64, u64, ShmError); 9] = [
        (0, 1, ShmError::NotARegion),
        (8, 2, ShmError::Version(2)),
        (12, 9, ShmError::Mismatch("kind")),
        (16, 4, ShmError::Mismatch("element size")),
        (24, 4, ShmError::Mismatch("element alignment")),
        (32, 4, ShmError::Mismatch("type tag")),
        (48, 1, ShmError::Corrupt("size")),
        (56, 8, ShmError::Corrupt("length")),
        (64, 0, ShmError::NotReady),
    ];
    for (offset, value, expected) in cases {
        let path = fresh_path();
        let region = Region::create(&path, SPSC, |_| {}).unwrap();
        let width = if matches!(offset, 8 | 12 | 64) { 4 } else { 8 };
        scribble(&region, offset, &value.to_ne_bytes()[..width]);
        let opened = Region::open(&path, Kind::Spsc, 8, 8, 3).map(drop);
        assert_eq!(opened, Err(expected), "field at {offset}");
        remove(&path).unwrap();
    }
}

#[cfg(miri)]
#[test]
fn truncated_heap_regions_are_refused() {
    use super::region::heap;
    let total = super::layout::Layout::compute(SPSC).unwrap().total as usize;
    for len in [0, 100, 255, 256, 1024, total - 1, total] {
        let path = fresh_path();
        drop(Region::create(&path, SPSC, |_| {}).unwrap());
        heap::resize(&path, len);
        let opened = Region::open(&path, Kind::Spsc, 8, 8, 3);
        assert_eq!(opened.is_ok(), len == total, "{len}");
        remove(&path).unwrap();
    }
}
