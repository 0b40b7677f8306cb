//! The launcher: its command line, and the real binary killed mid-burst.
//!
//! One test binary, one module per file: the test code is compiled and linked once, not
//! once per file (`cargo nextest run -p <package> -E 'kind(test) & test(/^module::/)'` runs
//! one file).

mod cli;
mod kill;
