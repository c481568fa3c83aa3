//! Shared-memory concurrency primitives: what Node's `worker_threads`,
//! `SharedArrayBuffer` and `Atomics` give JavaScript, as a Rust library.
//!
//! | module | what it is | progress |
//! |--------|------------|----------|
//! | [`wait`] | futex wait/wake on an `AtomicU32`, with timeouts, outcomes and process-shared waits | blocking |
//! | [`notify`] | a notifier whose notify costs no system call when nobody waits | notify wait-free, wait blocking |
//!
//! Every blocking call parks on a futex (never spins for ever) and has a timed
//! variant. The whole crate is model-checked with loom
//! (`cargo test --release --features loom`) and its tests run under Miri.
//!
//! # Example
//!
//! ```
//! # #[cfg(not(feature = "loom"))] fn main() {
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::time::Duration;
//! use handoff::wait::{wait, WaitOutcome};
//!
//! let word = AtomicU32::new(0);
//! assert_eq!(wait(&word, 0, Some(Duration::from_millis(1))), WaitOutcome::TimedOut);
//! word.store(1, Ordering::Relaxed);
//! assert_eq!(wait(&word, 0, None), WaitOutcome::NotEqual);
//! # }
//! # #[cfg(feature = "loom")] fn main() {}
//! ```

#![deny(unsafe_op_in_unsafe_fn, missing_docs, missing_debug_implementations)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

mod sync;

pub mod counter;
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
