//! The rules of AI Café sessions: controlled values, what a valid session is (local times in an
//! IANA zone, a venue for in-person sessions, a link for online ones), how a series unfolds,
//! and what an attendance report may claim.

use crate::storage::{Rows, facilitator, venue};
use cafeia_platform::{
    AppError, ErrorCode,
    errors::AppResult,
    validation::{Problems, wire_name},
    vocabulary::{self, Audience, Format, Level},
};
use chrono::{DateTime, Duration, LocalResult, Months, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, EntityTrait};
use std::collections::BTreeMap;
use uuid::Uuid;

pub use cafeia_events_api::{
    Accessibility, AttendanceInput, Frequency, Recurrence, RegistrationMode, RegistrationStatus,
    RollCall, SessionInput, SessionStatus,
};

/// Longest session accepted (a full training day).
pub const MAX_DURATION_HOURS: i64 = 12;
/// Largest capacity accepted (an amphitheatre).
pub const MAX_CAPACITY: i32 = 5_000;
/// Longest series created in one call.
pub const MAX_OCCURRENCES: u32 = 52;
/// How far ahead a session may start, in months (five years): far enough for any plan, and
/// far from the end of chrono's calendar (year 262142), which no arithmetic on a session's
/// dates (a zone's offset, a series' steps, the correction window) may reach.
pub const MAX_MONTHS_AHEAD: u32 = 60;
/// How long after its end a session's attendance report may still be corrected.
pub const CORRECTION_WINDOW_DAYS: i64 = 7;

/// Age bands of the anonymous attendance aggregates.
pub const AGE_BANDS: [&str; 6] = ["under_18", "18_24", "25_39", "40_59", "60_74", "75_plus"];
/// Occupations of the anonymous attendance aggregates.
pub const OCCUPATIONS: [&str; 5] = ["student", "employee", "job_seeker", "retired", "other"];

/// A checked session, ready to store: instants in UTC, the venue copied in.
#[derive(Clone, Debug)]
pub struct Plan {
    pub title: String,
    pub description: String,
    pub modules: Vec<Uuid>,
    pub topics: Vec<String>,
    pub co_facilitators: Vec<Uuid>,
    pub format: Format,
    pub venue: Option<venue::Model>,
    pub online_url: Option<String>,
    pub local_start: NaiveDateTime,
    pub local_end: NaiveDateTime,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: Tz,
    pub capacity: Option<i32>,
    pub audiences: Vec<Audience>,
    pub level: Level,
    pub languages: Vec<String>,
    pub accessibility: Vec<Accessibility>,
    pub registration_mode: RegistrationMode,
    pub waitlist: bool,
}

/// The latest instant a session may start at, seen from `now`.
pub fn latest_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_months(Months::new(MAX_MONTHS_AHEAD))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Why a local time is refused before any arithmetic on it, if it is: further than a day
/// (more than any zone's offset) outside today to [`latest_start`].
fn out_of_reach(local: NaiveDateTime, now: DateTime<Utc>) -> Option<String> {
    let day = Duration::days(1);
    let earliest = now.naive_utc().checked_sub_signed(day);
    let latest = latest_start(now).naive_utc().checked_add_signed(day);
    let inside = earliest.is_none_or(|e| local >= e) && latest.is_none_or(|l| local <= l);
    (!inside).then(|| {
        format!(
            "date hors des limites : une session a lieu entre aujourd'hui et dans {} ans",
            MAX_MONTHS_AHEAD / 12
        )
    })
}

