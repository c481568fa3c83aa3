//! wait/wake outcomes and the notifier, on real threads (and, on Linux, a
//! second process sharing a mapped word).
#![cfg(not(feature = "loom"))]

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::*};
use std::time::{Duration, Instant};

use handoff::notify::Notifier;
use handoff::wait::{wait, wait_in, wake_all, wake_one, Scope, WaitOutcome};

/// Iteration counts: Miri is thousands of times slower than native code.
fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 100).max(2)
    } else {
        n
    }
}

#[test]
fn not_equal_returns_at_once() {
    let word = AtomicU32::new(5);
    assert_eq!(wait(&word, 4, None), WaitOutcome::NotEqual);
    assert_eq!(
        wait(&word, 4, Some(Duration::from_secs(3600))),
        WaitOutcome::NotEqual
    );
    assert_eq!(
        wait_in(Scope::Shared, &word, 6, None),
        WaitOutcome::NotEqual
    );
}

#[test]
fn timeout_is_never_early() {
    let word = AtomicU32::new(0);
    for ms in [0u64, 1, 5, 20] {
        let timeout = Duration::from_millis(ms);
        let start = Instant::now();
        assert_eq!(wait(&word, 0, Some(timeout)), WaitOutcome::TimedOut);
        assert!(
            start.elapsed() >= timeout,
            "timed out after {:?} < {timeout:?}",
            start.elapsed()
        );
    }
}

#[test]
fn shared_scope_timeout_is_never_early() {
    let word = AtomicU32::new(0);
    let timeout = Duration::from_millis(5);
    let start = Instant::now();
    assert_eq!(
        wait_in(Scope::Shared, &word, 0, Some(timeout)),
        WaitOutcome::TimedOut
    );
    assert!(start.elapsed() >= timeout);
}

#[test]
fn huge_timeout_behaves_as_untimed() {
    let word = AtomicU32::new(0);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| wait(&word, 0, Some(Duration::MAX)));
        // Change the word, then wake until the waiter has returned.
        word.store(1, Release);
        while !waiter.is_finished() {
            wake_all(&word);
            std::thread::yield_now();
        }
        let outcome = waiter.join().unwrap();
        assert!(
            matches!(outcome, WaitOutcome::Woken | WaitOutcome::NotEqual),
            "{outcome:?}"
        );
    });
}

#[test]
fn woken_outcome_and_wake_count() {
    let word = AtomicU32::new(0);
    std::thread::scope(|s| {
        // The waiter does not change the word, so only a wake ends its wait.
        let waiter = s.spawn(|| loop {
            match wait(&word, 0, None) {
                WaitOutcome::Woken => return,
                other => assert_eq!(other, WaitOutcome::Woken),
            }
        });
        let mut woken = 0;
        while !waiter.is_finished() {
            woken += wake_one(&word).unwrap_or(0);
            std::thread::yield_now();
        }
        waiter.join().unwrap();
        if cfg!(target_os = "linux") {
            assert_eq!(woken, 1, "exactly one sleeper was woken");
        }
    });
}

#[test]
fn wake_all_wakes_every_waiter() {
    let word = AtomicU32::new(0);
    let waiters = 4;
    let woken_outcomes = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..waiters {
            s.spawn(|| {
                // Spurious returns are possible; count only the final wake.
                while wait(&word, 0, None) != WaitOutcome::Woken {}
                woken_outcomes.fetch_add(1, Relaxed);
            });
        }
        let mut reported = 0;
        while woken_outcomes.load(Relaxed) < waiters {
            reported += wake_all(&word).unwrap_or(0);
            std::thread::yield_now();
        }
        if cfg!(target_os = "linux") {
            assert!(
                reported >= waiters,
                "kernel reported {reported} wakes for {waiters} waiters"
            );
        }
    });
    assert_eq!(woken_outcomes.load(Relaxed), waiters);
}

