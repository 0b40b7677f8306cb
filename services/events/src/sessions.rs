//! Sessions: a verified facilitator drafts, publishes, edits, cancels and completes them (one
//! at a time or as a weekly/monthly series); everyone reads the published ones.

use crate::{
    State,
    domain::{self, Plan, Recurrence, SessionInput, SessionStatus, from_json, to_json},
    messages::{self, PlaceState, SeatsChanged, SessionState},
    registrations,
    storage::{facilitator, registration, session},
};
use actix_web::{HttpResponse, web};
use cafeia_platform::{
    AppError,
    auth::{Caller, MaybeCaller, Role},
    envelope::{Envelope, MessageType},
    errors::AppResult,
    http::Json,
    outbox,
    paging::{self, Page},
    validation::{Problems, known_departement},
};
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Place {
    pub venue_id: Uuid,
    pub name: String,
    pub address: String,
    pub insee: String,
    pub departement: String,
    pub region: String,
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FacilitatorRef {
    pub id: Uuid,
    pub display_name: Option<String>,
}

/// A session as the public sees it; `online_url` only for its facilitators, staff and the
/// people registered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: Uuid,
    pub series_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub status: SessionStatus,
    pub status_reason: Option<String>,
    pub facilitator: FacilitatorRef,
    pub co_facilitators: Vec<Uuid>,
    pub modules: Vec<Uuid>,
    pub topics: Vec<String>,
    pub format: String,
    pub place: Option<Place>,
    pub online_url: Option<String>,
    /// Local time with its offset, in `timezone`.
    #[schema(value_type = String)]
    pub starts_at: DateTime<FixedOffset>,
    #[schema(value_type = String)]
    pub ends_at: DateTime<FixedOffset>,
    pub timezone: String,
    pub capacity: Option<i32>,
    pub confirmed: i32,
    pub waitlisted: i32,
    /// Absent when the session has no seat limit (online without capacity).
    pub seats_left: Option<i32>,
    pub waitlist_enabled: bool,
    pub registration_mode: String,
    /// Whether a registration would be taken now (published, not started, online mode).
    pub registration_open: bool,
    pub audiences: Vec<String>,
    pub level: String,
    pub languages: Vec<String>,
    pub accessibility: Vec<String>,
    pub revision: i32,
}

pub fn seats_left(model: &session::Model) -> Option<i32> {
    model.capacity.map(|c| (c - model.confirmed).max(0))
}

pub fn zone(model: &session::Model) -> Tz {
    model.timezone.parse().unwrap_or(chrono_tz::Europe::Paris)
}

pub fn local(model: &session::Model, at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&zone(model)).fixed_offset()
}

fn uuids(json: &str) -> Vec<Uuid> {
    from_json(json)
        .iter()
        .filter_map(|s| Uuid::parse_str(s).ok())
        .collect()
}

pub fn registration_open(model: &session::Model, now: DateTime<Utc>) -> bool {
    model.status == SessionStatus::Published.as_str()
        && model.registration_mode == domain::RegistrationMode::Open.as_str()
        && now < model.starts_at
}

fn place(model: &session::Model) -> Option<Place> {
    Some(Place {
        venue_id: model.venue_id?,
        name: model.place_name.clone()?,
        address: model.address.clone().unwrap_or_default(),
        insee: model.insee.clone()?,
        departement: model.departement.clone()?,
        region: model.region.clone()?,
        latitude: model.lat?,
        longitude: model.lon?,
    })
}

pub fn view(
    model: session::Model,
    facilitator: Option<&facilitator::Model>,
    reveal_link: bool,
) -> SessionView {
    let status = parse_status(&model.status);
    SessionView {
        id: model.id,
        series_id: model.series_id,
        title: model.title.clone(),
        description: model.description.clone(),
        status,
        status_reason: model.status_reason.clone(),
        facilitator: FacilitatorRef {
            id: model.facilitator_id,
            display_name: facilitator.map(|f| f.display_name.clone()),
        },
        co_facilitators: uuids(&model.co_facilitators),
        modules: uuids(&model.modules),
        topics: from_json(&model.topics),
        format: model.format.clone(),
        place: place(&model),
        online_url: if reveal_link {
            model.online_url.clone()
        } else {
            None
        },
        starts_at: local(&model, model.starts_at),
        ends_at: local(&model, model.ends_at),
        timezone: model.timezone.clone(),
        capacity: model.capacity,
        confirmed: model.confirmed,
        waitlisted: model.waitlisted,
        seats_left: seats_left(&model),
        waitlist_enabled: model.waitlist_enabled,
        registration_mode: model.registration_mode.clone(),
        registration_open: registration_open(&model, Utc::now()),
        audiences: from_json(&model.audiences),
        level: model.level.clone(),
        languages: from_json(&model.languages),
        accessibility: from_json(&model.accessibility),
        revision: model.revision,
    }
}

