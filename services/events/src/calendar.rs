//! iCalendar (RFC 5545) feeds: one session, a facilitator's sessions, a citizen's private feed
//! (secret URL), and the public feed by département and topic.
//!
//! Times are written as UTC instants (`DTSTART:20270318T170000Z`), computed from the session's
//! local time in its IANA zone: every client places them right, on either side of a DST change,
//! without depending on a VTIMEZONE definition. `X-WR-TIMEZONE` tells clients which zone to
//! show. Cancelled sessions stay in feeds with `STATUS:CANCELLED` so calendars remove them.

use crate::{
    State,
    domain::SessionStatus,
    registrations::{digest, secret},
    sessions::{self, ListQuery, parse_status},
    storage::{calendar_feed, facilitator, registration, session},
};
use actix_web::{HttpResponse, web};
use cafeia_platform::{AppError, auth::Caller, errors::AppResult};
use chrono::{Duration, Utc};
use icalendar::{Calendar, Component, EventLike, EventStatus};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::OnConflict,
};
use serde::Serialize;
use uuid::Uuid;

/// Most events in one feed.
const FEED_LIMIT: u64 = 1_000;

fn event(model: &session::Model, with_link: bool) -> icalendar::Event {
    let mut event = icalendar::Event::new();
    event
        .uid(&format!("{}@cafe-ia.fr", model.id))
        .sequence(u32::try_from(model.revision).unwrap_or(0))
        .timestamp(model.updated_at)
        .summary(&model.title)
        .starts(model.starts_at)
        .ends(model.ends_at)
        .status(match parse_status(&model.status) {
            SessionStatus::Cancelled => EventStatus::Cancelled,
            SessionStatus::Draft => EventStatus::Tentative,
            _ => EventStatus::Confirmed,
        });
    let mut description = model.description.clone();
    if let Some(reason) = model
        .status_reason
        .as_deref()
        .filter(|_| model.status == "cancelled")
    {
        description = format!("ANNULÉE : {reason}\n\n{description}");
    }
    match (
        &model.place_name,
        &model.address,
        with_link,
        &model.online_url,
    ) {
        (Some(name), Some(address), _, _) => {
            event.location(&format!("{name}, {address}"));
        }
        (_, _, true, Some(url)) => {
            event.location(url);
            event.url(url);
        }
        _ => {
            event.location("En ligne (lien communiqué aux inscrit·es)");
        }
    }
    if let (Some(lat), Some(lon)) = (model.lat, model.lon) {
        event.add_property("GEO", format!("{lat:.6};{lon:.6}"));
    }
    event.description(&description);
    event.done()
}

fn calendar(name: &str, sessions: &[session::Model], with_link: bool) -> HttpResponse {
    let mut cal = Calendar::new();
    cal.name(name);
    cal.append_property(("X-WR-TIMEZONE", "Europe/Paris"));
    cal.append_property(("PRODID", "-//Café IA//Sessions//FR"));
    for s in sessions {
        cal.push(event(s, with_link));
    }
    HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .body(cal.done().to_string())
}

/// GET /v1/sessions/{id}/calendar.ics
#[utoipa::path(get, path = "/v1/sessions/{id}/calendar.ics", tag = "calendars", responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn session(state: web::Data<State>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let model = sessions::find(&state.platform.db, *id).await?;
    if model.status == SessionStatus::Draft.as_str() {
        return Err(AppError::not_found("session inconnue"));
    }
    Ok(calendar(&model.title.clone(), &[model], false))
}

fn visible() -> Condition {
    Condition::any()
        .add(session::Column::Status.eq("published"))
        .add(session::Column::Status.eq("cancelled"))
        .add(session::Column::Status.eq("completed"))
}

/// Sessions of the feed window: from 30 days ago on.
fn window() -> Condition {
    Condition::all().add(session::Column::StartsAt.gte(Utc::now() - Duration::days(30)))
}

/// GET /v1/calendars/facilitators/{id}/feed.ics — a facilitator's public sessions.
#[utoipa::path(get, path = "/v1/calendars/facilitators/{id}/feed.ics", tag = "calendars", responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn facilitator_feed(
    state: web::Data<State>,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let who = facilitator::Entity::find_by_id(*id)
        .one(db)
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
        .all(db)
        .await?;
    Ok(calendar(
        &format!("Cafés IA — {}", who.display_name),
        &rows,
        false,
    ))
}

/// GET /v1/calendars/public.ics — published (and cancelled) sessions, by département and topic.
#[utoipa::path(get, path = "/v1/calendars/public.ics", tag = "calendars", params(ListQuery), responses((status = 200, content_type = "text/calendar", body = String), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn public_feed(
    state: web::Data<State>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let mut filter_query = query.into_inner();
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
            .all(db)
            .await?;
        rows.append(&mut batch);
    }
    rows.sort_by_key(|s| s.starts_at);
    rows.truncate(usize::try_from(FEED_LIMIT).unwrap_or(usize::MAX));
    let name = match (&filter_query.departement, &filter_query.topic) {
        (Some(d), _) => format!("Cafés IA — {d}"),
        _ => "Cafés IA".to_owned(),
    };
    Ok(calendar(&name, &rows, false))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PrivateFeed {
    /// Path of the private feed; anyone holding it sees the citizen's sessions. Asking again
    /// replaces it (the old one stops working).
    pub path: String,
}

/// POST /v1/me/calendar — creates or replaces the signed-in citizen's private feed URL.
#[utoipa::path(post, path = "/v1/me/calendar", tag = "calendars", responses((status = 201, body = PrivateFeed)), security(("bearer" = [])))]
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
        path: format!("/v1/calendars/private/{token}/feed.ics"),
    }))
}

/// GET /v1/calendars/private/{token}/feed.ics — the citizen's sessions, with online links.
#[utoipa::path(get, path = "/v1/calendars/private/{token}/feed.ics", tag = "calendars", responses((status = 200, content_type = "text/calendar", body = String), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn private_feed(
    state: web::Data<State>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let feed = if token.len() == 64 {
        calendar_feed::Entity::find()
            .filter(calendar_feed::Column::TokenHash.eq(digest(&token)))
            .one(db)
            .await?
    } else {
        None
    };
    let feed = feed.ok_or_else(|| AppError::not_found("flux inconnu"))?;
    // Sessions the person is registered to, and those cancelled under them (a cancellation
    // by the facilitator keeps the registration's identity; the person's own does not).
    let regs = registration::Entity::find()
        .filter(registration::Column::Account.eq(feed.account))
        .filter(
            Condition::any()
                .add(registration::Column::Status.is_in(["confirmed", "waitlisted", "attended"]))
                .add(
                    Condition::all()
                        .add(registration::Column::Status.eq("cancelled"))
                        .add(registration::Column::Identity.starts_with("account:")),
                ),
        )
        .all(db)
        .await?;
    let ids: Vec<Uuid> = regs.iter().map(|r| r.session_id).collect();
    let rows = session::Entity::find()
        .filter(session::Column::Id.is_in(ids))
        .filter(visible())
        .filter(window())
        .order_by_asc(session::Column::StartsAt)
        .limit(FEED_LIMIT)
        .all(db)
        .await?;
    Ok(calendar("Mes Cafés IA", &rows, true))
}
