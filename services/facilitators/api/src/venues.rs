//! Venues (lieux de médiation numérique: digital-inclusion venues) where AI Cafés take place,
//! and their import in the national open-data standard.

use crate::enums::VenueFileFormat;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A venue; public fields only (no creator: the organisation running it is public, as in the
/// national open-data standard).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "VenueData", visible = false)
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VenueView {
    /// Identifier (UUIDv7).
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Code postal (postcode).
    pub postcode: String,
    /// INSEE code of the commune (municipality).
    pub insee: String,
    /// Name of the commune.
    pub commune: String,
    /// INSEE code of the département.
    pub departement: String,
    /// INSEE code of the région.
    pub region: String,
    /// Latitude (WGS 84).
    pub latitude: f64,
    /// Longitude (WGS 84).
    pub longitude: f64,
    /// OpenStreetMap `opening_hours` syntax.
    pub opening_hours: Option<String>,
    /// Accessibility features (`wheelchair`, `hearing_loop`, `lsf`, `easy_read`,
    /// `adapted_toilets`, `visual_aids`).
    pub accessibility: Vec<String>,
    /// Seats, when known.
    pub capacity: Option<i32>,
    /// Services offered, as the national standard names them.
    pub services: Vec<String>,
    /// Publics specifically welcomed, as the national standard names them.
    pub publics: Vec<String>,
    /// Listed publicly.
    pub is_public: bool,
    /// The organisation (structure) running the venue, when its author named one.
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
    /// Distance from the searched point, in km; set on proximity searches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

/// A new venue, or a venue's new content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VenueInput {
    /// Its name (at most 200 characters).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub name: String,
    /// Street address.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 300))]
    pub address: String,
    /// Code postal (postcode), 5 digits.
    #[cfg_attr(feature = "openapi", schema(example = "33000"))]
    pub postcode: String,
    /// INSEE code of the commune; optional when the postcode names a single commune.
    #[serde(default)]
    pub insee: Option<String>,
    /// Optional (with `longitude`): the commune's centre is used when absent.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Optional (with `latitude`).
    #[serde(default)]
    pub longitude: Option<f64>,
    /// OpenStreetMap `opening_hours` syntax (e.g. `Mo-Fr 09:00-12:00,14:00-17:30`).
    #[serde(default)]
    pub opening_hours: Option<String>,
    /// Accessibility features (`wheelchair`, `hearing_loop`, `lsf`, `easy_read`,
    /// `adapted_toilets`, `visual_aids`).
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub accessibility: Vec<String>,
    /// Seats (1 to 10,000).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
    pub capacity: Option<i32>,
    /// Services offered (at most 50).
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub services: Vec<String>,
    /// Publics specifically welcomed (at most 50).
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(default))]
    pub publics: Vec<String>,
    /// Listed publicly; yes by default.
    #[serde(default = "default_is_public")]
    #[cfg_attr(feature = "graphql", graphql(default_with = "default_is_public()"))]
    pub is_public: bool,
    /// The organisation (structure) running the venue.
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
}

/// Venues are listed publicly unless their author says otherwise.
pub fn default_is_public() -> bool {
    true
}

/// Filters of the public list of venues.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct VenueListQuery {
    /// INSEE code of a commune.
    #[cfg_attr(feature = "openapi", param(pattern = "^([0-9]{5}|2[AB][0-9]{3})$"))]
    pub commune: Option<String>,
    /// INSEE code of a département.
    pub departement: Option<String>,
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

/// A page of the signed-in facilitator's own venues.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct MyVenuesQuery {
    /// `next_cursor` of the previous page.
    #[cfg_attr(feature = "openapi", param(format = Uuid))]
    pub cursor: Option<String>,
    /// Page size (20 by default, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u64>,
}

/// The format of an import or export file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct VenueFileQuery {
    /// CSV or JSON; an import without it follows its content type, an export is JSON.
    pub format: Option<VenueFileFormat>,
}

/// What an import did, row by row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VenueImportReport {
    /// Rows read.
    pub total: u64,
    /// New venues.
    pub created: u64,
    /// Venues changed.
    pub updated: u64,
    /// Venues already as in the file.
    pub unchanged: u64,
    /// Rows refused (nothing changed for them).
    pub rejected: u64,
    /// One entry per problem (at most 1,000).
    pub errors: Vec<VenueImportError>,
}

/// One problem of an imported row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VenueImportError {
    /// The data row (1 = first row after the header).
    pub row: u64,
    /// The row's `id` in the standard, when it has one.
    pub id: Option<String>,
    /// The standard's column at fault.
    pub field: String,
    /// What is wrong, in French.
    pub message: String,
}
