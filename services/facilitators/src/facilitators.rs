//! Facilitators: self-registration, profile, staff decisions (verify, suspend, reinstate) within
//! the coordinator's territory, directory queries, and the person's own export and erasure.

use crate::{
    State,
    domain::{self, Decision, FacilitatorKind, Problems, Status},
    messages::{self, FacilitatorErased, FacilitatorState},
    proximity::Near,
    storage::{area, facilitator, organisation, venue},
};
use actix_web::{HttpResponse, web};
use cafeia_platform::paging::{self, Page};
use cafeia_platform::{
    AppError,
    auth::{Caller, Role, Territory},
    envelope::{Envelope, MessageType},
    errors::AppResult,
    http::Json,
    outbox,
    territory::Gazetteer,
};
use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

pub use cafeia_platform::db::{list_from_json as from_json, list_to_json as to_json};

/// A facilitator as staff and the person themself see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FacilitatorView {
    pub id: Uuid,
    pub display_name: String,
    pub email: Option<String>,
    pub kind: String,
    pub organisation_id: Option<Uuid>,
    pub territories: Vec<String>,
    pub departements: Vec<String>,
    pub regions: Vec<String>,
    pub topics: Vec<String>,
    pub languages: Vec<String>,
    pub training_completed_on: Option<NaiveDate>,
    pub status: String,
    pub status_reason: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

fn areas_of(model: &facilitator::Model) -> (Vec<String>, Vec<String>) {
    let gazetteer = Gazetteer::get();
    let mut deps = BTreeSet::new();
    let mut regs = BTreeSet::new();
    for code in from_json(&model.territories) {
        if let Some(a) = gazetteer.area(&code) {
            deps.insert(a.departement);
            regs.insert(a.region);
        }
    }
    (deps.into_iter().collect(), regs.into_iter().collect())
}

pub fn view(model: facilitator::Model) -> FacilitatorView {
    let (departements, regions) = areas_of(&model);
    FacilitatorView {
        id: model.id,
        display_name: model.display_name.clone(),
        email: model.email.clone(),
        kind: model.kind.clone(),
        organisation_id: model.organisation_id,
        territories: from_json(&model.territories),
        departements,
        regions,
        topics: from_json(&model.topics),
        languages: from_json(&model.languages),
        training_completed_on: model.training_completed_on,
        status: model.status.clone(),
        status_reason: model.status_reason.clone(),
        created_at: model.created_at,
        updated_at: model.updated_at,
    }
}

fn state(model: &facilitator::Model) -> FacilitatorState {
    let (departements, regions) = areas_of(model);
    FacilitatorState {
        id: model.id,
        account: cafeia_platform::auth::account_key(&model.sub),
        display_name: model.display_name.clone(),
        kind: model.kind.clone(),
        status: model.status.clone(),
        departements,
        regions,
        topics: from_json(&model.topics),
        languages: from_json(&model.languages),
        organisation_id: model.organisation_id,
    }
}

pub(crate) async fn announce<C: ConnectionTrait>(
    conn: &C,
    kind: MessageType,
    model: &facilitator::Model,
) -> AppResult<()> {
    let envelope = Envelope::new(kind, format!("facilitator/{}", model.id), state(model));
    outbox::enqueue(conn, kind, &envelope).await?;
    Ok(())
}

/// The profile a facilitator submits (registration) or edits.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    pub display_name: String,
    pub email: String,
    pub kind: FacilitatorKind,
    #[serde(default)]
    pub organisation_id: Option<Uuid>,
    pub territories: Vec<String>,
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    #[serde(default)]
    pub training_completed_on: Option<NaiveDate>,
}

fn default_languages() -> Vec<String> {
    vec!["fr".into()]
}

struct Profile {
    display_name: String,
    email: String,
    kind: String,
    organisation_id: Option<Uuid>,
    territories: Vec<String>,
    areas: Vec<cafeia_platform::territory::Area>,
    topics: Vec<String>,
    languages: Vec<String>,
    training_completed_on: Option<NaiveDate>,
    point: Option<(f64, f64)>,
}

