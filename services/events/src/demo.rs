//! Demonstration sessions for the embedded stack. They need the facilitators' announcements
//! (verified facilitators, venues) to have reached the replica, so seeding waits for them, then
//! runs once, when there is no session yet: upcoming sessions across the demo venues (some full
//! with a waiting list, one online), and past ones with attendance reports, all through the
//! same tables and messages as real data.

use crate::{
    attendance,
    domain::{Accessibility, RegistrationMode, RegistrationStatus, SessionStatus},
    messages, registrations, sessions,
    storage::{
        JsonText, Rows, Zone, attendance as report, facilitator, registration, session, venue,
    },
};
use cafeia_facilitators_api::FacilitatorStatus;
use cafeia_platform::{
    AppError,
    vocabulary::{Audience, Format, Level},
};
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use std::collections::BTreeMap;
use std::time::Duration as StdDuration;
use uuid::Uuid;

const TITLES: [(&str, &str, &[&str]); 6] = [
    (
        "Café IA : c'est quoi l'intelligence artificielle ?",
        "Une heure et demie pour comprendre ce que fait (et ne fait pas) l'IA, avec des exemples du quotidien.",
        &["what_is_ai"],
    ),
    (
        "Café IA : l'IA générative au bureau",
        "ChatGPT, Le Chat, Copilot : essayer, comparer, garder l'esprit critique.",
        &["generative_ai", "ai_at_work"],
    ),
    (
        "Café IA : démêler le vrai du faux",
        "Images générées, voix clonées, fausses informations : les repérer ensemble.",
        &["misinformation_deepfakes"],
    ),
    (
        "Café IA : mes données et l'IA",
        "Ce que les outils retiennent de nous et comment s'en protéger.",
        &["data_and_privacy"],
    ),
    (
        "Café IA : l'IA et mon métier",
        "Quels métiers changent, comment s'y préparer, où se former gratuitement.",
        &["ai_and_jobs"],
    ),
    (
        "Café IA : l'IA dans les services publics",
        "Démarches, France Travail, santé : ce qui change pour les usagers.",
        &["ai_public_services"],
    ),
];

/// Seeds in the background once the replica has what it needs (at most a minute).
pub async fn seed(db: &DatabaseConnection) -> Result<bool, AppError> {
    if session::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    for _ in 0..120 {
        let verified = facilitator::Entity::find()
            .filter(facilitator::Column::Status.eq(FacilitatorStatus::Verified))
            .count(db)
            .await?;
        let venues = venue::Entity::find().count(db).await?;
        if verified >= 3 && venues >= 5 {
            load(db).await?;
            return Ok(true);
        }
        tokio::time::sleep(StdDuration::from_millis(500)).await;
    }
    tracing::warn!("events: no demo facilitators arrived within a minute; no demo sessions");
    Ok(false)
}

fn at(day: DateTime<Utc>, hour: u32) -> DateTime<Utc> {
    let date = day.with_timezone(&chrono_tz::Europe::Paris).date_naive();
    let local = date.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or_default());
    chrono_tz::Europe::Paris
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(day)
}

