//! Unmet demand, for staff: searches and recommendations that found nothing near a place,
//! by commune, beside the sessions planned (`GET /v1/matching/demand`).

use serde::{Deserialize, Serialize};

/// Which département to look at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct DemandQuery {
    /// Code of the département (French county: `23`, `2A`, `974`).
    pub departement: String,
}

/// Unmet requests from one commune (municipality).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommuneDemand {
    /// INSEE code of the commune (the national statistics office's five-character code);
    /// absent for requests made from coordinates only.
    pub insee: Option<String>,
    /// Name of the commune; absent with the code.
    pub name: Option<String>,
    /// Searches and recommendations with nothing nearby, last 90 days.
    pub unmet: u64,
}

/// Where demand exceeds supply in a département: what people looked for and did not find
/// nearby, beside what is planned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Demand {
    /// Code of the département (French county: `23`, `2A`, `974`).
    pub departement: String,
    /// Searches and recommendations with nothing nearby, last 90 days.
    pub unmet: u64,
    /// AI Café sessions open to registration in the département in the next 30 days.
    pub sessions_next_30_days: u64,
    /// Unmet requests per commune, most first.
    pub communes: Vec<CommuneDemand>,
}
