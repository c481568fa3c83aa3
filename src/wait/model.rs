//! Loom backend: a modelled futex, so blocking paths are model-checked.
//!
//! The kernel's futex is a wait queue per address whose "compare the word and
//! enqueue" is atomic with respect to wakes. We model it with a loom `Mutex`
//! over per-address counts and a loom `Condvar`:
//!
//! * `wait` checks the word and registers under the lock, then sleeps on the
//!   condvar until a wake hands it a token. A wake that never comes leaves the
//!   thread blocked, which loom reports as a deadlock: that is how a lost
//!   wake-up shows up in a model.
//! * A timed wait registers, lets other threads run once, then takes a token
//!   if one was handed to it and otherwise reports a timeout. Loom has no
//!   clock, so this explores both "woken in time" and "timed out".
//! * Scopes are not distinguished: loom models one process.

use core::time::Duration;
use std::collections::HashMap;

use loom::sync::{Condvar, Mutex};

use super::{Scope, WaitOutcome};
use crate::sync::atomic::AtomicU32;
use crate::sync::atomic::Ordering::Relaxed;

/// The wait queue of one address.
#[derive(Default)]
struct Queue {
    /// Threads registered and not yet handed a token.
    sleeping: u32,
    /// Wakes handed out and not yet taken.
    tokens: u32,
}

struct Table {
    queues: Mutex<HashMap<usize, Queue>>,
    changed: Condvar,
}

loom::lazy_static! {
    static ref TABLE: Table = Table { queues: Mutex::new(HashMap::new()), changed: Condvar::new() };
}

fn key(word: &AtomicU32) -> usize {
    word as *const AtomicU32 as usize
}

pub(super) fn wait(
    _scope: Scope,
    word: &AtomicU32,
    expected: u32,
    timeout: Option<Duration>,
) -> WaitOutcome {
    // Compare and enqueue atomically with respect to `wake`.
    let mut queues = TABLE.queues.lock().unwrap();
    if word.load(Relaxed) != expected {
        return WaitOutcome::NotEqual;
    }
    queues.entry(key(word)).or_default().sleeping += 1;

    // A timed wait: give wakers one chance, then time out.
    if timeout.is_some() {
        drop(queues);
        loom::thread::yield_now();
        let mut queues = TABLE.queues.lock().unwrap();
        let queue = queues.get_mut(&key(word)).expect("registered queue");
        if queue.tokens > 0 {
            queue.tokens -= 1;
            return WaitOutcome::Woken;
        }
        queue.sleeping -= 1;
        return WaitOutcome::TimedOut;
    }

    // An untimed wait sleeps until a token arrives.
    loop {
        let queue = queues.get_mut(&key(word)).expect("registered queue");
        if queue.tokens > 0 {
            queue.tokens -= 1;
            return WaitOutcome::Woken;
        }
        queues = TABLE.changed.wait(queues).unwrap();
    }
}

pub(super) fn wake(_scope: Scope, word: &AtomicU32, count: u32) -> Option<usize> {
    let mut queues = TABLE.queues.lock().unwrap();
    let Some(queue) = queues.get_mut(&key(word)) else {
        return Some(0);
    };
    let woken = queue.sleeping.min(count);
    queue.sleeping -= woken;
    queue.tokens += woken;
    drop(queues);
    if woken > 0 {
        TABLE.changed.notify_all();
    }
    Some(woken as usize)
}
