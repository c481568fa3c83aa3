//! Corrupted and truncated region files: random bytes over every header
//! field, the role table, ring indices, sequence and state words, and random
//! truncation. Opening or using such a region returns errors (or wrong
//! values), never panics or reads out of bounds.
//!
//! The same header checks run under Miri on heap regions in the library's
//! unit tests (`src/shm/tests.rs`); this file needs real files.
#![cfg(not(feature = "loom"))]
#![cfg(all(target_os = "linux", not(miri)))]

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use proptest::prelude::*;

use handoff::shm::mpmc::Mpmc;
use handoff::shm::pool::{Descriptor, Pool};
use handoff::shm::spsc::Spsc;
use handoff::shm::{remove, ShmError};

/// Header fields as (offset, length), in the order the format stores them:
/// magic, version, kind, element size, element alignment, tag, capacity,
/// extra, total length, state word.
const FIELDS: [(u64, usize); 10] = [
    (0, 8),
    (8, 4),
    (12, 4),
    (16, 8),
    (24, 8),
    (32, 8),
    (40, 8),
    (48, 8),
    (56, 8),
    (64, 4),
];
/// Index of the capacity field: some other capacities give the very same
/// layout and so a valid header.
const CAPACITY_FIELD: usize = 6;
/// Start of the role table and the end of the control lines.
const ROLES: u64 = 256;
const CONTROL_END: u64 = 1024;
const SHORT: Duration = Duration::from_millis(1);

struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Relaxed);
        TempPath(
            std::env::temp_dir().join(format!("handoff-shmc-{}-{name}-{n}", std::process::id())),
        )
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = remove(&self.0);
    }
}

fn write_bytes(path: &Path, offset: u64, bytes: &[u8]) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(bytes, offset).unwrap();
}

fn read_bytes(path: &Path, offset: u64, n: usize) -> Vec<u8> {
    let file = std::fs::File::open(path).unwrap();
    let mut out = vec![0; n];
    file.read_exact_at(&mut out, offset).unwrap();
    out
}

/// Uses an SPSC ring every way there is, accepting any outcome but a panic.
fn exercise_spsc(ring: &Spsc<u64>) {
    if let Ok(mut tx) = ring.producer() {
        for i in 0..3 {
            let _ = tx.try_push(i);
        }
        let _ = tx.push_timeout(9, SHORT);
    }
    if let Ok(mut rx) = ring.consumer() {
        for _ in 0..3 {
            let _ = rx.try_pop();
        }
        let _ = rx.pop_timeout(SHORT);
    }
}

/// Writes `value` over header field `field`, then opens: an error, unless
/// the field is the capacity and the value keeps the layout.
fn header_field_case(field: usize, value: Vec<u8>) {
    let path = TempPath::new("field");
    drop(Spsc::<u64>::create(&path.0, 5, 7).unwrap());
    let (offset, len) = FIELDS[field];
    let value = &value[..len];
    if read_bytes(&path.0, offset, len) == value {
        return;
    }
    write_bytes(&path.0, offset, value);
    match Spsc::<u64>::open(&path.0, 7) {
        Err(_) => {}
        Ok(ring) => {
            assert_eq!(field, CAPACITY_FIELD, "a changed field went unnoticed");
            exercise_spsc(&ring);
        }
    }
}

/// Writes random bytes anywhere in the first kilobyte (header, role table,
/// indices, notifiers) of a ring in use, then keeps using it.
fn scribble_case(kind: u8, offset: u64, bytes: Vec<u8>) {
    let path = TempPath::new("scribble");
    match kind % 3 {
        0 => {
            let ring = Spsc::<u64>::create(&path.0, 4, 0).unwrap();
            let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
            tx.try_push(1).unwrap();
            write_bytes(&path.0, offset, &bytes);
            let _ = tx.try_push(2);
            let _ = tx.push_timeout(3, SHORT);
            let _ = rx.try_pop();
            let _ = rx.pop_timeout(SHORT);
            drop((tx, rx));
            if let Ok(again) = Spsc::<u64>::open(&path.0, 0) {
                exercise_spsc(&again);
            }
        }
        1 => {
            let ring = Mpmc::<u64>::create(&path.0, 3, 0).unwrap();
            let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
            tx.try_push(1).unwrap();
            write_bytes(&path.0, offset, &bytes);
            for i in 0..4 {
                let _ = tx.try_push(i);
                let _ = rx.try_pop();
            }
            let _ = tx.push_timeout(5, SHORT);
            let _ = rx.pop_timeout(SHORT);
            if let Ok(again) = Mpmc::<u64>::open(&path.0, 0) {
                let _ = again.producer().map(|p| p.try_push(1));
                let _ = again.consumer().map(|c| c.try_pop());
            }
        }
        _ => {
            let pool = Pool::create(&path.0, 3, 100).unwrap();
            let sent = pool.try_loan().unwrap().into_descriptor();
            write_bytes(&path.0, offset, &bytes);
            exercise_pool(&pool, sent);
            if let Ok(again) = Pool::open(&path.0) {
                exercise_pool(&again, sent);
            }
        }
    }
}

fn exercise_pool(pool: &Pool, sent: Descriptor) {
    let _ = pool.redeem(sent);
    let held: Vec<_> = std::iter::from_fn(|| pool.try_loan().ok())
        .take(4)
        .collect();
    for mut b in held {
        b.write_at(0, &vec![1; b.len()]);
        let d = b.into_descriptor();
        if let Ok(r) = pool.redeem(d) {
            let mut out = vec![0; r.len()];
            r.read_at(0, &mut out);
        }
    }
    let _ = pool.loan_timeout(SHORT);
}