pub fn parse_status(s: &str) -> SessionStatus {
    match s {
        "published" => SessionStatus::Published,
        "cancelled" => SessionStatus::Cancelled,
        "completed" => SessionStatus::Completed,
        _ => SessionStatus::Draft,
    }
}

pub fn state(model: &session::Model, facilitator_kind: Option<String>) -> SessionState {
    SessionState {
        id: model.id,
        series_id: model.series_id,
        revision: model.revision,
        title: model.title.clone(),
        description: model.description.clone(),
        status: model.status.clone(),
        status_reason: model.status_reason.clone(),
        facilitator_id: model.facilitator_id,
        facilitator_kind,
        co_facilitators: uuids(&model.co_facilitators),
        modules: uuids(&model.modules),
        topics: from_json(&model.topics),
        format: model.format.clone(),
        place: place(model).map(|p| PlaceState {
            venue_id: p.venue_id,
            name: p.name,
            address: p.address,
            insee: p.insee,
            departement: p.departement,
            region: p.region,
            latitude: p.latitude,
            longitude: p.longitude,
        }),
        starts_at: model.starts_at,
        ends_at: model.ends_at,
        timezone: model.timezone.clone(),
        capacity: model.capacity,
        seats_left: seats_left(model),
        waitlist_enabled: model.waitlist_enabled,
        audiences: from_json(&model.audiences),
        level: model.level.clone(),
        languages: from_json(&model.languages),
        accessibility: from_json(&model.accessibility),
        registration_mode: model.registration_mode.clone(),
    }
}

/// Enqueues `kind` with the session's public state, in the caller's transaction.
pub async fn announce<C: ConnectionTrait>(
    conn: &C,
    kind: MessageType,
    model: &session::Model,
) -> AppResult<()> {
    let facilitator_kind = facilitator::Entity::find_by_id(model.facilitator_id)
        .one(conn)
        .await?
        .map(|f| f.kind);
    let envelope = Envelope::new(
        kind,
        format!("session/{}", model.id),
        state(model, facilitator_kind),
    );
    outbox::enqueue(conn, kind, &envelope).await?;
    Ok(())
}

/// `seats.changed` with the session's counters.
pub fn seats_envelope(
    model: &session::Model,
) -> AppResult<(MessageType, Envelope<serde_json::Value>)> {
    let seats = SeatsChanged {
        session_id: model.id,
        capacity: model.capacity,
        confirmed: model.confirmed,
        waitlisted: model.waitlisted,
        seats_left: seats_left(model),
    };
    let kind = messages::SEATS_CHANGED;
    let data = serde_json::to_value(seats).map_err(AppError::internal)?;
    Ok((
        kind,
        Envelope::new(kind, format!("session/{}", model.id), data),
    ))
}

/// Enqueues `seats.changed` with the session's counters.
pub async fn announce_seats<C: ConnectionTrait>(conn: &C, model: &session::Model) -> AppResult<()> {
    outbox::enqueue_many(conn, &[seats_envelope(model)?]).await?;
    Ok(())
}

/// The calling facilitator (by account), refused unless known and not suspended.
pub async fn acting<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
) -> AppResult<facilitator::Model> {
    caller.require(Role::Facilitator)?;
    let me = facilitator::Entity::find()
        .filter(facilitator::Column::Account.eq(caller.account()))
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::forbidden(
                "aucun profil d'animateur·rice pour ce compte : inscrivez-vous auprès du réseau",
            )
        })?;
    if me.status == "suspended" {
        return Err(AppError::forbidden(
            "compte d'animateur·rice suspendu : action impossible",
        ));
    }
    Ok(me)
}

fn require_verified(me: &facilitator::Model) -> AppResult<()> {
    if me.status == "verified" {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "seul·e un·e animateur·rice vérifié·e publie des sessions",
        ))
    }
}

pub fn runs(model: &session::Model, me: &facilitator::Model) -> bool {
    model.facilitator_id == me.id || uuids(&model.co_facilitators).contains(&me.id)
}

/// Staff covering the session's territory (national staff for online sessions).
pub fn staff_covers(caller: &Caller, model: &session::Model) -> bool {
    caller.covers(model.region.as_deref(), model.departement.as_deref())
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<session::Model> {
    session::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("session inconnue"))
}

