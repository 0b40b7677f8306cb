//! The matching service's routes, full paths. The service registers exactly these; the typed
//! client fills them.

/// `GET`: search sessions and trainings ([`crate::SearchQuery`] → [`crate::SearchResults`]).
pub const SEARCH: &str = "/v1/search";
/// `POST`: recommendations for a profile ([`crate::Profile`] → list of [`crate::Recommendation`]).
pub const RECOMMENDATIONS: &str = "/v1/recommendations";
/// `GET`: unmet demand in a département, for staff ([`crate::DemandQuery`] → [`crate::Demand`]).
pub const DEMAND: &str = "/v1/matching/demand";
/// `POST`: rebuilds the in-memory index from the read model (national staff; answers 204).
pub const REBUILD: &str = "/v1/matching/rebuild";

/// Every route above, so tests can check the OpenAPI document lists each of them.
pub const ALL: [&str; 4] = [SEARCH, RECOMMENDATIONS, DEMAND, REBUILD];
