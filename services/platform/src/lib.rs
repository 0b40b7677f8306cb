//! The shared platform kit every Café IA service and the gateway stand on.
//!
//! Each module holds one concern; services import what they need and keep only domain code.
//! See `docs/architecture.md` for how the pieces fit together.

pub mod audit;
pub mod auth;
pub mod bus;
pub mod cache;
pub mod columns;
pub mod config;
pub mod db;
pub mod envelope;
pub mod errors;
pub mod health;
pub mod http;
pub mod inbox;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod outbox;
pub mod paging;
pub mod runtime;
pub mod stored;
pub mod telemetry;
pub mod territory;
pub mod validation;
pub mod vocabulary;

pub use errors::{AppError, ErrorCode};