/// When a session ending at `ends_at` stops taking attendance corrections (the end of the
/// calendar if the window would run past it).
pub fn correctable_until(ends_at: DateTime<Utc>) -> DateTime<Utc> {
    ends_at
        .checked_add_signed(Duration::days(CORRECTION_WINDOW_DAYS))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
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
        for (field, local, instant_of) in [
            ("starts_at", input.starts_at, &mut starts_at),
            ("ends_at", input.ends_at, &mut ends_at),
        ] {
            if let Some(why) = out_of_reach(local, now) {
                p.add(field, why);
                continue;
            }
            match instant(tz, local) {
                Ok(t) => *instant_of = Some(t),
                Err(why) => p.add(field, why),
            }
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
        p.check(
            s <= latest_start(now),
            "starts_at",
            &format!(
                "une session commence au plus {} ans à l'avance",
                MAX_MONTHS_AHEAD / 12
            ),
        );
    }
    let in_person = input.format != Format::Online;
    let online = input.format != Format::InPerson;
    let mut venue = None;
    match (in_person, input.venue_id) {
        (true, None) => p.add("venue_id", "obligatoire pour une session en présentiel"),
        (true, Some(id)) => match venue::Entity::find_by_id(id).row(conn).await? {
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
        let known = facilitator::Entity::find_by_id(*id).row(conn).await?;
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
    // Audiences in the order of their wire names, as they were always stored.
    let mut audiences = input.audiences.clone();
    audiences.sort_by_key(wire_name);
    audiences.dedup();
    let mut accessibility = input.accessibility.clone();
    accessibility.sort();
    accessibility.dedup();
    let mut modules = input.modules.clone();
    modules.dedup();
    Ok(Plan {
        title,
        description,
        modules,
        topics,
        co_facilitators: input.co_facilitators.clone(),
        format: input.format,
        venue,
        online_url,
        local_start: input.starts_at,
        local_end: input.ends_at,
        starts_at,
        ends_at,
        timezone,
        capacity: input.capacity,
        audiences,
        level: input.level,
        languages,
        accessibility,
        registration_mode: input.registration_mode,
        waitlist: input.waitlist,
    })
}

/// The local start and end of each occurrence. Wall-clock times are kept across DST changes
/// (a café at 18:00 stays at 18:00); a monthly series on the 31st falls on the last day of
/// shorter months. The first occurrence's times (`session.*`) must be within reach of `now`
/// (each occurrence is then checked as a session, [`plan`]); an occurrence beyond the
/// calendar is refused, never dropped.
pub fn occurrences(
    recurrence: Recurrence,
    start: NaiveDateTime,
    end: NaiveDateTime,
    now: DateTime<Utc>,
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
    for (field, local) in [("session.starts_at", start), ("session.ends_at", end)] {
        if let Some(why) = out_of_reach(local, now) {
            p.add(field, why);
        }
    }
    p.into_result()?;
    let length = end.signed_duration_since(start);
    (0..recurrence.count)
        .map(|i| {
            let step = i * recurrence.interval;
            let s = match recurrence.frequency {
                Frequency::Weekly => start.checked_add_signed(Duration::weeks(i64::from(step))),
                Frequency::Monthly => start.checked_add_months(Months::new(step)),
            };
            s.and_then(|s| Some((s, s.checked_add_signed(length)?)))
                .ok_or_else(|| {
                    AppError::invalid(
                        "recurrence.count",
                        format!("l'occurrence {} tomberait au-delà du calendrier", i + 1),
                    )
                })
        })
        .collect()
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

/// Where a session stands in time, as its lifecycle sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// Not started yet.
    Upcoming,
    /// Started, not ended.
    Underway,
    /// Ended, its attendance report still correctable.
    Ended,
    /// Ended longer ago than the correction window.
    Archived,
}

impl Moment {
    /// The moment of a session from `starts_at` to `ends_at`, at `now`.
    pub fn at(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, now: DateTime<Utc>) -> Moment {
        if now < starts_at {
            Moment::Upcoming
        } else if now < ends_at {
            Moment::Underway
        } else if now <= correctable_until(ends_at) {
            Moment::Ended
        } else {
            Moment::Archived
        }
    }
}

/// What someone asks of a session. Every change of status, and every check that the status
/// allows an action, goes through [`SessionAction::apply`]: the one place the lifecycle
/// (draft → published → completed, draft/published → cancelled, published → draft on a
/// suspension) is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionAction {
    /// Replace its description (the status stays).
    Edit,
    /// Open it to the public and to registrations.
    Publish,
    /// Call it off.
    Cancel,
    /// Mark it as held.
    Complete,
    /// Take a registration.
    Register,
    /// A registrant cancels their registration.
    CancelRegistration,
    /// Report (or correct) attendance; the session is held from then on.
    ReportAttendance,
    /// Back to draft, its facilitator being suspended.
    Unpublish,
}

/// Why an action is refused: a code of the catalogue and the French text shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub detail: &'static str,
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        AppError::new(refusal.code, refusal.detail)
    }
}

