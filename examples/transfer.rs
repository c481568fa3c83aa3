//! A 10 MiB buffer handed to a worker thread without a copy: the sender's
//! handle is detached afterwards, like a transferred `ArrayBuffer`.
//!
//! `cargo run --release --example transfer`

fn main() {
    #[cfg(not(feature = "loom"))]
    demo::main();
    #[cfg(feature = "loom")]
    eprintln!("examples run on real threads: build them without --features loom");
}

#[cfg(not(feature = "loom"))]
mod demo {

    use std::thread;
    use std::time::Instant;

    use handoff::spsc;
    use handoff::transfer::TransferBuf;

    const LEN: usize = 10 << 20;

    pub fn main() {
        // Fill a buffer with a pattern whose checksum we know.
        let mut buf = TransferBuf::zeroed(LEN);
        for (i, byte) in buf.as_mut_slice().unwrap().iter_mut().enumerate() {
            *byte = i as u8;
        }
        let expected = checksum(buf.as_slice().unwrap());
        println!("before: sender holds {} bytes", buf.len());

        // A worker that sums whatever it is sent.
        let (mut tx, mut rx) = spsc::channel::<TransferBuf>(1).expect("capacity 1");
        let worker = thread::spawn(move || {
            let buf = rx.pop().expect("the sender pushes once");
            (buf.len(), checksum(buf.as_slice().unwrap()))
        });

        // Hand the bytes over: O(1), whatever the length.
        let start = Instant::now();
        let moved = buf.transfer();
        let transfer_time = start.elapsed();
        tx.push(moved).expect("the worker is alive");

        // The sender's handle is detached now.
        println!("after:  sender holds {} bytes", buf.len());
        println!("        is_detached() = {}", buf.is_detached());
        match buf.as_slice() {
            Ok(_) => unreachable!("a transferred buffer has no bytes"),
            Err(e) => println!("        as_slice() = Err({e:?}): {e}"),
        }

        // The worker got every byte.
        let (len, sum) = worker.join().unwrap();
        println!("worker: received {len} bytes, checksum {sum:#018x}");
        assert_eq!((len, sum), (LEN, expected));

        // What the transfer saved: copying the same bytes.
        let source = vec![7u8; LEN];
        let start = Instant::now();
        let copy = source.clone();
        let copy_time = start.elapsed();
        std::hint::black_box(&copy);
        println!("time:   transfer {transfer_time:?}, copy (Vec::clone) {copy_time:?}");
    }

    /// A position-sensitive checksum (FNV-1a over the bytes).
    fn checksum(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}
