//! A multi-producer multi-consumer ring in a region.
