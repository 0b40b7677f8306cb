//! End to end: the whole stack through the gateway, and the web app in a browser.
//!
//! One test binary, one module per file: the test code is compiled and linked once, not
//! once per file (`cargo nextest run -p <package> -E 'kind(test) & test(/^module::/)'` runs
//! one file).

mod abuse;
mod catalogue;
mod coverage;
mod deploy;
mod documents;
mod events;
mod facilitators;
mod faults;
mod graph;
mod matching;
mod outreach;
mod stack;
mod stream;
mod web;
