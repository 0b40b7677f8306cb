//! The catalogue service's contract: everything that crosses its boundary. The service serves these
//! shapes, the gateway and every consumer of its messages read them, so a drift between them
//! is a compile error.
//!
//! `paths` (route templates), `enums` (controlled values), one module per resource
//! (`trainings`, `providers`, `modules`), `edits` (what edits changed, the review queue's
//! page), `lheo` (the import's answer), `messages` (what the service publishes) and, with
//! feature `client`, the typed client. Look-ups of many at once
//! take the shared `cafeia_api::batch::BatchQuery`.

pub mod edits;
pub mod enums;
pub mod lheo;
pub mod messages;
pub mod modules;
pub mod paths;
pub mod providers;
pub mod trainings;

#[cfg(feature = "client")]
mod client;

#[cfg(feature = "client")]
pub use client::CatalogueClient;
pub use edits::{Editor, FieldChange, ReviewQueueQuery, TrainingEdit, TrainingField};
pub use enums::{
    Accessibility, Audience, Enrolment, Format, Funding, Level, Pace, ProviderKind, ReviewDecision,
    ReviewStatus,
};
pub use lheo::{LheoImportSummary, LheoProblem};
pub use modules::{ModuleInput, ModuleQuery, ModuleReviewInput, ModuleView};
pub use providers::{ProviderInput, ProviderView};
pub use trainings::{
    Place, PlaceView, ReasonInput, TrainingInput, TrainingQuery, TrainingSession, TrainingView,
};