#[test]
fn wake_with_nobody_waiting_wakes_nobody() {
    let word = AtomicU32::new(0);
    assert!(matches!(wake_one(&word), None | Some(0)));
    assert!(matches!(wake_all(&word), None | Some(0)));
}

#[test]
fn outcome_display_is_lowercase_phrase() {
    for o in [
        WaitOutcome::Woken,
        WaitOutcome::NotEqual,
        WaitOutcome::TimedOut,
    ] {
        let s = o.to_string();
        assert!(!s.is_empty() && !s.ends_with('.') && s.chars().next().unwrap().is_lowercase());
    }
}

#[test]
fn notify_without_waiters_reports_none() {
    let n = Notifier::new();
    assert!(!n.notify_one());
    assert!(!n.notify_all());
    assert!(!n.notify_in(Scope::Shared, 1));
}

#[test]
fn notifier_timed_wait_times_out_never_early() {
    let n = Notifier::new();
    let timeout = Duration::from_millis(10);
    let start = Instant::now();
    assert!(!n.wait_until(|| false, Some(timeout)));
    assert!(start.elapsed() >= timeout);
}

#[test]
fn notifier_wakes_a_parked_thread() {
    let n = Notifier::new();
    let flag = AtomicBool::new(false);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| n.wait_until(|| flag.load(Acquire), None));
        // Give the waiter a chance to park so the slow path runs too.
        std::thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
        flag.store(true, Release);
        n.notify_one();
        assert!(
            waiter.join().unwrap(),
            "an untimed wait returns only when ready"
        );
    });
}

#[test]
fn notifier_ping_pong_loses_no_wake() {
    // Two threads take turns through one word, each parking on its own
    // notifier: a lost wake-up would hang this test.
    let turn = AtomicU32::new(0);
    let (a, b) = (Notifier::new(), Notifier::new());
    let rounds = scaled(20_000) as u32;
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..rounds {
                assert!(a.wait_until(|| turn.load(Acquire) == 2 * i + 1, None));
                turn.store(2 * i + 2, Release);
                b.notify_one();
            }
        });
        for i in 0..rounds {
            turn.store(2 * i + 1, Release);
            a.notify_one();
            assert!(b.wait_until(|| turn.load(Acquire) == 2 * i + 2, None));
        }
    });
    assert_eq!(turn.load(Relaxed), 2 * rounds);
}

#[test]
fn notifier_many_waiters_all_released() {
    let n = Notifier::new();
    let open = AtomicBool::new(false);
    let done = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                assert!(n.wait_until(|| open.load(Acquire), None));
                done.fetch_add(1, Relaxed);
            });
        }
        open.store(true, Release);
        n.notify_all();
    });
    assert_eq!(done.load(Relaxed), 4);
}

