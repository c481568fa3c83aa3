//! Two processes talking through shared regions, `child_process` style.
//!
//! The parent creates the regions, starts this same program again as a child,
//! streams 10 million values to it through a shared SPSC ring, then sends a
//! few large transfer buffers (zero-copy: only a descriptor crosses the ring)
//! and receives one back. Both sides compute checksums; the child reports its
//! own through a result ring and the parent prints both.
//!
//! Run with `cargo run --release --example ipc`.

fn main() {
    #[cfg(not(feature = "loom"))]
    demo::main();
    #[cfg(feature = "loom")]
    eprintln!("examples run on real threads: build them without --features loom");
}

#[cfg(not(feature = "loom"))]
mod demo {

    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::time::Instant;

    use handoff::shm::pool::{Descriptor, Pool};
    use handoff::shm::spsc::Spsc;

    const VALUES: u64 = 10_000_000;
    const BUFFERS: usize = 4;
    const BUFFER_SIZE: usize = 16 << 20;
    const CHILD_ENV: &str = "HANDOFF_IPC_CHILD";

    /// The regions both processes open, by suffix of one base path.
    fn path(base: &Path, suffix: &str) -> PathBuf {
        let mut p = base.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    }

    /// A checksum that depends on order: FNV-1a over the values' bytes.
    fn mix(hash: u64, value: u64) -> u64 {
        value.to_le_bytes().iter().fold(hash, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    const SEED: u64 = 0xcbf2_9ce4_8422_2325;

    /// The byte at `i` of buffer `n`.
    fn pattern(n: usize, i: usize) -> u8 {
        (i.wrapping_mul(31) ^ n) as u8
    }

    fn child(base: &Path) {
        let mut values = Spsc::<u64>::open(path(base, ".values"), 1)
            .unwrap()
            .consumer()
            .unwrap();
        let mut results = Spsc::<u64>::open(path(base, ".results"), 1)
            .unwrap()
            .producer()
            .unwrap();
        let pool = Pool::open(path(base, ".pool")).unwrap();
        let mut inbox = Spsc::<Descriptor>::open(path(base, ".to-child"), 2)
            .unwrap()
            .consumer()
            .unwrap();
        let mut outbox = Spsc::<Descriptor>::open(path(base, ".to-parent"), 2)
            .unwrap()
            .producer()
            .unwrap();

        // The values, until the parent closes the ring.
        let mut hash = SEED;
        while let Ok(v) = values.pop() {
            hash = mix(hash, v);
        }
        results.push(hash).unwrap();

        // The buffers: checksum each, then return it to the pool. The bytes are copied out
        // in chunks: a slice over the mapping would be a `&[u8]` to memory
        // the parent (or any process that maps the region) can still write.
        let mut buffers_hash = SEED;
        let mut chunk = vec![0u8; 64 << 10];
        while let Ok(d) = inbox.pop() {
            let got = pool.redeem(d).unwrap();
            for offset in (0..got.len()).step_by(chunk.len()) {
                let n = chunk.len().min(got.len() - offset);
                got.read_at(offset, &mut chunk[..n]);
                buffers_hash = chunk[..n]
                    .iter()
                    .fold(buffers_hash, |h, &b| mix(h, u64::from(b)));
            }
        }
        results.push(buffers_hash).unwrap();

        // One buffer back the other way.
        let mut reply = pool.loan();
        reply.write_at(0, &hash.to_le_bytes());
        outbox.push(reply.into_descriptor()).unwrap();
    }

    pub fn main() {
        if let Ok(base) = std::env::var(CHILD_ENV) {
            child(Path::new(&base));
            return;
        }

        // The regions, in memory-backed /dev/shm where there is one.
        let dir = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let base = dir.join(format!("handoff-ipc-{}", std::process::id()));
        let values = Spsc::<u64>::create(path(&base, ".values"), 1 << 14, 1).unwrap();
        let results = Spsc::<u64>::create(path(&base, ".results"), 4, 1).unwrap();
        let pool = Pool::create(path(&base, ".pool"), BUFFERS + 1, BUFFER_SIZE).unwrap();
        let to_child = Spsc::<Descriptor>::create(path(&base, ".to-child"), 4, 2).unwrap();
        let to_parent = Spsc::<Descriptor>::create(path(&base, ".to-parent"), 4, 2).unwrap();
        let (mut tx, mut rx) = (values.producer().unwrap(), results.consumer().unwrap());
        let (mut outbox, mut inbox) = (to_child.producer().unwrap(), to_parent.consumer().unwrap());

        // Start this program again as the child.
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CHILD_ENV, &base)
            .spawn()
            .unwrap();

        // Stream the values.
        let start = Instant::now();
        let mut hash = SEED;
        for i in 0..VALUES {
            let v = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            hash = mix(hash, v);
            tx.push(v).unwrap();
        }
        drop(tx);
        let child_hash = rx.pop().unwrap();
        let elapsed = start.elapsed();
        println!(
            "{VALUES} values in {elapsed:.2?}: {:.1} M values/s",
            VALUES as f64 / elapsed.as_secs_f64() / 1e6
        );
        println!("values checksum: parent {hash:016x}, child {child_hash:016x}");

        // Send the buffers: only descriptors cross the ring.
        let start = Instant::now();
        let mut buffers_hash = SEED;
        for n in 0..BUFFERS {
            let mut buf = pool.loan();
            let bytes: Vec<u8> = (0..BUFFER_SIZE).map(|i| pattern(n, i)).collect();
            buffers_hash = bytes
                .iter()
                .fold(buffers_hash, |h, &b| mix(h, u64::from(b)));
            buf.write_at(0, &bytes);
            outbox.push(buf.into_descriptor()).unwrap();
        }
        drop(outbox);
        let child_buffers_hash = rx.pop().unwrap();
        println!(
            "{BUFFERS} buffers of {} MiB in {:.2?}",
            BUFFER_SIZE >> 20,
            start.elapsed()
        );
        println!("buffers checksum: parent {buffers_hash:016x}, child {child_buffers_hash:016x}");

        // The buffer the child sent back carries its values checksum.
        let reply = pool.redeem(inbox.pop().unwrap()).unwrap();
        let mut word = [0; 8];
        reply.read_at(0, &mut word);
        drop(reply);

        assert!(child.wait().unwrap().success());
        for s in [".values", ".results", ".pool", ".to-child", ".to-parent"] {
            handoff::shm::remove(path(&base, s)).unwrap();
        }
        let agree = hash == child_hash
            && buffers_hash == child_buffers_hash
            && u64::from_le_bytes(word) == hash;
        println!("checksums agree: {agree}");
        assert!(agree);
    }
}
