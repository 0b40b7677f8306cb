//! What the events service publishes on the bus. Sessions travel whole (matching indexes
//! them); registrations travel without any personal data (a notifier looks the person up
//! through the API); attendance travels as anonymous aggregates only (outreach counts them).
//! Each payload's JSON Schema is under `schema/events/`.

use crate::enums::{
    Accessibility, CancellationCause, RegistrationMode, RegistrationStatus, SessionStatus,
};
use cafeia_api::{
    MessageType,
    vocabulary::{Audience, Format, Level},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A session was published (payload: [`SessionState`]).
pub const SESSION_PUBLISHED: MessageType = MessageType::new("events", "session", "published", 1);
/// A published session changed (payload: [`SessionState`]).
pub const SESSION_UPDATED: MessageType = MessageType::new("events", "session", "updated", 1);
/// A session was cancelled (payload: [`SessionState`]).
pub const SESSION_CANCELLED: MessageType = MessageType::new("events", "session", "cancelled", 1);
/// A session was held (payload: [`SessionState`]).
pub const SESSION_COMPLETED: MessageType = MessageType::new("events", "session", "completed", 1);
/// Someone got a seat (payload: [`RegistrationChange`]).
pub const REGISTRATION_CONFIRMED: MessageType =
    MessageType::new("events", "registration", "confirmed", 1);
/// Someone joined the waiting list (payload: [`RegistrationChange`]).
pub const REGISTRATION_WAITLISTED: MessageType =
    MessageType::new("events", "registration", "waitlisted", 1);
/// Someone on the waiting list got a seat (payload: [`RegistrationChange`]).
pub const REGISTRATION_PROMOTED: MessageType =
    MessageType::new("events", "registration", "promoted", 1);
/// A registration was cancelled (payload: [`RegistrationChange`] with its `cause`).
pub const REGISTRATION_CANCELLED: MessageType =
    MessageType::new("events", "registration", "cancelled", 1);
/// A session's seat counters changed (payload: [`SeatsChanged`]).
pub const SEATS_CHANGED: MessageType = MessageType::new("events", "seats", "changed", 1);
/// An attendance report or its correction (payload: [`AttendanceRecorded`]).
pub const ATTENDANCE_RECORDED: MessageType =
    MessageType::new("events", "attendance", "recorded", 1);

/// Every message type the events service publishes.
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

/// Where an in-person or hybrid session takes place: the same shape as in the REST answers.
pub use crate::views::SessionPlace as PlaceState;

/// A session's public state (never the online link), sent whole with every `events.session.*`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SessionState {
    /// The session.
    pub id: Uuid,
    /// The series it belongs to, if any.
    pub series_id: Option<Uuid>,
    /// Grows with every change; a consumer ignores a revision lower than the one it has.
    pub revision: i32,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Where the session is in its life.
    pub status: SessionStatus,
    /// Why it was cancelled (or unpublished), when it was.
    pub status_reason: Option<String>,
    /// The lead facilitator.
    pub facilitator_id: Uuid,
    /// The lead facilitator's kind (facilitators' wire name), when known.
    pub facilitator_kind: Option<String>,
    /// Other facilitators of the session.
    pub co_facilitators: Vec<Uuid>,
    /// Educational modules of the catalogue used in the session.
    pub modules: Vec<Uuid>,
    /// Topics of the shared vocabulary.
    pub topics: Vec<String>,
    /// In person, online or both.
    pub format: Format,
    /// The venue, for in-person and hybrid sessions.
    pub place: Option<PlaceState>,
    /// Start instant.
    pub starts_at: DateTime<Utc>,
    /// End instant.
    pub ends_at: DateTime<Utc>,
    /// IANA time zone the facilitator wrote the times in.
    pub timezone: String,
    /// Seats, when counted.
    pub capacity: Option<i32>,
    /// Seats still free, when counted.
    pub seats_left: Option<i32>,
    /// Whether people may join a waiting list once the session is full.
    pub waitlist_enabled: bool,
    /// Who the session is meant for.
    pub audiences: Vec<Audience>,
    /// How much people need to know already.
    pub level: Level,
    /// Languages spoken (ISO 639-1, `lsf`, `oc`).
    pub languages: Vec<String>,
    /// What the session offers for accessibility.
    pub accessibility: Vec<Accessibility>,
    /// How people join.
    pub registration_mode: RegistrationMode,
}

/// A registration changed state (`events.registration.*`), without any personal data.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RegistrationChange {
    /// The registration.
    pub registration_id: Uuid,
    /// Its session.
    pub session_id: Uuid,
    /// Where the registration stands now.
    pub status: RegistrationStatus,
    /// Place in the waiting list (1 = next), for waitlisted registrations.
    pub waitlist_position: Option<i64>,
    /// Whether the registrant has an account (otherwise: email + cancellation token).
    pub signed_in: bool,
    /// Why a cancellation happened (cancellations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<CancellationCause>,
}

/// A session's seat counters after a change (`events.seats.changed`); also what the
/// gateway's `seats` subscription sends.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "Seats"))]
pub struct SeatsChanged {
    /// The session.
    pub session_id: Uuid,
    /// Seats, when counted.
    pub capacity: Option<i32>,
    /// Confirmed registrations.
    pub confirmed: i32,
    /// People on the waiting list.
    pub waitlisted: i32,
    /// Seats still free, when counted.
    pub seats_left: Option<i32>,
    /// Orders the counts of one session: a higher revision is newer, and a consumer ignores
    /// counts older than those it holds (messages are retried and redelivered out of order).
    /// See [`SeatsChanged::revision_of`]. Absent (0) in messages sent before it existed:
    /// those cannot be ordered and are applied as they come, as they were then.
    #[serde(default)]
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub revision: i64,
}

