//! Training providers (organismes de formation), identified by SIRET.

use crate::enums::ProviderKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A provider to declare: a provider declares itself (the SIRET in its token), staff any.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    /// SIRET: the 14-digit number of the establishment (spaces allowed), checked with its
    /// Luhn key.
    #[cfg_attr(feature = "openapi", schema(example = "73282932000074"))]
    pub siret: String,
    /// Name, up to 200 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub name: String,
    /// What kind of organisation it is.
    pub kind: ProviderKind,
    /// Contact address.
    #[serde(default)]
    pub email: Option<String>,
    /// Web site (http or https URL).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(pattern = "^https?://"))]
    pub website: Option<String>,
}

/// A training provider.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "ProviderData", visible = false)
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderView {
    /// Identifier.
    pub id: Uuid,
    /// SIRET (14 digits).
    #[cfg_attr(feature = "openapi", schema(example = "73282932000074"))]
    pub siret: String,
    /// Name.
    pub name: String,
    /// What kind of organisation it is.
    pub kind: ProviderKind,
    /// Contact address.
    pub email: Option<String>,
    /// Web site.
    pub website: Option<String>,
}