async fn validate<C: ConnectionTrait>(conn: &C, input: ProfileInput) -> AppResult<Profile> {
    let mut p = Problems::default();
    let display_name = p.text("display_name", &input.display_name, 120);
    let email = cafeia_platform::validation::email(&input.email, &mut p);
    let territories: Vec<String> = input
        .territories
        .iter()
        .map(|t| t.trim().to_owned())
        .collect();
    let areas = domain::territories(&territories, "territories", &mut p);
    let topics = domain::topics(&input.topics, "topics", &mut p);
    let languages = domain::languages(&input.languages, &mut p);
    if languages.is_empty() && p.0.iter().all(|e| !e.field.starts_with("languages")) {
        p.add("languages", "au moins une langue");
    }
    if let Some(date) = input.training_completed_on {
        p.check(
            date <= Utc::now().date_naive(),
            "training_completed_on",
            "ne peut pas être dans le futur",
        );
        p.check(
            date >= NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default(),
            "training_completed_on",
            "antérieure au lancement de la formation Café IA",
        );
    }
    if let Some(org) = input.organisation_id {
        let exists = organisation::Entity::find_by_id(org)
            .one(conn)
            .await?
            .is_some();
        p.check(exists, "organisation_id", "structure inconnue");
    }
    p.into_result()?;
    let point = territories.first().and_then(|c| Gazetteer::get().point(c));
    Ok(Profile {
        display_name,
        email,
        kind: domain::wire_name(&input.kind),
        organisation_id: input.organisation_id,
        territories,
        areas,
        topics,
        languages,
        training_completed_on: input.training_completed_on,
        point,
    })
}

pub(crate) async fn write_areas(
    txn: &DatabaseTransaction,
    id: Uuid,
    areas: &[cafeia_platform::territory::Area],
) -> AppResult<()> {
    area::Entity::delete_many()
        .filter(area::Column::FacilitatorId.eq(id))
        .exec(txn)
        .await?;
    // Several territories may share a département: one row each.
    let mut areas: Vec<&cafeia_platform::territory::Area> = areas.iter().collect();
    areas.sort_by(|a, b| a.departement.cmp(&b.departement));
    areas.dedup_by(|a, b| a.departement == b.departement);
    if !areas.is_empty() {
        area::Entity::insert_many(areas.iter().map(|a| area::ActiveModel {
            facilitator_id: Set(id),
            departement: Set(a.departement.clone()),
            region: Set(a.region.clone()),
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// What an erased facilitator's `sub` becomes: a one-way digest, so a suspension outlives an
/// erasure (the person cannot erase and register again to escape it) without keeping the
/// identifier itself.
pub fn tombstone(sub: &str) -> String {
    format!("erased:{}", cafeia_platform::auth::account_key(sub))
}

async fn mine<C: ConnectionTrait>(conn: &C, caller: &Caller) -> AppResult<facilitator::Model> {
    facilitator::Entity::find()
        .filter(facilitator::Column::Sub.eq(caller.sub.as_str()))
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::not_found(
                "aucun profil d'animateur·rice pour ce compte : inscrivez-vous d'abord",
            )
        })
}

/// The calling facilitator, refused when suspended (a suspended facilitator cannot act).
pub async fn acting<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
) -> AppResult<facilitator::Model> {
    let me = mine(conn, caller).await?;
    if me.status == Status::Suspended.as_str() {
        return Err(AppError::forbidden(
            "compte d'animateur·rice suspendu : action impossible",
        ));
    }
    Ok(me)
}

/// POST /v1/facilitators/me
#[utoipa::path(post, path = "/v1/facilitators/me", tag = "facilitators", request_body = ProfileInput, responses((status = 201, body = FacilitatorView), (status = 409, description = "Déjà inscrit·e", body = cafeia_platform::errors::Problem), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn register(
    state: web::Data<State>,
    caller: Caller,
    input: Json<ProfileInput>,
) -> AppResult<HttpResponse> {
    caller.require(Role::Facilitator)?;
    let db = &state.platform.db;
    let profile = validate(db, input.0).await?;
    let txn = cafeia_platform::db::begin(db).await?;
    if facilitator::Entity::find()
        .filter(facilitator::Column::Sub.eq(caller.sub.as_str()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(
            "ce compte est déjà inscrit comme animateur·rice",
        ));
    }
    let erased_while_suspended = facilitator::Entity::find()
        .filter(facilitator::Column::Sub.eq(tombstone(&caller.sub)))
        .filter(facilitator::Column::Status.eq(Status::Suspended.as_str()))
        .one(&txn)
        .await?
        .is_some();
    if erased_while_suspended {
        return Err(AppError::forbidden(
            "ce compte est suspendu : une nouvelle inscription est impossible",
        ));
    }
    let now = Utc::now();
    let model = facilitator::ActiveModel {
        id: Set(Uuid::now_v7()),
        sub: Set(caller.sub.clone()),
        display_name: Set(profile.display_name),
        email: Set(Some(profile.email)),
        kind: Set(profile.kind),
        organisation_id: Set(profile.organisation_id),
        territories: Set(to_json(&profile.territories)),
        topics: Set(to_json(&profile.topics)),
        languages: Set(to_json(&profile.languages)),
        training_completed_on: Set(profile.training_completed_on),
        status: Set(Status::Pending.as_str().into()),
        status_reason: Set(None),
        lat: Set(profile.point.map(|p| p.0)),
        lon: Set(profile.point.map(|p| p.1)),
        created_at: Set(now),
        updated_at: Set(now),
        erased_at: Set(None),
    }
    .insert(&txn)
    .await?;
    write_areas(&txn, model.id, &profile.areas).await?;
    announce(&txn, messages::FACILITATOR_REGISTERED, &model).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Created().json(view(model)))
}

