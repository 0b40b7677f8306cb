//! The platform crate against the real PostgreSQL, RabbitMQ and Redis and the embedded twins.
//!
//! One test binary, one module per file: the test code is compiled and linked once, not
//! once per file (`cargo nextest run -p <package> -E 'kind(test) & test(/^module::/)'` runs
//! one file).

mod auth;
mod bus;
mod cache;
mod contracts;
mod outbox;
mod service_http;
