//! The matching service's contract: everything that crosses its boundary. The service serves these
//! shapes, the gateway and every consumer of its messages read them, so a drift between them
//! is a compile error.
//!
//! Matching publishes no message: it only reads the events and catalogue ones (their payload
//! types are in those services' contracts).

pub mod client_address;
pub mod demand;
pub mod paths;
pub mod recommendations;
pub mod search;
pub mod vocabulary;

#[cfg(feature = "client")]
mod client;

#[cfg(feature = "client")]
pub use client::MatchingClient;
pub use demand::{CommuneDemand, Demand, DemandQuery};
pub use recommendations::{AvailabilityWindow, Experience, Profile, Recommendation};
pub use search::{FacetCount, Facets, SearchHit, SearchQuery, SearchResults, SearchSort};
pub use vocabulary::{AccessibilityNeed, OfferKind};