/// GET /v1/facilitators/me
#[utoipa::path(get, path = "/v1/facilitators/me", tag = "facilitators", responses((status = 200, body = FacilitatorView), (status = 404, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn me(state: web::Data<State>, caller: Caller) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(view(mine(&state.platform.db, &caller).await?)))
}

/// PATCH /v1/facilitators/me — replaces the editable profile; status is staff's business.
#[utoipa::path(patch, path = "/v1/facilitators/me", tag = "facilitators", request_body = ProfileInput, responses((status = 200, body = FacilitatorView), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn update_me(
    state: web::Data<State>,
    caller: Caller,
    input: Json<ProfileInput>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let current = acting(db, &caller).await?;
    let profile = validate(db, input.0).await?;
    let txn = cafeia_platform::db::begin(db).await?;
    let mut model = current.into_active_model();
    model.display_name = Set(profile.display_name);
    model.email = Set(Some(profile.email));
    model.kind = Set(profile.kind);
    model.organisation_id = Set(profile.organisation_id);
    model.territories = Set(to_json(&profile.territories));
    model.topics = Set(to_json(&profile.topics));
    model.languages = Set(to_json(&profile.languages));
    model.training_completed_on = Set(profile.training_completed_on);
    model.lat = Set(profile.point.map(|p| p.0));
    model.lon = Set(profile.point.map(|p| p.1));
    model.updated_at = Set(Utc::now());
    let model = model.update(&txn).await?;
    write_areas(&txn, model.id, &profile.areas).await?;
    announce(&txn, messages::FACILITATOR_UPDATED, &model).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(model)))
}

fn in_scope(caller: &Caller, model: &facilitator::Model) -> bool {
    if !caller.has(Role::Staff) {
        return false;
    }
    let (departements, _) = areas_of(model);
    caller.territory.is_none()
        || departements.iter().any(|d| {
            let region = Gazetteer::get().departement(d).map(|x| x.region.as_str());
            caller.covers(region, Some(d.as_str()))
        })
}

async fn for_staff<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
    id: Uuid,
) -> AppResult<facilitator::Model> {
    caller.require(Role::Staff)?;
    let model = facilitator::Entity::find_by_id(id)
        .filter(facilitator::Column::ErasedAt.is_null())
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("animateur·rice introuvable"))?;
    if !in_scope(caller, &model) {
        return Err(AppError::forbidden(
            "cet·te animateur·rice n'est pas dans votre territoire",
        ));
    }
    Ok(model)
}

/// GET /v1/facilitators/{id} — staff within their territory.
#[utoipa::path(get, path = "/v1/facilitators/{id}", tag = "facilitators", params(("id" = Uuid, Path, description = "Identifiant")), responses((status = 200, body = FacilitatorView), (status = 404, body = cafeia_platform::errors::Problem), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn get(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let model = for_staff(&state.platform.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view(model)))
}

/// GET /v1/facilitators/{id}/audit
#[utoipa::path(get, path = "/v1/facilitators/{id}/audit", tag = "facilitators", params(("id" = Uuid, Path, description = "Identifiant")), responses((status = 200, body = [cafeia_platform::audit::Entry]), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn audit_trail(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let model = for_staff(&state.platform.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(cafeia_platform::audit::trail(&state.platform.db, model.id).await?))
}

