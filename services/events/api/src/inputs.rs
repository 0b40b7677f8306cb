//! What the events endpoints take as request bodies. Defaults are written once, here, for the
//! service (serde) and the GraphQL inputs alike. Validation stays in the service.

use crate::enums::{Accessibility, Frequency, RegistrationMode};
use cafeia_api::vocabulary::{Audience, Level};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A session as a facilitator describes it; times are local wall-clock times in `timezone`,
/// as people write them ("18:00 à Lyon"); the service stores the instants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    /// Title (200 characters at most).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    /// Description (5,000 characters at most).
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub description: String,
    /// Educational modules of the catalogue used in the session.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub modules: Vec<Uuid>,
    /// Topics of the shared vocabulary.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub topics: Vec<String>,
    /// Other facilitators running the session with the author.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub co_facilitators: Vec<Uuid>,
    /// In person, online or both.
    pub format: cafeia_api::vocabulary::Format,
    /// The venue; required in person and hybrid, refused online.
    #[serde(default)]
    pub venue_id: Option<Uuid>,
    /// `https://` link; required online and hybrid. Revealed only to registered people and
    /// the facilitators.
    #[serde(default)]
    pub online_url: Option<String>,
    /// Local wall-clock start in `timezone`, without offset, e.g. `2027-03-18T18:00:00`
    /// (the session answers it as a UTC instant).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2027-03-18T18:00:00", pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?$"))]
    pub starts_at: NaiveDateTime,
    /// Local wall-clock end in `timezone`, without offset, e.g. `2027-03-18T20:00:00`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2027-03-18T20:00:00", pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?$"))]
    pub ends_at: NaiveDateTime,
    /// IANA time zone of the local times (e.g. `Europe/Paris`, `America/Cayenne`).
    #[serde(default = "default_timezone")]
    #[cfg_attr(feature = "graphql", graphql(default_with = "default_timezone()"))]
    pub timezone: String,
    /// Seats; required for in-person and hybrid sessions.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 5000))]
    pub capacity: Option<i32>,
    /// Who the session is meant for.
    #[serde(default = "default_audiences")]
    #[cfg_attr(feature = "graphql", graphql(default_with = "default_audiences()"))]
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub audiences: Vec<Audience>,
    /// How much people need to know already.
    #[serde(default = "default_level")]
    #[cfg_attr(feature = "graphql", graphql(default_with = "default_level()"))]
    pub level: Level,
    /// Languages spoken (ISO 639-1, `lsf`, `oc`).
    #[serde(default = "default_languages")]
    #[cfg_attr(feature = "graphql", graphql(default_with = "default_languages()"))]
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub languages: Vec<String>,
    /// What the session offers for accessibility.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub accessibility: Vec<Accessibility>,
    /// How people join.
    #[serde(default)]
    #[cfg_attr(
        feature = "graphql",
        graphql(default_with = "RegistrationMode::default()")
    )]
    pub registration_mode: RegistrationMode,
    /// Whether people may join a waiting list once the session is full.
    #[serde(default = "default_true")]
    #[cfg_attr(feature = "graphql", graphql(default = true))]
    pub waitlist: bool,
}

/// Sessions are in Paris time unless said otherwise (overseas départements say theirs).
pub fn default_timezone() -> String {
    "Europe/Paris".into()
}

/// Sessions are for the general public unless said otherwise.
pub fn default_audiences() -> Vec<Audience> {
    vec![Audience::GeneralPublic]
}

/// Sessions are for discovery (nothing needed) unless said otherwise.
pub fn default_level() -> Level {
    Level::Discovery
}

/// Sessions are in French unless said otherwise.
pub fn default_languages() -> Vec<String> {
    vec!["fr".into()]
}

fn default_true() -> bool {
    true
}

fn one() -> u32 {
    1
}

/// How a series repeats: every `interval` weeks or months, `count` occurrences in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "graphql", graphql(name = "RecurrenceInput"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Recurrence {
    /// Weekly or monthly.
    pub frequency: Frequency,
    /// Occurrences in all (2 to 52).
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 52))]
    pub count: u32,
    /// Every how many weeks or months (1 to 12).
    #[serde(default = "one")]
    #[cfg_attr(feature = "graphql", graphql(default = 1))]
    pub interval: u32,
}

/// A series: one session described once, repeated; every occurrence is a session of its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SeriesInput {
    /// The first occurrence.
    pub session: SessionInput,
    /// How it repeats.
    pub recurrence: Recurrence,
    /// Publish every occurrence at once (verified facilitators only).
    #[serde(default)]
    pub publish: bool,
}

/// Why a session is cancelled (told to everyone registered).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    /// The reason (500 characters at most).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub reason: String,
}

/// A registration: signed in (nothing else asked), or with an email and explicit consent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    /// Required without an account; never asked of signed-in citizens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Optional, without an account (120 characters at most).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 120))]
    pub name: Option<String>,
    /// Explicit consent to keep the email and name until the session is over (required
    /// without an account).
    #[serde(default)]
    pub consent: bool,
}

/// The private token given to a person registering without an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// The token, as given at registration (to cancel or erase) or in the link mailed to
    /// confirm one.
    pub token: String,
}

/// Who came. Registrations not listed count as no-shows; aggregates are anonymous counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    /// Registered people, came or not.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub registrations: Vec<RollCall>,
    /// People who came without registering.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 5000))]
    pub walk_ins: i32,
    /// People at their first AI Café.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub first_timers: i32,
    /// Counts per age band: `under_18`, `18_24`, `25_39`, `40_59`, `60_74`, `75_plus`.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub age_bands: BTreeMap<String, i32>,
    /// Counts per occupation: `student`, `employee`, `job_seeker`, `retired`, `other`.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub occupations: BTreeMap<String, i32>,
}

/// Whether one registered person came.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "graphql", graphql(name = "RollCallInput"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RollCall {
    /// The registration.
    pub registration_id: Uuid,
    /// Whether the person came.
    pub attended: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_described_briefly_gets_the_written_defaults() {
        let input: SessionInput = serde_json::from_value(serde_json::json!({
            "title": "Café IA", "format": "online", "online_url": "https://visio.example/x",
            "starts_at": "2027-03-18T18:00:00", "ends_at": "2027-03-18T20:00:00",
        }))
        .expect("valid");
        assert_eq!(input.timezone, "Europe/Paris");
        assert_eq!(input.audiences, vec![Audience::GeneralPublic]);
        assert_eq!(input.level, Level::Discovery);
        assert_eq!(input.languages, vec!["fr".to_owned()]);
        assert_eq!(input.registration_mode, RegistrationMode::Open);
        assert!(input.waitlist);
        let unknown = serde_json::json!({
            "title": "x", "format": "online", "starts_at": "2027-03-18T18:00:00",
            "ends_at": "2027-03-18T20:00:00", "colour": "red",
        });
        assert!(serde_json::from_value::<SessionInput>(unknown).is_err());
    }
}
