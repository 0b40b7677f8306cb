//! The facilitators service through its API, storage and mail, on both backend sets.
//!
//! One test binary, one module per file: the test code is compiled and linked once, not
//! once per file (`cargo nextest run -p <package> -E 'kind(test) & test(/^module::/)'` runs
//! one file).

mod digest;
mod mail;
mod network;
mod privacy;
mod storage;
mod support;
