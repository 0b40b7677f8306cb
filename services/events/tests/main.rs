//! The events service through its API, storage, mail and bus, on both backend sets.
//!
//! One test binary, one module per file: the test code is compiled and linked once, not
//! once per file (`cargo nextest run -p <package> -E 'kind(test) & test(/^module::/)'` runs
//! one file).

mod allocator;
mod delivery;
mod mail;
mod names;
mod notifications;
mod review;
mod sessions;
mod storage;
mod support;
