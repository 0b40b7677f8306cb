//! The territory gazetteer over REST (communes, their départements and régions), and points
//! on the map.

use serde::{Deserialize, Serialize};

/// Suggestions of communes while a person types (`?search=saint-et&limit=8`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct CommuneSearch {
    /// The start of a name (accents, case and hyphens ignored) or of a postcode; 1 to 100
    /// characters.
    #[cfg_attr(feature = "openapi", param(min_length = 1, max_length = 100))]
    pub search: String,
    /// At most this many, the most populous first (8 by default, at most 50).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 50))]
    pub limit: Option<u64>,
}

/// A commune (municipality), or a municipal arrondissement of Paris, Lyon or Marseille.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Commune {
    /// INSEE code.
    #[cfg_attr(feature = "openapi", schema(example = "33063"))]
    pub insee: String,
    /// Its name.
    pub name: String,
    /// Codes postaux (postcodes) serving it.
    pub postcodes: Vec<String>,
    /// INSEE code of its département.
    pub departement: String,
    /// Name of its département.
    pub departement_name: String,
    /// INSEE code of its région.
    pub region: String,
    /// Name of its région.
    pub region_name: String,
    /// Inhabitants.
    pub population: u64,
    /// Latitude of its centre.
    pub latitude: f64,
    /// Longitude of its centre.
    pub longitude: f64,
    /// A municipal arrondissement (Paris, Lyon, Marseille) rather than a commune.
    pub arrondissement: bool,
}

/// A point on the map (WGS 84).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
pub struct GeoPoint {
    /// Latitude (WGS 84), in degrees.
    pub latitude: f64,
    /// Longitude (WGS 84), in degrees.
    pub longitude: f64,
}

impl GeoPoint {
    /// The point as the `near` query parameter (`latitude,longitude`).
    pub fn near(&self) -> String {
        format!("{},{}", self.latitude, self.longitude)
    }
}
