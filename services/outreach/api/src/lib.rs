//! The outreach service's contract: everything that crosses its boundary. The service serves these
//! shapes, the gateway and every consumer of its messages read them, so a drift between them
//! is a compile error.
//!
//! Outreach publishes no message: it only reads those of events and facilitators (through their
//! contracts).

pub mod paths;
pub mod queries;
pub mod views;

#[cfg(feature = "client")]
mod client;

#[cfg(feature = "client")]
pub use client::OutreachClient;
pub use queries::{
    BreakdownQuery, DashboardQuery, Dimension, ExportQuery, FileFormat, Filter, GapsQuery,
    OpenDataQuery, default_gaps_limit,
};
pub use views::{
    BreakdownRow, Dashboard, Headline, MonthCell, Progress, Reach, Rebuilt, WeekPoint,
};
