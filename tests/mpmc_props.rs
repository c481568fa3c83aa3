//! Property tests of the MPMC ring: generated operation sequences replayed
//! against a `VecDeque` model on one thread, and generated threaded runs
//! whose recorded histories are checked.
#![cfg(not(feature = "loom"))]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use handoff::mpmc::{channel, Consumer, PopError, Producer, PushError};
use proptest::prelude::*;

fn cases() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 });
    if cfg!(miri) {
        // Saving failing cases needs the file system, which Miri isolates.
        config.failure_persistence = None;
    }
    config
}

/// One step of a sequential run. Handle indices are taken modulo the live
/// handles; a step on a side with no handle left is skipped.
#[derive(Clone, Debug)]
enum Op {
    TryPush(usize),
    PushTimeout(usize),
    TryPop(usize),
    PopTimeout(usize),
    CloneProducer(usize),
    CloneConsumer(usize),
    DropProducer(usize),
    DropConsumer(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<usize>().prop_map(Op::TryPush),
        2 => any::<usize>().prop_map(Op::PushTimeout),
        6 => any::<usize>().prop_map(Op::TryPop),
        2 => any::<usize>().prop_map(Op::PopTimeout),
        1 => any::<usize>().prop_map(Op::CloneProducer),
        1 => any::<usize>().prop_map(Op::CloneConsumer),
        1 => any::<usize>().prop_map(Op::DropProducer),
        1 => any::<usize>().prop_map(Op::DropConsumer),
    ]
}

/// A value that counts its drops, numbered so the model can compare it.
#[derive(Debug)]
struct Counted(u32, Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Relaxed);
    }
}

/// The ring under test and the model it is compared with.
struct Run {
    producers: Vec<Producer<Counted>>,
    consumers: Vec<Consumer<Counted>>,
    model: VecDeque<u32>,
    capacity: usize,
    made: u32,
    drops: Arc<AtomicUsize>,
}

impl Run {
    fn new(capacity: usize) -> Self {
        let (tx, rx) = channel(capacity).unwrap();
        Run {
            producers: vec![tx],
            consumers: vec![rx],
            model: VecDeque::new(),
            capacity,
            made: 0,
            drops: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::TryPush(i) => self.push(i, |p, v| p.try_push(v)),
            Op::PushTimeout(i) => self.push(i, |p, v| p.push_timeout(v, Duration::ZERO)),
            Op::TryPop(i) => self.pop(i, |c| c.try_pop()),
            Op::PopTimeout(i) => self.pop(i, |c| c.pop_timeout(Duration::ZERO)),
            Op::CloneProducer(i) => clone_at(&mut self.producers, i),
            Op::CloneConsumer(i) => clone_at(&mut self.consumers, i),
            Op::DropProducer(i) => drop(remove_at(&mut self.producers, i)),
            Op::DropConsumer(i) => drop(remove_at(&mut self.consumers, i)),
        }
        self.check_state();
    }

    fn push(&mut self, i: usize, f: impl Fn(&Producer<Counted>, Counted) -> PushResult) {
        let Some(p) = pick(&self.producers, i) else {
            return;
        };
        self.made += 1;
        let v = Counted(self.made, self.drops.clone());
        match f(p, v) {
            Ok(()) => {
                assert!(!self.consumers.is_empty() && self.model.len() < self.capacity);
                self.model.push_back(self.made);
            }
            Err(PushError::Full(v)) => {
                assert!(!self.consumers.is_empty() && self.model.len() == self.capacity);
                assert_eq!(v.0, self.made, "the value is handed back");
            }
            Err(PushError::Closed(v)) => {
                assert!(self.consumers.is_empty(), "closed while consumers live");
                assert_eq!(v.0, self.made, "the value is handed back");
            }
        }
    }

    fn pop(&mut self, i: usize, f: impl Fn(&Consumer<Counted>) -> Result<Counted, PopError>) {
        let Some(c) = pick(&self.consumers, i) else {
            return;
        };
        match f(c) {
            Ok(v) => assert_eq!(Some(v.0), self.model.pop_front()),
            Err(PopError::Empty) => {
                assert!(self.model.is_empty() && !self.producers.is_empty());
            }
            Err(PopError::Closed) => {
                assert!(self.model.is_empty() && self.producers.is_empty());
            }
        }
    }

