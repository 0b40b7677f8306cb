//! The catalogue service through its API and storage, on both backend sets.
//!
//! One test binary, one module per file: the test code is compiled and linked once, not
//! once per file (`cargo nextest run -p <package> -E 'kind(test) & test(/^module::/)'` runs
//! one file).

mod catalogue;
mod national;
mod storage;
