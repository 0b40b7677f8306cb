//! Training programmes: submission by providers, review by staff, public listing with filters,
//! JSON-LD. Edits of a published programme go live at once and are audit-logged.

use crate::{
    State,
    domain::{self, Review, Status, TrainingInput},
    jsonld,
    messages::{self, Withdrawn},
    providers::{self, may_act_for},
    storage::{place, provider, session, training},
    store::{self, Full, from_json},
};
use actix_web::{HttpResponse, web};
use cafeia_platform::{
    AppError, audit,
    auth::{Caller, MaybeCaller},
    errors::AppResult,
    http::Json,
    paging::{self, Page},
};
use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceView {
    pub insee: String,
    pub commune: String,
    pub departement: String,
    pub region: String,
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub enrolment: String,
    pub insee: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingView {
    pub id: Uuid,
    pub provider_id: Uuid,
    pub title: String,
    pub summary: String,
    pub objectives: String,
    pub content: String,
    pub level: String,
    pub audiences: Vec<String>,
    pub format: String,
    pub pace: String,
    pub duration_hours: i32,
    pub free: bool,
    pub price_eur: Option<f64>,
    pub funding: Vec<String>,
    pub certification: Option<String>,
    pub languages: Vec<String>,
    pub accessibility: Vec<String>,
    pub topics: Vec<String>,
    pub online: bool,
    pub places: Vec<PlaceView>,
    pub sessions: Vec<SessionView>,
    pub enrolment_url: Option<String>,
    pub contact_email: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub updated_at: chrono::DateTime<Utc>,
}

pub fn view(full: Full) -> TrainingView {
    let gazetteer = cafeia_platform::territory::Gazetteer::get();
    let t = full.training;
    TrainingView {
        id: t.id,
        provider_id: t.provider_id,
        audiences: from_json(&t.audiences),
        funding: from_json(&t.funding),
        languages: from_json(&t.languages),
        accessibility: from_json(&t.accessibility),
        topics: from_json(&t.topics),
        price_eur: t.price_cents.map(|c| c as f64 / 100.0),
        places: full
            .places
            .into_iter()
            .map(|p| PlaceView {
                commune: gazetteer
                    .commune(&p.insee)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                insee: p.insee,
                departement: p.departement,
                region: p.region,
                latitude: p.lat,
                longitude: p.lon,
            })
            .collect(),
        sessions: full
            .sessions
            .into_iter()
            .map(|s| SessionView {
                start_date: s.start_date,
                end_date: s.end_date,
                enrolment: s.enrolment,
                insee: s.insee,
            })
            .collect(),
        title: t.title,
        summary: t.summary,
        objectives: t.objectives,
        content: t.content,
        level: t.level,
        format: t.format,
        pace: t.pace,
        duration_hours: t.duration_hours,
        free: t.is_free,
        certification: t.certification,
        online: t.online,
        enrolment_url: t.enrolment_url,
        contact_email: t.contact_email,
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
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::internal(std::io::Error::other(format!(
                "training without provider {id}"
            )))
        })
}

#[utoipa::path(post, path = "/v1/trainings", tag = "trainings", request_body = TrainingInput,
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
        status: Set(Status::Submitted.as_str().into()),
        status_reason: Set(None),
        submitted_by: Set(caller.sub.clone()),
        created_at: Set(now),
        published_at: Set(None),
        ..Default::default()
    };
    store::apply(&mut model, &draft);
    let model = model.insert(&txn).await?;
    store::replace_children(&txn, model.id, &draft).await?;
    audit::record(&txn, &caller.sub, "submit", "training", model.id, None).await?;
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
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("formation introuvable"))?;
    let provider = provider_of(conn, model.provider_id).await?;
    may_act_for(caller, &provider.siret)?;
    Ok((model, provider))
}