async fn load(db: &DatabaseConnection) -> Result<(), AppError> {
    let people = facilitator::Entity::find()
        .filter(facilitator::Column::Status.eq(FacilitatorStatus::Verified))
        .order_by_asc(facilitator::Column::Id)
        .rows(db)
        .await?;
    let places = venue::Entity::find()
        .filter(venue::Column::Removed.eq(false))
        .order_by_asc(venue::Column::Id)
        .rows(db)
        .await?;
    let now = Utc::now();
    let txn = cafeia_platform::db::begin(db).await?;
    for (i, place) in places.iter().enumerate() {
        let who = &people[i % people.len()];
        let (title, description, topics) = TITLES[i % TITLES.len()];
        // Two upcoming sessions per venue; the first of every third venue is small and full.
        for (k, days) in [(0, 3 + i as i64), (1, 17 + i as i64)] {
            let full = k == 0 && i % 3 == 0;
            let capacity = if full {
                6
            } else {
                place.capacity.unwrap_or(20).min(20)
            };
            let start = at(now + Duration::days(days), 18);
            let mut model = insert(
                &txn,
                who,
                Some(place),
                title,
                description,
                topics,
                start,
                capacity,
            )
            .await?;
            let wanted = if full { capacity + 3 } else { capacity / 3 };
            model = register(&txn, model, wanted, i).await?;
            sessions::announce(&txn, messages::SESSION_PUBLISHED, &model).await?;
            sessions::announce_seats(&txn, &model).await?;
        }
        // One past session per venue, completed with its report.
        let start = at(now - Duration::days(7 + 3 * i as i64), 14);
        let model = insert(
            &txn,
            who,
            Some(place),
            title,
            description,
            topics,
            start,
            15,
        )
        .await?;
        let model = register(&txn, model, 10, i).await?;
        past(&txn, model, i).await?;
    }
    // An online session, open to all of France.
    let who = &people[0];
    let start = at(now + Duration::days(9), 12);
    let model = insert(
        &txn,
        who,
        None,
        "Café IA en ligne : l'IA pour les parents",
        "Devoirs, écrans, outils : une heure en visio pour en parler.",
        &["ai_and_education"],
        start,
        100,
    )
    .await?;
    sessions::announce(&txn, messages::SESSION_PUBLISHED, &model).await?;
    txn.commit().await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert<C: sea_orm::ConnectionTrait>(
    conn: &C,
    who: &facilitator::Model,
    place: Option<&venue::Model>,
    title: &str,
    description: &str,
    topics: &[&str],
    start: DateTime<Utc>,
    capacity: i32,
) -> Result<session::Model, AppError> {
    // What the venue offers that a session can promise too.
    let accessibility: Vec<Accessibility> = place
        .map(|p| {
            p.accessibility
                .0
                .iter()
                .filter_map(|a| match a.as_str() {
                    "wheelchair" => Some(Accessibility::Wheelchair),
                    "hearing_loop" => Some(Accessibility::HearingLoop),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(session::ActiveModel {
        id: Set(Uuid::now_v7()),
        series_id: Set(None),
        title: Set(title.to_owned()),
        description: Set(description.to_owned()),
        modules: Set(JsonText(vec![])),
        topics: Set(JsonText(topics.iter().map(|t| (*t).to_owned()).collect())),
        audiences: Set(JsonText(vec![Audience::GeneralPublic])),
        languages: Set(JsonText(vec!["fr".to_owned()])),
        accessibility: Set(JsonText(accessibility)),
        co_facilitators: Set(JsonText(vec![])),
        facilitator_id: Set(who.id),
        format: Set(if place.is_some() {
            Format::InPerson
        } else {
            Format::Online
        }),
        level: Set(Level::Discovery),
        registration_mode: Set(RegistrationMode::Open),
        waitlist_enabled: Set(true),
        venue_id: Set(place.map(|p| p.id)),
        place_name: Set(place.map(|p| p.name.clone())),
        address: Set(place.map(|p| format!("{}, {}", p.address, p.postcode))),
        insee: Set(place.map(|p| p.insee.clone())),
        departement: Set(place.map(|p| p.departement.clone())),
        region: Set(place.map(|p| p.region.clone())),
        lat: Set(place.map(|p| p.lat)),
        lon: Set(place.map(|p| p.lon)),
        online_url: Set(place
            .is_none()
            .then(|| "https://visio.cafe-ia.fr/demo-parents".into())),
        starts_at: Set(start),
        ends_at: Set(start + Duration::minutes(90)),
        timezone: Set(Zone(chrono_tz::Europe::Paris)),
        capacity: Set(Some(capacity)),
        confirmed: Set(0),
        waitlisted: Set(0),
        arrivals: Set(0),
        status: Set(SessionStatus::Published),
        status_reason: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        revision: Set(1),
    }
    .insert(conn)
    .await?)
}

/// `n` demo registrants (example.org addresses), confirmed then waitlisted.
async fn register<C: sea_orm::ConnectionTrait>(
    conn: &C,
    model: session::Model,
    n: i32,
    venue_index: usize,
) -> Result<session::Model, AppError> {
    let capacity = model.capacity.unwrap_or(i32::MAX);
    let mut model = model.clone();
    for k in 0..n {
        let status = if model.confirmed < capacity {
            RegistrationStatus::Confirmed
        } else {
            RegistrationStatus::Waitlisted
        };
        let email = format!("participant.{venue_index}.{k}@example.org");
        registration::ActiveModel {
            id: Set(Uuid::now_v7()),
            session_id: Set(model.id),
            identity: Set(format!("email:{email}")),
            account: Set(None),
            email: Set(Some(email)),
            name: Set(None),
            consent_at: Set(Some(Utc::now())),
            status: Set(status),
            position: Set(i64::from(k) + 1),
            token_hash: Set(Some(registrations::digest(&format!(
                "demo-{venue_index}-{k}-{}",
                model.id
            )))),
            created_at: Set(Utc::now()),
            updated_at: Set(Utc::now()),
            erased_at: Set(None),
            confirm_hash: Set(None),
            confirm_by: Set(None),
            reminders_off_at: Set(None),
        }
        .insert(conn)
        .await?;
        if status == RegistrationStatus::Confirmed {
            model.confirmed += 1;
        } else {
            model.waitlisted += 1;
        }
    }
    model.arrivals = i64::from(n);
    let mut active: session::ActiveModel = model.clone().into();
    active.confirmed = Set(model.confirmed);
    active.waitlisted = Set(model.waitlisted);
    active.arrivals = Set(model.arrivals);
    Ok(active.update(conn).await?)
}

async fn past<C: sea_orm::ConnectionTrait>(
    conn: &C,
    model: session::Model,
    i: usize,
) -> Result<(), AppError> {
    let regs = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(model.id))
        .rows(conn)
        .await?;
    let mut attended = 0;
    for (k, reg) in regs.into_iter().enumerate() {
        let came = k % 5 != 4;
        attended += i32::from(came);
        let mut active: registration::ActiveModel = reg.into();
        active.status = Set(if came {
            RegistrationStatus::Attended
        } else {
            RegistrationStatus::NoShow
        });
        active.update(conn).await?;
    }
    let walk_ins = 2 + i32::try_from(i % 3).unwrap_or(0);
    let total = attended + walk_ins;
    let report = report::ActiveModel {
        session_id: Set(model.id),
        version: Set(1),
        attended: Set(total),
        no_shows: Set(10 - attended),
        walk_ins: Set(walk_ins),
        first_timers: Set(total - 2),
        age_bands: Set(counts([("25_39", 3), ("40_59", 4), ("60_74", total - 7)])),
        occupations: Set(counts([
            ("employee", 4),
            ("retired", total - 6),
            ("job_seeker", 2),
        ])),
        first_reported_at: Set(model.ends_at),
        reported_at: Set(model.ends_at),
    }
    .insert(conn)
    .await?;
    let mut active: session::ActiveModel = model.into();
    active.status = Set(SessionStatus::Completed);
    let model = active.update(conn).await?;
    sessions::announce(conn, messages::SESSION_COMPLETED, &model).await?;
    attendance::announce(conn, &report, &model).await?;
    Ok(())
}

fn counts<const N: usize>(pairs: [(&str, i32); N]) -> JsonText<BTreeMap<String, i32>> {
    JsonText(pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect())
}
