//! The errors of the rings, shared by [`crate::spsc`] and [`crate::mpmc`] so
//! that both read as one family.

use core::fmt;

/// Why a push failed. The value that was not pushed is handed back.
///
/// Every push method returns this type: `try_push` may return either variant;
/// `push` (blocking) only [`Closed`](PushError::Closed); `push_timeout`
/// returns [`Full`](PushError::Full) when the ring was still full at the
/// deadline.
///
/// `Debug` shows only the variant, so `T` needs no `Debug` bound; `Display`
/// says what failed.
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::error::PushError;
/// use handoff::spsc;
///
/// let (mut tx, rx) = spsc::channel(1).unwrap();
/// tx.try_push(String::from("a")).unwrap();
/// let err: PushError<String> = tx.try_push(String::from("b")).unwrap_err();
/// assert!(err.is_full());
/// assert_eq!(err.to_string(), "push on a full ring");
/// assert_eq!(format!("{err:?}"), "Full(..)");
/// assert_eq!(err.into_inner(), "b", "the value comes back");
///
/// drop(rx);
/// let err = tx.try_push(String::from("c")).unwrap_err();
/// assert_eq!(err.to_string(), "push on a closed ring");
/// assert_eq!(format!("{err:?}"), "Closed(..)");
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::error::PushError;
    ///
    /// assert!(PushError::Full(1).is_full());
    /// assert!(!PushError::Closed(1).is_full());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, PushError::Full(_))
    }

    /// Whether the ring was closed.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(not(feature = "loom"))] fn main() {
    /// use handoff::error::PushError;
    ///
    /// assert!(PushError::Closed(1).is_closed());
    /// assert!(!PushError::Full(1).is_closed());
    /// # }
    /// # #[cfg(feature = "loom")] fn main() {}
    /// ```
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
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::error::PopError;
/// use handoff::spsc;
///
/// let (tx, mut rx) = spsc::channel::<u8>(1).unwrap();
/// let err = rx.try_pop().unwrap_err();
/// assert_eq!(err, PopError::Empty);
/// assert_eq!(err.to_string(), "pop on an empty ring");
///
/// drop(tx);
/// let err = rx.try_pop().unwrap_err();
/// assert_eq!(err, PopError::Closed);
/// assert_eq!(err.to_string(), "pop on a closed and drained ring");
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
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
///
/// # Example
///
/// ```
/// # #[cfg(not(feature = "loom"))] fn main() {
/// use handoff::error::ZeroCapacity;
/// use handoff::{mpmc, spsc, transfer::BufPool};
///
/// assert_eq!(spsc::channel::<u8>(0).unwrap_err(), ZeroCapacity);
/// assert_eq!(mpmc::channel::<u8>(0).unwrap_err(), ZeroCapacity);
/// assert_eq!(BufPool::new(0, 64).unwrap_err(), ZeroCapacity);
/// assert_eq!(ZeroCapacity.to_string(), "capacity must be at least one");
/// # }
/// # #[cfg(feature = "loom")] fn main() {}
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ZeroCapacity;

impl fmt::Display for ZeroCapacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("capacity must be at least one")
    }
}

impl std::error::Error for ZeroCapacity {}
