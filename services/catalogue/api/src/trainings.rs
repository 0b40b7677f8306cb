//! Training programmes (formations): what a provider submits, how a programme is shown, how
//! the public list is filtered.

use crate::enums::{
    Accessibility, Audience, Enrolment, Format, Funding, Level, Pace, ReviewStatus,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The languages of a programme when its provider names none: French.
pub fn default_languages() -> Vec<String> {
    vec!["fr".to_owned()]
}

/// A session of a programme: its dates and whether it takes enrolments. The same shape is
/// submitted, shown and announced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject, async_graphql::InputObject),
    graphql(input_name = "TrainingSessionInput")
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainingSession {
    /// Identifier of the session in the LHEO file it came from (`session/@numero`), if any:
    /// read on input and kept for the LHEO export, never sent in views or messages.
    #[serde(default, skip_serializing)]
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub lheo_id: Option<String>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (the same as the first for a one-day session).
    pub end_date: NaiveDate,
    /// Whether it takes enrolments.
    pub enrolment: Enrolment,
    /// INSEE code of the commune (municipality) where it is held, one of the programme's
    /// places; needed when the programme has several.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "69123"))]
    pub insee: Option<String>,
}

/// A commune (municipality) where a programme is taught, located.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "PlaceData", visible = false)
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Place {
    /// INSEE code of the commune.
    #[cfg_attr(feature = "openapi", schema(example = "69123"))]
    pub insee: String,
    /// Code of its département (e.g. `69`, `2A`, `974`).
    pub departement: String,
    /// Code of its région (e.g. `84` for Auvergne-Rhône-Alpes).
    pub region: String,
    /// Latitude of the commune's centre (WGS 84).
    pub latitude: f64,
    /// Longitude of the commune's centre (WGS 84).
    pub longitude: f64,
}

/// A place of a programme, with the commune's name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "TrainingPlace")
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlaceView {
    /// The commune, located.
    #[serde(flatten)]
    #[cfg_attr(feature = "graphql", graphql(flatten))]
    pub place: Place,
    /// Name of the commune (e.g. `Lyon`).
    pub commune: String,
}

/// What a provider submits to the catalogue, or edits (and what an LHEO offer becomes).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TrainingInput {
    /// SIRET (the 14-digit establishment number) of the provider: required when submitting
    /// (a provider's token must carry it), ignored on edits.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "73282932000074"))]
    pub provider_siret: Option<String>,
    /// Title, up to 200 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    /// Short presentation, up to 1,000 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub summary: String,
    /// What learners will be able to do, up to 4,000 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 4000))]
    pub objectives: String,
    /// Detailed content, up to 20,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub content: String,
    /// How much learners need to know already.
    pub level: Level,
    /// Who it is meant for (at least one).
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub audiences: Vec<Audience>,
    /// In a venue, online, or both.
    pub format: Format,
    /// At one's own pace or on scheduled dates.
    pub pace: Pace,
    /// Length in hours (1 to 10,000).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
    pub duration_hours: i32,
    /// Free of charge.
    pub free: bool,
    /// Price in euros, required when not free.
    #[serde(default)]
    pub price_eur: Option<f64>,
    /// Who may pay for it when it is not free.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub funding: Vec<Funding>,
    /// RNCP or RS code (the national registers of certifications, e.g. `RNCP37827`,
    /// `RS6232`), if it leads to a certification.
    #[serde(default)]
    pub certification: Option<String>,
    /// Languages it is taught in (ISO 639-1 codes, `lsf` for French Sign Language).
    #[serde(default = "default_languages")]
    #[cfg_attr(feature = "graphql", graphql(default_with = "default_languages()"))]
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub languages: Vec<String>,
    /// What it offers for accessibility.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub accessibility: Vec<Accessibility>,
    /// Topics of the shared vocabulary (at least one).
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub topics: Vec<String>,
    /// Open online to anyone in France.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub online: bool,
    /// INSEE codes of the communes (municipalities) where it is taught; at least one unless
    /// it is online.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub places: Vec<String>,
    /// Its sessions (at most 500).
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub sessions: Vec<TrainingSession>,
    /// Where to enrol (http or https URL).
    #[serde(default)]
    pub enrolment_url: Option<String>,
    /// Who to write to about it.
    #[serde(default)]
    pub contact_email: Option<String>,
}

/// A training programme as the catalogue shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "TrainingData", visible = false)
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainingView {
    /// Identifier.
    pub id: Uuid,
    /// The provider (organisme de formation) that offers it.
    pub provider_id: Uuid,
    /// Title.
    pub title: String,
    /// Short presentation.
    pub summary: String,
    /// What learners will be able to do.
    pub objectives: String,
    /// Detailed content (may be empty).
    pub content: String,
    /// How much learners need to know already.
    pub level: Level,
    /// Who it is meant for.
    pub audiences: Vec<Audience>,
    /// In a venue, online, or both.
    pub format: Format,
    /// At one's own pace or on scheduled dates.
    pub pace: Pace,
    /// Length in hours.
    pub duration_hours: i32,
    /// Free of charge.
    pub free: bool,
    /// Price in euros, when not free.
    pub price_eur: Option<f64>,
    /// Who may pay for it.
    pub funding: Vec<Funding>,
    /// RNCP or RS code of the certification it leads to, if any.
    pub certification: Option<String>,
    /// Languages it is taught in.
    pub languages: Vec<String>,
    /// What it offers for accessibility.
    pub accessibility: Vec<Accessibility>,
    /// Topics of the shared vocabulary.
    pub topics: Vec<String>,
    /// Open online to anyone in France.
    pub online: bool,
    /// Communes where it is taught.
    pub places: Vec<PlaceView>,
    /// Its sessions, by start date.
    pub sessions: Vec<TrainingSession>,
    /// Where to enrol.
    pub enrolment_url: Option<String>,
    /// Who to write to about it.
    pub contact_email: Option<String>,
    /// Where it is in its review.
    pub status: ReviewStatus,
    /// Why staff refused it, when rejected.
    pub status_reason: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Filters of the public list of programmes (all optional, combined with AND), and its page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::InputObject),
    graphql(name = "TrainingFilter")
)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(deny_unknown_fields)]
pub struct TrainingQuery {
    /// Of this level.
    pub level: Option<Level>,
    /// Meant for this audience (among others).
    pub audience: Option<Audience>,
    /// In this format.
    pub format: Option<Format>,
    /// Only free programmes.
    #[cfg_attr(feature = "graphql", graphql(name = "freeOnly"))]
    pub free: Option<bool>,
    /// On this topic of the shared vocabulary.
    pub topic: Option<String>,
    /// Taught in this département (code, e.g. `33`).
    pub departement: Option<String>,
    /// Taught in this région (code, e.g. `75`).
    pub region: Option<String>,
    /// Open online to anyone in France (or not).
    pub online: Option<bool>,
    /// Offering this for accessibility.
    pub accessibility: Option<Accessibility>,
    /// Taught in this language (ISO 639-1 code).
    pub language: Option<String>,
    /// Has a session open for enrolment that has not ended.
    #[cfg_attr(feature = "graphql", graphql(name = "hasOpenSession"))]
    pub open_session: Option<bool>,
    /// Where the page starts: the `next_cursor` of the previous page.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    #[cfg_attr(feature = "openapi", param(format = Uuid))]
    pub cursor: Option<String>,
    /// Page size (1 to 100, 20 by default).
    #[cfg_attr(feature = "graphql", graphql(skip))]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u64>,
}

/// Why staff refuse or withdraw a programme.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    /// Required to refuse; shown to the provider (at most 1,000 characters).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub reason: Option<String>,
}
