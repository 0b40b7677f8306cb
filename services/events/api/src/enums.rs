//! The events service's controlled values, as they travel (snake_case) and as the GraphQL
//! schema names them. Levels, audiences and formats are the shared vocabulary
//! (`cafeia_api::vocabulary`). Behind the `storage` feature, the enums stored in a column
//! (statuses, registration mode) derive sea-orm's `DeriveActiveEnum`, stored as their wire
//! names.

use serde::{Deserialize, Serialize};

/// Where a session is in its life: drafted, published (open to registrations), cancelled, or
/// completed (held; its attendance report may follow).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
pub enum SessionStatus {
    /// Visible only to its facilitators.
    Draft,
    /// Listed publicly; takes registrations.
    Published,
    /// Called off; its registrants are told.
    Cancelled,
    /// Held.
    Completed,
}

/// Where a registration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
pub enum RegistrationStatus {
    /// Asked for without an account, waiting for the owner of the email to confirm through
    /// the link mailed to them: holds no seat and no place in the waiting list, and is erased
    /// when not confirmed in time.
    Unconfirmed,
    /// Has a seat.
    Confirmed,
    /// On the waiting list; promoted in arrival order when a seat frees up.
    Waitlisted,
    /// Cancelled by the registrant, with the session, or on erasure.
    Cancelled,
    /// Came (from the facilitator's roll call).
    Attended,
    /// Did not come (from the facilitator's roll call).
    NoShow,
}

/// How people join a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
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
pub enum RegistrationMode {
    /// Registration online, seats counted.
    #[default]
    Open,
    /// People just come; the session is listed but takes no registrations.
    OnSiteOnly,
}

/// What a session offers for accessibility.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "graphql", graphql(name = "SessionAccessibility"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Accessibility {
    /// Step-free access for wheelchairs.
    Wheelchair,
    /// French Sign Language (langue des signes française) interpretation.
    Lsf,
    /// An induction loop for hearing aids.
    HearingLoop,
    /// Facile à lire et à comprendre (FALC): easy-to-read material.
    EasyRead,
}

/// How often the sessions of a series come back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Same weekday and wall-clock time every week.
    Weekly,
    /// Same day of the month and wall-clock time every month.
    Monthly,
}

/// Why a registration was cancelled (in `events.registration.cancelled`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CancellationCause {
    /// The registrant cancelled.
    Registrant,
    /// The session was cancelled.
    SessionCancelled,
    /// The registrant's personal data was erased (on request or after retention).
    Erased,
}
