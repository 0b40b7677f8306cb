//! Sessions: a verified facilitator drafts, publishes, edits, cancels and completes them (one
//! at a time or as a weekly/monthly series); everyone reads the published ones.

use crate::{
    State,
    domain::{self, Moment, Plan, SessionAction, SessionInput, SessionStatus},
    messages::{self, SeatsChanged, SessionState},
    registrations,
    storage::{JsonText, Rows, Zone, corrupt, facilitator, registration, session, unreadable},
};
use actix_web::{HttpResponse, web};
use cafeia_api::batch::BatchQuery;
use cafeia_events_api::{
    CancelInput, CancellationCause, CreateQuery, FacilitatorRef, ListQuery, PageQuery,
    RegistrationStatus, SeriesInput, SeriesView, SessionGroup, SessionPlace, SessionView, paths,
    queries::UPCOMING_PER_GROUP,
};
use cafeia_facilitators_api::FacilitatorStatus;
use cafeia_platform::{
    AppError, ErrorCode,
    auth::{Caller, MaybeCaller, Role},
    envelope::{Envelope, MessageType},
    errors::{AppResult, FieldError},
    http::{Json, Query},
    outbox,
    paging::{self, Page},
    validation::{Problems, known_departement, known_region, wire_name},
};
use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use std::collections::HashSet;
use uuid::Uuid;

pub fn seats_left(model: &session::Model) -> Option<i32> {
    model.capacity.map(|c| (c - model.confirmed).max(0))
}

pub fn local(model: &session::Model, at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&model.timezone.0).fixed_offset()
}

/// Where `model` stands in time at `now`.
pub fn moment(model: &session::Model, now: DateTime<Utc>) -> Moment {
    Moment::at(model.starts_at, model.ends_at, now)
}

/// The status `model` gets from `action` now, or the refusal (the lifecycle of
/// [`SessionAction::apply`]).
pub fn transition(
    model: &session::Model,
    action: SessionAction,
    now: DateTime<Utc>,
) -> AppResult<SessionStatus> {
    Ok(action.apply(model.status, moment(model, now))?)
}

/// Why `model` takes no registration now, if it does not.
pub fn admission(model: &session::Model, now: DateTime<Utc>) -> AppResult<()> {
    Ok(domain::admits(
        model.status,
        moment(model, now),
        model.registration_mode,
    )?)
}

pub fn registration_open(model: &session::Model, now: DateTime<Utc>) -> bool {
    admission(model, now).is_ok()
}

/// The place copied from the venue, for a session held in one. The copy is written whole with
/// the venue (`apply`, the replica's venue updates): a session at a venue with part of it
/// missing is a damaged row, not a session without a place.
pub fn place(model: &session::Model) -> AppResult<Option<SessionPlace>> {
    let Some(venue_id) = model.venue_id else {
        return Ok(None);
    };
    let missing = |column: &str| {
        corrupt(
            "session",
            model.id,
            format!("column {column} empty for a session at venue {venue_id}"),
        )
    };
    Ok(Some(SessionPlace {
        venue_id,
        name: model
            .place_name
            .clone()
            .ok_or_else(|| missing("place_name"))?,
        address: model.address.clone().ok_or_else(|| missing("address"))?,
        insee: model.insee.clone().ok_or_else(|| missing("insee"))?,
        departement: model
            .departement
            .clone()
            .ok_or_else(|| missing("departement"))?,
        region: model.region.clone().ok_or_else(|| missing("region"))?,
        latitude: model.lat.ok_or_else(|| missing("lat"))?,
        longitude: model.lon.ok_or_else(|| missing("lon"))?,
    }))
}

