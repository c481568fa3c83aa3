//! Transfer buffers in a region.
