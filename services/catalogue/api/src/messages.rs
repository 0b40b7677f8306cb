//! What the catalogue publishes on the bus: everything matching needs to index a programme or
//! a module (text, topics, level, audiences, places, sessions, cost, accessibility). The JSON
//! Schemas of `schema/events/fr.cafeia.catalogue.*` describe these payloads.

use crate::{
    enums::{Accessibility, Audience, Format, Funding, Level, Pace},
    trainings::{Place, TrainingSession},
};
use cafeia_api::MessageType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A programme was published (by staff's review or an LHEO import).
pub const TRAINING_PUBLISHED: MessageType =
    MessageType::new("catalogue", "training", "published", 1);
/// A published programme changed.
pub const TRAINING_UPDATED: MessageType = MessageType::new("catalogue", "training", "updated", 1);
/// A programme was withdrawn: it is no longer offered.
pub const TRAINING_WITHDRAWN: MessageType =
    MessageType::new("catalogue", "training", "withdrawn", 1);
/// A module was published, or a new version of it.
pub const MODULE_PUBLISHED: MessageType = MessageType::new("catalogue", "module", "published", 1);
/// A module was withdrawn.
pub const MODULE_WITHDRAWN: MessageType = MessageType::new("catalogue", "module", "withdrawn", 1);

/// Every message type the catalogue publishes.
pub const ALL: [MessageType; 5] = [
    TRAINING_PUBLISHED,
    TRAINING_UPDATED,
    TRAINING_WITHDRAWN,
    MODULE_PUBLISHED,
    MODULE_WITHDRAWN,
];

/// The provider of a programme, as announced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderRef {
    /// Identifier.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// SIRET (14 digits).
    pub siret: String,
}

/// A published programme, in full (`training.published` and `training.updated` carry the
/// same state).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingState {
    /// Identifier.
    pub id: Uuid,
    /// Who offers it.
    pub provider: ProviderRef,
    /// Title.
    pub title: String,
    /// Short presentation.
    pub summary: String,
    /// What learners will be able to do.
    pub objectives: String,
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
    /// Price in euro cents, when not free.
    pub price_cents: Option<i64>,
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
    /// Communes (municipalities) where it is taught.
    pub places: Vec<Place>,
    /// Its sessions.
    pub sessions: Vec<TrainingSession>,
    /// Where to enrol.
    pub enrolment_url: Option<String>,
}

/// A programme or a module was withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawn {
    /// Its identifier.
    pub id: Uuid,
}

/// A published educational module (also the content of its view).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "ModuleData", visible = false)
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModuleState {
    /// Identifier.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Presentation.
    pub summary: String,
    /// How long a session with it lasts, in minutes.
    pub duration_minutes: i32,
    /// How much participants need to know already.
    pub level: Level,
    /// Who it is meant for.
    pub audiences: Vec<Audience>,
    /// Topics of the shared vocabulary.
    pub topics: Vec<String>,
    /// Its open licence (e.g. `CC BY-SA 4.0`).
    pub licence: String,
    /// URLs of the slides, guides, activity sheets…
    pub resources: Vec<String>,
    /// Version label.
    pub version: String,
}