/// The view of `model`; `name` is its lead facilitator's public name, when known
/// ([`crate::names`]).
pub fn view(
    model: session::Model,
    name: Option<String>,
    reveal_link: bool,
) -> AppResult<SessionView> {
    let place = place(&model)?;
    let registration_open = registration_open(&model, Utc::now());
    let seats_left = seats_left(&model);
    Ok(SessionView {
        id: model.id,
        series_id: model.series_id,
        title: model.title,
        description: model.description,
        status: model.status,
        status_reason: model.status_reason,
        facilitator: FacilitatorRef {
            id: model.facilitator_id,
            display_name: name,
        },
        co_facilitators: model.co_facilitators.0,
        modules: model.modules.0,
        topics: model.topics.0,
        format: model.format,
        place,
        online_url: if reveal_link { model.online_url } else { None },
        starts_at: model.starts_at,
        ends_at: model.ends_at,
        timezone: model.timezone.name().to_owned(),
        capacity: model.capacity,
        confirmed: model.confirmed,
        waitlisted: model.waitlisted,
        seats_left,
        waitlist_enabled: model.waitlist_enabled,
        registration_mode: model.registration_mode,
        registration_open,
        audiences: model.audiences.0,
        level: model.level,
        languages: model.languages.0,
        accessibility: model.accessibility.0,
        revision: model.revision,
    })
}

/// The view of one session, with its facilitator's current name.
pub async fn named_view(
    state: &State,
    model: session::Model,
    reveal_link: bool,
) -> AppResult<SessionView> {
    let name = state.names.name(model.facilitator_id).await;
    view(model, name, reveal_link)
}

/// The views of `rows` (`reveal` says which show their online link), with their facilitators'
/// current names, asked once for all of them.
pub async fn named_views(
    state: &State,
    rows: Vec<session::Model>,
    reveal: impl Fn(&session::Model) -> bool,
) -> AppResult<Vec<SessionView>> {
    let names = state
        .names
        .names(rows.iter().map(|r| r.facilitator_id))
        .await;
    rows.into_iter()
        .map(|r| {
            let reveal_link = reveal(&r);
            let name = names.of(r.facilitator_id);
            view(r, name, reveal_link)
        })
        .collect()
}

pub fn state(model: &session::Model, facilitator_kind: Option<String>) -> AppResult<SessionState> {
    Ok(SessionState {
        id: model.id,
        series_id: model.series_id,
        revision: model.revision,
        title: model.title.clone(),
        description: model.description.clone(),
        status: model.status,
        status_reason: model.status_reason.clone(),
        facilitator_id: model.facilitator_id,
        facilitator_kind,
        co_facilitators: model.co_facilitators.0.clone(),
        modules: model.modules.0.clone(),
        topics: model.topics.0.clone(),
        format: model.format,
        place: place(model)?,
        starts_at: model.starts_at,
        ends_at: model.ends_at,
        timezone: model.timezone.name().to_owned(),
        capacity: model.capacity,
        seats_left: seats_left(model),
        waitlist_enabled: model.waitlist_enabled,
        audiences: model.audiences.0.clone(),
        level: model.level,
        languages: model.languages.0.clone(),
        accessibility: model.accessibility.0.clone(),
        registration_mode: model.registration_mode,
    })
}

/// The wire name of the kind of the facilitator running a session, as the messages carry it.
pub async fn facilitator_kind<C: ConnectionTrait>(
    conn: &C,
    model: &session::Model,
) -> AppResult<Option<String>> {
    Ok(facilitator::Entity::find_by_id(model.facilitator_id)
        .row(conn)
        .await?
        .map(|f| wire_name(&f.kind)))
}

