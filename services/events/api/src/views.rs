//! What the events endpoints answer. Sessions are wrapped by the gateway (it adds fields from
//! other services), so their view is hidden from the GraphQL schema under its own name.

use crate::enums::{Accessibility, RegistrationMode, RegistrationStatus, SessionStatus};
use cafeia_api::vocabulary::{Audience, Format, Level};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Where an in-person or hybrid session takes place: the venue as the session copied it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionPlace {
    /// The venue (owned by the facilitators service).
    pub venue_id: Uuid,
    /// The venue's name.
    pub name: String,
    /// Postal address, one line.
    pub address: String,
    /// INSEE code of the commune (municipality).
    pub insee: String,
    /// INSEE code of the département.
    pub departement: String,
    /// INSEE code of the région.
    pub region: String,
    /// WGS 84 latitude.
    pub latitude: f64,
    /// WGS 84 longitude.
    pub longitude: f64,
}

/// Who runs a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacilitatorRef {
    /// The facilitator (owned by the facilitators service).
    pub id: Uuid,
    /// Their public name, when known here.
    pub display_name: Option<String>,
}

/// A session as the public sees it; `online_url` only for its facilitators, staff and the
/// people registered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "SessionData", visible = false))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// The session.
    pub id: Uuid,
    /// The series it belongs to, if any.
    pub series_id: Option<Uuid>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Where the session is in its life.
    pub status: SessionStatus,
    /// Why it was cancelled (or unpublished), when it was.
    pub status_reason: Option<String>,
    /// The lead facilitator.
    pub facilitator: FacilitatorRef,
    /// Other facilitators of the session (`facilitators` gives their public profiles).
    #[cfg_attr(feature = "graphql", graphql(name = "coFacilitatorIds"))]
    pub co_facilitators: Vec<Uuid>,
    /// Educational modules of the catalogue used in the session (`modules` gives the modules).
    #[cfg_attr(feature = "graphql", graphql(name = "moduleIds"))]
    pub modules: Vec<Uuid>,
    /// Topics of the shared vocabulary.
    pub topics: Vec<String>,
    /// In person, online or both.
    pub format: Format,
    /// The venue, for in-person and hybrid sessions.
    pub place: Option<SessionPlace>,
    /// The link of an online or hybrid session, for insiders only.
    pub online_url: Option<String>,
    /// When it starts, as a UTC instant (RFC 3339 with `Z`); show it in `timezone`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2027-03-18T17:00:00Z"))]
    pub starts_at: DateTime<Utc>,
    /// When it ends, as a UTC instant (RFC 3339 with `Z`); show it in `timezone`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2027-03-18T19:00:00Z"))]
    pub ends_at: DateTime<Utc>,
    /// IANA time zone of the session (e.g. `Europe/Paris`, `America/Cayenne`): clients show
    /// `startsAt` and `endsAt` in it, and the facilitator's inputs are wall-clock times in it.
    pub timezone: String,
    /// Seats, when counted.
    pub capacity: Option<i32>,
    /// Confirmed registrations.
    pub confirmed: i32,
    /// People on the waiting list.
    pub waitlisted: i32,
    /// Seats still free; absent when the session has no seat limit (online without capacity).
    pub seats_left: Option<i32>,
    /// Whether people may join a waiting list once the session is full.
    pub waitlist_enabled: bool,
    /// How people join.
    pub registration_mode: RegistrationMode,
    /// Whether a registration would be taken now (published, not started, online mode).
    pub registration_open: bool,
    /// Who the session is meant for.
    pub audiences: Vec<Audience>,
    /// How much people need to know already.
    pub level: Level,
    /// Languages spoken (ISO 639-1, `lsf`, `oc`).
    pub languages: Vec<String>,
    /// What the session offers for accessibility.
    pub accessibility: Vec<Accessibility>,
    /// Grows with every published change (the iCalendar `SEQUENCE`).
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub revision: i32,
}

