//! Property tests: random operation sequences on one thread, replayed against
//! a `VecDeque` model.
#![cfg(not(feature = "loom"))]

use std::collections::VecDeque;
use std::rc::Rc;

use handoff::spsc::{self, Consumer, PopError, Producer, PushError};
use proptest::prelude::*;

/// One step of a generated sequence.
#[derive(Clone, Debug)]
enum Op {
    Push,
    Pop,
    Peek,
    PushSlice(usize),
    PopSlice(usize),
    /// Reserve up to `.0` slots, write `.1` values.
    WriteChunk(usize, usize),
    /// Lend up to `.0` values, take `.1`.
    ReadChunk(usize, usize),
    DropProducer,
    DropConsumer,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Push),
        4 => Just(Op::Pop),
        1 => Just(Op::Peek),
        2 => (0..10usize).prop_map(Op::PushSlice),
        2 => (0..10usize).prop_map(Op::PopSlice),
        2 => (0..10usize, 0..10usize).prop_map(|(m, k)| Op::WriteChunk(m, k)),
        2 => (0..10usize, 0..10usize).prop_map(|(m, k)| Op::ReadChunk(m, k)),
        1 => Just(Op::DropProducer),
        1 => Just(Op::DropConsumer),
    ]
}

/// The ring under test and its model.
struct Harness {
    tx: Option<Producer<u32>>,
    rx: Option<Consumer<u32>>,
    model: VecDeque<u32>,
    capacity: usize,
    next: u32,
}

impl Harness {
    fn new(capacity: usize) -> Self {
        let (tx, rx) = spsc::channel(capacity).unwrap();
        Harness {
            tx: Some(tx),
            rx: Some(rx),
            model: VecDeque::new(),
            capacity,
            next: 0,
        }
    }

    fn fresh(&mut self) -> u32 {
        self.next += 1;
        self.next
    }

    fn free(&self) -> usize {
        self.capacity - self.model.len()
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Push | Op::PushSlice(_) | Op::WriteChunk(..) => self.apply_push(op),
            Op::Pop | Op::Peek | Op::PopSlice(_) | Op::ReadChunk(..) => self.apply_pop(op),
            Op::DropProducer => drop(self.tx.take()),
            Op::DropConsumer => drop(self.rx.take()),
        }
        self.check_len();
    }

    fn apply_push(&mut self, op: &Op) {
        let closed = self.rx.is_none();
        let free = self.free();
        let values: Vec<u32> = (0..10).map(|_| self.fresh()).collect();
        let Some(tx) = self.tx.as_mut() else { return };
        assert_eq!(tx.is_closed(), closed);
        let pushed = match *op {
            Op::Push => match tx.try_push(values[0]) {
                Ok(()) => 1,
                Err(PushError::Full(v)) => {
                    assert!(!closed && free == 0 && v == values[0]);
                    0
                }
                Err(PushError::Closed(v)) => {
                    assert!(closed && v == values[0]);
                    0
                }
            },
            Op::PushSlice(n) => tx.push_slice(&values[..n]),
            Op::WriteChunk(max, k) => match tx.write_chunk(max) {
                Ok(mut chunk) => {
                    assert_eq!(chunk.len(), max.min(free));
                    chunk.fill_from_iter(values.iter().copied().take(k));
                    chunk.commit()
                }
                Err(e) => {
                    assert_eq!(
                        e,
                        if closed {
                            PushError::Closed(())
                        } else {
                            PushError::Full(())
                        }
                    );
                    assert!(closed || free == 0);
                    0
                }
            },
            _ => unreachable!(),
        };
        let expected = match *op {
            Op::Push => usize::from(free > 0),
            Op::PushSlice(n) => n.min(free),
            Op::WriteChunk(max, k) => max.min(free).min(k),
            _ => unreachable!(),
        };
        assert_eq!(pushed, if closed { 0 } else { expected }, "{op:?}");
        self.model.extend(&values[..pushed]);
    }

    fn apply_pop(&mut self, op: &Op) {
        let closed = self.tx.is_none();
        let Some(rx) = self.rx.as_mut() else { return };
        assert_eq!(rx.is_closed(), closed);
        let nothing = if closed {
            PopError::Closed
        } else {
            PopError::Empty
        };
        match *op {
            Op::Pop => assert_eq!(rx.try_pop(), self.model.pop_front().ok_or(nothing)),
            Op::Peek => assert_eq!(
                rx.peek().copied(),
                self.model.front().copied().ok_or(nothing)
            ),
            Op::PopSlice(n) => {
                let mut buf = vec![0; n];
                let got = rx.pop_slice(&mut buf);
                let want: Vec<u32> = self.model.drain(..n.min(self.model.len())).collect();
                assert_eq!(buf[..got], want[..]);
            }
            Op::ReadChunk(max, k) => match rx.read_chunk(max) {
                Ok(mut chunk) => {
                    assert_eq!(chunk.len(), max.min(self.model.len()));
                    let (a, b) = chunk.as_slices();
                    let lent: Vec<u32> = a.iter().chain(b).copied().collect();
                    assert!(self.model.iter().copied().take(lent.len()).eq(lent));
                    let taken: Vec<u32> = chunk.by_ref().take(k).collect();
                    let want: Vec<u32> = self.model.drain(..taken.len()).collect();
                    assert_eq!(taken, want);
                }
                Err(e) => {
                    assert!(self.model.is_empty(), "{e:?} with values ready");
                    assert_eq!(e, nothing);
                }
            },
            _ => unreachable!(),
        }
    }

    fn check_len(&self) {
        if let Some(tx) = &self.tx {
            assert_eq!(tx.len(), self.model.len());
            assert_eq!(tx.is_full(), self.free() == 0);
        }
        if let Some(rx) = &self.rx {
            assert_eq!(rx.len(), self.model.len());
            assert_eq!(rx.is_empty(), self.model.is_empty());
        }
    }
}

fn replay(capacity: usize, ops: &[Op]) {
    let mut h = Harness::new(capacity);
    for op in ops {
        h.apply(op);
    }
}

/// With values that count their drops, everything made is dropped exactly
/// once, whatever is left in the ring and whichever handle goes last.
fn replay_drops(capacity: usize, ops: &[Op]) {
    let token = Rc::new(());
    {
        let (mut tx, mut rx) = spsc::channel::<Rc<()>>(capacity).unwrap();
        for op in ops {
            match *op {
                Op::Push | Op::PushSlice(_) => drop(tx.try_push(token.clone())),
                Op::WriteChunk(max, k) => {
                    if let Ok(mut chunk) = tx.write_chunk(max) {
                        chunk.fill_from_iter(std::iter::repeat_with(|| token.clone()).take(k));
                    }
                }
                Op::ReadChunk(max, k) => {
                    if let Ok(chunk) = rx.read_chunk(max) {
                        chunk.take(k).for_each(drop);
                    }
                }
                _ => drop(rx.try_pop()),
            }
            assert_eq!(Rc::strong_count(&token), 1 + rx.len());
        }
    }
    assert_eq!(Rc::strong_count(&token), 1);
}

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 });
    if cfg!(miri) {
        // Miri's isolation forbids the file access that persistence needs.
        config.failure_persistence = None;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn matches_vecdeque(capacity in 1..9usize, ops in prop::collection::vec(op(), 0..200)) {
        replay(capacity, &ops);
    }

    #[test]
    fn drops_each_value_once(capacity in 1..9usize, ops in prop::collection::vec(op(), 0..100)) {
        replay_drops(capacity, &ops);
    }
}