const fn refuse(code: ErrorCode, detail: &'static str) -> Result<SessionStatus, Refusal> {
    Err(Refusal { code, detail })
}

impl SessionAction {
    pub const ALL: [SessionAction; 8] = [
        SessionAction::Edit,
        SessionAction::Publish,
        SessionAction::Cancel,
        SessionAction::Complete,
        SessionAction::Register,
        SessionAction::CancelRegistration,
        SessionAction::ReportAttendance,
        SessionAction::Unpublish,
    ];

    /// The status a session in `status` has after this action at `moment`, or why it is
    /// refused. The status is judged first, then the moment.
    pub fn apply(self, status: SessionStatus, moment: Moment) -> Result<SessionStatus, Refusal> {
        use ErrorCode as C;
        use Moment::*;
        use SessionAction as A;
        use SessionStatus::*;
        match (self, status) {
            // A cancelled or completed session no longer changes, but completing twice is
            // harmless (a report completes it too).
            (A::Complete, Completed) => Ok(Completed),
            (A::Register, Cancelled) => refuse(C::RegistrationClosed, "session annulée"),
            (A::Register, Completed) => refuse(C::RegistrationClosed, "session terminée"),
            (A::Publish, Published) => refuse(C::NotADraft, "seul un brouillon se publie"),
            (A::ReportAttendance, Completed) => attendance(moment),
            (_, Cancelled | Completed) => refuse(
                C::SessionClosed,
                "session déjà annulée ou terminée : elle ne change plus",
            ),

            // Draft or published from here on.
            (A::Edit, _) => match moment {
                Upcoming => Ok(status),
                _ => refuse(
                    C::SessionStarted,
                    "la session a commencé : elle ne se modifie plus",
                ),
            },
            (A::Publish, _) => match moment {
                Upcoming => Ok(Published),
                _ => refuse(
                    C::SessionStarted,
                    "la session a déjà commencé : elle ne peut plus être publiée",
                ),
            },
            (A::Cancel, _) => match moment {
                Upcoming | Underway => Ok(Cancelled),
                Ended | Archived => refuse(
                    C::SessionStarted,
                    "une session passée ne s'annule plus : déclarez la présence ou marquez-la terminée",
                ),
            },
            (A::CancelRegistration, _) => match moment {
                Upcoming => Ok(status),
                _ => refuse(
                    C::SessionStarted,
                    "la session a commencé : l'inscription ne s'annule plus",
                ),
            },
            // Drafts are not public: nobody registers to one.
            (A::Register, Draft) => refuse(C::NotFound, "session inconnue"),
            (A::Register, _) => match moment {
                Upcoming => Ok(Published),
                _ => refuse(
                    C::RegistrationClosed,
                    "les inscriptions sont closes : la session a commencé",
                ),
            },
            (A::Complete | A::ReportAttendance | A::Unpublish, Draft) => {
                refuse(C::InvalidTransition, "la session n'est pas publiée")
            }
            (A::Complete, _) => match moment {
                Upcoming => refuse(C::SessionNotStarted, "la session n'a pas encore commencé"),
                _ => Ok(Completed),
            },
            (A::ReportAttendance, _) => attendance(moment),
            (A::Unpublish, _) => match moment {
                Upcoming => Ok(Draft),
                _ => refuse(
                    C::SessionStarted,
                    "la session a commencé : elle reste publiée",
                ),
            },
        }
    }
}

/// Whether a session takes registrations now: its lifecycle allows one, and people register
/// online (an on-site-only session is listed but takes none).
pub fn admits(
    status: SessionStatus,
    moment: Moment,
    mode: RegistrationMode,
) -> Result<(), Refusal> {
    SessionAction::Register.apply(status, moment)?;
    match mode {
        RegistrationMode::Open => Ok(()),
        RegistrationMode::OnSiteOnly => Err(Refusal {
            code: ErrorCode::RegistrationClosed,
            detail: "inscription sur place uniquement pour cette session",
        }),
    }
}

