//! What matching knows of a session or a training: one searchable, rankable item, built from
//! the events and catalogue messages (their fields of interest only).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Session,
    Training,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Place {
    pub insee: String,
    pub departement: String,
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    pub id: Uuid,
    pub kind: Kind,
    /// Published and not withdrawn/cancelled.
    pub active: bool,
    pub title: String,
    pub text: String,
    pub topics: Vec<String>,
    pub level: String,
    pub audiences: Vec<String>,
    pub languages: Vec<String>,
    /// In the sessions' vocabulary: `wheelchair`, `lsf`, `hearing_loop`, `easy_read`.
    pub accessibility: Vec<String>,
    pub format: String,
    pub free: bool,
    pub places: Vec<Place>,
    pub starts_at: Option<DateTime<Utc>>,
    /// Training sessions' start dates.
    pub dates: Vec<NaiveDate>,
    pub capacity: Option<i32>,
    pub seats_left: Option<i32>,
    pub waitlist_enabled: bool,
    pub revision: i32,
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

pub fn accessibility_bit(word: &str) -> u8 {
    match word {
        "wheelchair" => 1,
        "lsf" => 2,
        "hearing_loop" => 4,
        "easy_read" => 8,
        _ => 128,
    }
}

pub fn language_bit(code: &str) -> u32 {
    const KNOWN: [&str; 16] = [
        "fr", "en", "es", "de", "it", "pt", "ar", "zh", "ru", "tr", "ro", "pl", "uk", "vi", "lsf",
        "oc",
    ];
    KNOWN
        .iter()
        .position(|k| *k == code)
        .map_or(1 << 31, |i| 1 << i)
}

impl Masks {
    pub fn of(accessibility: &[String], languages: &[String]) -> Self {
        Self {
            accessibility: accessibility
                .iter()
                .fold(0, |m, a| m | accessibility_bit(a)),
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
        self.format != "in_person"
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
            Kind::Session => {
                self.starts_at.is_some_and(|s| s > now)
                    && (self.has_seats() || self.waitlist_enabled)
            }
            Kind::Training => true,
        }
    }
}

/// `events.session.*` (fields kept).
#[derive(Debug, Deserialize)]
pub struct SessionMessage {
    pub id: Uuid,
    pub revision: i32,
    pub title: String,
    pub description: String,
    pub status: String,
    pub topics: Vec<String>,
    pub format: String,
    pub place: Option<SessionPlace>,
    pub starts_at: DateTime<Utc>,
    pub capacity: Option<i32>,
    pub seats_left: Option<i32>,
    pub waitlist_enabled: bool,
    pub audiences: Vec<String>,
    pub level: String,
    pub languages: Vec<String>,
    pub accessibility: Vec<String>,
    pub registration_mode: String,
}

#[derive(Debug, Deserialize)]
pub struct SessionPlace {
    pub insee: String,
    pub departement: String,
    pub latitude: f64,
    pub longitude: f64,
}

impl From<SessionMessage> for Item {
    fn from(s: SessionMessage) -> Self {
        Item {
            id: s.id,
            kind: Kind::Session,
            active: s.status == "published",
            title: s.title,
            text: s.description,
            topics: s.topics,
            level: s.level,
            audiences: s.audiences,
            languages: s.languages,
            accessibility: s.accessibility,
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
            // On-site-only sessions take no registration: people just come.
            capacity: s.capacity.filter(|_| s.registration_mode == "open"),
            seats_left: s.seats_left.filter(|_| s.registration_mode == "open"),
            waitlist_enabled: s.waitlist_enabled,
            revision: s.revision,
            masks: Masks::default(),
        }
    }
}

/// `catalogue.training.published|updated` (fields kept).
#[derive(Debug, Deserialize)]
pub struct TrainingMessage {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    pub objectives: String,
    pub level: String,
    pub audiences: Vec<String>,
    pub format: String,
    pub free: bool,
    pub languages: Vec<String>,
    pub accessibility: Vec<String>,
    pub topics: Vec<String>,
    pub places: Vec<TrainingPlace>,
    pub sessions: Vec<TrainingSession>,
}

#[derive(Debug, Deserialize)]
pub struct TrainingPlace {
    pub insee: String,
    pub departement: String,
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Deserialize)]
pub struct TrainingSession {
    pub start_date: NaiveDate,
}

impl From<TrainingMessage> for Item {
    fn from(t: TrainingMessage) -> Self {
        // The catalogue's accessibility words, in the sessions' vocabulary.
        let accessibility = t
            .accessibility
            .iter()
            .filter_map(|a| match a.as_str() {
                "disabled_access" => Some("wheelchair".to_owned()),
                "sign_language" => Some("lsf".to_owned()),
                _ => None,
            })
            .collect();
        Item {
            id: t.id,
            kind: Kind::Training,
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
            masks: Masks::default(),
        }
    }
}
