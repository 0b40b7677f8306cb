//! What the facilitators service tells the others, through its outbox. Payloads carry what the
//! consumers keep as replicas (status, areas, public profile, venues) and no private data
//! (no email).

use cafeia_platform::envelope::MessageType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const FACILITATOR_REGISTERED: MessageType =
    MessageType::new("facilitators", "facilitator", "registered", 1);
pub const FACILITATOR_VERIFIED: MessageType =
    MessageType::new("facilitators", "facilitator", "verified", 1);
pub const FACILITATOR_SUSPENDED: MessageType =
    MessageType::new("facilitators", "facilitator", "suspended", 1);
pub const FACILITATOR_REINSTATED: MessageType =
    MessageType::new("facilitators", "facilitator", "reinstated", 1);
pub const FACILITATOR_UPDATED: MessageType =
    MessageType::new("facilitators", "facilitator", "updated", 1);
pub const FACILITATOR_ERASED: MessageType =
    MessageType::new("facilitators", "facilitator", "erased", 1);
pub const VENUE_UPSERTED: MessageType = MessageType::new("facilitators", "venue", "upserted", 1);
pub const VENUE_REMOVED: MessageType = MessageType::new("facilitators", "venue", "removed", 1);

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

/// A facilitator's public state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FacilitatorState {
    pub id: Uuid,
    /// [`cafeia_platform::auth::account_key`] of the facilitator's account.
    pub account: String,
    pub display_name: String,
    pub kind: String,
    pub status: String,
    pub departements: Vec<String>,
    pub regions: Vec<String>,
    pub topics: Vec<String>,
    pub languages: Vec<String>,
    pub organisation_id: Option<Uuid>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FacilitatorErased {
    pub id: Uuid,
}

/// A venue as consumers need it to place sessions.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VenueState {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    pub postcode: String,
    pub insee: String,
    pub departement: String,
    pub region: String,
    pub latitude: f64,
    pub longitude: f64,
    pub opening_hours: Option<String>,
    pub accessibility: Vec<String>,
    pub capacity: Option<i32>,
    pub is_public: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VenueRemoved {
    pub id: Uuid,
}