    fn check_state(&self) {
        for p in &self.producers {
            assert_eq!(p.len(), self.model.len());
            assert_eq!(p.is_full(), self.model.len() == self.capacity);
            assert_eq!(p.is_closed(), self.consumers.is_empty());
        }
        for c in &self.consumers {
            assert_eq!(c.is_empty(), self.model.is_empty());
            assert_eq!(c.is_closed(), self.producers.is_empty());
        }
    }

    /// Drops every handle; then every value made was dropped exactly once.
    fn finish(mut self) {
        self.producers.clear();
        self.consumers.clear();
        assert_eq!(self.drops.load(Relaxed), self.made as usize);
    }
}

type PushResult = Result<(), PushError<Counted>>;

fn pick<X>(v: &[X], i: usize) -> Option<&X> {
    (!v.is_empty()).then(|| &v[i % v.len()])
}

fn clone_at<X: Clone>(v: &mut Vec<X>, i: usize) {
    if let Some(x) = pick(v, i) {
        let x = x.clone();
        v.push(x);
    }
}

fn remove_at<X>(v: &mut Vec<X>, i: usize) -> Option<X> {
    (!v.is_empty()).then(|| {
        let i = i % v.len();
        v.swap_remove(i)
    })
}

fn replay(capacity: usize, ops: &[Op]) {
    let mut run = Run::new(capacity);
    for op in ops {
        run.step(op);
    }
    run.finish();
}

/// A threaded run: `per[k]` values from producer `k` (blocking or not),
/// popped by `consumers` threads until closed; each consumer's history is
/// checked for per-producer order, and all of them together for loss and
/// duplication.
fn threaded(capacity: usize, per: &[u32], consumers: usize, blocking: bool) {
    let (tx, rx) = channel::<(usize, u32)>(capacity).unwrap();
    let histories: Vec<Vec<(usize, u32)>> = thread::scope(|s| {
        for (id, &n) in per.iter().enumerate() {
            let tx = tx.clone();
            s.spawn(move || (0..n).for_each(|i| send(&tx, (id, i), blocking)));
        }
        drop(tx);
        let threads: Vec<_> = (0..consumers)
            .map(|_| {
                let rx = rx.clone();
                s.spawn(move || receive_all(&rx, blocking))
            })
            .collect();
        drop(rx);
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for h in &histories {
        for id in 0..per.len() {
            let mine: Vec<u32> = h.iter().filter(|v| v.0 == id).map(|v| v.1).collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "producer {id} out of order"
            );
        }
    }
    let mut all: Vec<(usize, u32)> = histories.into_iter().flatten().collect();
    all.sort_unstable();
    let expected: Vec<(usize, u32)> = per
        .iter()
        .enumerate()
        .flat_map(|(id, &n)| (0..n).map(move |i| (id, i)))
        .collect();
    assert_eq!(all, expected, "values lost or duplicated");
}

fn send(tx: &Producer<(usize, u32)>, mut v: (usize, u32), blocking: bool) {
    if blocking {
        return tx.push(v).unwrap();
    }
    while let Err(e) = tx.try_push(v) {
        assert!(e.is_full(), "consumers left early");
        v = e.into_inner();
        thread::yield_now();
    }
}

fn receive_all(rx: &Consumer<(usize, u32)>, blocking: bool) -> Vec<(usize, u32)> {
    let mut got = Vec::new();
    loop {
        match if blocking { rx.pop() } else { rx.try_pop() } {
            Ok(v) => got.push(v),
            Err(PopError::Empty) => thread::yield_now(),
            Err(PopError::Closed) => return got,
        }
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn sequential_matches_model(capacity in 1usize..6, ops in prop::collection::vec(op(), 0..120)) {
        replay(capacity, &ops);
    }

    #[test]
    fn threaded_histories(
        capacity in 1usize..9,
        per in prop::collection::vec(0u32..if cfg!(miri) { 8 } else { 400 }, 1..4),
        consumers in 1usize..4,
        blocking in any::<bool>(),
    ) {
        threaded(capacity, &per, consumers, blocking);
    }
}
