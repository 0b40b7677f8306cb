//! The rules of AI Café sessions: controlled values, what a valid session is (local times in an
//! IANA zone, a venue for in-person sessions, a link for online ones), how a series unfolds,
//! and what an attendance report may claim.

use crate::storage::{facilitator, venue};
use cafeia_platform::{
    AppError,
    errors::AppResult,
    validation::{Problems, wire_name},
    vocabulary::{self, Audience, Format, Level},
};
use chrono::{DateTime, Duration, LocalResult, Months, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

pub use cafeia_platform::db::{list_from_json as from_json, list_to_json as to_json};

/// Longest session accepted (a full training day).
pub const MAX_DURATION_HOURS: i64 = 12;
/// Largest capacity accepted (an amphitheatre).
pub const MAX_CAPACITY: i32 = 5_000;
/// Longest series created in one call.
pub const MAX_OCCURRENCES: u32 = 52;
/// How long after its end a session's attendance report may still be corrected.
pub const CORRECTION_WINDOW_DAYS: i64 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Draft,
    Published,
    Cancelled,
    Completed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    Confirmed,
    Waitlisted,
    Cancelled,
    Attended,
    NoShow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationMode {
    /// Registration online, seats counted.
    #[default]
    Open,
    /// People just come; the session is listed but takes no registrations.
    OnSiteOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Accessibility {
    Wheelchair,
    /// French Sign Language interpretation.
    Lsf,
    HearingLoop,
    /// Facile à lire et à comprendre (FALC).
    EasyRead,
}

/// Age bands of the anonymous attendance aggregates.
pub const AGE_BANDS: [&str; 6] = ["under_18", "18_24", "25_39", "40_59", "60_74", "75_plus"];
/// Occupations of the anonymous attendance aggregates.
pub const OCCUPATIONS: [&str; 5] = ["student", "employee", "job_seeker", "retired", "other"];

macro_rules! wire_str {
    ($t:ty) => {
        impl $t {
            pub fn as_str(self) -> String {
                wire_name(&self)
            }
        }
    };
}
wire_str!(SessionStatus);
wire_str!(RegistrationStatus);
wire_str!(RegistrationMode);

/// A session as a facilitator describes it. Times are local wall-clock times in `timezone`,
/// as people write them ("18:00 à Lyon"); the service stores the instants.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Educational modules of the catalogue used in the session.
    #[serde(default)]
    pub modules: Vec<Uuid>,
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default)]
    pub co_facilitators: Vec<Uuid>,
    pub format: Format,
    #[serde(default)]
    pub venue_id: Option<Uuid>,
    /// Revealed only to registered people and the facilitators.
    #[serde(default)]
    pub online_url: Option<String>,
    #[schema(value_type = String, example = "2027-03-18T18:00:00")]
    pub starts_at: NaiveDateTime,
    #[schema(value_type = String, example = "2027-03-18T20:00:00")]
    pub ends_at: NaiveDateTime,
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Seats; required for in-person and hybrid sessions.
    #[serde(default)]
    pub capacity: Option<i32>,
    #[serde(default = "default_audiences")]
    pub audiences: Vec<Audience>,
    #[serde(default = "default_level")]
    pub level: Level,
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    #[serde(default)]
    pub accessibility: Vec<Accessibility>,
    #[serde(default)]
    pub registration_mode: RegistrationMode,
    /// Whether people may join a waiting list once the session is full.
    #[serde(default = "default_true")]
    pub waitlist: bool,
}

fn default_timezone() -> String {
    "Europe/Paris".into()
}
fn default_audiences() -> Vec<Audience> {
    vec![Audience::GeneralPublic]
}
fn default_level() -> Level {
    Level::Discovery
}
fn default_languages() -> Vec<String> {
    vec!["fr".into()]
}
fn default_true() -> bool {
    true
}

