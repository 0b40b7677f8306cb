//! Training programmes: submission by providers, review by staff, public listing with filters,
//! JSON-LD. Edits of a published programme go live at once and are audit-logged.

use crate::{
    State,
    domain::{self, Enrolment, ReviewDecision, ReviewStatus, TrainingInput},
    jsonld,
    messages::{self, Withdrawn},
    providers::{self, may_act_for},
    storage::{Rows, holds, place, provider, session, training},
    store::{self, Full},
};
use actix_web::{HttpResponse, web};
use cafeia_api::batch::BatchQuery;
use cafeia_catalogue_api::{
    Editor, PlaceView, ReasonInput, ReviewQueueQuery, TrainingEdit, TrainingQuery, TrainingView,
    paths,
};
use cafeia_platform::{
    AppError, ErrorCode, audit,
    auth::{Caller, MaybeCaller},
    errors::AppResult,
    http::{Json, Query},
    paging::{self, Page},
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use std::collections::HashMap;
use uuid::Uuid;

pub fn view(full: Full) -> TrainingView {
    let gazetteer = cafeia_platform::territory::Gazetteer::get();
    let d = full.draft();
    let t = full.training;
    TrainingView {
        id: t.id,
        provider_id: t.provider_id,
        title: d.title,
        summary: d.summary,
        objectives: d.objectives,
        content: d.content,
        level: d.level,
        audiences: d.audiences,
        format: d.format,
        pace: d.pace,
        duration_hours: d.duration_hours,
        free: d.is_free,
        price_eur: d.price_cents.map(|c| c as f64 / 100.0),
        funding: d.funding,
        certification: d.certification,
        languages: d.languages,
        accessibility: d.accessibility,
        topics: d.topics,
        online: d.online,
        places: d
            .places
            .into_iter()
            .map(|place| PlaceView {
                commune: gazetteer
                    .commune(&place.insee)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                place,
            })
            .collect(),
        sessions: d.sessions,
        enrolment_url: d.enrolment_url,
        contact_email: d.contact_email,
        status: t.status,
        status_reason: t.status_reason,
        updated_at: t.updated_at,
    }
}

fn invalid(errors: Vec<cafeia_platform::errors::FieldError>) -> AppError {
    AppError::invalid_fields(errors)
}

async fn provider_of<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<provider::Model> {
    provider::Entity::find_by_id(id)
        .row(conn)
        .await?
        .ok_or_else(|| {
            AppError::internal(std::io::Error::other(format!(
                "training without provider {id}"
            )))
        })
}

#[utoipa::path(post, path = paths::TRAININGS, tag = "trainings", request_body = TrainingInput,
    responses((status = 201, body = TrainingView), (status = 400, body = cafeia_platform::errors::Problem),
              (status = 403, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn submit(
    state: web::Data<State>,
    caller: Caller,
    input: Json<TrainingInput>,
) -> AppResult<HttpResponse> {
    let input = input.0;
    let siret = input
        .provider_siret
        .clone()
        .ok_or_else(|| AppError::invalid("provider_siret", "SIRET de l'organisme obligatoire"))?;
    may_act_for(&caller, &siret)?;
    let draft = domain::validate(&input).map_err(invalid)?;
    let db = &state.platform.db;
    let provider = providers::by_siret(db, &siret).await?.ok_or_else(|| {
        AppError::invalid("provider_siret", "organisme inconnu : déclarez-le d'abord")
    })?;
    let txn = cafeia_platform::db::begin(db).await?;
    let now = Utc::now();
    let mut model = training::ActiveModel {
        id: Set(Uuid::now_v7()),
        lheo_id: Set(None),
        provider_id: Set(provider.id),
        status: Set(ReviewStatus::Submitted),
        status_reason: Set(None),
        submitted_by: Set(caller.sub.clone()),
        created_at: Set(now),
        published_at: Set(None),
        ..Default::default()
    };
    store::apply(&mut model, &draft);
    let model = model.insert(&txn).await?;
    store::replace_children(&txn, model.id, &draft).await?;
    audit::record(&txn, (&caller).into(), "submit", "training", model.id, None).await?;
    let full = store::load(&txn, model).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(view(full)))
}

async fn owned_or_staff<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: Uuid,
) -> AppResult<(training::Model, provider::Model)> {
    let model = training::Entity::find_by_id(id)
        .row(conn)
        .await?
        .ok_or_else(|| AppError::not_found("formation introuvable"))?;
    let provider = provider_of(conn, model.provider_id).await?;
    may_act_for(caller, &provider.siret)?;
    Ok((model, provider))
}

#[utoipa::path(put, path = paths::TRAINING, tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    request_body = TrainingInput,
    responses((status = 200, body = TrainingView), (status = 400, body = cafeia_platform::errors::Problem),
              (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn edit(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Json<TrainingInput>,
) -> AppResult<HttpResponse> {
    let draft = domain::validate(&input.0).map_err(invalid)?;
    let db = &state.platform.db;
    let txn = cafeia_platform::db::begin(db).await?;
    let (current, provider) = owned_or_staff(&txn, &caller, id.into_inner()).await?;
    let status = current.status;
    if status == ReviewStatus::Withdrawn {
        return Err(AppError::new(
            ErrorCode::InvalidTransition,
            "une formation retirée ne se modifie plus",
        ));
    }
    let stored = store::load(&txn, current).await?;
    let changed = store::changed_fields(&stored.draft(), &draft);
    let changes = store::changes(&stored.draft(), &draft);
    if changed.is_empty() {
        return Ok(HttpResponse::Ok().json(view(stored)));
    }
    let mut model = stored.training.into_active_model();
    store::apply(&mut model, &draft);
    if status == ReviewStatus::Rejected {
        // A corrected programme goes back to review.
        model.status = Set(ReviewStatus::Submitted);
        model.status_reason = Set(None);
    }
    let model = model.update(&txn).await?;
    store::replace_children(&txn, model.id, &draft).await?;
    audit::record_change(
        &txn,
        (&caller).into(),
        "edit",
        "training",
        model.id,
        None,
        Some(&changed.join(",")),
    )
    .await?;
    let by = if caller.is_national_staff() {
        Editor::Staff
    } else {
        Editor::Provider
    };
    store::record_edit(&txn, model.id, by, changes).await?;
    let full = store::load(&txn, model).await?;
    if status == ReviewStatus::Published {
        store::announce(
            &txn,
            messages::TRAINING_UPDATED,
            full.training.id,
            full.state(&provider),
        )
        .await?;
    }
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(full)))
}

async fn review(
    state: &State,
    caller: &Caller,
    id: Uuid,
    decision: ReviewDecision,
    reason: Option<String>,
) -> AppResult<HttpResponse> {
    let reason = cafeia_platform::validation::reason(
        reason,
        (decision == ReviewDecision::Reject).then_some("un refus doit être motivé"),
    )?;
    let db = &state.platform.db;
    let txn = cafeia_platform::db::begin(db).await?;
    let (current, provider) = owned_or_staff(&txn, caller, id).await?;
    // Providers may withdraw their own programmes; publishing and refusing is staff's review.
    if decision != ReviewDecision::Withdraw && !caller.is_national_staff() {
        return Err(AppError::forbidden(
            "la revue du catalogue est réservée à l'équipe nationale",
        ));
    }
    let to = domain::decide(decision, current.status)
        .map_err(|why| AppError::new(ErrorCode::InvalidTransition, why))?;
    let mut model = current.into_active_model();
    model.status = Set(to);
    model.status_reason = Set(if to == ReviewStatus::Rejected {
        reason.clone()
    } else {
        None
    });
    if to == ReviewStatus::Published {
        model.published_at = Set(Some(Utc::now()));
    }
    let model = model.update(&txn).await?;
    audit::record(
        &txn,
        caller.into(),
        decision.as_str(),
        "training",
        model.id,
        reason.as_deref(),
    )
    .await?;
    let full = store::load(&txn, model).await?;
    match to {
        ReviewStatus::Published => {
            store::announce(
                &txn,
                messages::TRAINING_PUBLISHED,
                full.training.id,
                full.state(&provider),
            )
            .await?
        }
        ReviewStatus::Withdrawn => {
            store::announce(
                &txn,
                messages::TRAINING_WITHDRAWN,
                full.training.id,
                Withdrawn {
                    id: full.training.id,
                },
            )
            .await?
        }
        _ => {}
    }
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(full)))
}

