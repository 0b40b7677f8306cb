//! iCalendar (RFC 5545) feeds: one session, a facilitator's sessions, a citizen's private feed
//! (secret URL), and the public feed by département and topic.
//!
//! Times are written as UTC instants (`DTSTART:20270318T170000Z`), computed from the session's
//! local time in its IANA zone: every client places them right, on either side of a DST change
//! and in every zone (Cayenne, Saint-Denis de La Réunion, Nouméa…), without depending on a
//! VTIMEZONE definition. `X-WR-TIMEZONE` tells clients which zone to show: a session's own zone,
//! or the zone every session of a feed shares; a feed mixing zones (or empty) claims none rather
//! than a wrong one. Cancelled sessions stay in feeds with `STATUS:CANCELLED` so calendars
//! remove them. Online links appear only in a private feed, for the sessions where its holder
//! has a seat or is a facilitator ([`sessions::Viewer`]): never for a waiting-list place.
//! Each event's description ends with who runs it (`Animé par …`), and a facilitator's feed is
//! titled with them: their current public name ([`crate::names`]), asked once per feed; none
//! when they have no public profile (erased) or it cannot be read now.

use crate::{
    State,
    domain::{RegistrationStatus, SessionStatus},
    names::Names,
    registrations::{digest, secret},
    sessions,
    storage::{Rows, calendar_feed, corrupt, facilitator, registration, session},
};
use actix_web::{HttpResponse, web};
use cafeia_events_api::{FeedQuery, ListQuery, PrivateFeed, paths};
use cafeia_platform::{AppError, auth::Caller, errors::AppResult};
use chrono::{Duration, Utc};
use icalendar::{Calendar, Component, EventLike, EventStatus};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::OnConflict,
};
use uuid::Uuid;

/// Most events in one feed.
const FEED_LIMIT: u64 = 1_000;

fn event(
    model: &session::Model,
    with_link: bool,
    organizer: Option<&str>,
) -> AppResult<icalendar::Event> {
    // Revisions only ever grow from 0.
    let sequence = u32::try_from(model.revision)
        .map_err(|_| corrupt("session", model.id, "negative revision"))?;
    let mut event = icalendar::Event::new();
    event
        .uid(&format!("{}@cafe-ia.fr", model.id))
        .sequence(sequence)
        .timestamp(model.updated_at)
        .summary(&model.title)
        .starts(model.starts_at)
        .ends(model.ends_at)
        .status(match model.status {
            SessionStatus::Cancelled => EventStatus::Cancelled,
            SessionStatus::Draft => EventStatus::Tentative,
            SessionStatus::Published | SessionStatus::Completed => EventStatus::Confirmed,
        });
    let mut description = model.description.clone();
    if let Some(reason) = model
        .status_reason
        .as_deref()
        .filter(|_| model.status == SessionStatus::Cancelled)
    {
        description = format!("ANNULÉE : {reason}\n\n{description}");
    }
    if let Some(name) = organizer {
        description = format!("{description}\n\nAnimé par {name}");
    }
    match (sessions::place(model)?, with_link, &model.online_url) {
        (Some(place), _, _) => {
            event.location(&format!("{}, {}", place.name, place.address));
            event.add_property(
                "GEO",
                format!("{:.6};{:.6}", place.latitude, place.longitude),
            );
        }
        (None, true, Some(url)) => {
            event.location(url);
            event.url(url);
        }
        (None, _, _) => {
            event.location("En ligne (lien communiqué aux inscrit·es)");
        }
    }
    event.description(&description);
    Ok(event.done())
}

/// Who wrote the feeds (RFC 5545 §3.7.3): exactly one per calendar.
pub const PRODID: &str = "-//CNNum//Cafe IA//FR";

/// The zone every session of a feed is in, if they share one.
fn shared_zone(sessions: &[session::Model]) -> Option<&'static str> {
    let first = sessions.first()?.timezone.name();
    sessions
        .iter()
        .all(|s| s.timezone.name() == first)
        .then_some(first)
}

