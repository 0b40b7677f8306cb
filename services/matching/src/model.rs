//! What matching knows of a session or a training: one searchable, rankable item, built from
//! the events and catalogue messages (their payload types are those services' contracts).

use cafeia_api::vocabulary::{Audience, Format, Level};
use cafeia_catalogue_api::{
    enums::Accessibility as TrainingAccessibility, messages::TrainingState,
};
use cafeia_events_api::{
    Accessibility as SessionAccessibility, RegistrationMode, SessionStatus, messages::SessionState,
};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use cafeia_matching_api::{AccessibilityNeed, OfferKind};

/// A place an offer is held at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub insee: String,
    pub departement: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// One offer in the read model (stored as JSON in `item.doc`: its field names and values are
/// the stored text; a document that does not read as an `Item` is an error, see
/// [`crate::storage::Unreadable`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sea_orm::FromJsonQueryResult)]
pub struct Item {
    pub id: Uuid,
    pub kind: OfferKind,
    /// Published and not withdrawn/cancelled.
    pub active: bool,
    pub title: String,
    pub text: String,
    pub topics: Vec<String>,
    pub level: Level,
    pub audiences: Vec<Audience>,
    pub languages: Vec<String>,
    /// The needs the offer meets (sessions' and trainings' own words read as needs).
    pub accessibility: Vec<AccessibilityNeed>,
    pub format: Format,
    pub free: bool,
    pub places: Vec<Place>,
    pub starts_at: Option<DateTime<Utc>>,
    /// Training sessions' start dates.
    pub dates: Vec<NaiveDate>,
    pub capacity: Option<i32>,
    pub seats_left: Option<i32>,
    pub waitlist_enabled: bool,
    pub revision: i32,
    /// The revision of `capacity` and `seats_left` (`SeatsChanged::revision`): counts older
    /// than these are ignored. 0 in documents stored before it existed.
    #[serde(default)]
    pub seats_revision: i64,
    /// When the catalogue announced the state held (its message's `time`): trainings carry no
    /// revision, so a late announcement is told by its time. `None` for sessions (they have
    /// `revision`) and in documents stored before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<DateTime<Utc>>,
    /// The IANA zone a session's times are in: its weekday and hour (availability windows)
    /// are read there. `None` for trainings and in documents stored before it existed (read
    /// as `Europe/Paris`, the only zone matching knew then). A stored name that is no zone
    /// does not read ([`crate::storage::Unreadable`]).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "zone")]
    pub timezone: Option<Tz>,
    /// Accessibility and languages as bits, for the hard constraints (computed on load).
    #[serde(skip)]
    pub masks: Masks,
}

/// Bit sets of accessibility features and languages: the hard constraints are checked on
/// every candidate, so they compare bits, not strings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Masks {
    pub accessibility: u8,
    pub languages: u32,
}

pub fn accessibility_bit(need: AccessibilityNeed) -> u8 {
    match need {
        AccessibilityNeed::Wheelchair => 1,
        AccessibilityNeed::Lsf => 2,
        AccessibilityNeed::HearingLoop => 4,
        AccessibilityNeed::EasyRead => 8,
    }
}

pub fn language_bit(code: &str) -> u32 {
    cafeia_api::vocabulary::LANGUAGES
        .iter()
        .position(|k| *k == code)
        .map_or(1 << 31, |i| 1 << i)
}

impl Masks {
    pub fn of(accessibility: &[AccessibilityNeed], languages: &[String]) -> Self {
        Self {
            accessibility: accessibility
                .iter()
                .fold(0, |m, a| m | accessibility_bit(*a)),
            languages: languages.iter().fold(0, |m, l| m | language_bit(l)),
        }
    }
}

impl Item {
    /// Fills the bit sets (after loading from JSON).
    pub fn indexed(mut self) -> Self {
        self.masks = Masks::of(&self.accessibility, &self.languages);
        self
    }

    pub fn online(&self) -> bool {
        self.format != Format::InPerson
    }

    /// The zone the offer's local times are read in.
    pub fn zone(&self) -> Tz {
        self.timezone.unwrap_or(chrono_tz::Europe::Paris)
    }

    /// A programme withdrawn before matching heard of it (messages arrive out of order): held
    /// inactive with the time of its withdrawal, so an older announcement arriving later does
    /// not bring it back. Nothing else of it is known; an inactive item is never indexed.
    pub fn withdrawn_training(id: Uuid, as_of: DateTime<Utc>) -> Self {
        Item {
            id,
            kind: OfferKind::Training,
            active: false,
            title: String::new(),
            text: String::new(),
            topics: Vec::new(),
            level: Level::Discovery,
            audiences: Vec::new(),
            languages: Vec::new(),
            accessibility: Vec::new(),
            format: Format::Online,
            free: true,
            places: Vec::new(),
            starts_at: None,
            dates: Vec::new(),
            capacity: None,
            seats_left: None,
            waitlist_enabled: false,
            revision: 0,
            seats_revision: 0,
            as_of: Some(as_of),
            timezone: None,
            masks: Masks::default(),
        }
    }