/// Enqueues `kind` with the session's public state, in the caller's transaction.
pub async fn announce<C: ConnectionTrait>(
    conn: &C,
    kind: MessageType,
    model: &session::Model,
) -> AppResult<()> {
    let facilitator_kind = facilitator_kind(conn, model).await?;
    let envelope = Envelope::new(
        kind,
        format!("session/{}", model.id),
        state(model, facilitator_kind)?,
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
        // From the row as it stands under the lock: consumers order the counts by it.
        revision: SeatsChanged::revision_of(
            model.revision,
            model.arrivals,
            model.confirmed,
            model.waitlisted,
        ),
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
        .row(conn)
        .await?
        .ok_or_else(|| {
            AppError::forbidden(
                "aucun profil d'animateur·rice pour ce compte : inscrivez-vous auprès du réseau",
            )
        })?;
    if me.status == FacilitatorStatus::Suspended {
        return Err(suspended());
    }
    Ok(me)
}

/// The refusal of everything a facilitator does or reads as one while suspended.
fn suspended() -> AppError {
    AppError::new(
        ErrorCode::FacilitatorSuspended,
        "compte d'animateur·rice suspendu : action impossible",
    )
}

/// The calling facilitator's profile, when the caller is one (by account) and not suspended:
/// what makes a caller one of a session's facilitators. A suspended facilitator is nobody's
/// facilitator until reinstated: they see what the public sees.
async fn facilitating<C: ConnectionTrait>(
    conn: &C,
    account: &str,
) -> AppResult<Option<facilitator::Model>> {
    Ok(facilitator::Entity::find()
        .filter(facilitator::Column::Account.eq(account))
        .row(conn)
        .await?
        .filter(|me| me.status != FacilitatorStatus::Suspended))
}

/// Whether `caller` reads what only a session's team reads (its roll with names and emails,
/// its attendance report): staff covering it, or one of its facilitators. A suspended
/// facilitator is refused as [`acting`] refuses them (`FACILITATOR_SUSPENDED`).
pub async fn on_team<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    model: &session::Model,
) -> AppResult<bool> {
    if staff_covers(caller, model) {
        return Ok(true);
    }
    if !caller.has(Role::Facilitator) {
        return Ok(false);
    }
    let me = facilitator::Entity::find()
        .filter(facilitator::Column::Account.eq(caller.account()))
        .row(conn)
        .await?;
    match me {
        Some(me) if me.status == FacilitatorStatus::Suspended => Err(suspended()),
        Some(me) => Ok(runs(model, &me)),
        None => Ok(false),
    }
}

fn require_verified(me: &facilitator::Model) -> AppResult<()> {
    if me.status == FacilitatorStatus::Verified {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::FacilitatorNotVerified,
            "seul·e un·e animateur·rice vérifié·e publie des sessions",
        ))
    }
}

pub fn runs(model: &session::Model, me: &facilitator::Model) -> bool {
    runs_as(model, me.id)
}

/// Whether facilitator `id` runs or co-runs `model`.
pub fn runs_as(model: &session::Model, id: Uuid) -> bool {
    model.facilitator_id == id || model.co_facilitators.0.contains(&id)
}

/// Staff covering the session's territory (national staff for online sessions).
pub fn staff_covers(caller: &Caller, model: &session::Model) -> bool {
    caller.covers(model.region.as_deref(), model.departement.as_deref())
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<session::Model> {
    session::Entity::find_by_id(id)
        .row(conn)
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
        .await
        .map_err(unreadable::<session::Entity>)?
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
        status: Set(SessionStatus::Draft),
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
    model.modules = Set(JsonText(plan.modules.clone()));
    model.topics = Set(JsonText(plan.topics.clone()));
    model.audiences = Set(JsonText(plan.audiences.clone()));
    model.languages = Set(JsonText(plan.languages.clone()));
    model.accessibility = Set(JsonText(plan.accessibility.clone()));
    model.co_facilitators = Set(JsonText(plan.co_facilitators.clone()));
    model.format = Set(plan.format);
    model.level = Set(plan.level);
    model.registration_mode = Set(plan.registration_mode);
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
    model.timezone = Set(Zone(plan.timezone));
    model.capacity = Set(plan.capacity);
    model.updated_at = Set(Utc::now());
}

/// POST /v1/sessions
#[utoipa::path(post, path = paths::SESSIONS, tag = "sessions", request_body = SessionInput, params(CreateQuery), responses((status = 201, body = SessionView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn create(
    state: web::Data<State>,
    caller: Caller,
    query: Query<CreateQuery>,
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
    Ok(HttpResponse::Created().json(named_view(&state, model, true).await?))
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
        model.status = Set(SessionStatus::Published);
        model.revision = Set(1);
    }
    let model = model.insert(conn).await?;
    if publish {
        announce(conn, messages::SESSION_PUBLISHED, &model).await?;
    }
    Ok(model)
}

