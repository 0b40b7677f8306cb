//! The values matching's search and recommendations share: what kind an offer is, and the
//! accessibility needs matching understands. Levels, audiences and formats are the shared
//! vocabulary (`cafeia_api::vocabulary`).

use serde::{Deserialize, Serialize};

/// What an offer is: an AI Café session (events) or a training (catalogue).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "storage",
    derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum)
)]
#[cfg_attr(
    feature = "storage",
    sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")
)]
#[serde(rename_all = "snake_case")]
pub enum OfferKind {
    /// An AI Café session: a dated meeting with a facilitator.
    Session,
    /// A free training programme of the catalogue.
    Training,
}

/// An accessibility need a person may have, which an offer must meet to be recommended.
/// Sessions and trainings name what they offer in their own words; matching reads them as
/// these needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessibilityNeed {
    /// Step-free access for a wheelchair.
    Wheelchair,
    /// French Sign Language (langue des signes française, LSF) interpretation.
    Lsf,
    /// An induction loop for hearing aids.
    HearingLoop,
    /// Easy-to-read material (« facile à lire et à comprendre », FALC).
    EasyRead,
}
