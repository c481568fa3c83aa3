//! Where everything sits in a region, computed with checked arithmetic from a
//! handful of numbers, so the same function sizes a new file and checks an
//! opened one.
//!
//! ```text
//! offset   size          what
//! 0        256           header (magic, version, fingerprint, state word)
//! 256      256           role table: 64 role words (see the liveness module)
//! 512      4 x 128       control lines: index A, index B, notifier A, notifier B
//! 1024+    per kind      data, aligned to max(element alignment, 128)
//! ```
//!
//! Each control line is 128 bytes, two 64-byte cache lines, because adjacent-
//! line prefetch on x86 pulls lines in pairs (the same reason crossbeam's
//! `CachePadded` is 128 bytes there).

use super::ShmError;

/// Bytes reserved for the header.
pub(crate) const HEADER_LEN: u64 = 256;
/// Offset of the role table.
pub(crate) const ROLES_OFF: u64 = 256;
/// How many role words the table holds.
pub(crate) const ROLE_SLOTS: usize = 64;
/// The size of one control line.
pub(crate) const LINE: u64 = 128;
/// Offset of control line `i` (0..4).
pub(crate) const fn line(i: u64) -> u64 {
    512 + i * LINE
}
/// Where the data area may start at the earliest.
const DATA_MIN: u64 = 1024;
/// The largest element alignment a region supports (the mapping is only
/// page-aligned).
pub(crate) const MAX_ALIGN: u64 = 4096;
/// The largest capacity (elements or buffers) a region accepts.
pub(crate) const MAX_CAPACITY: u64 = 1 << 40;

/// What a region holds; stored in the header as a `u32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Kind {
    /// A counter: one `u64` and a notifier.
    Counter = 1,
    /// A single-producer single-consumer ring.
    Spsc = 2,
    /// A multi-producer multi-consumer ring.
    Mpmc = 3,
    /// A pool of transfer buffers.
    Pool = 4,
}

impl Kind {
    /// The kind a header value names, if any.
    pub(crate) fn from_u32(v: u32) -> Option<Kind> {
        match v {
            1 => Some(Kind::Counter),
            2 => Some(Kind::Spsc),
            3 => Some(Kind::Mpmc),
            4 => Some(Kind::Pool),
            _ => None,
        }
    }
}

/// The numbers a header stores; everything else is derived from them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    /// What the region holds.
    pub(crate) kind: Kind,
    /// `size_of` the element: 8 for a counter (its one `u64`), 1 for a pool
    /// (its buffers are bytes).
    pub(crate) elem_size: u64,
    /// `align_of` the element.
    pub(crate) elem_align: u64,
    /// The caller's type tag.
    pub(crate) tag: u64,
    /// Elements (rings) or buffers (pools) the region holds.
    pub(crate) capacity: u64,
    /// Bytes per buffer for a pool, 0 otherwise.
    pub(crate) extra: u64,
}

/// A checked layout: every offset in it lies inside `total` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The numbers it was computed from.
    pub(crate) print: Fingerprint,
    /// Offset of the data area.
    pub(crate) data_off: u64,
    /// Distance between two slots (or buffers) in the data area.
    pub(crate) stride: u64,
    /// Slots in the data area: a power of two for SPSC, `capacity` otherwise.
    pub(crate) slots: u64,
    /// Offset of an element inside its slot (MPMC: after the stamp).
    pub(crate) elem_off: u64,
    /// Offset of the first pool buffer (after the buffer state words).
    pub(crate) buffers_off: u64,
    /// Length of the whole region in bytes.
    pub(crate) total: u64,
}

/// Rounds `n` up to a multiple of `align` (a power of two), or `None` on
/// overflow.
fn round_up(n: u64, align: u64) -> Option<u64> {
    Some(n.checked_add(align - 1)? & !(align - 1))
}

impl Layout {
    /// Computes the layout for `print`, checking every size and offset.
    ///
    /// # Errors
    ///
    /// [`ShmError::ZeroCapacity`] for capacity 0 (or a pool buffer of 0
    /// bytes), [`ShmError::Unsupported`] for an alignment that is not a power
    /// of two up to 4096 or a size that is not a multiple of it,
    /// [`ShmError::TooLarge`] when a size overflows.
    pub(crate) fn compute(print: Fingerprint) -> Result<Layout, ShmError> {
        // The element contract every Rust type meets.
        let align = print.elem_align;
        if !align.is_power_of_two() || align > MAX_ALIGN || print.elem_size % align != 0 {
            return Err(ShmError::Unsupported);
        }
        if print.capacity == 0 {
            return Err(ShmError::ZeroCapacity);
        }
        if print.capacity > MAX_CAPACITY {
            return Err(ShmError::TooLarge);
        }

        // The data area starts on its own line, aligned for the element.
        let data_off = round_up(DATA_MIN, align.max(LINE)).ok_or(ShmError::TooLarge)?;
        let mut layout = Layout {
            print,
            data_off,
            stride: 0,
            slots: 0,
            elem_off: 0,
            buffers_off: data_off,
            total: data_off,
        };
        // Only a pool uses the extra field.
        if print.kind != Kind::Pool && print.extra != 0 {
            return Err(ShmError::Unsupported);
        }
        let data_len = match print.kind {
            Kind::Counter => layout.counter()?,
            Kind::Spsc => layout.spsc()?,
            Kind::Mpmc => layout.mpmc()?,
            Kind::Pool => layout.pool()?,
        };

        // The whole region must be mappable on this target.
        layout.total = data_off.checked_add(data_len).ok_or(ShmError::TooLarge)?;
        if layout.total > isize::MAX as u64 || usize::try_from(layout.total).is_err() {
            return Err(ShmError::TooLarge);
        }
        Ok(layout)
    }

