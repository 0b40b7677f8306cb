//! The outreach service's contract: everything that crosses its boundary. The service serves these
//! shapes, the gateway and every consumer of its messages read them, so a drift between them
//! is a compile error.

#[cfg(feature = "client")]
mod client;

#[cfg(feature = "client")]
pub use client::OutreachClient;