fn reason_of(body: Option<Json<ReasonInput>>) -> Option<String> {
    body.and_then(|b| b.0.reason)
}

#[utoipa::path(post, path = paths::TRAINING_PUBLISH, tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    responses((status = 200, body = TrainingView), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn publish(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    review(
        &state,
        &caller,
        id.into_inner(),
        ReviewDecision::Publish,
        None,
    )
    .await
}

#[utoipa::path(post, path = paths::TRAINING_REJECT, tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    request_body = cafeia_api::decisions::RefusalInput,
    responses((status = 200, body = TrainingView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn reject(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Option<Json<ReasonInput>>,
) -> AppResult<HttpResponse> {
    review(
        &state,
        &caller,
        id.into_inner(),
        ReviewDecision::Reject,
        reason_of(body),
    )
    .await
}

#[utoipa::path(post, path = paths::TRAINING_WITHDRAW, tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    request_body(content = Option<ReasonInput>),
    responses((status = 200, body = TrainingView), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn withdraw(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Option<Json<ReasonInput>>,
) -> AppResult<HttpResponse> {
    review(
        &state,
        &caller,
        id.into_inner(),
        ReviewDecision::Withdraw,
        reason_of(body),
    )
    .await
}

fn is_public(model: &training::Model) -> bool {
    model.status == ReviewStatus::Published
}

/// Published programmes to everyone; others to staff and their provider (`siret`).
fn may_see(caller: &MaybeCaller, model: &training::Model, siret: &str) -> bool {
    is_public(model)
        || caller
            .0
            .as_ref()
            .is_some_and(|c| may_act_for(c, siret).is_ok())
}

async fn visible<C: ConnectionTrait>(
    conn: &C,
    caller: &MaybeCaller,
    id: Uuid,
) -> AppResult<(Full, provider::Model)> {
    let model = training::Entity::find_by_id(id)
        .row(conn)
        .await?
        .ok_or_else(|| AppError::not_found("formation introuvable"))?;
    let provider = provider_of(conn, model.provider_id).await?;
    if !may_see(caller, &model, &provider.siret) {
        return Err(AppError::not_found("formation introuvable"));
    }
    Ok((store::load(conn, model).await?, provider))
}

#[utoipa::path(get, path = paths::TRAININGS_BATCH, tag = "trainings", params(BatchQuery),
    responses((status = 200, body = [TrainingView], description = "Les formations trouvées que l'appelant peut voir (comme `GET /v1/trainings/{id}`) ; les autres sont absentes"),
              (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn batch(
    state: web::Data<State>,
    caller: MaybeCaller,
    query: Query<BatchQuery>,
) -> AppResult<HttpResponse> {
    let ids = paging::batch(&query)?;
    if ids.is_empty() {
        return Ok(HttpResponse::Ok().json(Vec::<TrainingView>::new()));
    }
    let db = &state.platform.db;
    let rows = training::Entity::find()
        .filter(training::Column::Id.is_in(ids))
        .rows(db)
        .await?;
    // Only unpublished programmes need their provider's SIRET, and only for a caller who
    // might act for it.
    let owners: Vec<Uuid> = rows
        .iter()
        .filter(|r| !is_public(r) && caller.0.is_some())
        .map(|r| r.provider_id)
        .collect();
    let sirets: HashMap<Uuid, String> = if owners.is_empty() {
        HashMap::new()
    } else {
        provider::Entity::find()
            .filter(provider::Column::Id.is_in(owners))
            .rows(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.siret))
            .collect()
    };
    let rows = rows
        .into_iter()
        .filter(|r| {
            let siret = sirets.get(&r.provider_id).map_or("", String::as_str);
            may_see(&caller, r, siret)
        })
        .collect();
    let items: Vec<TrainingView> = store::load_many(db, rows)
        .await?
        .into_iter()
        .map(view)
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

#[utoipa::path(get, path = paths::TRAINING, tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    responses((status = 200, body = TrainingView), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn get(
    state: web::Data<State>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (full, _) = visible(&state.platform.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view(full)))
}

#[utoipa::path(get, path = paths::TRAINING_JSON_LD, tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    responses((status = 200, description = "schema.org Course + CourseInstance (application/ld+json)"), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn json_ld(state: web::Data<State>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let (full, provider) = visible(&state.platform.db, &MaybeCaller(None), id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/ld+json")
        .json(jsonld::course(&full, &provider)))
}

#[utoipa::path(get, path = paths::TRAININGS, tag = "trainings", params(TrainingQuery),
    responses((status = 200, body = Page<TrainingView>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn list(state: web::Data<State>, query: Query<TrainingQuery>) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let limit = paging::limit(q.limit)?;
    let mut select =
        training::Entity::find().filter(training::Column::Status.eq(ReviewStatus::Published));
    if let Some(level) = q.level {
        select = select.filter(training::Column::Level.eq(level));
    }
    if let Some(format) = q.format {
        select = select.filter(training::Column::Format.eq(format));
    }
    if q.free == Some(true) {
        select = select.filter(training::Column::IsFree.eq(true));
    }
    if let Some(online) = q.online {
        select = select.filter(training::Column::Online.eq(online));
    }
    if let Some(audience) = q.audience {
        select = select.filter(holds(training::Column::Audiences, &audience));
    }
    if let Some(access) = q.accessibility {
        select = select.filter(holds(training::Column::Accessibility, &access));
    }
    let mut p = cafeia_platform::validation::Problems::default();
    if let Some(topic) = &q.topic
        && cafeia_platform::vocabulary::topic(topic, "topic", &mut p)
    {
        select = select.filter(holds(training::Column::Topics, topic));
    }
    if let Some(language) = &q.language
        && let Some(language) = cafeia_platform::vocabulary::language(language, "language", &mut p)
    {
        select = select.filter(holds(training::Column::Languages, &language));
    }
    p.into_result()?;
    if q.departement.is_some() || q.region.is_some() {
        let mut places = place::Entity::find()
            .select_only()
            .column(place::Column::TrainingId)
            .distinct();
        if let Some(d) = &q.departement {
            cafeia_platform::validation::known_departement(d)?;
            places = places.filter(place::Column::Departement.eq(d.as_str()));
        }
        if let Some(r) = &q.region {
            cafeia_platform::validation::known_region(r)?;
            places = places.filter(place::Column::Region.eq(r.as_str()));
        }
        select = select.filter(training::Column::Id.in_subquery(places.into_query()));
    }
    if q.open_session == Some(true) {
        let open = session::Entity::find()
            .select_only()
            .column(session::Column::TrainingId)
            .distinct()
            .filter(session::Column::Enrolment.eq(Enrolment::Open))
            .filter(session::Column::EndDate.gte(Utc::now().date_naive()));
        select = select.filter(training::Column::Id.in_subquery(open.into_query()));
    }
    let after = paging::cursor(q.cursor.as_deref())?;
    let read = cafeia_platform::db::snapshot(&state.platform.db).await?;
    let total = select.clone().count(&read).await?;
    if let Some(after) = after {
        select = select.filter(training::Column::Id.gt(after));
    }
    let rows = select
        .order_by_asc(training::Column::Id)
        .limit(limit + 1)
        .rows(&read)
        .await?;
    let (rows, next_cursor) = paging::split(rows, limit, |r| r.id);
    let items = store::load_many(&read, rows)
        .await?
        .into_iter()
        .map(view)
        .collect();
    read.commit().await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor,
        total: Some(total),
    }))
}

