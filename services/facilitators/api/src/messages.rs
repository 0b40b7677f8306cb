//! What the facilitators service tells the others, through its outbox. Payloads carry what the
//! consumers keep as replicas (status, areas, kind, topics, languages, venues) and no personal
//! data: no name, no email, no suspension reason. Messages stay in places erasure cannot reach
//! (sent outbox rows for 7 days, dead-letter queues, consumers' histories), so a person's
//! name never travels: a consumer that shows one asks this service at read time (the public
//! profiles, `GET /v1/facilitators/profiles/batch`, which an erased person leaves). The JSON
//! Schemas under `schema/events/` describe the same shapes.

use crate::enums::{FacilitatorKind, FacilitatorStatus};
use cafeia_api::MessageType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A facilitator registered (status pending); payload [`FacilitatorState`].
pub const FACILITATOR_REGISTERED: MessageType =
    MessageType::new("facilitators", "facilitator", "registered", 1);
/// Staff verified a facilitator; payload [`FacilitatorState`].
pub const FACILITATOR_VERIFIED: MessageType =
    MessageType::new("facilitators", "facilitator", "verified", 1);
/// Staff suspended a facilitator; payload [`FacilitatorState`].
pub const FACILITATOR_SUSPENDED: MessageType =
    MessageType::new("facilitators", "facilitator", "suspended", 1);
/// Staff reinstated a suspended facilitator; payload [`FacilitatorState`].
pub const FACILITATOR_REINSTATED: MessageType =
    MessageType::new("facilitators", "facilitator", "reinstated", 1);
/// A facilitator changed their profile; payload [`FacilitatorState`].
pub const FACILITATOR_UPDATED: MessageType =
    MessageType::new("facilitators", "facilitator", "updated", 1);
/// A facilitator's personal data was erased; payload [`FacilitatorErased`].
pub const FACILITATOR_ERASED: MessageType =
    MessageType::new("facilitators", "facilitator", "erased", 1);
/// A venue was created or changed; payload [`VenueState`].
pub const VENUE_UPSERTED: MessageType = MessageType::new("facilitators", "venue", "upserted", 1);
/// A venue was removed; payload [`VenueRemoved`].
pub const VENUE_REMOVED: MessageType = MessageType::new("facilitators", "venue", "removed", 1);

/// The message types that carry a [`FacilitatorState`].
pub const FACILITATOR_STATES: [MessageType; 5] = [
    FACILITATOR_REGISTERED,
    FACILITATOR_UPDATED,
    FACILITATOR_VERIFIED,
    FACILITATOR_SUSPENDED,
    FACILITATOR_REINSTATED,
];

/// Every message type the service publishes.
pub const ALL: [MessageType; 8] = [
    FACILITATOR_UPDATED,
    FACILITATOR_REGISTERED,
    FACILITATOR_VERIFIED,
    FACILITATOR_SUSPENDED,
    FACILITATOR_REINSTATED,
    FACILITATOR_ERASED,
    VENUE_UPSERTED,
    VENUE_REMOVED,
];

/// A facilitator's public state, sent whole with every `facilitators.facilitator.*` message
/// but `erased`. No name: older producers sent `display_name`, which readers ignore (an
/// unknown field).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FacilitatorState {
    pub id: Uuid,
    /// SHA-256 (hex) of the facilitator's token subject (`cafeia_platform::auth::account_key`):
    /// lets other services recognise the facilitator's own calls without the identifier
    /// travelling.
    pub account: String,
    pub kind: FacilitatorKind,
    pub status: FacilitatorStatus,
    /// INSEE codes of the départements (French counties) served.
    pub departements: Vec<String>,
    /// INSEE codes of the régions served.
    pub regions: Vec<String>,
    /// Topics of the shared vocabulary (`cafeia_api::vocabulary::TOPICS`).
    pub topics: Vec<String>,
    /// ISO 639-1 codes, plus `lsf` (French Sign Language).
    pub languages: Vec<String>,
    pub organisation_id: Option<Uuid>,
}

/// A facilitator whose personal data was erased: replicas drop what they keep of the person
/// (the account link).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FacilitatorErased {
    pub id: Uuid,
}

/// A venue as consumers need it to place sessions.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VenueState {
    pub id: Uuid,
    pub name: String,
    /// Street address.
    pub address: String,
    /// Code postal (postcode).
    pub postcode: String,
    /// INSEE code of the commune (municipality).
    pub insee: String,
    /// INSEE code of the département.
    pub departement: String,
    /// INSEE code of the région.
    pub region: String,
    pub latitude: f64,
    pub longitude: f64,
    /// OpenStreetMap `opening_hours` syntax.
    pub opening_hours: Option<String>,
    /// Accessibility features (`wheelchair`, `hearing_loop`, `lsf`, …).
    pub accessibility: Vec<String>,
    /// Seats, when known.
    pub capacity: Option<i32>,
    /// Listed publicly.
    pub is_public: bool,
}

/// A venue removed: replicas mark it gone.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VenueRemoved {
    pub id: Uuid,
}