    pub fn has_seats(&self) -> bool {
        self.seats_left.is_none_or(|n| n > 0)
    }

    /// Sessions that are cancelled, past, or full without a waiting list are never offered.
    pub fn offerable(&self, now: DateTime<Utc>) -> bool {
        if !self.active {
            return false;
        }
        match self.kind {
            OfferKind::Session => {
                self.starts_at.is_some_and(|s| s > now)
                    && (self.has_seats() || self.waitlist_enabled)
            }
            OfferKind::Training => true,
        }
    }
}

/// What a session offers, as the need it meets.
fn session_need(a: SessionAccessibility) -> AccessibilityNeed {
    match a {
        SessionAccessibility::Wheelchair => AccessibilityNeed::Wheelchair,
        SessionAccessibility::Lsf => AccessibilityNeed::Lsf,
        SessionAccessibility::HearingLoop => AccessibilityNeed::HearingLoop,
        SessionAccessibility::EasyRead => AccessibilityNeed::EasyRead,
    }
}

impl From<SessionState> for Item {
    fn from(s: SessionState) -> Self {
        // On-site-only sessions take no registration: people just come.
        let open = s.registration_mode == RegistrationMode::Open;
        Item {
            id: s.id,
            kind: OfferKind::Session,
            active: s.status == SessionStatus::Published,
            title: s.title,
            text: s.description,
            topics: s.topics,
            level: s.level,
            audiences: s.audiences,
            languages: s.languages,
            accessibility: s.accessibility.into_iter().map(session_need).collect(),
            format: s.format,
            free: true,
            places: s
                .place
                .map(|p| Place {
                    insee: p.insee,
                    departement: p.departement,
                    latitude: p.latitude,
                    longitude: p.longitude,
                })
                .into_iter()
                .collect(),
            starts_at: Some(s.starts_at),
            dates: Vec::new(),
            capacity: s.capacity.filter(|_| open),
            seats_left: s.seats_left.filter(|_| open),
            waitlist_enabled: s.waitlist_enabled,
            revision: s.revision,
            // The counts are those of the session's state at its revision.
            seats_revision: cafeia_events_api::messages::SeatsChanged::revision_floor(s.revision),
            as_of: None,
            // Events only announces zones it knows; one this build does not know is read as
            // Paris rather than refusing the whole session.
            timezone: s.timezone.parse().ok(),
            masks: Masks::default(),
        }
    }
}

/// What a programme offers, as the need it meets (RGAA compliance of online material meets
/// none of the needs matching knows).
fn training_need(a: TrainingAccessibility) -> Option<AccessibilityNeed> {
    match a {
        TrainingAccessibility::DisabledAccess => Some(AccessibilityNeed::Wheelchair),
        TrainingAccessibility::SignLanguage => Some(AccessibilityNeed::Lsf),
        TrainingAccessibility::RgaaCompliant => None,
    }
}

impl From<TrainingState> for Item {
    fn from(t: TrainingState) -> Self {
        let accessibility = t
            .accessibility
            .into_iter()
            .filter_map(training_need)
            .collect();
        Item {
            id: t.id,
            kind: OfferKind::Training,
            active: true,
            title: t.title,
            text: format!("{} {}", t.summary, t.objectives),
            topics: t.topics,
            level: t.level,
            audiences: t.audiences,
            languages: t.languages,
            accessibility,
            format: t.format,
            free: t.free,
            places: t
                .places
                .into_iter()
                .map(|p| Place {
                    insee: p.insee,
                    departement: p.departement,
                    latitude: p.latitude,
                    longitude: p.longitude,
                })
                .collect(),
            starts_at: None,
            dates: t.sessions.into_iter().map(|s| s.start_date).collect(),
            capacity: None,
            seats_left: None,
            waitlist_enabled: false,
            revision: 0,
            seats_revision: 0,
            // Set from the message's time by the consumer.
            as_of: None,
            timezone: None,
            masks: Masks::default(),
        }
    }
}

/// An IANA zone stored by its name.
mod zone {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(zone: &Option<Tz>, s: S) -> Result<S::Ok, S::Error> {
        match zone {
            Some(z) => s.serialize_some(z.name()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Tz>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|name| {
                name.parse::<Tz>()
                    .map_err(|_| D::Error::custom(format!("unknown time zone {name:?}")))
            })
            .transpose()
    }
}
