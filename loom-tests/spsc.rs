//! Loom models: in progress on the issue.
#![cfg(feature = "loom")]