/// The iCalendar text of a feed; `reveal` says which sessions show their online link.
/// `Calendar::new()` would add the crate's own `PRODID` beside ours (two are invalid), so the
/// calendar starts empty and gets its required properties here.
fn document(
    name: &str,
    sessions: &[session::Model],
    names: &Names,
    reveal: impl Fn(&session::Model) -> bool,
) -> AppResult<String> {
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"));
    cal.append_property(("PRODID", PRODID));
    cal.append_property(("CALSCALE", "GREGORIAN"));
    cal.name(name);
    if let Some(zone) = shared_zone(sessions) {
        cal.append_property(("X-WR-TIMEZONE", zone));
    }
    for s in sessions {
        let organizer = names.of(s.facilitator_id);
        cal.push(event(s, reveal(s), organizer.as_deref())?);
    }
    Ok(cal.done().to_string())
}

/// What an invitation mailed to a registrant does to the event in their calendar (RFC 5546).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Adds it, or updates it when its `SEQUENCE` is higher than the copy held.
    Publish,
    /// Removes it (the session is cancelled).
    Cancel,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Publish => "PUBLISH",
            Method::Cancel => "CANCEL",
        }
    }
}

/// The `.ics` joined to a registrant's mail: the session's one event with the UID and
/// SEQUENCE of every feed (so the copy a calendar imported from the mail and the one from a
/// feed are the same event), and its online link when `with_link` (a seat holder's mail).
/// `organizer` is the mail's sender address: RFC 5546 wants an `ORGANIZER` in a `PUBLISH` or
/// `CANCEL`, and some calendars apply a cancellation only from the organizer they know.
pub fn invitation(
    model: &session::Model,
    method: Method,
    with_link: bool,
    organizer: &str,
) -> AppResult<cafeia_platform::mail::Attachment> {
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"));
    cal.append_property(("PRODID", PRODID));
    cal.append_property(("CALSCALE", "GREGORIAN"));
    cal.append_property(("METHOD", method.as_str()));
    let mut event = event(model, with_link, None)?;
    if !organizer.is_empty() {
        let mut property = icalendar::Property::new("ORGANIZER", format!("mailto:{organizer}"));
        property.add_parameter("CN", "Café IA");
        event.append_property(property);
    }
    cal.push(event);
    Ok(cafeia_platform::mail::Attachment {
        filename: "cafe-ia.ics".into(),
        content_type: format!("text/calendar; charset=utf-8; method={}", method.as_str()),
        content: cal.done().to_string(),
    })
}

/// The feed of `sessions`, with their facilitators' current names.
async fn calendar(
    state: &State,
    name: &str,
    sessions: &[session::Model],
    reveal: impl Fn(&session::Model) -> bool,
) -> AppResult<HttpResponse> {
    let names = state
        .names
        .names(sessions.iter().map(|s| s.facilitator_id))
        .await;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .body(document(name, sessions, &names, reveal)?))
}

/// Public feeds show no link.
fn public(_: &session::Model) -> bool {
    false
}

/// GET /v1/sessions/{id}/calendar.ics
#[utoipa::path(get, path = paths::SESSION_CALENDAR, tag = "calendars", responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn session(state: web::Data<State>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let model = sessions::find(&state.platform.db, *id).await?;
    if model.status == SessionStatus::Draft {
        return Err(AppError::not_found("session inconnue"));
    }
    calendar(&state, &model.title.clone(), &[model], public).await
}

/// Every status but drafts.
fn visible() -> Condition {
    Condition::all().add(session::Column::Status.is_in([
        SessionStatus::Published,
        SessionStatus::Cancelled,
        SessionStatus::Completed,
    ]))
}

/// Sessions of the feed window: from 30 days ago on.
fn window() -> Condition {
    Condition::all().add(session::Column::StartsAt.gte(Utc::now() - Duration::days(30)))
}