/// A word in a file mapped by this process and a child process: the child
/// waits with `Scope::Shared`, the parent changes the word and wakes it.
#[cfg(all(target_os = "linux", not(miri)))]
#[test]
fn shared_wait_across_processes() {
    use std::process::Command;

    const CHILD_ENV: &str = "HANDOFF_WAIT_CHILD";
    if let Ok(path) = std::env::var(CHILD_ENV) {
        // Child: wait until the parent stores 1, then report through the word.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap();
        // SAFETY: the file is 4 bytes, created by the parent for this test,
        // and only ever accessed through the atomic below.
        let map = unsafe { memmap2::MmapMut::map_mut(&file).unwrap() };
        // SAFETY: the mapping is page-aligned, at least 4 bytes long and lives
        // until the end of this block; all access is atomic.
        let word = unsafe { &*(map.as_ptr() as *const AtomicU32) };
        word.store(1, Release); // "I am about to wait"
        while word.load(Acquire) == 1 {
            wait_in(Scope::Shared, word, 1, Some(Duration::from_secs(30)));
        }
        word.store(3, Release);
        wake_one_shared(word);
        return;
    }

    let dir = std::env::temp_dir().join(format!("handoff-wait-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("word");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.set_len(4).unwrap();
    // SAFETY: as in the child; the file is ours and 4 bytes long.
    let map = unsafe { memmap2::MmapMut::map_mut(&file).unwrap() };
    // SAFETY: as in the child.
    let word = unsafe { &*(map.as_ptr() as *const AtomicU32) };

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "shared_wait_across_processes",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();

    // Wait for the child to arrive, then release it.
    while word.load(Acquire) != 1 {
        wait_in(Scope::Shared, word, 0, Some(Duration::from_millis(10)));
    }
    word.store(2, Release);
    let mut woken = 0;
    while word.load(Acquire) == 2 {
        woken += handoff::wait::wake_all_in(Scope::Shared, word).unwrap_or(0);
        wait_in(Scope::Shared, word, 2, Some(Duration::from_millis(10)));
    }
    assert_eq!(word.load(Acquire), 3, "child saw the store and answered");
    assert!(child.wait().unwrap().success());
    // The child may have seen the store before sleeping; when it did sleep,
    // the shared wake reached it across the process boundary.
    assert!(woken <= 1, "one child, at most one wake: {woken}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(all(target_os = "linux", not(miri)))]
fn wake_one_shared(word: &AtomicU32) {
    handoff::wait::wake_one_in(Scope::Shared, word);
}

/// Signals that interrupt a timed wait neither end it early nor turn it into
/// a wake: the wait goes back to sleep until the same absolute deadline.
#[cfg(all(target_os = "linux", not(miri)))]
#[test]
fn signals_do_not_end_a_timed_wait_early() {
    use std::os::unix::thread::JoinHandleExt;

    extern "C" fn on_signal(_: libc::c_int) {}

    // A handler without SA_RESTART, so the futex call really fails with EINTR.
    // SAFETY: `action` is zeroed (a valid sigaction), gets a handler that does
    // nothing, and is only read by the kernel during the call.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }

    static WORD: AtomicU32 = AtomicU32::new(0);
    static DONE: AtomicBool = AtomicBool::new(false);
    let timeout = Duration::from_millis(60);
    let waiter = std::thread::spawn(move || {
        let start = Instant::now();
        let outcome = wait(&WORD, 0, Some(timeout));
        DONE.store(true, Release);
        (outcome, start.elapsed())
    });
    let tid = waiter.as_pthread_t();
    let mut sent = 0;
    while !DONE.load(Acquire) {
        // SAFETY: the thread is alive until it sets DONE, after which we stop
        // signalling; SIGUSR1 has a handler installed above.
        unsafe { libc::pthread_kill(tid, libc::SIGUSR1) };
        sent += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    let (outcome, elapsed) = waiter.join().unwrap();
    assert!(sent > 1, "the wait was interrupted at least once");
    assert_eq!(outcome, WaitOutcome::TimedOut);
    assert!(
        elapsed >= timeout,
        "returned after {elapsed:?} < {timeout:?}"
    );
}

#[test]
fn spin_then_wait_ping_pong_loses_no_wake() {
    let turn = AtomicU32::new(0);
    let (a, b) = (Notifier::new(), Notifier::new());
    let rounds = scaled(20_000) as u32;
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..rounds {
                assert!(a.spin_then_wait_until(|| turn.load(Acquire) == 2 * i + 1, None));
                turn.store(2 * i + 2, Release);
                b.notify_one();
            }
        });
        for i in 0..rounds {
            turn.store(2 * i + 1, Release);
            a.notify_one();
            assert!(b.spin_then_wait_until(|| turn.load(Acquire) == 2 * i + 2, None));
        }
    });
    assert_eq!(turn.load(Relaxed), 2 * rounds);
}

#[test]
fn spin_then_wait_times_out_never_early() {
    let n = Notifier::new();
    let timeout = Duration::from_millis(10);
    let start = Instant::now();
    let mut checks = 0;
    assert!(!n.spin_then_wait_until(
        || {
            checks += 1;
            false
        },
        Some(timeout)
    ));
    assert!(start.elapsed() >= timeout);
    assert!(
        checks > 1,
        "the condition was checked while spinning and after parking"
    );
}