/// POST /v1/series — every occurrence is a session of its own, all created or none.
#[utoipa::path(post, path = paths::SERIES, tag = "sessions", request_body = SeriesInput, responses((status = 201, body = SeriesView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
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
    let now = Utc::now();
    let dates = domain::occurrences(
        input.recurrence,
        input.session.starts_at,
        input.session.ends_at,
        now,
    )?;
    let mut plans = Vec::with_capacity(dates.len());
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
    let mut models = Vec::with_capacity(plans.len());
    for plan in &plans {
        models.push(insert(&txn, plan, me.id, Some(series_id), input.publish).await?);
    }
    txn.commit().await?;
    state.platform.outbox.wake();
    let sessions = named_views(&state, models, |_| true).await?;
    Ok(HttpResponse::Created().json(SeriesView {
        series_id,
        sessions,
    }))
}

/// PUT /v1/sessions/{id} — replaces the description of a draft or published session that has
/// not started. A capacity below the seats already confirmed is refused; a larger one promotes
/// people from the waiting list.
#[utoipa::path(put, path = paths::SESSION, params(("id" = Uuid, Path, description = "The session.")), tag = "sessions", request_body = SessionInput, responses((status = 200, body = SessionView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
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
    let status = transition(&current, SessionAction::Edit, Utc::now())?;
    if plan.capacity.is_some_and(|c| c < current.confirmed) {
        let message = format!(
            "{} personnes sont déjà inscrites : la capacité ne peut pas descendre en dessous",
            current.confirmed
        );
        let mut refusal = AppError::new(ErrorCode::CapacityBelowConfirmed, message.clone());
        refusal.errors.push(FieldError {
            field: "capacity".into(),
            message,
        });
        return Err(refusal);
    }
    let published = status == SessionStatus::Published;
    let mut model = current.clone().into_active_model();
    apply(&mut model, &plan);
    if published {
        model.revision = Set(current.revision + 1);
    }
    let mut model = model.update(&txn).await?;
    let promoted = registrations::fill_seats(&txn, &mut model, &state.settings).await?;
    if published {
        announce(&txn, messages::SESSION_UPDATED, &model).await?;
        if crate::notify::changed(&current, &model) {
            crate::notify::session_changed(&txn, &state.settings, &model, Utc::now()).await?;
        }
    }
    if promoted > 0 || current.capacity != model.capacity {
        announce_seats(&txn, &model).await?;
    }
    txn.commit().await?;
    state.platform.outbox.wake();
    state.mail.wake();
    Ok(HttpResponse::Ok().json(named_view(&state, model, true).await?))
}

/// POST /v1/sessions/{id}/publish
#[utoipa::path(post, path = paths::SESSION_PUBLISH, params(("id" = Uuid, Path, description = "The session.")), tag = "sessions", responses((status = 200, body = SessionView), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
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
    let status = transition(&current, SessionAction::Publish, Utc::now())?;
    let revision = current.revision + 1;
    let mut model = current.into_active_model();
    model.status = Set(status);
    model.status_reason = Set(None);
    model.revision = Set(revision);
    model.updated_at = Set(Utc::now());
    let model = model.update(&txn).await?;
    announce(&txn, messages::SESSION_PUBLISHED, &model).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(named_view(&state, model, true).await?))
}

