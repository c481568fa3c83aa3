//! Loom backend: a modelled futex, so blocking paths are model-checked.
//!
//! The kernel's futex is a wait queue per address whose "compare the word and
//! enqueue" is atomic with respect to wakes. We model it with a loom `Mutex`
//! over per-address counts and a loom `Condvar`:
//!
//! * `wait` checks the word and registers a ticket under the lock, then
//!   sleeps on the condvar until a wake chooses its ticket (wakes choose the
//!   oldest sleepers, and never a thread that registers afterwards). A wake that never comes leaves the
//!   thread blocked, which loom reports as a deadlock: that is how a lost
//!   wake-up shows up in a model.
//! * A timed wait registers, lets other threads run once, then reports
//!   woken if a wake chose it and otherwise a timeout. Loom has no
//!   clock, so this explores both "woken in time" and "timed out".
//! * Scopes are not distinguished: loom models one process.

use core::time::Duration;
use std::collections::HashMap;

use super::{Scope, WaitOutcome};
use crate::sync::atomic::AtomicU32;
use crate::sync::atomic::Ordering::Relaxed;
use crate::sync::{lazy_static, thread, Condvar, Mutex};

/// The wait queue of one address: the tickets of the threads registered on
/// it, oldest first, each marked once a wake has chosen it. A wake chooses
/// the oldest unchosen sleepers, and a thread returns only on its own ticket,
/// as in the kernel, where a wake goes to threads already asleep and never
/// to one that starts waiting afterwards.
#[derive(Default)]
struct Queue {
    /// The next ticket to hand out.
    next: u64,
    /// Registered threads: (ticket, chosen by a wake).
    sleepers: Vec<(u64, bool)>,
}

impl Queue {
    /// Registers a sleeper and returns its ticket.
    fn register(&mut self) -> u64 {
        let ticket = self.next;
        self.next += 1;
        self.sleepers.push((ticket, false));
        ticket
    }

    /// Removes `ticket` and says whether a wake had chosen it.
    fn leave(&mut self, ticket: u64) -> bool {
        let at = self
            .sleepers
            .iter()
            .position(|&(t, _)| t == ticket)
            .expect("a registered ticket");
        self.sleepers.remove(at).1
    }

    /// Whether a wake has chosen `ticket`.
    fn chosen(&self, ticket: u64) -> bool {
        self.sleepers
            .iter()
            .any(|&(t, chosen)| t == ticket && chosen)
    }

    /// Chooses up to `count` of the oldest unchosen sleepers.
    fn choose(&mut self, count: u32) -> u32 {
        let mut woken = 0;
        for (_, chosen) in self.sleepers.iter_mut().filter(|(_, c)| !*c) {
            if woken == count {
                break;
            }
            *chosen = true;
            woken += 1;
        }
        woken
    }
}

struct Table {
    queues: Mutex<HashMap<usize, Queue>>,
    changed: Condvar,
}

lazy_static! {
    static ref TABLE: Table = Table {
        queues: Mutex::new(HashMap::new()),
        changed: Condvar::new()
    };
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
    // Compare and enqueue atomically with respect to `wake`. Relaxed: the
    // lock orders this load against every wake, as the kernel's futex
    // hash-bucket lock does; the caller's own orderings do the rest.
    let mut queues = TABLE.queues.lock().unwrap();
    if word.load(Relaxed) != expected {
        return WaitOutcome::NotEqual;
    }
    let ticket = queues.entry(key(word)).or_default().register();

    // A timed wait: give wakers one chance, then leave, woken or not.
    if timeout.is_some() {
        drop(queues);
        thread::yield_now();
        let mut queues = TABLE.queues.lock().unwrap();
        let queue = queues.get_mut(&key(word)).expect("registered queue");
        return if queue.leave(ticket) {
            WaitOutcome::Woken
        } else {
            WaitOutcome::TimedOut
        };
    }

    // An untimed wait sleeps until a wake chooses its ticket.
    loop {
        let queue = queues.get_mut(&key(word)).expect("registered queue");
        if queue.chosen(ticket) {
            queue.leave(ticket);
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
    let woken = queue.choose(count);
    drop(queues);
    if woken > 0 {
        TABLE.changed.notify_all();
    }
    Some(woken as usize)
}