/// Takes the session's row lock for the rest of the transaction (a no-op write), so seat
/// decisions on one session happen one at a time, in both databases.
pub async fn lock<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<session::Model> {
    session::Entity::update_many()
        .col_expr(
            session::Column::Revision,
            Expr::col(session::Column::Revision),
        )
        .filter(session::Column::Id.eq(id))
        .exec_with_returning(conn)
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("session inconnue"))
}

fn new_model(plan: &Plan, facilitator_id: Uuid, series_id: Option<Uuid>) -> session::ActiveModel {
    let now = Utc::now();
    let mut model = session::ActiveModel {
        id: Set(Uuid::now_v7()),
        series_id: Set(series_id),
        facilitator_id: Set(facilitator_id),
        confirmed: Set(0),
        waitlisted: Set(0),
        arrivals: Set(0),
        status: Set(SessionStatus::Draft.as_str()),
        status_reason: Set(None),
        created_at: Set(now),
        revision: Set(0),
        ..Default::default()
    };
    apply(&mut model, plan);
    model
}

fn apply(model: &mut session::ActiveModel, plan: &Plan) {
    model.title = Set(plan.title.clone());
    model.description = Set(plan.description.clone());
    model.modules = Set(to_json(&plan.modules));
    model.topics = Set(to_json(&plan.topics));
    model.audiences = Set(to_json(&plan.audiences));
    model.languages = Set(to_json(&plan.languages));
    model.accessibility = Set(to_json(&plan.accessibility));
    model.co_facilitators = Set(to_json(&plan.co_facilitators));
    model.format = Set(plan.format.clone());
    model.level = Set(plan.level.clone());
    model.registration_mode = Set(plan.registration_mode.clone());
    model.waitlist_enabled = Set(plan.waitlist);
    model.venue_id = Set(plan.venue.as_ref().map(|v| v.id));
    model.place_name = Set(plan.venue.as_ref().map(|v| v.name.clone()));
    model.address = Set(plan
        .venue
        .as_ref()
        .map(|v| format!("{}, {}", v.address, v.postcode)));
    model.insee = Set(plan.venue.as_ref().map(|v| v.insee.clone()));
    model.departement = Set(plan.venue.as_ref().map(|v| v.departement.clone()));
    model.region = Set(plan.venue.as_ref().map(|v| v.region.clone()));
    model.lat = Set(plan.venue.as_ref().map(|v| v.lat));
    model.lon = Set(plan.venue.as_ref().map(|v| v.lon));
    model.online_url = Set(plan.online_url.clone());
    model.starts_at = Set(plan.starts_at);
    model.ends_at = Set(plan.ends_at);
    model.timezone = Set(plan.timezone.name().to_owned());
    model.capacity = Set(plan.capacity);
    model.updated_at = Set(Utc::now());
}

/// A draft, or published straight away with `publish`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateQuery {
    #[serde(default)]
    pub publish: bool,
}

