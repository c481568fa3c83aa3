//! The errors of the rings, shared by [`crate::spsc`] and [`crate::mpmc`] so
//! that both read as one family.

use core::fmt;

/// Why a push failed. The value that was not pushed is handed back.
///
/// Every push method returns this type: `try_push` may return either variant;
/// `push` (blocking) only [`Closed`](PushError::Closed); `push_timeout`
/// returns [`Full`](PushError::Full) when the ring was still full at the
/// deadline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PushError<T> {
    /// The ring had no free slot (by the deadline, for a timed push).
    Full(T),
    /// Every consumer is gone: the value could never be popped.
    Closed(T),
}

impl<T> PushError<T> {
    /// The value that was not pushed.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::error::PushError;
    ///
    /// assert_eq!(PushError::Full(7).into_inner(), 7);
    /// assert_eq!(PushError::Closed("x").into_inner(), "x");
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PushError::Full(v) | PushError::Closed(v) => v,
        }
    }

    /// Whether the ring was full.
    pub fn is_full(&self) -> bool {
        matches!(self, PushError::Full(_))
    }

    /// Whether the ring was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, PushError::Closed(_))
    }
}

// Written by hand so that `T` needs no `Debug` bound.
impl<T> fmt::Debug for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Full(_) => f.write_str("Full(..)"),
            PushError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for PushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PushError::Full(_) => "push on a full ring",
            PushError::Closed(_) => "push on a closed ring",
        })
    }
}

impl<T> std::error::Error for PushError<T> {}

/// Why a pop failed.
///
/// `try_pop` may return either variant; `pop` (blocking) only
/// [`Closed`](PopError::Closed); `pop_timeout` returns
/// [`Empty`](PopError::Empty) when the ring was still empty at the deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PopError {
    /// The ring held no value (by the deadline, for a timed pop).
    Empty,
    /// Every producer is gone and the ring is drained: no value will come.
    Closed,
}

impl fmt::Display for PopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PopError::Empty => "pop on an empty ring",
            PopError::Closed => "pop on a closed and drained ring",
        })
    }
}

impl std::error::Error for PopError {}

/// A ring (or pool) cannot be created with capacity zero.
///
/// Returned by the constructors instead of a ring that could never move a
/// value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ZeroCapacity;

impl fmt::Display for ZeroCapacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("capacity must be at least one")
    }
}

impl std::error::Error for ZeroCapacity {}
