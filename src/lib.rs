//! Shared-memory concurrency primitives: what Node's `worker_threads`,
//! `SharedArrayBuffer` and `Atomics` give JavaScript, as a Rust library. Futex
//! wait/notify, counters, SPSC and MPMC rings, zero-copy transfer buffers, and
//! regions that put the same primitives in memory shared by processes.
//!
//! # The modules
//!
//! | module | what it is | progress | use it when |
//! |--------|------------|----------|-------------|
//! | [`wait`] | futex wait/wake on an `AtomicU32`, with timeouts, an outcome (woken, not equal, timed out) and process-shared waits | wait blocking; wake never blocks | you build your own primitive on a 32-bit word, or wait on a word in another process |
//! | [`notify`] | a [`Notifier`](notify::Notifier): park until a condition holds, notify when it may | notify wait-free, with no system call when nobody is parked; wait blocking | threads wait for a condition of your own; every blocking call here parks on one |
//! | [`counter`] | [`Counter`](counter::Counter) (one exact word), [`ShardedCounter`](counter::ShardedCounter) (per-thread cells, summed on read), [`Latch`](counter::Latch) (wait until a count reaches a target) | adds wait-free; `Latch::wait` blocking | you count (`Atomics.add`), count from many threads at once, or wait for N workers to finish |
//! | [`spsc`] | a bounded single-producer single-consumer ring, with slices and chunks | `try_` calls, slices, chunks, `peek` wait-free; `push`/`pop` blocking | one thread hands values to one other thread: the fastest path, the `postMessage` of handoff |
//! | [`mpmc`] | a bounded multi-producer multi-consumer ring (Vyukov's), both ends `Clone` | `try_push`/`try_pop` lock-free; `push`/`pop` blocking | several threads send or receive: work queues, worker pools |
//! | [`transfer`] | [`TransferBuf`](transfer::TransferBuf), a byte buffer that changes hands in O(1) and leaves the sender detached; [`BufPool`](transfer::BufPool), buffers allocated once and lent out | `transfer` and accessors wait-free; `try_loan` and returns lock-free; `loan` blocking | large payloads move between threads (`postMessage(buf, [buf])`), recycled without allocating |
//! | [`shm`] | a counter, SPSC and MPMC rings of plain data, and a buffer pool, each in a file mapped by several processes (Linux only) | counter add wait-free; SPSC `try_` wait-free; MPMC and pool `try_` lock-free; others blocking | processes share work through memory instead of pipes (`child_process`) |
//! | [`error`] | [`PushError`](error::PushError), [`PopError`](error::PopError), [`ZeroCapacity`](error::ZeroCapacity), shared by both rings | — | you match on why a push or pop failed |
//!
//! *Wait-free*: the call finishes in a bounded number of its own steps,
//! whatever other threads do. *Lock-free*: a call retries only when another
//! thread's call succeeded. *Blocking*: the call may sleep; every blocking
//! call spins briefly, then parks on a futex (never spins for ever), and has a
//! timed form.
//!
//! # Example
//!
//! A worker thread receives 1 MiB buffers through an SPSC ring (only their
//! handles move) and counts their bytes:
//!
//! ```
//! # #[cfg(not(feature = "loom"))] fn main() {
//! use handoff::counter::Counter;
//! use handoff::spsc;
//! use handoff::transfer::TransferBuf;
//!
//! let (mut tx, mut rx) = spsc::channel::<TransferBuf>(8).unwrap();
//! let bytes = Counter::new(0);
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         // Pops until the producer is gone and the ring is drained.
//!         while let Ok(buf) = rx.pop() {
//!             bytes.add(buf.len() as u64);
//!         }
//!     });
//!     for _ in 0..4 {
//!         let mut buf = TransferBuf::zeroed(1 << 20);
//!         buf.as_mut_slice().unwrap()[0] = 1;
//!         tx.push(buf).unwrap(); // moves a handle, not a megabyte
//!     }
//!     drop(tx); // closes the ring: the worker's loop ends
//! });
//! assert_eq!(bytes.get(), 4 << 20);
//! # }
//! # #[cfg(feature = "loom")] fn main() {}
//! ```
//!
//! # How it is checked
//!
//! Every in-process primitive is model-checked with loom
//! (`cargo test --release --features loom`, where the crate's atomics, threads
//! and futex waits become loom's), property tests (proptest) replay random
//! operation sequences against plain models such as a `VecDeque` or a `u64`,
//! and the tests run under Miri with scaled-down counts. Loom cannot model
//! processes, so [`shm`], whose rings use the same algorithms and park on the
//! loom-checked notifier, is tested with real processes instead, and under
//! Miri on heap memory in place of files.
//!
//! # More documentation
//!
//! In the repository: `docs/from-node.md` (each Node `worker_threads` concept
//! beside its handoff counterpart, with runnable snippets),
//! `docs/architecture.md` (the layers, and which module may touch what) and
//! `docs/glossary.md` (one word per concept, as used in code, docs and
//! errors).

#![deny(unsafe_op_in_unsafe_fn, missing_docs, missing_debug_implementations)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

mod sync;

pub mod counter;
mod doc_tests;
pub mod error;
pub mod mpmc;
pub mod notify;
// Shared regions need Linux (OFD locks, /proc/self/fd, shared futexes) and
// real atomics in mapped memory, which loom's modelled atomics are not.
#[cfg(all(target_os = "linux", not(feature = "loom")))]
pub mod shm;
pub mod spsc;
pub mod transfer;
pub mod wait;