#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    #[serde(default)]
    pub reason: Option<String>,
}

async fn decide(
    state: &State,
    caller: &Caller,
    id: Uuid,
    decision: Decision,
    reason: Option<String>,
) -> AppResult<HttpResponse> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if decision == Decision::Suspend && reason.is_none() {
        return Err(AppError::invalid(
            "reason",
            "une suspension doit être motivée",
        ));
    }
    if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        return Err(AppError::invalid("reason", "au plus 1000 caractères"));
    }
    let db = &state.platform.db;
    let txn = cafeia_platform::db::begin(db).await?;
    let current = for_staff(&txn, caller, id).await?;
    let from = Status::parse(&current.status).unwrap_or(Status::Pending);
    let to = decision
        .apply(from)
        .map_err(|why| AppError::conflict(why.to_owned()))?;
    if decision == Decision::Verify && current.training_completed_on.is_none() {
        return Err(AppError::invalid(
            "training_completed_on",
            "la formation d'animateur·rice Café IA doit être suivie avant la vérification",
        ));
    }
    let mut model = current.into_active_model();
    model.status = Set(to.as_str().into());
    model.status_reason = Set(if to == Status::Suspended {
        reason.clone()
    } else {
        None
    });
    model.updated_at = Set(Utc::now());
    let model = model.update(&txn).await?;
    cafeia_platform::audit::record(
        &txn,
        &caller.sub,
        decision.as_str(),
        "facilitator",
        model.id,
        reason.as_deref(),
    )
    .await?;
    let kind = match decision {
        Decision::Verify => messages::FACILITATOR_VERIFIED,
        Decision::Suspend => messages::FACILITATOR_SUSPENDED,
        Decision::Reinstate => messages::FACILITATOR_REINSTATED,
    };
    announce(&txn, kind, &model).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(model)))
}

fn optional_body(body: Option<Json<DecisionInput>>) -> Option<String> {
    body.and_then(|b| b.0.reason)
}

#[utoipa::path(post, path = "/v1/facilitators/{id}/verify", tag = "facilitators", params(("id" = Uuid, Path, description = "Identifiant")), request_body(content = Option<DecisionInput>), responses((status = 200, body = FacilitatorView), (status = 409, body = cafeia_platform::errors::Problem), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn verify(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Option<Json<DecisionInput>>,
) -> AppResult<HttpResponse> {
    decide(
        &state,
        &caller,
        id.into_inner(),
        Decision::Verify,
        optional_body(body),
    )
    .await
}

#[utoipa::path(post, path = "/v1/facilitators/{id}/suspend", tag = "facilitators", params(("id" = Uuid, Path, description = "Identifiant")), request_body = DecisionInput, responses((status = 200, body = FacilitatorView), (status = 409, body = cafeia_platform::errors::Problem), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn suspend(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Option<Json<DecisionInput>>,
) -> AppResult<HttpResponse> {
    decide(
        &state,
        &caller,
        id.into_inner(),
        Decision::Suspend,
        optional_body(body),
    )
    .await
}

