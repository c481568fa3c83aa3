//! Random loan / transfer / send / redeem / return / drop sequences against a
//! model of who owns each pool slot: no slot is ever owned twice, none is lost,
//! and every refused descriptor is refused for the reason the model predicts.
#![cfg(not(feature = "loom"))]

use proptest::prelude::*;

use handoff::transfer::{BufPool, Descriptor, DescriptorError, LoanError, TransferBuf};

/// One step of a generated sequence; indices pick among what exists, modulo.
#[derive(Clone, Debug)]
enum Op {
    /// `try_loan`.
    Loan,
    /// Transfer a held buffer to a new handle (the old one is kept, detached).
    Transfer(usize),
    /// Drop a held buffer (it returns to the pool).
    Drop(usize),
    /// Give a held buffer up for its descriptor.
    Send(usize),
    /// Redeem a sent descriptor.
    Redeem(usize),
    /// Redeem a descriptor that was redeemed before (a duplicate or stale one).
    Replay(usize),
    /// Turn a held buffer into a `Vec` (a copy; the slot returns).
    IntoVec(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Loan),
        1 => any::<usize>().prop_map(Op::Transfer),
        2 => any::<usize>().prop_map(Op::Drop),
        2 => any::<usize>().prop_map(Op::Send),
        2 => any::<usize>().prop_map(Op::Redeem),
        1 => any::<usize>().prop_map(Op::Replay),
        1 => any::<usize>().prop_map(Op::IntoVec),
    ]
}

/// Who owns a slot, in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Pool,
    Buffer,
    Descriptor,
}

/// The model of a pool: each slot's owner and current generation.
struct Model {
    owner: Vec<Owner>,
    generation: Vec<u64>,
}

impl Model {
    fn new(slots: usize) -> Self {
        Model {
            owner: vec![Owner::Pool; slots],
            generation: vec![0; slots],
        }
    }

    fn free(&self) -> usize {
        self.owner.iter().filter(|&&o| o == Owner::Pool).count()
    }

    /// Moves slot `index` from `from` to `to`, checking it was `from`.
    fn hand(&mut self, index: u32, from: Owner, to: Owner) {
        let slot = &mut self.owner[index as usize];
        assert_eq!(
            *slot, from,
            "slot {index} is owned by {slot:?}, not {from:?}"
        );
        *slot = to;
        if to != Owner::Buffer {
            self.generation[index as usize] += 1;
        }
    }

    /// Why the pool must refuse `d`, a descriptor redeemed before.
    fn refusal(&self, d: Descriptor) -> DescriptorError {
        let i = d.index as usize;
        if self.generation[i] == d.generation && self.owner[i] == Owner::Buffer {
            DescriptorError::InUse
        } else {
            DescriptorError::Stale
        }
    }
}

/// A held buffer and the stamp its owner wrote into it.
struct Held {
    buf: TransferBuf,
    stamp: u64,
}

impl Held {
    fn index(&self) -> u32 {
        self.buf.descriptor().expect("a held pool buffer").index
    }

    /// Checks nobody else wrote into the buffer.
    fn check(&self) {
        let bytes = self.buf.as_slice().unwrap();
        assert_eq!(bytes[..8], self.stamp.to_le_bytes(), "buffer shared");
    }
}

/// The system under test and its model, side by side.
struct World {
    pool: BufPool,
    model: Model,
    held: Vec<Held>,
    detached: Vec<TransferBuf>,
    sent: Vec<(Descriptor, u64)>,
    spent: Vec<Descriptor>,
    next_stamp: u64,
}