/// POST /v1/sessions/{id}/cancel — by its facilitator, or by staff covering its territory
/// (moderation). Everyone registered gets a `registration.cancelled` message.
#[utoipa::path(post, path = paths::SESSION_CANCEL, params(("id" = Uuid, Path, description = "The session.")), tag = "sessions", request_body = CancelInput, responses((status = 200, body = SessionView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
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
    let status = current.status;
    let cancelled = transition(&current, SessionAction::Cancel, Utc::now())?;
    let revision = current.revision + 1;
    let mut model = current.into_active_model();
    model.status = Set(cancelled);
    model.status_reason = Set(Some(reason));
    model.revision = Set(revision);
    model.updated_at = Set(Utc::now());
    let mut model = model.update(&txn).await?;
    registrations::cancel_all(
        &txn,
        &mut model,
        CancellationCause::SessionCancelled,
        &state.settings,
    )
    .await?;
    if status == SessionStatus::Published {
        announce(&txn, messages::SESSION_CANCELLED, &model).await?;
        announce_seats(&txn, &model).await?;
    }
    txn.commit().await?;
    state.platform.outbox.wake();
    state.mail.wake();
    Ok(HttpResponse::Ok().json(named_view(&state, model, false).await?))
}

/// POST /v1/sessions/{id}/complete — once it has started.
#[utoipa::path(post, path = paths::SESSION_COMPLETE, params(("id" = Uuid, Path, description = "The session.")), tag = "sessions", responses((status = 200, body = SessionView), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
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
    Ok(HttpResponse::Ok().json(named_view(&state, model, true).await?))
}

/// Published → completed, once started; already completed stays as is.
pub async fn mark_completed<C: ConnectionTrait>(
    conn: &C,
    current: session::Model,
) -> AppResult<session::Model> {
    if current.status == SessionStatus::Completed {
        return Ok(current);
    }
    let status = transition(&current, SessionAction::Complete, Utc::now())?;
    let revision = current.revision + 1;
    let mut model = current.into_active_model();
    model.status = Set(status);
    model.revision = Set(revision);
    model.updated_at = Set(Utc::now());
    let model = model.update(conn).await?;
    announce(conn, messages::SESSION_COMPLETED, &model).await?;
    Ok(model)
}

/// What one caller may see of some sessions. Insiders — staff covering a session, its
/// facilitators (not while suspended), the people holding a seat (confirmed or attended, not
/// waitlisted) — see its online link, and its draft; everyone else sees published, cancelled
/// and completed sessions without the link. Built once for a whole batch: one look-up of the
/// caller's facilitator profile, one of their seats.
pub struct Viewer<'a> {
    caller: Option<&'a Caller>,
    facilitator: Option<Uuid>,
    seats: HashSet<Uuid>,
}

impl<'a> Viewer<'a> {
    pub async fn of<C: ConnectionTrait>(
        conn: &C,
        caller: Option<&'a Caller>,
        sessions: &[session::Model],
    ) -> AppResult<Viewer<'a>> {
        let Some(caller) = caller else {
            return Ok(Viewer {
                caller,
                facilitator: None,
                seats: HashSet::new(),
            });
        };
        let facilitates = caller.has(Role::Facilitator);
        Self::build(conn, Some(caller), &caller.account(), facilitates, sessions).await
    }

    /// The holder of `account` with no token at hand (a private calendar feed, whose secret
    /// URL stands for the account): their seats and the sessions they run, no staff scope.
    pub async fn of_account<C: ConnectionTrait>(
        conn: &C,
        account: &str,
        sessions: &[session::Model],
    ) -> AppResult<Viewer<'a>> {
        Self::build(conn, None, account, true, sessions).await
    }

    async fn build<C: ConnectionTrait>(
        conn: &C,
        caller: Option<&'a Caller>,
        account: &str,
        facilitates: bool,
        sessions: &[session::Model],
    ) -> AppResult<Viewer<'a>> {
        let mut viewer = Viewer {
            caller,
            facilitator: None,
            seats: HashSet::new(),
        };
        if facilitates {
            viewer.facilitator = facilitating(conn, account).await?.map(|me| me.id);
        }
        // Only sessions the caller does not run or cover need their seat looked up.
        let ask: Vec<Uuid> = sessions
            .iter()
            .filter(|s| !viewer.runs_or_covers(s))
            .map(|s| s.id)
            .collect();
        if !ask.is_empty() {
            viewer.seats = registration::Entity::find()
                .select_only()
                .column(registration::Column::SessionId)
                .filter(registration::Column::SessionId.is_in(ask))
                .filter(registration::Column::Account.eq(account))
                .filter(
                    registration::Column::Status
                        .is_in([RegistrationStatus::Confirmed, RegistrationStatus::Attended]),
                )
                .into_tuple::<Uuid>()
                .all(conn)
                .await?
                .into_iter()
                .collect();
        }
        Ok(viewer)
    }

    fn runs_or_covers(&self, model: &session::Model) -> bool {
        self.caller.is_some_and(|c| staff_covers(c, model))
            || self.facilitator.is_some_and(|id| runs_as(model, id))
    }

    /// Whether the caller sees the online link of `model` (and `model` if it is a draft).
    pub fn insider(&self, model: &session::Model) -> bool {
        self.runs_or_covers(model) || self.seats.contains(&model.id)
    }

    /// Whether the caller sees `model` at all: drafts only for insiders.
    pub fn sees(&self, model: &session::Model) -> bool {
        model.status != SessionStatus::Draft || self.insider(model)
    }
}