    /// A counter has no data area; its value lives in control line 0.
    fn counter(&mut self) -> Result<u64, ShmError> {
        Ok(0)
    }

    /// SPSC: a power-of-two number of bare elements, so an index is masked.
    fn spsc(&mut self) -> Result<u64, ShmError> {
        let slots = self
            .print
            .capacity
            .checked_next_power_of_two()
            .ok_or(ShmError::TooLarge)?;
        self.slots = slots;
        self.stride = self.print.elem_size;
        slots.checked_mul(self.stride).ok_or(ShmError::TooLarge)
    }

    /// MPMC: each slot is a 64-bit stamp followed by the element.
    fn mpmc(&mut self) -> Result<u64, ShmError> {
        let align = self.print.elem_align.max(8);
        self.elem_off = round_up(8, align).ok_or(ShmError::TooLarge)?;
        let end = self
            .elem_off
            .checked_add(self.print.elem_size)
            .ok_or(ShmError::TooLarge)?;
        self.stride = round_up(end, align).ok_or(ShmError::TooLarge)?;
        self.slots = self.print.capacity;
        self.slots
            .checked_mul(self.stride)
            .ok_or(ShmError::TooLarge)
    }

    /// Pool: one 64-bit state word per buffer, then the buffers, each on its
    /// own lines.
    fn pool(&mut self) -> Result<u64, ShmError> {
        let count = self.print.capacity;
        if self.print.extra == 0 {
            return Err(ShmError::ZeroCapacity);
        }
        if count > u64::from(u32::MAX) {
            return Err(ShmError::TooLarge);
        }
        let states = round_up(count * 8, LINE).ok_or(ShmError::TooLarge)?;
        self.buffers_off = self
            .data_off
            .checked_add(states)
            .ok_or(ShmError::TooLarge)?;
        self.stride = round_up(self.print.extra, LINE).ok_or(ShmError::TooLarge)?;
        self.slots = count;
        count
            .checked_mul(self.stride)
            .and_then(|b| b.checked_add(states))
            .ok_or(ShmError::TooLarge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(kind: Kind, size: u64, align: u64, capacity: u64, extra: u64) -> Fingerprint {
        Fingerprint {
            kind,
            elem_size: size,
            elem_align: align,
            tag: 0,
            capacity,
            extra,
        }
    }

    #[test]
    fn spsc_rounds_slots_up_and_keeps_capacity() {
        let l = Layout::compute(print(Kind::Spsc, 8, 8, 5, 0)).unwrap();
        assert_eq!((l.slots, l.print.capacity, l.stride), (8, 5, 8));
        assert_eq!(l.total, l.data_off + 64);
    }

    #[test]
    fn overflow_and_bad_alignment_are_errors() {
        let huge = print(Kind::Spsc, 1 << 40, 8, MAX_CAPACITY, 0);
        assert_eq!(Layout::compute(huge), Err(ShmError::TooLarge));
        assert_eq!(
            Layout::compute(print(Kind::Spsc, 8, 3, 4, 0)),
            Err(ShmError::Unsupported)
        );
        assert_eq!(
            Layout::compute(print(Kind::Spsc, 12, 8, 4, 0)),
            Err(ShmError::Unsupported)
        );
        assert_eq!(
            Layout::compute(print(Kind::Mpmc, 8, 8, 0, 0)),
            Err(ShmError::ZeroCapacity)
        );
        assert_eq!(
            Layout::compute(print(Kind::Pool, 1, 1, 4, u64::MAX)),
            Err(ShmError::TooLarge)
        );
    }

    #[test]
    fn mpmc_slot_holds_stamp_then_element() {
        let l = Layout::compute(print(Kind::Mpmc, 1, 1, 3, 0)).unwrap();
        assert_eq!((l.elem_off, l.stride), (8, 16));
        let l = Layout::compute(print(Kind::Mpmc, 32, 32, 3, 0)).unwrap();
        assert_eq!((l.elem_off, l.stride, l.data_off % 32), (32, 64, 0));
    }
}
