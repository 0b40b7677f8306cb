//! The gateway: admission, the graph, the live seats.
//!
//! One test binary, one module per file: the test code is compiled and linked once, not
//! once per file (`cargo nextest run -p <package> -E 'kind(test) & test(/^module::/)'` runs
//! one file).

mod admission;
mod graphql;
mod seats;
