//! Guides in `docs/` whose Rust blocks run as doctests.
//!
//! Only built while rustdoc collects doctests, on Linux (the guide's shared
//! region example needs `handoff::shm`), and not under loom, whose atomics
//! only work inside a model.

#![cfg(all(doctest, target_os = "linux", not(feature = "loom")))]

/// `docs/from-node.md`, for people who know Node's `worker_threads`.
#[doc = include_str!("../docs/from-node.md")]
pub struct FromNode;