/// Attendance is reported once the session has started, and corrected until the window
/// closes; the session is completed by it.
fn attendance(moment: Moment) -> Result<SessionStatus, Refusal> {
    match moment {
        Moment::Upcoming => refuse(
            ErrorCode::SessionNotStarted,
            "la session n'a pas encore commencé",
        ),
        Moment::Underway | Moment::Ended => Ok(SessionStatus::Completed),
        Moment::Archived => refuse(
            ErrorCode::CorrectionWindowClosed,
            "le rapport ne se corrige plus : 7 jours sont passés depuis la fin de la session",
        ),
    }
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

    /// The day these tests are written from.
    fn today() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
    }

    fn field(error: &AppError) -> &str {
        error.errors.first().map_or("", |e| e.field.as_str())
    }

    #[test]
    fn dates_at_the_end_of_the_calendar_are_refused_with_their_field_not_a_panic() {
        let weekly = Recurrence {
            frequency: Frequency::Weekly,
            count: 2,
            interval: 1,
        };
        // The second occurrence would end past the last day chrono knows.
        let last = NaiveDate::MAX.and_hms_opt(23, 0, 0).expect("time");
        let start = last.checked_sub_signed(Duration::weeks(1)).expect("start");
        let end = start.checked_add_signed(Duration::hours(11)).expect("end");
        let refused = occurrences(weekly, start, end, today()).expect_err("refused");
        assert_eq!(field(&refused), "session.starts_at");
        // Within reach, the steps are checked too (they cannot fail there, but never panic).
        let fine = occurrences(weekly, at(2027, 3, 1, 10), at(2027, 3, 1, 12), today());
        assert_eq!(fine.map(|d| d.len()).ok(), Some(2));
        let far = at(2032, 12, 3, 10);
        assert!(out_of_reach(far, today()).is_some());
        assert!(out_of_reach(at(2031, 11, 30, 10), today()).is_none());
        // The correction window and the moments saturate at the end of the calendar.
        let end_of_time = DateTime::<Utc>::MAX_UTC;
        assert_eq!(correctable_until(end_of_time), end_of_time);
        let hour_before = end_of_time
            .checked_sub_signed(Duration::hours(1))
            .expect("instant");
        assert_eq!(
            Moment::at(hour_before, end_of_time, end_of_time),
            Moment::Ended
        );
        assert_eq!(
            Moment::at(hour_before, end_of_time, today()),
            Moment::Upcoming
        );
    }

    #[test]
    fn every_action_on_every_status_at_every_moment() {
        use ErrorCode::{
            CorrectionWindowClosed as Cwc, InvalidTransition as It, NotADraft as Nad,
            NotFound as Nf, RegistrationClosed as Rc, SessionClosed as Sc,
            SessionNotStarted as Sns, SessionStarted as Ss,
        };
        use SessionAction as A;
        use SessionStatus::{Cancelled, Completed, Draft, Published};
        type Outcome = Result<SessionStatus, ErrorCode>;
        const fn to(s: SessionStatus) -> Outcome {
            Ok(s)
        }
        const fn no(c: ErrorCode) -> Outcome {
            Err(c)
        }
        const CLOSED: [Outcome; 4] = [no(Sc), no(Sc), no(Sc), no(Sc)];
        // Columns: upcoming, underway, ended, archived (past the correction window).
        let table: [(SessionAction, SessionStatus, [Outcome; 4]); 32] = [
            (A::Edit, Draft, [to(Draft), no(Ss), no(Ss), no(Ss)]),
            (A::Edit, Published, [to(Published), no(Ss), no(Ss), no(Ss)]),
            (A::Edit, Cancelled, CLOSED),
            (A::Edit, Completed, CLOSED),
            (A::Publish, Draft, [to(Published), no(Ss), no(Ss), no(Ss)]),
            (A::Publish, Published, [no(Nad); 4]),
            (A::Publish, Cancelled, CLOSED),
            (A::Publish, Completed, CLOSED),
            (
                A::Cancel,
                Draft,
                [to(Cancelled), to(Cancelled), no(Ss), no(Ss)],
            ),
            (
                A::Cancel,
                Published,
                [to(Cancelled), to(Cancelled), no(Ss), no(Ss)],
            ),
            (A::Cancel, Cancelled, CLOSED),
            (A::Cancel, Completed, CLOSED),
            (A::Complete, Draft, [no(It); 4]),
            (
                A::Complete,
                Published,
                [no(Sns), to(Completed), to(Completed), to(Completed)],
            ),
            (A::Complete, Cancelled, CLOSED),
            (A::Complete, Completed, [to(Completed); 4]),
            (A::Register, Draft, [no(Nf); 4]),
            (
                A::Register,
                Published,
                [to(Published), no(Rc), no(Rc), no(Rc)],
            ),
            (A::Register, Cancelled, [no(Rc); 4]),
            (A::Register, Completed, [no(Rc); 4]),
            (
                A::CancelRegistration,
                Draft,
                [to(Draft), no(Ss), no(Ss), no(Ss)],
            ),
            (
                A::CancelRegistration,
                Published,
                [to(Published), no(Ss), no(Ss), no(Ss)],
            ),
            (A::CancelRegistration, Cancelled, CLOSED),
            (A::CancelRegistration, Completed, CLOSED),
            (A::ReportAttendance, Draft, [no(It); 4]),
            (
                A::ReportAttendance,
                Published,
                [no(Sns), to(Completed), to(Completed), no(Cwc)],
            ),
            (A::ReportAttendance, Cancelled, CLOSED),
            (
                A::ReportAttendance,
                Completed,
                [no(Sns), to(Completed), to(Completed), no(Cwc)],
            ),
            (A::Unpublish, Draft, [no(It); 4]),
            (A::Unpublish, Published, [to(Draft), no(Ss), no(Ss), no(Ss)]),
            (A::Unpublish, Cancelled, CLOSED),
            (A::Unpublish, Completed, CLOSED),
        ];
        let moments = [
            Moment::Upcoming,
            Moment::Underway,
            Moment::Ended,
            Moment::Archived,
        ];
        for action in SessionAction::ALL {
            for status in [Draft, Published, Cancelled, Completed] {
                let rows: Vec<_> = table
                    .iter()
                    .filter(|(a, s, _)| *a == action && *s == status)
                    .collect();
                assert_eq!(rows.len(), 1, "{action:?} on {status:?} listed once");
                for (moment, expected) in moments.iter().zip(rows[0].2) {
                    let outcome = action.apply(status, *moment);
                    assert_eq!(
                        outcome.map_err(|r| r.code),
                        expected,
                        "{action:?} on {status:?} at {moment:?}"
                    );
                    if let Err(refusal) = outcome {
                        assert!(!refusal.detail.is_empty());
                    }
                }
            }
        }
        let window = SessionAction::ReportAttendance
            .apply(Published, Moment::Archived)
            .expect_err("closed");
        assert!(window.detail.contains(&CORRECTION_WINDOW_DAYS.to_string()));
    }

    #[test]
    fn moments_and_admission() {
        let start = Utc::now();
        let end = start + Duration::hours(2);
        let window = Duration::days(CORRECTION_WINDOW_DAYS);
        let at = |now| Moment::at(start, end, now);
        assert_eq!(at(start - Duration::seconds(1)), Moment::Upcoming);
        assert_eq!(at(start), Moment::Underway);
        assert_eq!(at(end), Moment::Ended);
        assert_eq!(at(end + window), Moment::Ended);
        assert_eq!(at(end + window + Duration::seconds(1)), Moment::Archived);
        let open = |status, moment, mode| admits(status, moment, mode).map_err(|r| r.code);
        use SessionStatus::{Cancelled, Published};
        assert_eq!(
            open(Published, Moment::Upcoming, RegistrationMode::Open),
            Ok(())
        );
        for (status, moment, mode) in [
            (Published, Moment::Upcoming, RegistrationMode::OnSiteOnly),
            (Published, Moment::Underway, RegistrationMode::Open),
            (Cancelled, Moment::Upcoming, RegistrationMode::Open),
        ] {
            assert_eq!(
                open(status, moment, mode),
                Err(ErrorCode::RegistrationClosed)
            );
        }
    }

    #[test]
    fn weekly_series_keep_the_wall_clock_across_the_dst_change() {
        let recurrence = Recurrence {
            frequency: Frequency::Weekly,
            count: 3,
            interval: 1,
        };
        let dates = occurrences(
            recurrence,
            at(2027, 3, 21, 18),
            at(2027, 3, 21, 20),
            today(),
        )
        .expect("ok");
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
        let dates = occurrences(
            recurrence,
            at(2027, 1, 31, 10),
            at(2027, 1, 31, 12),
            today(),
        )
        .expect("ok");
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