#[utoipa::path(put, path = "/v1/trainings/{id}", tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
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
    let status = Status::parse(&current.status).unwrap_or(Status::Submitted);
    if status == Status::Withdrawn {
        return Err(AppError::conflict(
            "une formation retirée ne se modifie plus",
        ));
    }
    let stored = store::load(&txn, current).await?;
    let changed = store::changed_fields(&stored.draft(), &draft);
    if changed.is_empty() {
        return Ok(HttpResponse::Ok().json(view(stored)));
    }
    let mut model = stored.training.into_active_model();
    store::apply(&mut model, &draft);
    if status == Status::Rejected {
        // A corrected programme goes back to review.
        model.status = Set(Status::Submitted.as_str().into());
        model.status_reason = Set(None);
    }
    let model = model.update(&txn).await?;
    store::replace_children(&txn, model.id, &draft).await?;
    audit::record_change(
        &txn,
        &caller.sub,
        "edit",
        "training",
        model.id,
        None,
        Some(&changed.join(",")),
    )
    .await?;
    let full = store::load(&txn, model).await?;
    if status == Status::Published {
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

#[derive(Debug, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    #[serde(default)]
    pub reason: Option<String>,
}

async fn review(
    state: &State,
    caller: &Caller,
    id: Uuid,
    decision: Review,
    reason: Option<String>,
) -> AppResult<HttpResponse> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if decision == Review::Reject && reason.is_none() {
        return Err(AppError::invalid("reason", "un refus doit être motivé"));
    }
    let db = &state.platform.db;
    let txn = cafeia_platform::db::begin(db).await?;
    let (current, provider) = owned_or_staff(&txn, caller, id).await?;
    // Providers may withdraw their own programmes; publishing and refusing is staff's review.
    if decision != Review::Withdraw && !caller.is_national_staff() {
        return Err(AppError::forbidden(
            "la revue du catalogue est réservée à l'équipe nationale",
        ));
    }
    let from = Status::parse(&current.status).unwrap_or(Status::Submitted);
    let to = decision
        .apply(from)
        .map_err(|why| AppError::conflict(why.to_owned()))?;
    let mut model = current.into_active_model();
    model.status = Set(to.as_str().into());
    model.status_reason = Set(if to == Status::Rejected {
        reason.clone()
    } else {
        None
    });
    if to == Status::Published {
        model.published_at = Set(Some(Utc::now()));
    }
    let model = model.update(&txn).await?;
    audit::record(
        &txn,
        &caller.sub,
        decision.as_str(),
        "training",
        model.id,
        reason.as_deref(),
    )
    .await?;
    let full = store::load(&txn, model).await?;
    match to {
        Status::Published => {
            store::announce(
                &txn,
                messages::TRAINING_PUBLISHED,
                full.training.id,
                full.state(&provider),
            )
            .await?
        }
        Status::Withdrawn => {
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

#[utoipa::path(post, path = "/v1/trainings/{id}/publish", tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    responses((status = 200, body = TrainingView), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn publish(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    review(&state, &caller, id.into_inner(), Review::Publish, None).await
}

#[utoipa::path(post, path = "/v1/trainings/{id}/reject", tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    request_body = ReasonInput,
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
        Review::Reject,
        reason_of(body),
    )
    .await
}

#[utoipa::path(post, path = "/v1/trainings/{id}/withdraw", tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
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
        Review::Withdraw,
        reason_of(body),
    )
    .await
}

/// Published programmes to everyone; others to staff and their provider.
async fn visible<C: ConnectionTrait>(
    conn: &C,
    caller: &MaybeCaller,
    id: Uuid,
) -> AppResult<(Full, provider::Model)> {
    let model = training::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("formation introuvable"))?;
    let provider = provider_of(conn, model.provider_id).await?;
    let public = model.status == Status::Published.as_str();
    let allowed = public
        || caller
            .0
            .as_ref()
            .is_some_and(|c| may_act_for(c, &provider.siret).is_ok());
    if !allowed {
        return Err(AppError::not_found("formation introuvable"));
    }
    Ok((store::load(conn, model).await?, provider))
}

#[utoipa::path(get, path = "/v1/trainings/{id}", tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    responses((status = 200, body = TrainingView), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn get(
    state: web::Data<State>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (full, _) = visible(&state.platform.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view(full)))
}

