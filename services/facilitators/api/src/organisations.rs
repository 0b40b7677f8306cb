//! Organisations (structures) facilitators work for: France Services, médiathèques,
//! associations, collectivités…, identified by SIRET or RNA.

use crate::enums::OrganisationKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An organisation, public.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "OrganisationData", visible = false)
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganisationView {
    /// Identifier (UUIDv7).
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// SIRET: the 14-digit identifier of a business establishment.
    pub siret: Option<String>,
    /// RNA: the identifier of an association (W and 9 characters).
    pub rna: Option<String>,
    /// What kind of structure it is.
    pub kind: OrganisationKind,
    /// Street address.
    pub address: String,
    /// INSEE code of the commune (municipality).
    pub insee: String,
    /// Name of the commune.
    pub commune: String,
    /// INSEE code of the département.
    pub departement: String,
    /// INSEE code of the région.
    pub region: String,
}

/// A new organisation: a SIRET or an RNA number is required.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    /// Its name (at most 200 characters).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub name: String,
    /// SIRET (14 digits, Luhn check; spaces ignored).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(example = "13002526500013"))]
    pub siret: Option<String>,
    /// RNA number of an association (W and 9 characters).
    #[serde(default)]
    pub rna: Option<String>,
    /// What kind of structure it is.
    pub kind: OrganisationKind,
    /// Street address.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 300))]
    pub address: String,
    /// INSEE code of the commune (municipality).
    #[cfg_attr(feature = "openapi", schema(example = "33063"))]
    pub insee: String,
}

/// Filters of the public directory of organisations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct OrganisationListQuery {
    /// INSEE code of a département.
    pub departement: Option<String>,
    /// `next_cursor` of the previous page.
    #[cfg_attr(feature = "openapi", param(format = Uuid))]
    pub cursor: Option<String>,
    /// Page size (20 by default, at most 100).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u64>,
}