impl World {
    fn new(slots: usize, len: usize) -> Self {
        World {
            pool: BufPool::new(slots, len).unwrap(),
            model: Model::new(slots),
            held: Vec::new(),
            detached: Vec::new(),
            sent: Vec::new(),
            spent: Vec::new(),
            next_stamp: 1,
        }
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Loan => self.loan(),
            Op::Transfer(i) => self.transfer(i),
            Op::Drop(i) => self.drop_held(i),
            Op::Send(i) => self.send(i),
            Op::Redeem(i) => self.redeem(i),
            Op::Replay(i) => self.replay(i),
            Op::IntoVec(i) => self.copy_out(i),
        }
        self.check();
    }

    fn loan(&mut self) {
        match self.pool.try_loan() {
            Ok(mut buf) => {
                let index = buf.descriptor().unwrap().index;
                self.model.hand(index, Owner::Pool, Owner::Buffer);
                let stamp = self.next_stamp;
                self.next_stamp += 1;
                buf[..8].copy_from_slice(&stamp.to_le_bytes());
                self.held.push(Held { buf, stamp });
            }
            Err(LoanError::Empty) => assert_eq!(self.model.free(), 0, "empty with slots free"),
        }
    }

    fn transfer(&mut self, i: usize) {
        let Some(held) = pick(&mut self.held, i) else {
            return;
        };
        let moved = held.buf.transfer();
        let mut old = std::mem::replace(&mut held.buf, moved);
        assert!(old.is_detached() && old.is_empty() && old.as_mut_slice().is_err());
        self.detached.push(old);
    }

    fn drop_held(&mut self, i: usize) {
        let Some(held) = take(&mut self.held, i) else {
            return;
        };
        held.check();
        self.model.hand(held.index(), Owner::Buffer, Owner::Pool);
    }

    fn send(&mut self, i: usize) {
        let Some(held) = take(&mut self.held, i) else {
            return;
        };
        held.check();
        let d = held.buf.into_descriptor().unwrap();
        self.model.hand(d.index, Owner::Buffer, Owner::Descriptor);
        assert_eq!(self.pool.check(d), Ok(()));
        self.sent.push((d, held.stamp));
    }

    fn redeem(&mut self, i: usize) {
        let Some((d, stamp)) = take(&mut self.sent, i) else {
            return;
        };
        let buf = self.pool.redeem(d).unwrap();
        self.model.hand(d.index, Owner::Descriptor, Owner::Buffer);
        let held = Held { buf, stamp };
        held.check();
        self.held.push(held);
        self.spent.push(d);
    }

    fn replay(&mut self, i: usize) {
        let Some(&mut d) = pick(&mut self.spent, i) else {
            return;
        };
        let expected = self.model.refusal(d);
        assert_eq!(self.pool.check(d), Err(expected));
        assert_eq!(self.pool.redeem(d).unwrap_err(), expected);
    }

    fn copy_out(&mut self, i: usize) {
        let Some(held) = take(&mut self.held, i) else {
            return;
        };
        let index = held.index();
        let bytes = held.buf.into_vec().unwrap();
        assert_eq!(bytes[..8], held.stamp.to_le_bytes());
        self.model.hand(index, Owner::Buffer, Owner::Pool);
    }

    /// The invariants: the pool agrees with the model, and no slot has two
    /// owners among the held buffers and sent descriptors.
    fn check(&self) {
        assert_eq!(self.pool.available(), self.model.free());
        let mut seen = vec![false; self.model.owner.len()];
        let owners = self.held.iter().map(Held::index);
        for index in owners.chain(self.sent.iter().map(|(d, _)| d.index)) {
            assert!(
                !std::mem::replace(&mut seen[index as usize], true),
                "slot {index} owned twice"
            );
        }
        for (index, owner) in self.model.owner.iter().enumerate() {
            assert_eq!(seen[index], *owner != Owner::Pool, "slot {index} lost");
        }
        for held in &self.held {
            held.check();
        }
    }

    /// Gives everything back: the pool ends full.
    fn finish(mut self) {
        for (d, _) in std::mem::take(&mut self.sent) {
            drop(self.pool.redeem(d).unwrap());
        }
        self.held.clear();
        self.detached.clear();
        assert_eq!(self.pool.available(), self.pool.capacity());
    }
}

fn pick<T>(items: &mut [T], i: usize) -> Option<&mut T> {
    let len = items.len();
    (len > 0).then(|| &mut items[i % len])
}

fn take<T>(items: &mut Vec<T>, i: usize) -> Option<T> {
    let len = items.len();
    (len > 0).then(|| items.swap_remove(i % len))
}

fn run(slots: usize, len: usize, ops: &[Op]) {
    let mut world = World::new(slots, len);
    for op in ops {
        world.apply(op);
    }
    world.finish();
}

/// Few cases under Miri, where the persistence file is also out of reach
/// (isolation forbids `getcwd`).
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 });
    if cfg!(miri) {
        config.failure_persistence = None;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn pool_matches_ownership_model(
        slots in 1usize..=4,
        len in 8usize..=40,
        ops in prop::collection::vec(op(), 0..64),
    ) {
        run(slots, len, &ops);
    }
}
