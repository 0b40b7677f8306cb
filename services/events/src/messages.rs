//! What the events service publishes through its outbox. Sessions travel whole (matching
//! indexes them); registrations travel without any personal data (a notifier looks the person
//! up through the API); attendance travels as anonymous aggregates only (outreach counts them).

use cafeia_platform::envelope::MessageType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

pub const SESSION_PUBLISHED: MessageType = MessageType::new("events", "session", "published", 1);
pub const SESSION_UPDATED: MessageType = MessageType::new("events", "session", "updated", 1);
pub const SESSION_CANCELLED: MessageType = MessageType::new("events", "session", "cancelled", 1);
pub const SESSION_COMPLETED: MessageType = MessageType::new("events", "session", "completed", 1);
pub const REGISTRATION_CONFIRMED: MessageType =
    MessageType::new("events", "registration", "confirmed", 1);
pub const REGISTRATION_WAITLISTED: MessageType =
    MessageType::new("events", "registration", "waitlisted", 1);
pub const REGISTRATION_PROMOTED: MessageType =
    MessageType::new("events", "registration", "promoted", 1);
pub const REGISTRATION_CANCELLED: MessageType =
    MessageType::new("events", "registration", "cancelled", 1);
pub const SEATS_CHANGED: MessageType = MessageType::new("events", "seats", "changed", 1);
pub const ATTENDANCE_RECORDED: MessageType =
    MessageType::new("events", "attendance", "recorded", 1);

pub const ALL: [MessageType; 10] = [
    SESSION_PUBLISHED,
    SESSION_UPDATED,
    SESSION_CANCELLED,
    SESSION_COMPLETED,
    REGISTRATION_CONFIRMED,
    REGISTRATION_WAITLISTED,
    REGISTRATION_PROMOTED,
    REGISTRATION_CANCELLED,
    SEATS_CHANGED,
    ATTENDANCE_RECORDED,
];

/// Where an in-person session takes place.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlaceState {
    pub venue_id: Uuid,
    pub name: String,
    pub address: String,
    pub insee: String,
    pub departement: String,
    pub region: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// A session's public state (never the online link).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SessionState {
    pub id: Uuid,
    pub series_id: Option<Uuid>,
    pub revision: i32,
    pub title: String,
    pub description: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub facilitator_id: Uuid,
    pub facilitator_kind: Option<String>,
    pub co_facilitators: Vec<Uuid>,
    pub modules: Vec<Uuid>,
    pub topics: Vec<String>,
    pub format: String,
    pub place: Option<PlaceState>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: String,
    pub capacity: Option<i32>,
    pub seats_left: Option<i32>,
    pub waitlist_enabled: bool,
    pub audiences: Vec<String>,
    pub level: String,
    pub languages: Vec<String>,
    pub accessibility: Vec<String>,
    pub registration_mode: String,
}

/// A registration changed state. `cause` says why a cancellation happened (`registrant`,
/// `session_cancelled`, `erased`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RegistrationChange {
    pub registration_id: Uuid,
    pub session_id: Uuid,
    pub status: String,
    /// Place in the waiting list (1 = next), for waitlisted registrations.
    pub waitlist_position: Option<i64>,
    pub signed_in: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SeatsChanged {
    pub session_id: Uuid,
    pub capacity: Option<i32>,
    pub confirmed: i32,
    pub waitlisted: i32,
    pub seats_left: Option<i32>,
}

/// An attendance report (or a correction, which replaces the earlier version in the metrics).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AttendanceRecorded {
    pub session_id: Uuid,
    /// 1 for the first report; a higher version replaces the lower ones.
    pub version: i32,
    pub facilitator_id: Uuid,
    pub facilitator_kind: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub format: String,
    pub insee: Option<String>,
    pub departement: Option<String>,
    pub region: Option<String>,
    pub topics: Vec<String>,
    pub audiences: Vec<String>,
    pub level: String,
    pub registered: i32,
    pub attended: i32,
    pub no_shows: i32,
    pub walk_ins: i32,
    pub first_timers: i32,
    pub age_bands: BTreeMap<String, i32>,
    pub occupations: BTreeMap<String, i32>,
}
