//! A tour of handoff: each primitive on a small, real workload.
//!
//! Run with `cargo run --release --example tour`.

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
    use handoff::wait::{wait, WaitOutcome};

    pub fn main() {
        println!("handoff tour\n");
        wait_notify();
    }

    /// Section: the three wait outcomes and a notifier ping-pong.
    fn wait_notify() {
        println!("[1/1] wait/notify");
        let word = AtomicU32::new(0);
        let not_equal = wait(&word, 1, None);
        let start = Instant::now();
        let timed_out = wait(&word, 0, Some(Duration::from_millis(10)));
        let waited = start.elapsed();
        println!("  outcome when the value differs   {not_equal}");
        println!("  outcome of a 10 ms timeout       {timed_out} after {waited:.1?}");
        assert_eq!(
            (not_equal, timed_out),
            (WaitOutcome::NotEqual, WaitOutcome::TimedOut)
        );

        // Two threads take turns; each turn is a notify and possibly a park.
        let turn = AtomicU32::new(0);
        let (ping, pong) = (Notifier::new(), Notifier::new());
        let rounds = 100_000u32;
        let start = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..rounds {
                    ping.wait_until(|| turn.load(Acquire) == 2 * i + 1, None);
                    turn.store(2 * i + 2, Release);
                    pong.notify_one();
                }
            });
            for i in 0..rounds {
                turn.store(2 * i + 1, Release);
                ping.notify_one();
                pong.wait_until(|| turn.load(Acquire) == 2 * i + 2, None);
            }
        });
        let secs = start.elapsed().as_secs_f64();
        println!(
            "  notifier ping-pong               {:.2} M round trips/s ({:.0} ns each)",
            rounds as f64 / secs / 1e6,
            secs * 1e9 / rounds as f64
        );
    }
}