/// Writes random 64-bit words over the data area's stamps or state words.
fn data_words_case(mpmc: bool, words: Vec<(u8, u64)>) {
    let path = TempPath::new("words");
    if mpmc {
        let ring = Mpmc::<u64>::create(&path.0, 4, 0).unwrap();
        let (tx, rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
        for (slot, w) in words {
            // Slot i's stamp: 16-byte slots from the data area.
            write_bytes(
                &path.0,
                CONTROL_END + 16 * u64::from(slot % 4),
                &w.to_ne_bytes(),
            );
        }
        for i in 0..6 {
            let _ = tx.try_push(i);
            let _ = rx.try_pop();
        }
    } else {
        let pool = Pool::create(&path.0, 4, 64).unwrap();
        for (slot, w) in &words {
            write_bytes(
                &path.0,
                CONTROL_END + 8 * u64::from(slot % 4),
                &w.to_ne_bytes(),
            );
        }
        for (slot, w) in words {
            let d = Descriptor {
                index: u32::from(slot),
                generation: (w >> 32) as u32,
            };
            assert!(matches!(pool.redeem(d), Ok(_) | Err(ShmError::Stale)));
        }
        exercise_pool(&pool, Descriptor::default());
    }
}

/// Truncates (or extends) a region's file to `len` bytes before opening.
fn truncated_case(kind: u8, len: u64) {
    let path = TempPath::new("trunc");
    let total = match kind % 3 {
        0 => {
            drop(Spsc::<u64>::create(&path.0, 64, 0).unwrap());
            CONTROL_END + 64 * 8
        }
        1 => {
            drop(Mpmc::<u64>::create(&path.0, 64, 0).unwrap());
            CONTROL_END + 64 * 16
        }
        _ => {
            drop(Pool::create(&path.0, 2, 256).unwrap());
            CONTROL_END + 128 + 2 * 256
        }
    };
    assert_eq!(std::fs::metadata(&path.0).unwrap().len(), total);
    let len = len % (total + 64);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path.0)
        .unwrap();
    file.set_len(len).unwrap();
    let opened = match kind % 3 {
        0 => Spsc::<u64>::open(&path.0, 0).map(|r| exercise_spsc(&r)),
        1 => Mpmc::<u64>::open(&path.0, 0).map(drop),
        _ => Pool::open(&path.0).map(drop),
    };
    if len < total {
        assert!(opened.is_err(), "opened a file of {len} < {total} bytes");
    } else {
        opened.unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn header_fields(field in 0..FIELDS.len(), value in prop::collection::vec(any::<u8>(), 8)) {
        header_field_case(field, value);
    }

    #[test]
    fn scribbled_control_area(
        kind in any::<u8>(),
        offset in 0..CONTROL_END,
        bytes in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        scribble_case(kind, offset, bytes);
    }

    #[test]
    fn scribbled_role_table(kind in any::<u8>(), offset in ROLES..ROLES + 256, byte in any::<u8>()) {
        scribble_case(kind, offset, vec![byte; 4]);
    }

    #[test]
    fn random_sequence_and_state_words(
        mpmc in any::<bool>(),
        words in prop::collection::vec((any::<u8>(), any::<u64>()), 1..6),
    ) {
        data_words_case(mpmc, words);
    }

    #[test]
    fn truncated_files(kind in any::<u8>(), len in any::<u64>()) {
        truncated_case(kind, len);
    }
}

#[test]
fn known_header_errors() {
    let path = TempPath::new("known");
    drop(Spsc::<u64>::create(&path.0, 4, 0).unwrap());
    let original = read_bytes(&path.0, 0, 72);
    let cases: [(u64, &[u8], ShmError); 4] = [
        (64, &[0, 0, 0, 0], ShmError::NotReady),
        (0, b"XXXXXXXX", ShmError::NotARegion),
        (8, &[2, 0, 0, 0], ShmError::Version(2)),
        (56, &[1, 0, 0, 0, 0, 0, 0, 0], ShmError::Corrupt("length")),
    ];
    for (offset, bytes, expected) in cases {
        write_bytes(&path.0, 0, &original);
        write_bytes(&path.0, offset, bytes);
        assert_eq!(Spsc::<u64>::open(&path.0, 0).unwrap_err(), expected);
    }
    write_bytes(&path.0, 0, &original);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path.0)
        .unwrap()
        .set_len(1000)
        .unwrap();
    assert_eq!(
        Spsc::<u64>::open(&path.0, 0).unwrap_err(),
        ShmError::Truncated
    );
}

#[test]
fn corrupt_indices_close_the_ring() {
    let path = TempPath::new("indices");
    let ring = Spsc::<u64>::create(&path.0, 4, 0).unwrap();
    let (mut tx, mut rx) = (ring.producer().unwrap(), ring.consumer().unwrap());
    // The producer's index jumps far ahead: the consumer refuses it.
    write_bytes(&path.0, 640, &1000u64.to_ne_bytes());
    assert_eq!(rx.try_pop(), Err(handoff::error::PopError::Closed));
    // The consumer's index runs past the producer's: the producer refuses it.
    for _ in 0..4 {
        let _ = tx.try_push(1);
    }
    write_bytes(&path.0, 512, &u64::MAX.to_ne_bytes());
    assert!(tx.try_push(1).is_err());
    assert!(tx.push_timeout(1, SHORT).unwrap_err().is_closed());
}
