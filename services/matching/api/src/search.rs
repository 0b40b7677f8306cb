//! Search over sessions and trainings: the query (`GET /v1/search`, GraphQL `SearchInput`),
//! its sort orders, and the answer (a page, with facet counts over every result).

use crate::vocabulary::{AccessibilityNeed, OfferKind};
use cafeia_api::{
    Page,
    vocabulary::{Audience, Format, Level},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Radius around the place given, when the query names none, in km.
pub const DEFAULT_SEARCH_RADIUS_KM: f64 = 30.0;
/// Largest radius accepted, in km.
pub const MAX_RADIUS_KM: f64 = 200.0;

/// How results are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    /// Best text match first, then soonest (the default).
    #[default]
    Relevance,
    /// Nearest first (needs a place).
    Distance,
    /// Soonest first; trainings, which have no single date, last.
    Date,
}

/// What to search for. Every criterion is optional; the ones given must all hold. Sessions
/// that are cancelled, past, or full without a waiting list are never found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "graphql", graphql(name = "SearchInput"))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words, in French (accents and case do not matter; "IA" finds "intelligence
    /// artificielle").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Sessions only, or trainings only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<OfferKind>,
    /// Sessions starting at or after this instant (RFC 3339; `Z` for UTC, or any offset).
    /// Trainings, which have no single date, are not filtered by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting at or before this instant (RFC 3339; `Z` for UTC, or any offset).
    /// Trainings are not filtered by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// In person, online or hybrid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// Only what can be followed online (online and hybrid), or only what cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    /// Only free offers, or only paying ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free: Option<bool>,
    /// The level an offer is at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// An audience the offer is meant for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
    /// A language spoken (ISO 639-1 code such as `fr`, `en`; `lsf` for French Sign
    /// Language, `oc` for Occitan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// An accessibility need the offer meets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessibility: Option<AccessibilityNeed>,
    /// A topic of the shared vocabulary (`what_is_ai`, `generative_ai`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Only offers with seats left (or no seat count), or only full ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_seats: Option<bool>,
    /// Around a commune (municipality), by its INSEE code (the national statistics
    /// office's five-character code, `69387`); an unknown one is refused naming `commune`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^([0-9]{5}|2[AB][0-9]{3})$"))]
    pub commune: Option<String>,
    /// Around a postcode (its most populous commune); an unknown one is refused naming
    /// `postcode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^[0-9]{5}$"))]
    pub postcode: Option<String>,
    /// Around a point: WGS 84 latitude (with `longitude`), in France.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Around a point: WGS 84 longitude (with `latitude`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// How far around the place given, in km (default 30, at most 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(exclusive_minimum = 0.0, maximum = 200.0))]
    pub radius_km: Option<f64>,
    /// Order of the results (default: relevance; by distance needs a place).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<SearchSort>,
    /// Where to continue: the next cursor answered with the previous page. (GraphQL: the
    /// `after` argument of `search`.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "graphql", graphql(skip))]
    #[cfg_attr(feature = "openapi", param(pattern = "^[0-9]{1,9}$"))]
    pub cursor: Option<String>,
    /// Results per page (default 20, at most 100). (GraphQL: the `first` argument of
    /// `search`.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "graphql", graphql(skip))]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u64>,
}

/// One offer found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "SearchHitData", visible = false))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
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
    /// Topics of the shared vocabulary (`what_is_ai`, `generative_ai`…).
    pub topics: Vec<String>,
    /// When a session starts: an instant in UTC (RFC 3339, zero offset); show it in the
    /// session's own time zone (its IANA `timezone`). Absent for trainings, which have no
    /// single date.
    pub starts_at: Option<DateTime<Utc>>,
    /// Seats still free, when the session counts them (absent for trainings and for sessions
    /// without registration).
    pub seats_left: Option<i32>,
    /// Code of the département (French county: `23`, `2A`, `974`) of its (first) place;
    /// absent for an offer held online only.
    pub departement: Option<String>,
    /// Distance from the place searched around, in km (one decimal); absent without a place.
    pub distance_km: Option<f64>,
    /// Text relevance (higher is better; 0 when the search has no words).
    pub score: f32,
}

/// What a facet's values may be: any GraphQL output type when the contract serves GraphQL
/// (the bound the derive needs exists only with that feature).
#[cfg(feature = "graphql")]
pub trait FacetValue: async_graphql::OutputType {}
#[cfg(feature = "graphql")]
impl<T: async_graphql::OutputType> FacetValue for T {}
/// What a facet's values may be.
#[cfg(not(feature = "graphql"))]
pub trait FacetValue {}
#[cfg(not(feature = "graphql"))]
impl<T> FacetValue for T {}

/// How many results have one value of a facet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(
    feature = "graphql",
    graphql(
        concrete(name = "OfferKindFacet", params(OfferKind)),
        concrete(name = "FormatFacet", params(Format)),
        concrete(name = "LevelFacet", params(Level)),
        concrete(name = "HasSeatsFacet", params(bool)),
        concrete(name = "TopicFacet", params(String)),
    )
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacetCount<T: FacetValue> {
    /// The value, as the same-named filter of the search takes it (to narrow the search to
    /// it).
    pub value: T,
    /// How many results (over every page) have it.
    pub count: u64,
}

/// Counts over every result (before paging), per facet: each facet's values, most frequent
/// first; a value no result has is not listed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "SearchFacets"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facets {
    /// Sessions and trainings.
    pub kind: Vec<FacetCount<OfferKind>>,
    /// In person, online, hybrid.
    pub format: Vec<FacetCount<Format>>,
    /// Levels.
    pub level: Vec<FacetCount<Level>>,
    /// With seats left (or no seat count: `true`) or full (`false`).
    pub has_seats: Vec<FacetCount<bool>>,
    /// Topics of the shared vocabulary (an offer counts once under each of its topics).
    pub topic: Vec<FacetCount<String>>,
}

/// A page of results, and the facet counts over all of them. (The gateway turns the page into
/// a Relay connection.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResults {
    /// This page of offers, the cursor of the next page, and how many offers match in all
    /// (`total`, always given).
    #[serde(flatten)]
    pub page: Page<SearchHit>,
    /// Counts over every result (before paging), per facet and value.
    pub facets: Facets,
}

/// Search pages by position: a cursor is the position, in the sorted results, of the first
/// offer of the page it leads to (opaque to clients). `None` when the cursor is no position.
pub fn cursor_offset(cursor: &str) -> Option<usize> {
    cursor.parse().ok()
}

/// The cursor of the page that starts at `offset` (after the offer at `offset - 1`).
pub fn cursor_at(offset: usize) -> String {
    offset.to_string()
}