/// Whether `caller` may see the online link (and the draft) of `model`.
pub async fn insider<C: ConnectionTrait>(
    conn: &C,
    caller: Option<&Caller>,
    model: &session::Model,
) -> AppResult<bool> {
    let viewer = Viewer::of(conn, caller, std::slice::from_ref(model)).await?;
    Ok(viewer.insider(model))
}

/// GET /v1/sessions/{id} — drafts only for their facilitators and staff.
#[utoipa::path(get, path = paths::SESSION, params(("id" = Uuid, Path, description = "The session.")), tag = "sessions", responses((status = 200, body = SessionView), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn get(
    state: web::Data<State>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let model = find(db, *id).await?;
    let viewer = Viewer::of(db, caller.0.as_ref(), std::slice::from_ref(&model)).await?;
    if !viewer.sees(&model) {
        return Err(AppError::not_found("session inconnue"));
    }
    let insider = viewer.insider(&model);
    Ok(HttpResponse::Ok().json(named_view(&state, model, insider).await?))
}

/// Views of `rows` for `viewer`, with their facilitators' names; rows it may not see are left
/// out.
async fn views_for(
    state: &State,
    viewer: &Viewer<'_>,
    rows: Vec<session::Model>,
) -> AppResult<Vec<SessionView>> {
    let seen: Vec<session::Model> = rows.into_iter().filter(|r| viewer.sees(r)).collect();
    named_views(state, seen, |r| viewer.insider(r)).await
}

/// GET /v1/sessions/batch?ids=… — the sessions asked for, as one look-up of each would
/// answer them (drafts only for insiders; unknown ids absent).
#[utoipa::path(get, path = paths::SESSIONS_BATCH, tag = "sessions", params(BatchQuery), responses((status = 200, body = Vec<SessionView>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn batch(
    state: web::Data<State>,
    caller: MaybeCaller,
    query: Query<BatchQuery>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let ids = paging::batch(&query)?;
    if ids.is_empty() {
        return Ok(HttpResponse::Ok().json(Vec::<SessionView>::new()));
    }
    let rows = session::Entity::find()
        .filter(session::Column::Id.is_in(ids))
        .order_by_asc(session::Column::Id)
        .rows(db)
        .await?;
    let viewer = Viewer::of(db, caller.0.as_ref(), &rows).await?;
    Ok(HttpResponse::Ok().json(views_for(&state, &viewer, rows).await?))
}