/// The upcoming published sessions of one venue or one facilitator (a batch look-up answers
/// one group per id asked that has any), soonest first, at most
/// [`crate::queries::UPCOMING_PER_GROUP`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionGroup {
    /// The venue or facilitator asked for.
    pub id: Uuid,
    /// Its upcoming published sessions, soonest first.
    pub sessions: Vec<SessionView>,
}

/// The sessions of a new series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesView {
    /// The series.
    pub series_id: Uuid,
    /// Its occurrences, in order.
    pub sessions: Vec<SessionView>,
}

/// A registration as its registrant sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "Registration"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistrationView {
    /// The registration.
    pub id: Uuid,
    /// Its session.
    pub session_id: Uuid,
    /// Where it stands.
    pub status: RegistrationStatus,
    /// Place in the waiting list (1 = next to get a seat).
    pub waitlist_position: Option<i64>,
    /// Given once, to people registering without an account, when they confirm: keep it to
    /// cancel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_token: Option<String>,
    /// When the person registered.
    pub created_at: DateTime<Utc>,
}

/// What registering without an account answers, whoever the email belongs to and whatever it
/// holds already (nothing, a registration waiting for confirmation, a seat): a mail goes to
/// the address, and only its owner can act on it. The answer is the same in every case, so it
/// tells nobody whether an address is registered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistrationPending {
    /// The session asked for.
    pub session_id: Uuid,
    /// What to do next, to show as it is.
    pub message: String,
}

impl RegistrationPending {
    /// The one answer to an anonymous registration to `session_id`.
    pub fn for_session(session_id: Uuid) -> Self {
        Self {
            session_id,
            message: PENDING_MESSAGE.into(),
        }
    }
}

/// The text of every [`RegistrationPending`].
pub const PENDING_MESSAGE: &str = "Un courriel vient d'être envoyé à l'adresse indiquée : \
     ouvrez le lien qu'il contient pour confirmer votre inscription. Sans confirmation, \
     la demande est effacée.";

/// What registering answers: the registration of a signed-in citizen (201), or the same
/// pending answer for everyone registering with an email (202).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum RegisterAnswer {
    /// Signed in: decided at once.
    Registered(RegistrationView),
    /// With an email: decided once its owner confirms.
    Pending(RegistrationPending),
}

/// A citizen's registration with its session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyRegistration {
    /// The registration.
    pub registration: RegistrationView,
    /// Its session (with the online link once the seat is confirmed).
    pub session: SessionView,
}

/// One line of a session's roll: what its facilitators need to welcome people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RollEntry {
    /// The registration.
    pub id: Uuid,
    /// Where it stands.
    pub status: RegistrationStatus,
    /// Place in the waiting list (1 = next), for waitlisted people.
    pub waitlist_position: Option<i64>,
    /// Name given without an account (erased after retention).
    pub name: Option<String>,
    /// Email given without an account (erased after retention).
    pub email: Option<String>,
    /// Whether the person registered with an account.
    pub signed_in: bool,
    /// When the person registered.
    pub created_at: DateTime<Utc>,
}

/// A session's attendance report (its latest version).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "AttendanceReport"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttendanceView {
    /// The session.
    pub session_id: Uuid,
    /// 1 for the first report; each correction adds one.
    pub version: i32,
    /// People who held a seat.
    pub registered: i32,
    /// People who came (registered or not).
    pub attended: i32,
    /// Registered people who did not come.
    pub no_shows: i32,
    /// People who came without registering.
    pub walk_ins: i32,
    /// People at their first AI Café.
    pub first_timers: i32,
    /// Attendees per age band (`under_18`, `18_24`, …).
    pub age_bands: BTreeMap<String, i32>,
    /// Attendees per occupation (`student`, `employee`, …).
    pub occupations: BTreeMap<String, i32>,
    /// When this version was reported.
    pub reported_at: DateTime<Utc>,
    /// Until when the report may be corrected.
    pub correctable_until: DateTime<Utc>,
}

/// A citizen's private calendar feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "graphql", graphql(name = "PrivateCalendar"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrivateFeed {
    /// Path of the private iCalendar feed; anyone holding it sees the citizen's sessions.
    /// Asking again replaces it (the old one stops working).
    pub path: String,
}