/// POST /v1/sessions
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = SessionInput, params(("publish" = Option<bool>, Query, description = "Publier immédiatement")), responses((status = 201, body = SessionView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn create(
    state: web::Data<State>,
    caller: Caller,
    query: web::Query<CreateQuery>,
    input: Json<SessionInput>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let me = acting(db, &caller).await?;
    if query.publish {
        require_verified(&me)?;
    }
    let plan = domain::plan(db, input.0, Utc::now()).await?;
    let txn = cafeia_platform::db::begin(db).await?;
    let model = insert(&txn, &plan, me.id, None, query.publish).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Created().json(view(model, Some(&me), true)))
}

async fn insert<C: ConnectionTrait>(
    conn: &C,
    plan: &Plan,
    facilitator_id: Uuid,
    series_id: Option<Uuid>,
    publish: bool,
) -> AppResult<session::Model> {
    let mut model = new_model(plan, facilitator_id, series_id);
    if publish {
        model.status = Set(SessionStatus::Published.as_str());
        model.revision = Set(1);
    }
    let model = model.insert(conn).await?;
    if publish {
        announce(conn, messages::SESSION_PUBLISHED, &model).await?;
    }
    Ok(model)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesInput {
    pub session: SessionInput,
    pub recurrence: Recurrence,
    #[serde(default)]
    pub publish: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeriesView {
    pub series_id: Uuid,
    pub sessions: Vec<SessionView>,
}

/// POST /v1/series — every occurrence is a session of its own, all created or none.
#[utoipa::path(post, path = "/v1/series", tag = "sessions", request_body = SeriesInput, responses((status = 201, body = SeriesView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn create_series(
    state: web::Data<State>,
    caller: Caller,
    input: Json<SeriesInput>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let me = acting(db, &caller).await?;
    let input = input.0;
    if input.publish {
        require_verified(&me)?;
    }
    let dates = domain::occurrences(
        input.recurrence,
        input.session.starts_at,
        input.session.ends_at,
    )?;
    let mut plans = Vec::with_capacity(dates.len());
    let now = Utc::now();
    for (i, (start, end)) in dates.into_iter().enumerate() {
        let mut occurrence = input.session.clone();
        occurrence.starts_at = start;
        occurrence.ends_at = end;
        // Name the occurrence in errors: a DST gap may hit only the fifth one.
        let plan = domain::plan(db, occurrence, now)
            .await
            .map_err(|e| e.prefixed(&format!("occurrences[{i}]")))?;
        plans.push(plan);
    }
    let series_id = Uuid::now_v7();
    let txn = cafeia_platform::db::begin(db).await?;
    let mut sessions = Vec::with_capacity(plans.len());
    for plan in &plans {
        let model = insert(&txn, plan, me.id, Some(series_id), input.publish).await?;
        sessions.push(view(model, Some(&me), true));
    }
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Created().json(SeriesView {
        series_id,
        sessions,
    }))
}

/// PUT /v1/sessions/{id} — replaces the description of a draft or published session that has
/// not started. A capacity below the seats already confirmed is refused; a larger one promotes
/// people from the waiting list.
#[utoipa::path(put, path = "/v1/sessions/{id}", tag = "sessions", request_body = SessionInput, responses((status = 200, body = SessionView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn update(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Json<SessionInput>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let me = acting(db, &caller).await?;
    let plan = domain::plan(db, input.0, Utc::now()).await?;
    let txn = cafeia_platform::db::begin(db).await?;
    let current = lock(&txn, *id).await?;
    if current.facilitator_id != me.id {
        return Err(AppError::forbidden(
            "seul·e l'animateur·rice de la session la modifie",
        ));
    }
    let status = parse_status(&current.status);
    if !matches!(status, SessionStatus::Draft | SessionStatus::Published)
        || current.starts_at <= Utc::now()
    {
        return Err(AppError::conflict(
            "seule une session à venir, en brouillon ou publiée, se modifie",
        ));
    }
    if plan.capacity.is_some_and(|c| c < current.confirmed) {
        return Err(AppError::invalid(
            "capacity",
            format!(
                "{} personnes sont déjà inscrites : la capacité ne peut pas descendre en dessous",
                current.confirmed
            ),
        ));
    }
    let published = status == SessionStatus::Published;
    let mut model = current.clone().into_active_model();
    apply(&mut model, &plan);
    if published {
        model.revision = Set(current.revision + 1);
    }
    let mut model = model.update(&txn).await?;
    let promoted = registrations::fill_seats(&txn, &mut model).await?;
    if published {
        announce(&txn, messages::SESSION_UPDATED, &model).await?;
    }
    if promoted > 0 || current.capacity != model.capacity {
        announce_seats(&txn, &model).await?;
    }
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(model, Some(&me), true)))
}

/// POST /v1/sessions/{id}/publish
#[utoipa::path(post, path = "/v1/sessions/{id}/publish", tag = "sessions", responses((status = 200, body = SessionView), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn publish(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let me = acting(db, &caller).await?;
    require_verified(&me)?;
    let txn = cafeia_platform::db::begin(db).await?;
    let current = lock(&txn, *id).await?;
    if current.facilitator_id != me.id {
        return Err(AppError::forbidden(
            "seul·e l'animateur·rice de la session la publie",
        ));
    }
    if current.status != SessionStatus::Draft.as_str() {
        return Err(AppError::conflict("seul un brouillon se publie"));
    }
    if current.starts_at <= Utc::now() {
        return Err(AppError::conflict(
            "la session a déjà commencé : elle ne peut plus être publiée",
        ));
    }
    let revision = current.revision + 1;
    let mut model = current.into_active_model();
    model.status = Set(SessionStatus::Published.as_str());
    model.status_reason = Set(None);
    model.revision = Set(revision);
    model.updated_at = Set(Utc::now());
    let model = model.update(&txn).await?;
    announce(&txn, messages::SESSION_PUBLISHED, &model).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(model, Some(&me), true)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    pub reason: String,
}

