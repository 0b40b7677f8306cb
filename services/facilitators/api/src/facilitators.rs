//! Facilitators (animateurs, animatrices: the people who run AI Cafés): their profile, the
//! staff directory and its counts, staff decisions and their audit trail.

use crate::enums::{FacilitatorKind, FacilitatorStatus};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A facilitator as staff and the person themself see it (the email is private to them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "FacilitatorData", visible = false)
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacilitatorView {
    /// Identifier (UUIDv7).
    pub id: Uuid,
    /// Name shown to participants; blank once erased.
    pub display_name: String,
    /// Professional email; staff and the person only.
    pub email: Option<String>,
    /// What kind of facilitator this is.
    pub kind: FacilitatorKind,
    /// The organisation (structure) they work for.
    pub organisation_id: Option<Uuid>,
    /// INSEE codes served (communes or départements).
    #[cfg_attr(feature = "openapi", schema(example = json!(["69123", "38"])))]
    pub territories: Vec<String>,
    /// Départements (French counties) the served territories lie in.
    pub departements: Vec<String>,
    /// Régions the served territories lie in.
    pub regions: Vec<String>,
    /// Topics of the shared vocabulary they cover.
    pub topics: Vec<String>,
    /// Languages they run cafés in (ISO 639-1, `lsf` for French Sign Language).
    pub languages: Vec<String>,
    /// When they completed the Café IA facilitator training (needed to be verified).
    pub training_completed_on: Option<NaiveDate>,
    /// Where they stand with staff.
    pub status: FacilitatorStatus,
    /// Why they were suspended (staff and the person only).
    pub status_reason: Option<String>,
    /// Distance from the searched point, in km; set on proximity searches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// When they registered.
    pub created_at: DateTime<Utc>,
    /// When the profile or status last changed.
    pub updated_at: DateTime<Utc>,
}

/// A facilitator's public face, as participants see it: who they are, what they cover and
/// whether staff verified them. No email, no suspension reason, nothing private.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "FacilitatorProfileData", visible = false)
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacilitatorProfileView {
    /// Identifier (UUIDv7), the same as the facilitator's.
    pub id: Uuid,
    /// Name shown to participants.
    pub display_name: String,
    /// What kind of facilitator this is.
    pub kind: FacilitatorKind,
    /// The organisation (structure) they work for.
    pub organisation_id: Option<Uuid>,
    /// The name of that organisation.
    pub organisation_name: Option<String>,
    /// Languages they run cafés in (ISO 639-1, `lsf` for French Sign Language).
    pub languages: Vec<String>,
    /// Topics of the shared vocabulary they cover.
    pub topics: Vec<String>,
    /// Where they stand with staff: pending, verified or suspended.
    pub status: FacilitatorStatus,
}

/// The profile a facilitator submits when registering, or edits later.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FacilitatorProfileInput {
    /// Name shown to participants.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 120))]
    pub display_name: String,
    /// Professional email; private (staff and you only).
    pub email: String,
    /// What kind of facilitator you are.
    pub kind: FacilitatorKind,
    /// The organisation (structure) you work for.
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
    /// INSEE codes served (communes or départements), at least one.
    #[cfg_attr(feature = "openapi", schema(example = json!(["69123", "38"])))]
    pub territories: Vec<String>,
    /// Topics of the shared vocabulary you cover.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub topics: Vec<String>,
    /// Languages you run cafés in (ISO 639-1, `lsf` for French Sign Language); French by
    /// default.
    #[serde(default = "default_languages")]
    #[cfg_attr(feature = "graphql", graphql(default_with = "default_languages()"))]
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub languages: Vec<String>,
    /// When you completed the Café IA facilitator training.
    #[serde(default)]
    pub training_completed_on: Option<NaiveDate>,
}

/// Facilitators speak French unless they say otherwise.
pub fn default_languages() -> Vec<String> {
    vec!["fr".to_owned()]
}

/// A staff decision's reason: required to suspend, optional otherwise.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// Why (at most 1,000 characters); kept with staff, never on the bus.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub reason: Option<String>,
}

/// The token of a digest's one-click unsubscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UnsubscribeInput {
    /// The token, as in the digest's `List-Unsubscribe` address.
    pub token: String,
}

/// Filters of the staff directory. Coordinators only see their territory.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct FacilitatorListQuery {
    /// INSEE code of a département served.
    pub departement: Option<String>,
    /// INSEE code of a région served.
    pub region: Option<String>,
    /// Only facilitators in this status.
    pub status: Option<FacilitatorStatus>,
    /// Only facilitators of this kind.
    pub kind: Option<FacilitatorKind>,
    /// `latitude,longitude`: nearest first (see [`crate::GeoPoint::near`]).
    #[cfg_attr(
        feature = "openapi",
        param(pattern = "^-?[0-9]+(\\.[0-9]+)?,-?[0-9]+(\\.[0-9]+)?$")
    )]
    pub near: Option<String>,
    /// Radius around `near`, in km (20 by default, at most 500).
    #[cfg_attr(feature = "openapi", param(exclusive_minimum = 0.0, maximum = 500.0))]
    pub radius_km: Option<f64>,
    /// `next_cursor` of the previous page.
    #[cfg_attr(feature = "openapi", param(format = Uuid))]
    pub cursor: Option<String>,
    /// Page size (20 by default, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u64>,
}

/// Facilitators by status in one département.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacilitatorCount {
    /// INSEE code of the département.
    pub departement: String,
    /// Its name.
    pub name: String,
    /// Registered, waiting for staff.
    pub pending: u64,
    /// Verified.
    pub verified: u64,
    /// Suspended.
    pub suspended: u64,
}

/// One entry of the audit trail: who decided what, when, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// The account that acted (`erased` once that person's data is erased).
    pub actor: String,
    /// What they did (`verify`, `suspend`, `reinstate`, `venue_created`…).
    pub action: String,
    /// The reason they gave.
    pub reason: Option<String>,
    /// What changed, for edits.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub detail: Option<String>,
}