/// The upcoming published sessions matching `owned`, soonest first, grouped by the ids they
/// belong to (`belongs`), at most [`UPCOMING_PER_GROUP`] each; ids without any are left out.
async fn upcoming_groups(
    state: &State,
    caller: Option<&Caller>,
    ids: &[Uuid],
    owned: Condition,
    belongs: impl Fn(&session::Model, Uuid) -> bool,
) -> AppResult<Vec<SessionGroup>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Upcoming published sessions are few per venue or facilitator (a weekly series adds at
    // most 52), so they are read in one query and cut per group here.
    let db = &state.platform.db;
    let rows = session::Entity::find()
        .filter(owned)
        .filter(session::Column::Status.eq(SessionStatus::Published))
        .filter(session::Column::StartsAt.gt(Utc::now()))
        .order_by_asc(session::Column::StartsAt)
        .order_by_asc(session::Column::Id)
        .rows(db)
        .await?;
    let viewer = Viewer::of(db, caller, &rows).await?;
    let views = views_for(state, &viewer, rows.clone()).await?;
    Ok(ids
        .iter()
        .filter_map(|&id| {
            let sessions: Vec<SessionView> = rows
                .iter()
                .zip(&views)
                .filter(|(row, _)| belongs(row, id))
                .take(UPCOMING_PER_GROUP)
                .map(|(_, view)| view.clone())
                .collect();
            (!sessions.is_empty()).then_some(SessionGroup { id, sessions })
        })
        .collect())
}

/// GET /v1/sessions/by-venue?ids=… — each venue's upcoming published sessions, soonest first,
/// at most 20 each.
#[utoipa::path(get, path = paths::SESSIONS_BY_VENUE, tag = "sessions", params(BatchQuery), responses((status = 200, body = Vec<SessionGroup>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn by_venue(
    state: web::Data<State>,
    caller: MaybeCaller,
    query: Query<BatchQuery>,
) -> AppResult<HttpResponse> {
    let ids = paging::batch(&query)?;
    let owned = Condition::all().add(session::Column::VenueId.is_in(ids.clone()));
    let groups = upcoming_groups(&state, caller.0.as_ref(), &ids, owned, |s, id| {
        s.venue_id == Some(id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(groups))
}

/// GET /v1/sessions/by-facilitator?ids=… — the upcoming published sessions each facilitator
/// runs or co-runs, soonest first, at most 20 each.
#[utoipa::path(get, path = paths::SESSIONS_BY_FACILITATOR, tag = "sessions", params(BatchQuery), responses((status = 200, body = Vec<SessionGroup>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn by_facilitator(
    state: web::Data<State>,
    caller: MaybeCaller,
    query: Query<BatchQuery>,
) -> AppResult<HttpResponse> {
    let ids = paging::batch(&query)?;
    let owned = ids.iter().fold(
        Condition::any().add(session::Column::FacilitatorId.is_in(ids.clone())),
        |any, id| any.add(session::Column::CoFacilitators.contains(id.to_string())),
    );
    let groups = upcoming_groups(&state, caller.0.as_ref(), &ids, owned, runs_as).await?;
    Ok(HttpResponse::Ok().json(groups))
}

/// The public filter, shared by the list and the public calendar feed.
pub fn public_filter(query: &ListQuery) -> AppResult<Condition> {
    let mut p = Problems::default();
    if let Some(d) = &query.departement
        && let Err(e) = known_departement(d)
    {
        p.0.extend(e.errors);
    }
    if let Some(r) = &query.region
        && let Err(e) = known_region(r)
    {
        p.0.extend(e.errors);
    }
    if let Some(t) = &query.topic {
        cafeia_platform::vocabulary::topic(t, "topic", &mut p);
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
        .add(session::Column::Status.eq(status))
        .add(session::Column::StartsAt.gte(query.from.unwrap_or_else(Utc::now)));
    if let Some(to) = query.to {
        filter = filter.add(session::Column::StartsAt.lt(to));
    }
    if let Some(d) = &query.departement {
        filter = filter.add(session::Column::Departement.eq(d.as_str()));
    }
    if let Some(r) = &query.region {
        filter = filter.add(session::Column::Region.eq(r.as_str()));
    }
    if let Some(full) = query.full {
        // The counters are kept with the registrations, so a full session is one where they
        // reach the capacity; a session without capacity never fills.
        let no_seat_left = Condition::all()
            .add(session::Column::Capacity.is_not_null())
            .add(sea_orm::ExprTrait::gte(
                Expr::col(session::Column::Confirmed),
                Expr::col(session::Column::Capacity),
            ));
        filter = filter.add(if full {
            no_seat_left
        } else {
            no_seat_left.not()
        });
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

/// GET /v1/sessions — public sessions, in creation order with stable cursor pages, and the
/// total of the filtered list.
#[utoipa::path(get, path = paths::SESSIONS, tag = "sessions", params(ListQuery), responses((status = 200, body = Page<SessionView>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn list(state: web::Data<State>, query: Query<ListQuery>) -> AppResult<HttpResponse> {
    let limit = paging::limit(query.limit)?;
    let filter = public_filter(&query)?;
    let after = paging::cursor(query.cursor.as_deref())?;
    let txn = cafeia_platform::db::snapshot(&state.platform.db).await?;
    let total = session::Entity::find()
        .filter(filter.clone())
        .count(&txn)
        .await?;
    let mut select = session::Entity::find().filter(filter);
    if let Some(after) = after {
        select = select.filter(session::Column::Id.gt(after));
    }
    let rows = select
        .order_by_asc(session::Column::Id)
        .limit(limit + 1)
        .rows(&txn)
        .await?;
    txn.commit().await?;
    let (rows, next_cursor) = paging::split(rows, limit, |r| r.id);
    let items = named_views(&state, rows, |_| false).await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor,
        total: Some(total),
    }))
}