#[utoipa::path(post, path = "/v1/facilitators/{id}/reinstate", tag = "facilitators", params(("id" = Uuid, Path, description = "Identifiant")), request_body(content = Option<DecisionInput>), responses((status = 200, body = FacilitatorView), (status = 409, body = cafeia_platform::errors::Problem), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn reinstate(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: Option<Json<DecisionInput>>,
) -> AppResult<HttpResponse> {
    decide(
        &state,
        &caller,
        id.into_inner(),
        Decision::Reinstate,
        optional_body(body),
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub departement: Option<String>,
    pub region: Option<String>,
    pub status: Option<String>,
    pub kind: Option<FacilitatorKind>,
    /// `lat,lon`
    pub near: Option<String>,
    pub radius_km: Option<f64>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

/// Where a staff member may look: their scope, narrowed by the filters they asked for.
fn scoped_filter(
    caller: &Caller,
    departement: Option<String>,
    region: Option<String>,
) -> AppResult<(Option<String>, Option<String>)> {
    let gazetteer = Gazetteer::get();
    if let Some(d) = &departement {
        domain::known_departement(d)?;
    }
    if let Some(r) = &region {
        domain::known_region(r)?;
    }
    match &caller.territory {
        None => Ok((departement, region)),
        Some(Territory::Region(mine)) => {
            let outside_region = region.as_ref().is_some_and(|r| r != mine);
            let outside_dep = departement
                .as_ref()
                .and_then(|d| gazetteer.departement(d))
                .is_some_and(|d| &d.region != mine);
            if outside_region || outside_dep {
                return Err(AppError::forbidden(
                    "hors de votre territoire de coordination",
                ));
            }
            Ok((departement, Some(mine.clone())))
        }
        Some(Territory::Departement(mine)) => {
            if departement.as_ref().is_some_and(|d| d != mine)
                || region.is_some_and(|r| gazetteer.departement(mine).is_none_or(|d| d.region != r))
            {
                return Err(AppError::forbidden(
                    "hors de votre territoire de coordination",
                ));
            }
            Ok((Some(mine.clone()), None))
        }
    }
}

/// GET /v1/facilitators — staff directory (coordinators see their territory only).
#[utoipa::path(get, path = "/v1/facilitators", tag = "facilitators", params(ListQuery), responses((status = 200, body = Page<FacilitatorView>), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<State>,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let q = query.into_inner();
    let limit = paging::limit(q.limit)?;
    let after = paging::cursor(q.cursor.as_deref())?;
    let (departement, region) = scoped_filter(&caller, q.departement, q.region)?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            Status::parse(s)
                .ok_or_else(|| AppError::invalid("status", "pending, verified ou suspended"))
        })
        .transpose()?;
    let near = Near::parse(q.near.as_deref(), q.radius_km)?;

    let mut select = facilitator::Entity::find().filter(facilitator::Column::ErasedAt.is_null());
    if departement.is_some() || region.is_some() {
        let mut areas = area::Entity::find()
            .select_only()
            .column(area::Column::FacilitatorId)
            .distinct();
        if let Some(d) = &departement {
            areas = areas.filter(area::Column::Departement.eq(d.as_str()));
        }
        if let Some(r) = &region {
            areas = areas.filter(area::Column::Region.eq(r.as_str()));
        }
        select = select
            .filter(facilitator::Column::Id.in_subquery(sea_orm::QueryTrait::into_query(areas)));
    }
    if let Some(s) = status {
        select = select.filter(facilitator::Column::Status.eq(s.as_str()));
    }
    if let Some(k) = q.kind {
        let kind = domain::wire_name(&k);
        select = select.filter(facilitator::Column::Kind.eq(kind));
    }
    if let Some(near) = near {
        let (lat_min, lat_max, lon_min, lon_max) = near.bounds();
        let rows = select
            .filter(facilitator::Column::Lat.between(lat_min, lat_max))
            .filter(facilitator::Column::Lon.between(lon_min, lon_max))
            .all(&state.platform.db)
            .await?;
        let items: Vec<serde_json::Value> = near
            .rank(rows, |m| Some((m.lat?, m.lon?)), limit)
            .into_iter()
            .map(|(d, m)| {
                let mut v = serde_json::to_value(view(m)).unwrap_or_default();
                v["distance_km"] = serde_json::json!(d);
                v
            })
            .collect();
        return Ok(HttpResponse::Ok().json(Page {
            items,
            next_cursor: None,
            total: None,
        }));
    }
    if let Some(after) = after {
        select = select.filter(facilitator::Column::Id.gt(after));
    }
    let rows = select
        .order_by_asc(facilitator::Column::Id)
        .limit(limit + 1)
        .all(&state.platform.db)
        .await?;
    Ok(HttpResponse::Ok().json(paging::page(rows, limit, |m| m.id, view)))
}

#[derive(Debug, Serialize, Default, utoipa::ToSchema)]
pub struct DepartementCount {
    pub departement: String,
    pub name: String,
    pub pending: u64,
    pub verified: u64,
    pub suspended: u64,
}