impl SeatsChanged {
    /// The revision of a session's counts, from its row: the session's revision (as in
    /// [`SessionState::revision`]) in the high 32 bits, then `3 × arrivals − confirmed −
    /// 2 × waitlisted`. Every seat decision runs under the session's row lock and changes
    /// that number upwards: a new registration adds 2 (seat) or 1 (waiting list), a
    /// cancellation adds 1 (seat) or 2 (waiting list), a promotion adds 1; anything else that
    /// moves the counters (capacity, cancelling the session) raises the session's revision.
    /// So the revision grows with every change, on every replica, without a counter of its
    /// own. The low part is never negative (active registrations never outnumber arrivals).
    pub fn revision_of(
        session_revision: i32,
        arrivals: i64,
        confirmed: i32,
        waitlisted: i32,
    ) -> i64 {
        let history = 3 * arrivals - i64::from(confirmed) - 2 * i64::from(waitlisted);
        Self::revision_floor(session_revision) | history.clamp(0, i64::from(u32::MAX))
    }

    /// The lowest revision of counts taken at `session_revision`: what counts read with a
    /// session's state (a [`SessionState`] or its view) are as new as.
    pub fn revision_floor(session_revision: i32) -> i64 {
        i64::from(session_revision.max(0)) << 32
    }

    /// The session's revision these counts were taken at.
    pub fn session_revision(&self) -> i32 {
        i32::try_from(self.revision >> 32).unwrap_or(i32::MAX)
    }
}

/// An attendance report (or a correction, which replaces the earlier version in the metrics):
/// anonymous aggregates only (`events.attendance.recorded`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AttendanceRecorded {
    /// The session.
    pub session_id: Uuid,
    /// 1 for the first report; a higher version replaces the lower ones.
    pub version: i32,
    /// The lead facilitator.
    pub facilitator_id: Uuid,
    /// The lead facilitator's kind (facilitators' wire name), when known.
    pub facilitator_kind: Option<String>,
    /// Start instant of the session.
    pub starts_at: DateTime<Utc>,
    /// The session's IANA time zone (`Europe/Paris`, `America/Cayenne`): the local date it
    /// counts on, online sessions included. Absent from reports sent before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// In person, online or both.
    pub format: Format,
    /// INSEE code of the venue's commune (municipality), for sessions held in a venue.
    pub insee: Option<String>,
    /// Code of the venue's département.
    pub departement: Option<String>,
    /// Code of the venue's région.
    pub region: Option<String>,
    /// Topics of the shared vocabulary.
    pub topics: Vec<String>,
    /// Who the session was meant for.
    pub audiences: Vec<Audience>,
    /// Level of the session.
    pub level: Level,
    /// Registrations at the time of the report.
    pub registered: i32,
    /// People who came (registered or not).
    pub attended: i32,
    /// Registered people who did not come.
    pub no_shows: i32,
    /// People who came without registering.
    pub walk_ins: i32,
    /// People at their first AI Café (the ones the national goal counts).
    pub first_timers: i32,
    /// Attendees per age band (`under_18`, `18_24`, …).
    pub age_bands: BTreeMap<String, i32>,
    /// Attendees per occupation (`student`, `employee`, …).
    pub occupations: BTreeMap<String, i32>,
}

#[cfg(test)]
mod tests {
    use super::SeatsChanged;

    /// (arrivals, confirmed, waitlisted) after each kind of seat decision: the revision grows.
    #[test]
    fn seats_revision_grows_with_every_seat_decision() {
        let rev = |a, c, w| SeatsChanged::revision_of(3, a, c, w);
        let steps = [
            (0, 0, 0),
            (1, 1, 0), // a seat
            (2, 1, 1), // the waiting list
            (3, 1, 2), // the waiting list again
            (3, 1, 1), // a waitlisted person cancels
            (3, 0, 1), // a seated person cancels…
            (3, 1, 0), // …and the next one is promoted
            (4, 2, 0), // a seat
            (4, 0, 0), // the session is cancelled (everyone at once)
        ];
        for pair in steps.windows(2) {
            let ((a0, c0, w0), (a1, c1, w1)) = (pair[0], pair[1]);
            assert!(
                rev(a1, c1, w1) > rev(a0, c0, w0),
                "{:?} → {:?}",
                pair[0],
                pair[1]
            );
        }
        // A new revision of the session (capacity, status) outranks any count before it.
        assert!(SeatsChanged::revision_of(4, 0, 0, 0) > rev(1_000_000, 0, 0));
        assert_eq!(
            SeatsChanged::revision_of(4, 7, 1, 2).checked_shr(32),
            Some(4)
        );
        let seats = SeatsChanged {
            session_id: uuid::Uuid::nil(),
            capacity: None,
            confirmed: 0,
            waitlisted: 0,
            seats_left: None,
            revision: SeatsChanged::revision_of(9, 5, 1, 1),
        };
        assert_eq!(seats.session_revision(), 9);
        assert_eq!(SeatsChanged::revision_floor(9) >> 32, 9);
    }
}
