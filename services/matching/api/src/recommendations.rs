//! Recommendations: a citizen's profile (`POST /v1/recommendations`, GraphQL `ProfileInput`)
//! and the ranked offers answered, each with its reasons in plain French.

use crate::vocabulary::{AccessibilityNeed, OfferKind};
use cafeia_api::vocabulary::{Audience, Format, Level};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How far a person travels, when the profile does not say, in km.
pub const DEFAULT_TRAVEL_RADIUS_KM: f64 = 20.0;
/// Recommendations answered when the profile does not say.
pub const DEFAULT_RECOMMENDATIONS: u32 = 10;
/// Most recommendations answered at once.
pub const MAX_RECOMMENDATIONS: u32 = 50;

/// When in the week a person is free. A session falls in the window of its start in its own
/// time zone (19:00 in Pointe-à-Pitre is an evening, whatever the hour in Paris).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityWindow {
    /// Monday to Friday, before 17:00.
    WeekdayDaytime,
    /// Monday to Friday, from 17:00.
    WeekdayEvening,
    /// Saturday and Sunday.
    Weekend,
}

/// Whether the person has been to an AI Café already: first-timers are steered to discovery
/// cafés, returning people to the next step (trainings).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Experience {
    /// Never came to an AI Café (the default).
    #[default]
    FirstTime,
    /// Already came: ready for the next step.
    Returning,
}

/// Who asks, and what they need. A place (commune, postcode or coordinates) is required unless
/// the person asks for online offers only.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "graphql", graphql(name = "ProfileInput"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Where the person is: a commune (municipality), by its INSEE code (the national
    /// statistics office's five-character code, `69387`); an unknown one is refused naming
    /// `commune`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^([0-9]{5}|2[AB][0-9]{3})$"))]
    pub commune: Option<String>,
    /// Where the person is: a postcode (its most populous commune); an unknown one is refused
    /// naming `postcode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9]{5}$"))]
    pub postcode: Option<String>,
    /// Where the person is: WGS 84 latitude (with `longitude`), in France.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Where the person is: WGS 84 longitude (with `latitude`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// How far the person will travel, in km (default 20, at most 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0, maximum = 200.0))]
    pub radius_km: Option<f64>,
    /// Only what can be followed online (online and hybrid offers).
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub online_only: bool,
    /// Topics of the shared vocabulary the person is interested in (`what_is_ai`,
    /// `generative_ai`…).
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub interests: Vec<String>,
    /// The level the person is at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// The person's situation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    /// Languages the person speaks (ISO 639-1 codes such as `fr`, `en`; `lsf` for French Sign
    /// Language, `oc` for Occitan); an offer must speak one of them (none given: any).
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub languages: Vec<String>,
    /// Needs that every offer recommended must meet.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub accessibility: Vec<AccessibilityNeed>,
    /// When the person is free (none given: any time); an offer in one of these windows ranks
    /// higher.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub availability: Vec<AvailabilityWindow>,
    /// Been to an AI Café already? (default: first time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experience: Option<Experience>,
    /// How many recommendations (default 10, at most 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 50))]
    pub limit: Option<u32>,
}

/// One offer recommended, best first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(
    feature = "graphql",
    graphql(name = "RecommendationData", visible = false)
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recommendation {
    /// The session (in the events service) or the training (in the catalogue): its id there.
    pub id: Uuid,
    /// Session or training.
    pub kind: OfferKind,
    /// Title.
    pub title: String,
    /// In person, online or hybrid.
    pub format: Format,
    /// Level.
    pub level: Level,
    /// When a session starts: an instant in UTC (RFC 3339, zero offset); show it in the
    /// session's own time zone (its IANA `timezone`). Absent for trainings, which have no
    /// single date.
    pub starts_at: Option<DateTime<Utc>>,
    /// Seats still free, when the session counts them (absent for trainings and for sessions
    /// without registration).
    pub seats_left: Option<i32>,
    /// Distance from the person, in km (one decimal); absent for an offer followed online.
    pub distance_km: Option<f64>,
    /// The ranking score (higher is better; see the matching service's documented weights).
    pub score: f64,
    /// Why, in plain French ("à 2,4 km", "places disponibles", "niveau débutant"…).
    pub reasons: Vec<String>,
}
