//! What the benches share: latency summaries, what `/proc` says of the process and machine, and the report each bench
//! adds its figures to. `scripts/bench` runs every bench alone and gathers their figures into
//! one report (`bench-report`).

pub mod latency;
pub mod machine;
pub mod report;

pub use latency::Latencies;
pub use report::{Figure, Report, Target};