/// A checked session, ready to store: instants in UTC, the venue copied in.
#[derive(Clone, Debug)]
pub struct Plan {
    pub title: String,
    pub description: String,
    pub modules: Vec<String>,
    pub topics: Vec<String>,
    pub co_facilitators: Vec<String>,
    pub format: String,
    pub venue: Option<venue::Model>,
    pub online_url: Option<String>,
    pub local_start: NaiveDateTime,
    pub local_end: NaiveDateTime,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: Tz,
    pub capacity: Option<i32>,
    pub audiences: Vec<String>,
    pub level: String,
    pub languages: Vec<String>,
    pub accessibility: Vec<String>,
    pub registration_mode: String,
    pub waitlist: bool,
}

/// The instant of a local time in `tz`, refusing times that do not exist (skipped by a DST
/// change) or are ambiguous (repeated by one).
pub fn instant(tz: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, &'static str> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(..) => {
            Err("heure ambiguë (elle existe deux fois au changement d'heure)")
        }
        LocalResult::None => Err("heure inexistante (sautée au changement d'heure)"),
    }
}

pub async fn plan<C: ConnectionTrait>(
    conn: &C,
    input: SessionInput,
    now: DateTime<Utc>,
) -> AppResult<Plan> {
    let mut p = Problems::default();
    let title = p.text("title", &input.title, 200);
    let description = input.description.trim().to_owned();
    p.check(
        description.chars().count() <= 5_000,
        "description",
        "5 000 caractères au plus",
    );
    p.check(input.modules.len() <= 20, "modules", "20 modules au plus");
    p.check(
        input.co_facilitators.len() <= 5,
        "co_facilitators",
        "5 co-animateur·rices au plus",
    );
    let topics = vocabulary::topics(&input.topics, "topics", &mut p);
    let languages = vocabulary::languages(&input.languages, &mut p);
    if input.languages.is_empty() {
        p.add("languages", "au moins une langue");
    }
    p.check(
        !input.audiences.is_empty(),
        "audiences",
        "au moins un public",
    );
    let timezone = match input.timezone.parse::<Tz>() {
        Ok(tz) => Some(tz),
        Err(_) => {
            p.add(
                "timezone",
                format!(
                    "fuseau horaire IANA inconnu : {:?} (ex. Europe/Paris, America/Cayenne)",
                    input.timezone
                ),
            );
            None
        }
    };
    let mut starts_at = None;
    let mut ends_at = None;
    if let Some(tz) = timezone {
        match instant(tz, input.starts_at) {
            Ok(t) => starts_at = Some(t),
            Err(why) => p.add("starts_at", why),
        }
        match instant(tz, input.ends_at) {
            Ok(t) => ends_at = Some(t),
            Err(why) => p.add("ends_at", why),
        }
    }
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        if e <= s {
            p.add("ends_at", "doit être après le début");
        } else if e - s > Duration::hours(MAX_DURATION_HOURS) {
            p.add(
                "ends_at",
                format!("une session dure au plus {MAX_DURATION_HOURS} heures"),
            );
        }
        p.check(
            s > now,
            "starts_at",
            "la session ne peut pas commencer dans le passé",
        );
    }
    let in_person = input.format != Format::Online;
    let online = input.format != Format::InPerson;
    let mut venue = None;
    match (in_person, input.venue_id) {
        (true, None) => p.add("venue_id", "obligatoire pour une session en présentiel"),
        (true, Some(id)) => match venue::Entity::find_by_id(id).one(conn).await? {
            Some(v) if !v.removed => venue = Some(v),
            _ => p.add("venue_id", "lieu inconnu"),
        },
        (false, Some(_)) => p.add("venue_id", "une session en ligne n'a pas de lieu"),
        (false, None) => {}
    }
    let online_url = input.online_url.map(|u| u.trim().to_owned());
    match (&online_url, online) {
        (None, true) => p.add("online_url", "obligatoire pour une session en ligne"),
        (Some(url), true) => p.check(
            url.starts_with("https://") && url.len() <= 500 && !url.contains(char::is_whitespace),
            "online_url",
            "adresse https:// attendue (500 caractères au plus)",
        ),
        (Some(_), false) => p.add("online_url", "une session en présentiel n'a pas de lien"),
        (None, false) => {}
    }
    match input.capacity {
        None if in_person => p.add("capacity", "obligatoire pour une session en présentiel"),
        Some(c) if c <= 0 => p.add("capacity", "doit être au moins 1"),
        Some(c) if c > MAX_CAPACITY => p.add("capacity", format!("au plus {MAX_CAPACITY}")),
        _ => {}
    }
    for (i, id) in input.co_facilitators.iter().enumerate() {
        let known = facilitator::Entity::find_by_id(*id).one(conn).await?;
        p.check(
            known.is_some(),
            &format!("co_facilitators[{i}]"),
            "animateur·rice inconnu·e",
        );
    }
    // A missing value was reported as a problem above.
    let (Some(timezone), Some(starts_at), Some(ends_at)) = (timezone, starts_at, ends_at) else {
        return Err(p.into_result().err().unwrap_or_else(|| {
            AppError::invalid("starts_at", "date de début ou de fin illisible")
        }));
    };
    p.into_result()?;
    let mut audiences: Vec<String> = input.audiences.iter().map(wire_name).collect();
    audiences.sort();
    audiences.dedup();
    let mut accessibility = input.accessibility.clone();
    accessibility.sort();
    accessibility.dedup();
    let mut modules: Vec<String> = input.modules.iter().map(Uuid::to_string).collect();
    modules.dedup();
    Ok(Plan {
        title,
        description,
        modules,
        topics,
        co_facilitators: input.co_facilitators.iter().map(Uuid::to_string).collect(),
        format: wire_name(&input.format),
        venue,
        online_url,
        local_start: input.starts_at,
        local_end: input.ends_at,
        starts_at,
        ends_at,
        timezone,
        capacity: input.capacity,
        audiences,
        level: wire_name(&input.level),
        languages,
        accessibility: accessibility.iter().map(wire_name).collect(),
        registration_mode: input.registration_mode.as_str(),
        waitlist: input.waitlist,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Weekly,
    Monthly,
}

/// How a series repeats: every `interval` weeks or months, `count` occurrences in all.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recurrence {
    pub frequency: Frequency,
    pub count: u32,
    #[serde(default = "one")]
    pub interval: u32,
}