/// GET /v1/calendars/facilitators/{id}/feed.ics — a facilitator's public sessions.
#[utoipa::path(get, path = paths::FACILITATOR_CALENDAR, tag = "calendars", responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn facilitator_feed(
    state: web::Data<State>,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let who = facilitator::Entity::find_by_id(*id)
        .row(db)
        .await?
        .ok_or_else(|| AppError::not_found("animateur·rice inconnu·e"))?;
    let rows = session::Entity::find()
        .filter(
            Condition::any()
                .add(session::Column::FacilitatorId.eq(who.id))
                .add(session::Column::CoFacilitators.contains(who.id.to_string())),
        )
        .filter(visible())
        .filter(window())
        .order_by_asc(session::Column::StartsAt)
        .limit(FEED_LIMIT)
        .rows(db)
        .await?;
    let title = match state.names.name(who.id).await {
        Some(name) => format!("Cafés IA — {name}"),
        None => "Cafés IA".to_owned(),
    };
    calendar(&state, &title, &rows, public).await
}

/// GET /v1/calendars/public.ics — published (and cancelled) sessions, by département and topic.
#[utoipa::path(get, path = paths::PUBLIC_CALENDAR, tag = "calendars", params(FeedQuery), responses((status = 200, content_type = "text/calendar", body = String), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn public_feed(
    state: web::Data<State>,
    query: web::Query<FeedQuery>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let mut filter_query = ListQuery::from(query.into_inner());
    // Checked once as asked: a status the loop below skips (a draft) is refused, not empty.
    sessions::public_filter(&filter_query)?;
    let asked = filter_query.status;
    let mut rows = Vec::new();
    // A feed shows cancellations too, so calendars that subscribed drop them.
    for status in [SessionStatus::Published, SessionStatus::Cancelled] {
        if asked.is_some_and(|s| s != status) {
            continue;
        }
        filter_query.status = Some(status);
        let mut batch = session::Entity::find()
            .filter(sessions::public_filter(&filter_query)?)
            .order_by_asc(session::Column::StartsAt)
            .limit(FEED_LIMIT)
            .rows(db)
            .await?;
        rows.append(&mut batch);
    }
    rows.sort_by_key(|s| s.starts_at);
    rows.truncate(usize::try_from(FEED_LIMIT).unwrap_or(usize::MAX));
    let name = match (&filter_query.departement, &filter_query.topic) {
        (Some(d), _) => format!("Cafés IA — {d}"),
        _ => "Cafés IA".to_owned(),
    };
    calendar(&state, &name, &rows, public).await
}