/// GET /v1/facilitators/stats/departements — counts by status per département (scoped).
#[utoipa::path(get, path = "/v1/facilitators/stats/departements", tag = "facilitators", responses((status = 200, body = [DepartementCount]), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn counts(state: web::Data<State>, caller: Caller) -> AppResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let (departement, region) = scoped_filter(&caller, None, None)?;
    let statuses: BTreeMap<Uuid, String> = facilitator::Entity::find()
        .filter(facilitator::Column::ErasedAt.is_null())
        .all(&state.platform.db)
        .await?
        .into_iter()
        .map(|m| (m.id, m.status))
        .collect();
    let mut areas = area::Entity::find();
    if let Some(d) = &departement {
        areas = areas.filter(area::Column::Departement.eq(d.as_str()));
    }
    if let Some(r) = &region {
        areas = areas.filter(area::Column::Region.eq(r.as_str()));
    }
    let mut by_dep: BTreeMap<String, DepartementCount> = BTreeMap::new();
    for a in areas.all(&state.platform.db).await? {
        let Some(status) = statuses.get(&a.facilitator_id) else {
            continue;
        };
        let entry = by_dep
            .entry(a.departement.clone())
            .or_insert_with(|| DepartementCount {
                name: Gazetteer::get()
                    .departement(&a.departement)
                    .map(|d| d.name.clone())
                    .unwrap_or_default(),
                departement: a.departement.clone(),
                ..Default::default()
            });
        match Status::parse(status) {
            Some(Status::Pending) => entry.pending += 1,
            Some(Status::Verified) => entry.verified += 1,
            Some(Status::Suspended) => entry.suspended += 1,
            None => {}
        }
    }
    Ok(HttpResponse::Ok().json(by_dep.into_values().collect::<Vec<_>>()))
}

/// GET /v1/facilitators/me/export — everything held about the caller (GDPR access).
#[utoipa::path(get, path = "/v1/facilitators/me/export", tag = "facilitators", responses((status = 200, description = "Toutes les données de la personne (JSON)")), security(("bearer" = [])))]
pub async fn export_me(state: web::Data<State>, caller: Caller) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let me = mine(db, &caller).await?;
    let organisation = match me.organisation_id {
        Some(id) => organisation::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let venues = venue::Entity::find()
        .filter(venue::Column::CreatedBy.eq(caller.sub.as_str()))
        .all(db)
        .await?;
    let trail = cafeia_platform::audit::trail(db, me.id).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("content-disposition", "attachment; filename=\"mes-donnees-cafe-ia.json\""))
        .json(serde_json::json!({
            "account": { "sub": caller.sub },
            "profile": view(me),
            "organisation": organisation.map(|o| serde_json::json!({"id": o.id, "name": o.name})),
            "venues_created": venues.iter().map(|v| serde_json::json!({"id": v.id, "name": v.name})).collect::<Vec<_>>(),
            "history": trail,
        })))
}

/// DELETE /v1/facilitators/me — erases the person (name, email, account link) and keeps the
/// anonymous record, so sessions held still count in the network's history.
#[utoipa::path(delete, path = "/v1/facilitators/me", tag = "facilitators", responses((status = 204, description = "Données personnelles effacées")), security(("bearer" = [])))]
pub async fn erase_me(state: web::Data<State>, caller: Caller) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let txn = cafeia_platform::db::begin(db).await?;
    let me = mine(&txn, &caller).await?;
    let id = me.id;
    let mut model = me.into_active_model();
    model.sub = Set(tombstone(&caller.sub));
    model.display_name = Set(String::new());
    model.email = Set(None);
    model.status_reason = Set(None);
    model.erased_at = Set(Some(Utc::now()));
    model.updated_at = Set(Utc::now());
    model.update(&txn).await?;
    venue::Entity::update_many()
        .col_expr(
            venue::Column::CreatedBy,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .filter(venue::Column::CreatedBy.eq(caller.sub.as_str()))
        .exec(&txn)
        .await?;
    cafeia_platform::audit::anonymise_actor(&txn, &caller.sub).await?;
    crate::storage::organisation::Entity::update_many()
        .col_expr(
            crate::storage::organisation::Column::CreatedBy,
            sea_orm::sea_query::Expr::value("erased"),
        )
        .filter(crate::storage::organisation::Column::CreatedBy.eq(caller.sub.as_str()))
        .exec(&txn)
        .await?;
    let envelope = Envelope::new(
        messages::FACILITATOR_ERASED,
        format!("facilitator/{id}"),
        FacilitatorErased { id },
    );
    outbox::enqueue(&txn, messages::FACILITATOR_ERASED, &envelope).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::NoContent().finish())
}