#[utoipa::path(get, path = "/v1/trainings/{id}/jsonld", tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    responses((status = 200, description = "schema.org Course + CourseInstance (application/ld+json)"), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn json_ld(state: web::Data<State>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let (full, provider) = visible(&state.platform.db, &MaybeCaller(None), id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/ld+json")
        .json(jsonld::course(&full, &provider)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub level: Option<domain::Level>,
    pub audience: Option<domain::Audience>,
    pub format: Option<domain::Format>,
    /// Only free programmes.
    pub free: Option<bool>,
    pub topic: Option<String>,
    pub departement: Option<String>,
    pub region: Option<String>,
    /// Open online to anyone in France.
    pub online: Option<bool>,
    pub accessibility: Option<domain::Accessibility>,
    pub language: Option<String>,
    /// Has a session open for enrolment that has not ended.
    pub open_session: Option<bool>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

/// A JSON list column contains a value: lists are stored as JSON text (`["a","b"]`).
fn list_contains(column: training::Column, value: &str) -> sea_orm::Condition {
    sea_orm::Condition::all().add(column.contains(format!("\"{value}\"")))
}

#[utoipa::path(get, path = "/v1/trainings", tag = "trainings", params(ListQuery),
    responses((status = 200, body = Page<TrainingView>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn list(
    state: web::Data<State>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let limit = paging::limit(q.limit)?;
    use cafeia_platform::validation::wire_name as wire;
    let mut select =
        training::Entity::find().filter(training::Column::Status.eq(Status::Published.as_str()));
    if let Some(level) = q.level {
        select = select.filter(training::Column::Level.eq(wire(&level)));
    }
    if let Some(format) = q.format {
        select = select.filter(training::Column::Format.eq(wire(&format)));
    }
    if q.free == Some(true) {
        select = select.filter(training::Column::IsFree.eq(true));
    }
    if let Some(online) = q.online {
        select = select.filter(training::Column::Online.eq(online));
    }
    if let Some(audience) = q.audience {
        select = select.filter(list_contains(training::Column::Audiences, &wire(&audience)));
    }
    if let Some(access) = q.accessibility {
        select = select.filter(list_contains(
            training::Column::Accessibility,
            &wire(&access),
        ));
    }
    if let Some(topic) = &q.topic {
        if !cafeia_platform::vocabulary::TOPICS.contains(&topic.as_str()) {
            return Err(AppError::invalid(
                "topic",
                format!("thème inconnu : {topic:?}"),
            ));
        }
        select = select.filter(list_contains(training::Column::Topics, topic));
    }
    if let Some(language) = &q.language {
        let mut p = cafeia_platform::validation::Problems::default();
        let known = cafeia_platform::vocabulary::languages(std::slice::from_ref(language), &mut p);
        let Some(language) = known.first() else {
            return Err(AppError::invalid(
                "language",
                format!("langue inconnue : {language:?}"),
            ));
        };
        select = select.filter(list_contains(training::Column::Languages, language));
    }
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
            .filter(session::Column::Enrolment.eq("open"))
            .filter(session::Column::EndDate.gte(Utc::now().date_naive()));
        select = select.filter(training::Column::Id.in_subquery(open.into_query()));
    }
    if let Some(after) = paging::cursor(q.cursor.as_deref())? {
        select = select.filter(training::Column::Id.gt(after));
    }
    let rows = select
        .order_by_asc(training::Column::Id)
        .limit(limit + 1)
        .all(&state.platform.db)
        .await?;
    let (rows, next_cursor) = paging::split(rows, limit, |r| r.id);
    let items = store::load_many(&state.platform.db, rows)
        .await?
        .into_iter()
        .map(view)
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor,
        total: None,
    }))
}

#[utoipa::path(get, path = "/v1/trainings/{id}/audit", tag = "trainings", params(("id" = Uuid, Path, description = "Identifiant")),
    responses((status = 200, body = [cafeia_platform::audit::Entry]), (status = 403, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn audit_trail(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let (model, _) = owned_or_staff(&state.platform.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(audit::trail(&state.platform.db, model.id).await?))
}
