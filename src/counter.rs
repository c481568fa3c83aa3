//! In progress on its issue; see the issue tracker.