#[utoipa::path(get, path = paths::TRAINING_AUDIT, tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    responses((status = 200, body = [cafeia_platform::audit::Entry]), (status = 403, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn audit_trail(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (model, _) = owned_or_staff(&state.platform.db, &caller, id.into_inner()).await?;
    // A provider reads staff decisions by role: a staff subject identifies a CNNum employee.
    Ok(HttpResponse::Ok().json(audit::trail_seen_by(&state.platform.db, model.id, &caller).await?))
}

#[utoipa::path(get, path = paths::TRAINING_EDITS, tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    responses((status = 200, body = [TrainingEdit], description = "Ce que chaque modification a changé, champ par champ avant et après, de la plus ancienne à la plus récente"),
              (status = 403, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn edits(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    // Who may edit may read what edits changed (national staff and the provider).
    let (model, _) = owned_or_staff(&state.platform.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(store::edits(&state.platform.db, model.id).await?))
}

#[utoipa::path(get, path = paths::TRAININGS_REVIEW, tag = "trainings", params(ReviewQueueQuery),
    responses((status = 200, body = Page<TrainingView>, description = "Les formations soumises, la plus ancienne d'abord"),
              (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn review_queue(
    state: web::Data<State>,
    caller: Caller,
    query: Query<ReviewQueueQuery>,
) -> AppResult<HttpResponse> {
    crate::review::require_reviewer(&caller)?;
    let q = query.into_inner();
    let limit = paging::limit(q.limit)?;
    let after = paging::cursor(q.cursor.as_deref())?;
    let read = cafeia_platform::db::snapshot(&state.platform.db).await?;
    let total = training::Entity::find()
        .filter(training::Column::Status.eq(ReviewStatus::Submitted))
        .count(&read)
        .await?;
    let columns = crate::review::Columns {
        id: training::Column::Id,
        status: training::Column::Status,
        updated_at: training::Column::UpdatedAt,
    };
    let rows =
        crate::review::submitted::<training::Entity, _>(&read, &columns, after, limit).await?;
    let (rows, next_cursor) = paging::split(rows, limit, |r| r.id);
    let items = store::load_many(&read, rows)
        .await?
        .into_iter()
        .map(view)
        .collect();
    read.commit().await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor,
        total: Some(total),
    }))
}