/// POST /v1/sessions/{id}/cancel — by its facilitator, or by staff covering its territory
/// (moderation). Everyone registered gets a `registration.cancelled` message.
#[utoipa::path(post, path = "/v1/sessions/{id}/cancel", tag = "sessions", request_body = CancelInput, responses((status = 200, body = SessionView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn cancel(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Json<CancelInput>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let mut p = Problems::default();
    let reason = p.text("reason", &input.0.reason, 500);
    p.into_result()?;
    let txn = cafeia_platform::db::begin(db).await?;
    let current = lock(&txn, *id).await?;
    if !staff_covers(&caller, &current) {
        let me = acting(&txn, &caller).await?;
        if current.facilitator_id != me.id {
            return Err(AppError::forbidden(
                "seul·e l'animateur·rice de la session ou l'équipe du territoire l'annule",
            ));
        }
    }
    let status = parse_status(&current.status);
    if !matches!(status, SessionStatus::Draft | SessionStatus::Published) {
        return Err(AppError::conflict("session déjà annulée ou terminée"));
    }
    if current.ends_at <= Utc::now() {
        return Err(AppError::conflict(
            "une session passée ne s'annule plus : déclarez la présence ou marquez-la terminée",
        ));
    }
    let revision = current.revision + 1;
    let mut model = current.into_active_model();
    model.status = Set(SessionStatus::Cancelled.as_str());
    model.status_reason = Set(Some(reason));
    model.revision = Set(revision);
    model.updated_at = Set(Utc::now());
    let mut model = model.update(&txn).await?;
    registrations::cancel_all(&txn, &mut model, "session_cancelled").await?;
    if status == SessionStatus::Published {
        announce(&txn, messages::SESSION_CANCELLED, &model).await?;
        announce_seats(&txn, &model).await?;
    }
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(model, None, false)))
}

/// POST /v1/sessions/{id}/complete — once it has started.
#[utoipa::path(post, path = "/v1/sessions/{id}/complete", tag = "sessions", responses((status = 200, body = SessionView), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn complete(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let me = acting(db, &caller).await?;
    let txn = cafeia_platform::db::begin(db).await?;
    let current = lock(&txn, *id).await?;
    if !runs(&current, &me) {
        return Err(AppError::forbidden(
            "seul·es les animateur·rices de la session la terminent",
        ));
    }
    let model = mark_completed(&txn, current).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(model, Some(&me), true)))
}

/// Published → completed, once started; already completed stays as is.
pub async fn mark_completed<C: ConnectionTrait>(
    conn: &C,
    current: session::Model,
) -> AppResult<session::Model> {
    match parse_status(&current.status) {
        SessionStatus::Completed => return Ok(current),
        SessionStatus::Published => {}
        _ => {
            return Err(AppError::conflict(
                "seule une session publiée peut être terminée",
            ));
        }
    }
    if current.starts_at > Utc::now() {
        return Err(AppError::conflict("la session n'a pas encore commencé"));
    }
    let revision = current.revision + 1;
    let mut model = current.into_active_model();
    model.status = Set(SessionStatus::Completed.as_str());
    model.revision = Set(revision);
    model.updated_at = Set(Utc::now());
    let model = model.update(conn).await?;
    announce(conn, messages::SESSION_COMPLETED, &model).await?;
    Ok(model)
}

/// Whether `caller` may see the online link (and the registrations) of `model`.
pub async fn insider<C: ConnectionTrait>(
    conn: &C,
    caller: Option<&Caller>,
    model: &session::Model,
) -> AppResult<bool> {
    let Some(caller) = caller else {
        return Ok(false);
    };
    if staff_covers(caller, model) {
        return Ok(true);
    }
    let account = caller.account();
    if caller.has(Role::Facilitator)
        && let Some(me) = facilitator::Entity::find()
            .filter(facilitator::Column::Account.eq(account.as_str()))
            .one(conn)
            .await?
        && runs(model, &me)
    {
        return Ok(true);
    }
    let registered = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(model.id))
        .filter(registration::Column::Account.eq(account))
        .filter(registration::Column::Status.is_in(["confirmed", "attended"]))
        .one(conn)
        .await?
        .is_some();
    Ok(registered)
}

