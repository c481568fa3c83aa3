//! wait/notify, step by step: the three outcomes of a futex wait, and the
//! notifier that the rings park on.
//!
//! Run with `cargo run --release --example wait_notify`.

fn main() {
    #[cfg(not(feature = "loom"))]
    demo::main();
    #[cfg(feature = "loom")]
    eprintln!("examples run on real threads: build them without --features loom");
}

#[cfg(not(feature = "loom"))]
mod demo {

    use std::sync::atomic::{AtomicU32, Ordering::*};
    use std::time::{Duration, Instant};

    use handoff::notify::Notifier;
    use handoff::wait::{wait, wake_one, WaitOutcome};

    pub fn main() {
        // 1. The word does not hold what we expect: no sleep at all.
        let cell = AtomicU32::new(0);
        let outcome = wait(&cell, 42, None);
        println!("wait(cell == 0, expected 42)          -> {outcome:?}: {outcome}");

        // 2. Nobody wakes us: the timeout ends the wait, and never early.
        let start = Instant::now();
        let outcome = wait(&cell, 0, Some(Duration::from_millis(50)));
        println!(
            "wait(cell == 0, expected 0, 50 ms)    -> {outcome:?} after {:.1} ms",
            start.elapsed().as_secs_f64() * 1e3
        );

        // 3. A worker sleeps until the main thread stores and wakes it.
        std::thread::scope(|s| {
            let worker = s.spawn(|| {
                let mut outcomes = Vec::new();
                while cell.load(Acquire) == 0 {
                    outcomes.push(wait(&cell, 0, None));
                }
                (outcomes, cell.load(Acquire))
            });
            std::thread::sleep(Duration::from_millis(20));
            cell.store(7, Release);
            let woken = wake_one(&cell);
            let (outcomes, seen) = worker.join().unwrap();
            println!("worker waited, main stored 7 and woke {woken:?} thread(s)");
            println!("  worker's outcomes: {outcomes:?}, then it read {seen}");
            assert!(outcomes.iter().all(|o| *o != WaitOutcome::TimedOut));
        });

        // 4. The notifier: a notify with nobody parked makes no system call.
        let notifier = Notifier::new();
        let rounds = 1_000_000;
        let start = Instant::now();
        for _ in 0..rounds {
            notifier.notify_one();
        }
        let per = start.elapsed().as_secs_f64() * 1e9 / rounds as f64;
        println!("notify_one with nobody waiting        -> {per:.1} ns each");

        let start = Instant::now();
        for _ in 0..rounds / 10 {
            wake_one(&cell);
        }
        let per_sys = start.elapsed().as_secs_f64() * 1e9 / (rounds / 10) as f64;
        println!("futex wake_one (a system call)        -> {per_sys:.1} ns each");
    }
}