/// Rows ordered by (`starts_at`, `id`) after the row `after` (the cursor of such a list is
/// the id of its last row).
pub fn later_than(after: &session::Model) -> Condition {
    Condition::any()
        .add(session::Column::StartsAt.gt(after.starts_at))
        .add(
            Condition::all()
                .add(session::Column::StartsAt.eq(after.starts_at))
                .add(session::Column::Id.gt(after.id)),
        )
}

/// The cursor of a page that did not come from this list.
pub fn unknown_cursor() -> AppError {
    AppError::invalid("cursor", "curseur invalide")
}

/// GET /v1/me/sessions — the sessions the calling facilitator runs or co-runs, drafts
/// included, soonest first, in cursor pages with their total.
#[utoipa::path(get, path = paths::MY_SESSIONS, tag = "sessions", params(PageQuery), responses((status = 200, body = Page<SessionView>), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn mine(
    state: web::Data<State>,
    caller: Caller,
    query: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    caller.require(Role::Facilitator)?;
    let limit = paging::limit(query.limit)?;
    let after = paging::cursor(query.cursor.as_deref())?;
    let txn = cafeia_platform::db::snapshot(&state.platform.db).await?;
    let me = facilitator::Entity::find()
        .filter(facilitator::Column::Account.eq(caller.account()))
        .row(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("aucun profil d'animateur·rice pour ce compte"))?;
    let runs = Condition::any()
        .add(session::Column::FacilitatorId.eq(me.id))
        .add(session::Column::CoFacilitators.contains(me.id.to_string()));
    let total = session::Entity::find()
        .filter(runs.clone())
        .count(&txn)
        .await?;
    let mut select = session::Entity::find().filter(runs.clone());
    if let Some(after) = after {
        let after = session::Entity::find_by_id(after)
            .filter(runs)
            .row(&txn)
            .await?
            .ok_or_else(unknown_cursor)?;
        select = select.filter(later_than(&after));
    }
    let rows = select
        .order_by_asc(session::Column::StartsAt)
        .order_by_asc(session::Column::Id)
        .limit(limit + 1)
        .rows(&txn)
        .await?;
    txn.commit().await?;
    let (rows, next_cursor) = paging::split(rows, limit, |r| r.id);
    // Suspended, they still see what they had planned, not the links of sessions they may
    // not run (as in every other view).
    let reveal = me.status != FacilitatorStatus::Suspended;
    let items = named_views(&state, rows, |_| reveal).await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor,
        total: Some(total),
    }))
}