/// GET /v1/sessions/{id} — drafts only for their facilitators and staff.
#[utoipa::path(get, path = "/v1/sessions/{id}", tag = "sessions", responses((status = 200, body = SessionView), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn get(
    state: web::Data<State>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let model = find(db, *id).await?;
    let insider = insider(db, caller.0.as_ref(), &model).await?;
    if model.status == SessionStatus::Draft.as_str() && !insider {
        return Err(AppError::not_found("session inconnue"));
    }
    let facilitator = facilitator::Entity::find_by_id(model.facilitator_id)
        .one(db)
        .await?;
    Ok(HttpResponse::Ok().json(view(model, facilitator.as_ref(), insider)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Code INSEE du département.
    pub departement: Option<String>,
    pub topic: Option<String>,
    /// Sessions starting at or after (RFC 3339); default now.
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    pub series_id: Option<Uuid>,
    /// `published` (default), `cancelled` or `completed`.
    pub status: Option<SessionStatus>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

/// The public filter, shared by the list and the public calendar feed.
pub fn public_filter(query: &ListQuery) -> AppResult<Condition> {
    let mut p = Problems::default();
    if let Some(d) = &query.departement
        && let Err(e) = known_departement(d)
    {
        p.0.extend(e.errors);
    }
    if let Some(t) = &query.topic {
        cafeia_platform::vocabulary::topics(std::slice::from_ref(t), "topic", &mut p);
    }
    if let (Some(from), Some(to)) = (query.from, query.to) {
        p.check(from < to, "to", "doit être après from");
    }
    if query.status == Some(SessionStatus::Draft) {
        p.add("status", "les brouillons ne sont pas publics");
    }
    p.into_result()?;
    let status = query.status.unwrap_or(SessionStatus::Published);
    let mut filter = Condition::all()
        .add(session::Column::Status.eq(status.as_str()))
        .add(session::Column::StartsAt.gte(query.from.unwrap_or_else(Utc::now)));
    if let Some(to) = query.to {
        filter = filter.add(session::Column::StartsAt.lt(to));
    }
    if let Some(d) = &query.departement {
        filter = filter.add(session::Column::Departement.eq(d.as_str()));
    }
    if let Some(t) = &query.topic {
        // Topics are a JSON array of known words; the quoted word cannot match another one.
        filter = filter.add(session::Column::Topics.contains(format!("\"{t}\"")));
    }
    if let Some(series) = query.series_id {
        filter = filter.add(session::Column::SeriesId.eq(series));
    }
    Ok(filter)
}

/// GET /v1/sessions — public sessions, in creation order with stable cursor pages.
#[utoipa::path(get, path = "/v1/sessions", tag = "sessions", params(ListQuery), responses((status = 200, body = Page<SessionView>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn list(
    state: web::Data<State>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let limit = paging::limit(query.limit)?;
    let mut select = session::Entity::find().filter(public_filter(&query)?);
    if let Some(after) = paging::cursor(query.cursor.as_deref())? {
        select = select.filter(session::Column::Id.gt(after));
    }
    let rows = select
        .order_by_asc(session::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let names = facilitator_names(db, &rows).await?;
    Ok(HttpResponse::Ok().json(paging::page(
        rows,
        limit,
        |r| r.id,
        |r| {
            let f = names.iter().find(|f| f.id == r.facilitator_id);
            view(r, f, false)
        },
    )))
}

pub async fn facilitator_names<C: ConnectionTrait>(
    conn: &C,
    rows: &[session::Model],
) -> AppResult<Vec<facilitator::Model>> {
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.facilitator_id).collect();
    ids.sort();
    ids.dedup();
    Ok(facilitator::Entity::find()
        .filter(facilitator::Column::Id.is_in(ids))
        .all(conn)
        .await?)
}

/// GET /v1/me/sessions — the sessions the calling facilitator runs or co-runs, drafts
/// included, soonest first.
#[utoipa::path(get, path = "/v1/me/sessions", tag = "sessions", responses((status = 200, body = Vec<SessionView>), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn mine(state: web::Data<State>, caller: Caller) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    caller.require(Role::Facilitator)?;
    let me = facilitator::Entity::find()
        .filter(facilitator::Column::Account.eq(caller.account()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("aucun profil d'animateur·rice pour ce compte"))?;
    let rows = session::Entity::find()
        .filter(
            Condition::any()
                .add(session::Column::FacilitatorId.eq(me.id))
                .add(session::Column::CoFacilitators.contains(me.id.to_string())),
        )
        .order_by_asc(session::Column::StartsAt)
        .limit(500)
        .all(db)
        .await?;
    let views: Vec<SessionView> = rows.into_iter().map(|r| view(r, Some(&me), true)).collect();
    Ok(HttpResponse::Ok().json(views))
}
