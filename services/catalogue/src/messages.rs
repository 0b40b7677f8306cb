//! What the catalogue publishes through its outbox: everything matching needs to index a
//! programme or a module (text, topics, level, audiences, places, sessions, cost, accessibility).

use cafeia_platform::envelope::MessageType;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const TRAINING_PUBLISHED: MessageType =
    MessageType::new("catalogue", "training", "published", 1);
pub const TRAINING_UPDATED: MessageType = MessageType::new("catalogue", "training", "updated", 1);
pub const TRAINING_WITHDRAWN: MessageType =
    MessageType::new("catalogue", "training", "withdrawn", 1);
pub const MODULE_PUBLISHED: MessageType = MessageType::new("catalogue", "module", "published", 1);
pub const MODULE_WITHDRAWN: MessageType = MessageType::new("catalogue", "module", "withdrawn", 1);

pub const ALL: [MessageType; 5] = [
    TRAINING_PUBLISHED,
    TRAINING_UPDATED,
    TRAINING_WITHDRAWN,
    MODULE_PUBLISHED,
    MODULE_WITHDRAWN,
];

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ProviderRef {
    pub id: Uuid,
    pub name: String,
    pub siret: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlaceState {
    pub insee: String,
    pub departement: String,
    pub region: String,
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SessionState {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub enrolment: String,
    pub insee: Option<String>,
}

/// A published programme, in full (published and updated carry the same state).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrainingState {
    pub id: Uuid,
    pub provider: ProviderRef,
    pub title: String,
    pub summary: String,
    pub objectives: String,
    pub level: String,
    pub audiences: Vec<String>,
    pub format: String,
    pub pace: String,
    pub duration_hours: i32,
    pub free: bool,
    pub price_cents: Option<i64>,
    pub funding: Vec<String>,
    pub certification: Option<String>,
    pub languages: Vec<String>,
    pub accessibility: Vec<String>,
    pub topics: Vec<String>,
    pub online: bool,
    pub places: Vec<PlaceState>,
    pub sessions: Vec<SessionState>,
    pub enrolment_url: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Withdrawn {
    pub id: Uuid,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModuleState {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    pub duration_minutes: i32,
    pub level: String,
    pub audiences: Vec<String>,
    pub topics: Vec<String>,
    pub licence: String,
    pub resources: Vec<String>,
    pub version: String,
}
