//! The facilitators service's enums, as they travel (snake_case) and as GraphQL shows them.

use serde::{Deserialize, Serialize};

/// What kind of facilitator runs AI Cafés.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
pub enum FacilitatorKind {
    /// Conseiller numérique: a state-funded digital adviser.
    ConseillerNumerique,
    /// Médiateur numérique: a digital inclusion worker.
    MediateurNumerique,
    /// Bibliothécaire: a librarian.
    Bibliothecaire,
    /// Bénévole: a volunteer.
    Benevole,
    /// Formateur: a trainer.
    Formateur,
    /// Agent public: a civil servant.
    AgentPublic,
}

/// Where a facilitator stands: registered and waiting for staff, verified (may publish
/// sessions), or suspended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
pub enum FacilitatorStatus {
    /// Registered, waiting for staff to verify.
    Pending,
    /// Verified by staff: may publish sessions.
    Verified,
    /// Suspended by staff: cannot publish; future sessions are unpublished.
    Suspended,
}

impl FacilitatorStatus {
    /// The wire name (`pending`, `verified`, `suspended`), also what storage keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            FacilitatorStatus::Pending => "pending",
            FacilitatorStatus::Verified => "verified",
            FacilitatorStatus::Suspended => "suspended",
        }
    }
}

/// What kind of structure an organisation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
pub enum OrganisationKind {
    /// France Services: a one-stop public service office.
    FranceServices,
    /// Médiathèque: a public library.
    Mediatheque,
    /// Association: a non-profit (loi 1901) association.
    Association,
    /// Collectivité: a local authority.
    Collectivite,
    /// Entreprise: a company.
    Entreprise,
    /// Établissement scolaire: a school.
    EtablissementScolaire,
    /// Tiers-lieu: a community space (coworking, fab lab…).
    TiersLieu,
    /// Autre structure publique: another public body.
    AutreStructurePublique,
}

/// A file format of the national « lieux de médiation numérique » standard (digital-inclusion
/// venues): CSV (lists joined with `|`) or JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VenueFileFormat {
    /// CSV, one venue per row; lists joined with `|`.
    Csv,
    /// JSON: an array of venues (or `{"lieux": [...]}`).
    Json,
}

impl VenueFileFormat {
    /// The content type a file of this format is sent with.
    pub fn content_type(self) -> &'static str {
        match self {
            VenueFileFormat::Csv => "text/csv",
            VenueFileFormat::Json => "application/json",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FacilitatorStatus;
    use cafeia_api::vocabulary::wire_name;

    #[test]
    fn a_status_is_stored_as_its_wire_name() {
        for status in [
            FacilitatorStatus::Pending,
            FacilitatorStatus::Verified,
            FacilitatorStatus::Suspended,
        ] {
            assert_eq!(status.as_str(), wire_name(&status));
        }
    }
}
