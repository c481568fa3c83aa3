//! A worker pool on handoff's MPMC ring: what Node users write by hand or take
//! from Piscina, with results, panics reported per job, and a clean shutdown.
//!
//! Run with `cargo run --release --example pool`.
//!
//! It computes naive recursive Fibonacci numbers twice: on the pool, while the
//! main thread keeps a 10 ms heartbeat, and then on the main thread itself.
//! The longest gap between heartbeats shows why a pool exists: the main
//! thread (Node's event loop) stays responsive only when the work is elsewhere.

fn main() {
    #[cfg(not(feature = "loom"))]
    demo::main();
    #[cfg(feature = "loom")]
    eprintln!("examples run on real threads: build them without --features loom");
}

#[cfg(not(feature = "loom"))]
mod demo {

    use std::any::Any;
    use std::fmt;
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::atomic::{AtomicBool, Ordering::*};
    use std::sync::{Arc, Mutex};
    use std::thread::{self, JoinHandle};
    use std::time::{Duration, Instant};

    use handoff::mpmc;
    use handoff::notify::Notifier;

    /// Why a job produced no value.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum JobError {
        /// The job panicked; the message is the panic's payload.
        Panicked(String),
        /// The pool shut down with cancellation before the job ran.
        Cancelled,
    }

    impl fmt::Display for JobError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                JobError::Panicked(msg) => write!(f, "job panicked: {msg}"),
                JobError::Cancelled => f.write_str("job cancelled at shutdown"),
            }
        }
    }

    /// Where a job's result lands; the submitter waits on it.
    struct Slot<R> {
        result: Mutex<Option<Result<R, JobError>>>,
        filled: AtomicBool,
        notifier: Notifier,
    }

    impl<R> Slot<R> {
        fn fill(&self, result: Result<R, JobError>) {
            *self.result.lock().unwrap() = Some(result);
            // Release pairs with the Acquire load in `Ticket::wait`.
            self.filled.store(true, Release);
            self.notifier.notify_all();
        }
    }

    /// A submitted job's handle: wait for its result.
    struct Ticket<R> {
        slot: Arc<Slot<R>>,
    }

    impl<R> Ticket<R> {
        /// Waits at most `timeout` for the result; `None` if it is not ready.
        fn wait_timeout(&self, timeout: Duration) -> Option<Result<R, JobError>> {
            if self
                .slot
                .notifier
                .wait_until(|| self.slot.filled.load(Acquire), Some(timeout))
            {
                self.slot.result.lock().unwrap().take()
            } else {
                None
            }
        }

        /// Waits for the result.
        fn wait(self) -> Result<R, JobError> {
            self.slot
                .notifier
                .wait_until(|| self.slot.filled.load(Acquire), None);
            self.slot
                .result
                .lock()
                .unwrap()
                .take()
                .expect("a filled slot holds a result")
        }
    }

    /// A job in the queue: runs, or (if dropped unrun) reports cancellation.
    struct Job {
        run: Option<Box<dyn FnOnce() + Send>>,
        cancel: Option<Box<dyn FnOnce() + Send>>,
    }

    impl Job {
        fn execute(mut self) {
            self.cancel = None;
            if let Some(run) = self.run.take() {
                run();
            }
        }
    }

    impl Drop for Job {
        fn drop(&mut self) {
            if let Some(cancel) = self.cancel.take() {
                cancel();
            }
        }
    }

    /// How to end the pool.
    #[derive(Clone, Copy, Debug)]
    enum Shutdown {
        /// Run every queued job, then stop.
        Drain,
        /// Drop queued jobs (their tickets report `Cancelled`), then stop.
        Cancel,
    }

    /// A fixed set of worker threads fed by one MPMC ring.
    struct Pool {
        jobs: mpmc::Producer<Job>,
        cancelling: Arc<AtomicBool>,
        workers: Vec<JoinHandle<()>>,
    }

    impl Pool {
        fn new(workers: usize, queue: usize) -> Pool {
            let (jobs, queue) = mpmc::channel::<Job>(queue).expect("queue capacity is not zero");
            let cancelling = Arc::new(AtomicBool::new(false));
            let workers = (0..workers)
                .map(|i| {
                    let (queue, cancelling) = (queue.clone(), cancelling.clone());
                    thread::Builder::new()
                        .name(format!("pool-{i}"))
                        .spawn(move || worker(queue, &cancelling))
                        .expect("spawn a worker")
                })
                .collect();
            Pool {
                jobs,
                cancelling,
                workers,
            }
        }

        /// Queues `f`; blocks while the queue is full.
        fn submit<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> Ticket<R> {
            let slot = Arc::new(Slot {
                result: Mutex::new(None),
                filled: AtomicBool::new(false),
                notifier: Notifier::new(),
            });
            let (run_slot, cancel_slot) = (slot.clone(), slot.clone());
            let job = Job {
                run: Some(Box::new(move || {
                    let result = panic::catch_unwind(AssertUnwindSafe(f))
                        .map_err(|p| JobError::Panicked(panic_message(p)));
                    run_slot.fill(result);
                })),
                cancel: Some(Box::new(move || cancel_slot.fill(Err(JobError::Cancelled)))),
            };
            if self.jobs.push(job).is_err() {
                unreachable!("workers hold the queue open until shutdown");
            }
            Ticket { slot }
        }

        /// Stops the workers, draining or cancelling queued jobs.
        fn shutdown(self, how: Shutdown) {
            if let Shutdown::Cancel = how {
                self.cancelling.store(true, Release);
            }
            // Dropping the only producer closes the ring: workers see `Closed`
            // once it is empty.
            drop(self.jobs);
            for w in self.workers {
                w.join().expect("workers catch job panics");
            }
        }
    }

    fn worker(queue: mpmc::Consumer<Job>, cancelling: &AtomicBool) {
        while let Ok(job) = queue.pop() {
            if cancelling.load(Acquire) {
                drop(job); // reports Cancelled
            } else {
                job.execute();
            }
        }
    }

    fn panic_message(payload: Box<dyn Any + Send>) -> String {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".into())
    }

    fn fib(n: u32) -> u64 {
        if n < 2 {
            n as u64
        } else {
            fib(n - 1) + fib(n - 2)
        }
    }

    /// Runs `work` while the calling thread beats every `period`; returns the
    /// longest gap between beats.
    fn longest_gap(period: Duration, mut poll: impl FnMut(Duration) -> bool) -> Duration {
        let mut last = Instant::now();
        let mut longest = Duration::ZERO;
        loop {
            let done = poll(period);
            let now = Instant::now();
            longest = longest.max(now - last);
            last = now;
            if done {
                return longest;
            }
        }
    }

    pub fn main() {
        let inputs: Vec<u32> = (30..=35).rev().chain(30..=34).collect();
        // Leave one core to the main thread, whose heartbeat is the point.
        let workers =
            thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1));

        // A job's panic is reported through its ticket; keep the default
        // hook's message for panics outside the pool.
        let default_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let in_pool = thread::current()
                .name()
                .is_some_and(|n| n.starts_with("pool-"));
            if !in_pool {
                default_hook(info);
            }
        }));
        println!(
            "worker pool: {} fib jobs ({:?}) on {workers} workers",
            inputs.len(),
            inputs
        );

        // The pool computes; the main thread beats every 10 ms and collects.
        let pool = Pool::new(workers, 64);
        let start = Instant::now();
        let tickets: Vec<_> = inputs
            .iter()
            .map(|&n| pool.submit(move || fib(n)))
            .collect();
        let mut results = Vec::new();
        let mut pending = tickets.into_iter();
        let mut current = pending.next();
        let gap_pool = longest_gap(Duration::from_millis(10), |period| {
            while let Some(t) = &current {
                match t.wait_timeout(period) {
                    Some(r) => {
                        results.push(r.expect("fib does not panic"));
                        current = pending.next();
                    }
                    None => return false,
                }
            }
            true
        });
        let pool_time = start.elapsed();

        // A panicking job is that job's error; the worker carries on.
        let bad = pool.submit(|| -> u64 { panic!("job 13 failed on purpose") });
        let good = pool.submit(|| fib(20));
        let bad = bad.wait();
        let good = good.wait();
        println!("  a panicking job            -> {}", bad.unwrap_err());
        println!("  the next job on the pool   -> {:?}", good);

        // Shutdown with cancellation: queued jobs report Cancelled.
        let queued: Vec<_> = (0..8).map(|_| pool.submit(|| fib(32))).collect();
        pool.shutdown(Shutdown::Cancel);
        let outcomes: Vec<_> = queued.into_iter().map(Ticket::wait).collect();
        let cancelled = outcomes
            .iter()
            .filter(|r| **r == Err(JobError::Cancelled))
            .count();
        let finished = outcomes.iter().filter(|r| r.is_ok()).count();
        println!("  shutdown(Cancel)           -> of 8 queued jobs: {finished} finished, {cancelled} cancelled");
        assert_eq!(finished + cancelled, 8, "every ticket is answered");

        // Shutdown with draining: every queued job runs.
        let pool = Pool::new(workers, 64);
        let queued: Vec<_> = (0..8u32)
            .map(|i| pool.submit(move || fib(20 + i)))
            .collect();
        pool.shutdown(Shutdown::Drain);
        let drained = queued
            .into_iter()
            .map(Ticket::wait)
            .filter(Result::is_ok)
            .count();
        println!("  shutdown(Drain)            -> of 8 queued jobs: {drained} finished");
        assert_eq!(drained, 8);

        // The same work on the main thread: no heartbeat until it is done.
        let start = Instant::now();
        let mut serial = Vec::new();
        let gap_main = longest_gap(Duration::from_millis(10), |_| {
            serial = inputs.iter().map(|&n| fib(n)).collect();
            true
        });
        let main_time = start.elapsed();
        assert_eq!(results, serial, "pool and main thread agree");

        println!(
            "  on the pool:        {:>8.1?} total, longest heartbeat gap {:>8.1?}",
            pool_time, gap_pool
        );
        println!(
            "  on the main thread: {:>8.1?} total, longest heartbeat gap {:>8.1?}",
            main_time, gap_main
        );
    }
}
