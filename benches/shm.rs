//! Benchmark: in progress on its issue.
fn main() {}