fn one() -> u32 {
    1
}

/// The local start and end of each occurrence. Wall-clock times are kept across DST changes
/// (a café at 18:00 stays at 18:00); a monthly series on the 31st falls on the last day of
/// shorter months.
pub fn occurrences(
    recurrence: Recurrence,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> AppResult<Vec<(NaiveDateTime, NaiveDateTime)>> {
    let mut p = Problems::default();
    p.check(
        (2..=MAX_OCCURRENCES).contains(&recurrence.count),
        "recurrence.count",
        "entre 2 et 52 occurrences",
    );
    p.check(
        (1..=12).contains(&recurrence.interval),
        "recurrence.interval",
        "entre 1 et 12",
    );
    p.into_result()?;
    let length = end - start;
    Ok((0..recurrence.count)
        .filter_map(|i| {
            let step = i * recurrence.interval;
            let s = match recurrence.frequency {
                Frequency::Weekly => start.checked_add_signed(Duration::weeks(i64::from(step))),
                Frequency::Monthly => start.checked_add_months(Months::new(step)),
            }?;
            Some((s, s + length))
        })
        .collect())
}

/// Attendance a facilitator reports. Registrations not listed count as no-shows.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    #[serde(default)]
    pub registrations: Vec<RollCall>,
    #[serde(default)]
    pub walk_ins: i32,
    pub first_timers: i32,
    /// Counts per age band (`under_18`, `18_24`, `25_39`, `40_59`, `60_74`, `75_plus`).
    #[serde(default)]
    pub age_bands: BTreeMap<String, i32>,
    /// Counts per occupation (`student`, `employee`, `job_seeker`, `retired`, `other`).
    #[serde(default)]
    pub occupations: BTreeMap<String, i32>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollCall {
    pub registration_id: Uuid,
    pub attended: bool,
}

/// Checks the anonymous aggregates against the head count; they may cover fewer people than
/// came (not everyone answers) but never more.
pub fn check_aggregates(
    input: &AttendanceInput,
    attendees: i32,
    p: &mut Problems,
) -> (BTreeMap<String, i32>, BTreeMap<String, i32>) {
    p.check(input.walk_ins >= 0, "walk_ins", "ne peut pas être négatif");
    p.check(
        input.walk_ins <= MAX_CAPACITY,
        "walk_ins",
        "nombre invraisemblable",
    );
    p.check(
        input.first_timers >= 0,
        "first_timers",
        "ne peut pas être négatif",
    );
    p.check(
        input.first_timers <= attendees,
        "first_timers",
        &format!("plus de primo-participant·es que de présent·es ({attendees})"),
    );
    let bands = counts("age_bands", &input.age_bands, &AGE_BANDS, attendees, p);
    let occupations = counts(
        "occupations",
        &input.occupations,
        &OCCUPATIONS,
        attendees,
        p,
    );
    (bands, occupations)
}

fn counts(
    field: &str,
    values: &BTreeMap<String, i32>,
    known: &[&str],
    attendees: i32,
    p: &mut Problems,
) -> BTreeMap<String, i32> {
    let mut total: i64 = 0;
    let mut out = BTreeMap::new();
    for (key, n) in values {
        if !known.contains(&key.as_str()) {
            p.add(
                &format!("{field}.{key}"),
                format!("catégorie inconnue (valeurs : {})", known.join(", ")),
            );
        } else if *n < 0 {
            p.add(&format!("{field}.{key}"), "ne peut pas être négatif");
        } else {
            total += i64::from(*n);
            if *n > 0 {
                out.insert(key.clone(), *n);
            }
        }
    }
    if total > i64::from(attendees) {
        p.add(
            field,
            format!("{total} personnes décrites pour {attendees} présent·es"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .expect("date")
    }

    #[test]
    fn weekly_series_keep_the_wall_clock_across_the_dst_change() {
        let recurrence = Recurrence {
            frequency: Frequency::Weekly,
            count: 3,
            interval: 1,
        };
        let dates = occurrences(recurrence, at(2027, 3, 21, 18), at(2027, 3, 21, 20)).expect("ok");
        let paris: Tz = "Europe/Paris".parse().expect("tz");
        let utc: Vec<u32> = dates
            .iter()
            .map(|(s, _)| {
                use chrono::Timelike;
                instant(paris, *s).expect("exists").hour()
            })
            .collect();
        // 18:00 in Paris is 17:00 UTC before 28 March 2027 and 16:00 UTC after.
        assert_eq!(utc, vec![17, 16, 16]);
    }

    #[test]
    fn monthly_series_on_the_31st_fall_back_to_the_month_end() {
        let recurrence = Recurrence {
            frequency: Frequency::Monthly,
            count: 2,
            interval: 1,
        };
        let dates = occurrences(recurrence, at(2027, 1, 31, 10), at(2027, 1, 31, 12)).expect("ok");
        assert_eq!(dates[1].0, at(2027, 2, 28, 10));
    }

    #[test]
    fn skipped_and_repeated_local_times_are_refused() {
        let paris: Tz = "Europe/Paris".parse().expect("tz");
        assert!(instant(paris, at(2027, 3, 28, 2) + Duration::minutes(30)).is_err());
        assert!(instant(paris, at(2027, 10, 31, 2) + Duration::minutes(30)).is_err());
        assert!(instant(paris, at(2027, 10, 31, 4)).is_ok());
    }

    #[test]
    fn aggregates_may_not_describe_more_people_than_came() {
        let input = AttendanceInput {
            registrations: vec![],
            walk_ins: 2,
            first_timers: 3,
            age_bands: BTreeMap::from([("18_24".into(), 2), ("60_74".into(), 2)]),
            occupations: BTreeMap::from([("astronaut".into(), 1)]),
        };
        let mut p = Problems::default();
        check_aggregates(&input, 3, &mut p);
        let fields: Vec<&str> = p.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["age_bands", "occupations.astronaut"]);
    }
}
