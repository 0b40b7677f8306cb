//! The facilitators service's contract: everything that crosses its boundary. The service serves these
//! shapes, the gateway and every consumer of its messages read them, so a drift between them
//! is a compile error.

pub mod enums;
pub mod facilitators;
pub mod messages;
pub mod organisations;
pub mod paths;
pub mod territories;
pub mod venues;

pub use enums::{FacilitatorKind, FacilitatorStatus, OrganisationKind, VenueFileFormat};
pub use facilitators::{
    AuditEntry, DecisionInput, FacilitatorCount, FacilitatorListQuery, FacilitatorProfileInput,
    FacilitatorProfileView, FacilitatorView, UnsubscribeInput,
};
pub use organisations::{OrganisationInput, OrganisationListQuery, OrganisationView};
pub use territories::{Commune, CommuneSearch, GeoPoint};
pub use venues::{
    MyVenuesQuery, VenueFileQuery, VenueImportError, VenueImportReport, VenueInput, VenueListQuery,
    VenueView,
};

#[cfg(feature = "client")]
mod client;

#[cfg(feature = "client")]
pub use client::FacilitatorsClient;