/// POST /v1/me/calendar — creates or replaces the signed-in citizen's private feed URL.
#[utoipa::path(post, path = paths::MY_CALENDAR, tag = "calendars", responses((status = 201, body = PrivateFeed)), security(("bearer" = [])))]
pub async fn create_private_feed(
    state: web::Data<State>,
    caller: Caller,
) -> AppResult<HttpResponse> {
    let token = secret()?;
    calendar_feed::Entity::insert(calendar_feed::ActiveModel {
        account: Set(caller.account()),
        token_hash: Set(digest(&token)),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(calendar_feed::Column::Account)
            .update_columns([
                calendar_feed::Column::TokenHash,
                calendar_feed::Column::CreatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&state.platform.db)
    .await?;
    Ok(HttpResponse::Created().json(PrivateFeed {
        // The token is hex: nothing in it needs encoding.
        path: paths::PRIVATE_CALENDAR.replace("{token}", &token),
    }))
}

/// GET /v1/calendars/private/{token}/feed.ics — the citizen's sessions, with the online links
/// of those where they hold a seat (a waiting-list place shows the session, not its link).
#[utoipa::path(get, path = paths::PRIVATE_CALENDAR, tag = "calendars", responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn private_feed(
    state: web::Data<State>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let feed = if token.len() == 64 {
        calendar_feed::Entity::find()
            .filter(calendar_feed::Column::TokenHash.eq(digest(&token)))
            .row(db)
            .await?
    } else {
        None
    };
    let feed = feed.ok_or_else(|| AppError::not_found("flux inconnu"))?;
    // Sessions the person is registered to, and those cancelled under them (a cancellation
    // by the facilitator keeps the registration's identity; the person's own does not).
    let ids: Vec<Uuid> = registration::Entity::find()
        .filter(registration::Column::Account.eq(feed.account.as_str()))
        .filter(
            Condition::any()
                .add(registration::Column::Status.is_in([
                    RegistrationStatus::Confirmed,
                    RegistrationStatus::Waitlisted,
                    RegistrationStatus::Attended,
                ]))
                .add(
                    Condition::all()
                        .add(registration::Column::Status.eq(RegistrationStatus::Cancelled))
                        .add(registration::Column::Identity.starts_with("account:")),
                ),
        )
        .select_only()
        .column(registration::Column::SessionId)
        .into_tuple()
        .all(db)
        .await?;
    let rows = session::Entity::find()
        .filter(session::Column::Id.is_in(ids))
        .filter(visible())
        .filter(window())
        .order_by_asc(session::Column::StartsAt)
        .limit(FEED_LIMIT)
        .rows(db)
        .await?;
    // The link by the rule of every other view, for the feed's account.
    let viewer = sessions::Viewer::of_account(db, &feed.account, &rows).await?;
    calendar(&state, "Mes Cafés IA", &rows, |s| viewer.insider(s)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::RegistrationMode,
        storage::{JsonText, Zone},
    };
    use cafeia_platform::vocabulary::{Format, Level};
    use chrono::TimeZone;
    use icalendar::parser::{read_calendar, unfold};

    fn session(title: &str, status: SessionStatus) -> session::Model {
        let starts = Utc.with_ymd_and_hms(2027, 3, 28, 16, 0, 0).unwrap();
        session::Model {
            id: Uuid::new_v4(),
            series_id: None,
            title: title.into(),
            description: "Découvrir l'IA".into(),
            modules: JsonText(vec![]),
            topics: JsonText(vec!["what_is_ai".into()]),
            audiences: JsonText(vec![]),
            languages: JsonText(vec!["fr".into()]),
            accessibility: JsonText(vec![]),
            co_facilitators: JsonText(vec![]),
            facilitator_id: Uuid::new_v4(),
            format: Format::InPerson,
            level: Level::Beginner,
            registration_mode: RegistrationMode::Open,
            waitlist_enabled: true,
            venue_id: Some(Uuid::new_v4()),
            place_name: Some("Médiathèque".into()),
            address: Some("1 rue de la République, Lyon".into()),
            insee: Some("69123".into()),
            departement: Some("69".into()),
            region: Some("84".into()),
            lat: Some(45.76),
            lon: Some(4.83),
            online_url: None,
            starts_at: starts,
            ends_at: starts + Duration::hours(2),
            timezone: Zone(chrono_tz::Europe::Paris),
            capacity: Some(12),
            confirmed: 0,
            waitlisted: 0,
            arrivals: 0,
            status,
            status_reason: (status == SessionStatus::Cancelled)
                .then(|| "salle indisponible".into()),
            created_at: starts - Duration::days(10),
            updated_at: starts - Duration::days(3),
            revision: 2,
        }
    }

    #[test]
    fn a_feed_has_one_prodid_and_stable_utc_events() {
        let held = session("Café IA : premiers pas", SessionStatus::Published);
        let cancelled = session("Café IA : annulé", SessionStatus::Cancelled);
        let text = document(
            "Cafés IA",
            &[held.clone(), cancelled.clone()],
            &Names::default(),
            public,
        )
        .expect("ics");
        let unfolded = unfold(&text);
        let cal = read_calendar(&unfolded).expect("valid iCalendar");
        let count = |key: &str| {
            cal.properties
                .iter()
                .filter(|p| p.name.as_str() == key)
                .count()
        };
        assert_eq!(count("PRODID"), 1, "{text}");
        assert_eq!(count("VERSION"), 1, "{text}");
        let prodid = cal.properties.iter().find(|p| p.name.as_str() == "PRODID");
        assert_eq!(prodid.map(|p| p.val.as_str()), Some(PRODID));

        assert_eq!(cal.components.len(), 2, "{text}");
        for (component, model) in cal.components.iter().zip([&held, &cancelled]) {
            assert_eq!(component.name.as_str(), "VEVENT");
            let prop = |key: &str| {
                component
                    .find_prop(key)
                    .map(|p| p.val.as_str().to_owned())
                    .unwrap_or_else(|| panic!("{key} missing in {text}"))
            };
            // Stable across fetches: the same UID and DTSTAMP every time.
            assert_eq!(prop("UID"), format!("{}@cafe-ia.fr", model.id));
            assert_eq!(prop("DTSTAMP"), "20270325T160000Z");
            assert_eq!(prop("DTSTART"), "20270328T160000Z");
            assert_eq!(prop("DTEND"), "20270328T180000Z");
            assert_eq!(prop("SEQUENCE"), "2");
        }
        let status = |i: usize| {
            cal.components[i]
                .find_prop("STATUS")
                .map(|p| p.val.as_str().to_owned())
        };
        assert_eq!(status(0).as_deref(), Some("CONFIRMED"));
        assert_eq!(status(1).as_deref(), Some("CANCELLED"));
        // Fetched again, the document is the same (no generated UID or DTSTAMP).
        assert_eq!(
            document("Cafés IA", &[held, cancelled], &Names::default(), public).expect("ics"),
            text
        );
    }

    #[test]
    fn a_feed_names_the_zone_its_sessions_share_and_none_when_they_differ() {
        let paris = session("Café IA à Lyon", SessionStatus::Published);
        let mut reunion = session("Café IA à Saint-Denis", SessionStatus::Published);
        reunion.timezone = Zone(chrono_tz::Indian::Reunion);
        let zones = |sessions: &[session::Model]| -> Vec<String> {
            let text = document("Cafés IA", sessions, &Names::default(), public).expect("ics");
            text.lines()
                .filter_map(|l| l.strip_prefix("X-WR-TIMEZONE:"))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(
            zones(std::slice::from_ref(&reunion)),
            vec!["Indian/Reunion"]
        );
        assert_eq!(zones(&[paris.clone(), paris.clone()]), vec!["Europe/Paris"]);
        assert!(zones(&[paris, reunion]).is_empty());
        assert!(zones(&[]).is_empty());
    }

    #[test]
    fn each_event_names_who_runs_it_when_the_name_is_known() {
        let named = session("Café IA à Lyon", SessionStatus::Published);
        let unnamed = session("Café IA à Villeurbanne", SessionStatus::Published);
        let names: Names = [(named.facilitator_id, "Camille Martin".to_owned())]
            .into_iter()
            .collect();
        let text = document(
            "Cafés IA",
            &[named.clone(), unnamed.clone()],
            &names,
            public,
        )
        .expect("ics");
        let cal_text = unfold(&text);
        let cal = read_calendar(&cal_text).expect("valid iCalendar");
        let description = |i: usize| {
            cal.components[i]
                .find_prop("DESCRIPTION")
                .map(|p| p.val.as_str().to_owned())
                .unwrap_or_default()
        };
        assert!(
            description(0).ends_with("Animé par Camille Martin"),
            "{text}"
        );
        assert!(!description(1).contains("Animé par"), "{text}");
    }

    #[test]
    fn an_empty_feed_is_still_a_valid_calendar() {
        let text = document("Cafés IA", &[], &Names::default(), public).expect("ics");
        assert_eq!(text.matches("PRODID").count(), 1, "{text}");
        assert!(text.contains(&format!("PRODID:{PRODID}\r\n")), "{text}");
        assert!(
            text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
            "{text}"
        );
    }
}
