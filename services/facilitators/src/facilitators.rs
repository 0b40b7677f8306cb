//! Facilitators: self-registration, profile, staff decisions (verify, suspend, reinstate) within
//! the coordinator's territory, directory queries, and the person's own export and erasure.

use crate::{
    State,
    domain::{self, Decision, FacilitatorKind, FacilitatorStatus, Problems},
    messages::{self, FacilitatorErased, FacilitatorState},
    proximity::Near,
    storage::{JsonText, area, facilitator, organisation, unreadable, venue},
};
use actix_web::{HttpResponse, web};
use cafeia_api::batch::BatchQuery;
use cafeia_facilitators_api::{
    AuditEntry, DecisionInput, FacilitatorCount, FacilitatorListQuery, FacilitatorProfileInput,
    FacilitatorProfileView, FacilitatorView, paths,
};
use cafeia_platform::paging::{self, Page};
use cafeia_platform::{
    AppError, ErrorCode,
    auth::{Caller, Role, Territory},
    envelope::{Envelope, MessageType},
    errors::AppResult,
    http::{Json, Query},
    outbox,
    territory::Gazetteer,
};
use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

fn areas_of(model: &facilitator::Model) -> (Vec<String>, Vec<String>) {
    let gazetteer = Gazetteer::get();
    let mut deps = BTreeSet::new();
    let mut regs = BTreeSet::new();
    for code in &model.territories.0 {
        if let Some(a) = gazetteer.area(code) {
            deps.insert(a.departement);
            regs.insert(a.region);
        }
    }
    (deps.into_iter().collect(), regs.into_iter().collect())
}

/// What staff and the person see of a stored facilitator.
pub fn view(model: facilitator::Model) -> FacilitatorView {
    let (departements, regions) = areas_of(&model);
    FacilitatorView {
        id: model.id,
        display_name: model.display_name,
        email: model.email,
        kind: model.kind,
        organisation_id: model.organisation_id,
        territories: model.territories.0,
        departements,
        regions,
        topics: model.topics.0,
        languages: model.languages.0,
        training_completed_on: model.training_completed_on,
        status: model.status,
        status_reason: model.status_reason,
        distance_km: None,
        created_at: model.created_at,
        updated_at: model.updated_at,
    }
}

fn state(model: &facilitator::Model) -> FacilitatorState {
    let (departements, regions) = areas_of(model);
    FacilitatorState {
        id: model.id,
        account: cafeia_platform::auth::account_key(&model.sub),
        kind: model.kind,
        status: model.status,
        departements,
        regions,
        topics: model.topics.0.clone(),
        languages: model.languages.0.clone(),
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

struct Profile {
    display_name: String,
    email: String,
    kind: FacilitatorKind,
    organisation_id: Option<Uuid>,
    territories: Vec<String>,
    areas: Vec<cafeia_platform::territory::Area>,
    topics: Vec<String>,
    languages: Vec<String>,
    training_completed_on: Option<NaiveDate>,
    point: Option<(f64, f64)>,
}

async fn validate<C: ConnectionTrait>(
    conn: &C,
    input: FacilitatorProfileInput,
) -> AppResult<Profile> {
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
    domain::known_organisation(conn, input.organisation_id, &mut p).await?;
    p.into_result()?;
    let point = territories.first().and_then(|c| Gazetteer::get().point(c));
    Ok(Profile {
        display_name,
        email,
        kind: input.kind,
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
        .await
        .map_err(unreadable("facilitator"))?
        .ok_or_else(|| {
            AppError::not_found(
                "aucun profil d'animateur·rice pour ce compte : inscrivez-vous d'abord",
            )
        })
}

/// The calling facilitator, refused (`FACILITATOR_SUSPENDED`) when suspended: a suspended
/// facilitator cannot act.
pub async fn acting<C: ConnectionTrait>(
    conn: &C,
    caller: &Caller,
) -> AppResult<facilitator::Model> {
    let me = mine(conn, caller).await?;
    if me.status == FacilitatorStatus::Suspended {
        return Err(AppError::new(
            ErrorCode::FacilitatorSuspended,
            "compte d'animateur·rice suspendu : action impossible",
        ));
    }
    Ok(me)
}

const ALREADY_REGISTERED: &str = "ce compte est déjà inscrit comme animateur·rice";

/// POST /v1/facilitators/me
#[utoipa::path(post, path = paths::MY_PROFILE, tag = "facilitators", request_body = FacilitatorProfileInput, responses((status = 201, body = FacilitatorView), (status = 409, description = "Déjà inscrit·e (ALREADY_EXISTS)", body = cafeia_platform::errors::Problem), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit, ou compte suspendu (FACILITATOR_SUSPENDED)", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn register(
    state: web::Data<State>,
    caller: Caller,
    input: Json<FacilitatorProfileInput>,
) -> AppResult<HttpResponse> {
    caller.require(Role::Facilitator)?;
    let db = &state.platform.db;
    let profile = validate(db, input.0).await?;
    let txn = cafeia_platform::db::begin(db).await?;
    if facilitator::Entity::find()
        .filter(facilitator::Column::Sub.eq(caller.sub.as_str()))
        .count(&txn)
        .await?
        > 0
    {
        return Err(AppError::new(ErrorCode::AlreadyExists, ALREADY_REGISTERED));
    }
    let erased_while_suspended = facilitator::Entity::find()
        .filter(facilitator::Column::Sub.eq(tombstone(&caller.sub)))
        .filter(facilitator::Column::Status.eq(FacilitatorStatus::Suspended))
        .count(&txn)
        .await?
        > 0;
    if erased_while_suspended {
        return Err(AppError::new(
            ErrorCode::FacilitatorSuspended,
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
        territories: Set(JsonText(profile.territories)),
        topics: Set(JsonText(profile.topics)),
        languages: Set(JsonText(profile.languages)),
        training_completed_on: Set(profile.training_completed_on),
        status: Set(FacilitatorStatus::Pending),
        status_reason: Set(None),
        lat: Set(profile.point.map(|p| p.0)),
        lon: Set(profile.point.map(|p| p.1)),
        created_at: Set(now),
        updated_at: Set(now),
        erased_at: Set(None),
    }
    .insert(&txn)
    .await
    // Two registrations of one account at once: the unique `sub` refuses the second.
    .map_err(|e| domain::already_exists(e, ALREADY_REGISTERED))?;
    write_areas(&txn, model.id, &profile.areas).await?;
    announce(&txn, messages::FACILITATOR_REGISTERED, &model).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Created().json(view(model)))
}

/// GET /v1/facilitators/me
#[utoipa::path(get, path = paths::MY_PROFILE, tag = "facilitators", responses((status = 200, body = FacilitatorView), (status = 404, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn me(state: web::Data<State>, caller: Caller) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(view(mine(&state.platform.db, &caller).await?)))
}

/// PATCH /v1/facilitators/me — replaces the editable profile; status is staff's business.
#[utoipa::path(patch, path = paths::MY_PROFILE, tag = "facilitators", request_body = FacilitatorProfileInput, responses((status = 404, description = "Aucun profil d'animateur·rice pour ce compte", body = cafeia_platform::errors::Problem), (status = 200, body = FacilitatorView), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn update_me(
    state: web::Data<State>,
    caller: Caller,
    input: Json<FacilitatorProfileInput>,
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
    model.territories = Set(JsonText(profile.territories));
    model.topics = Set(JsonText(profile.topics));
    model.languages = Set(JsonText(profile.languages));
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
        .await
        .map_err(unreadable("facilitator"))?
        .ok_or_else(|| AppError::not_found("animateur·rice introuvable"))?;
    if !in_scope(caller, &model) {
        return Err(AppError::forbidden(
            "cet·te animateur·rice n'est pas dans votre territoire",
        ));
    }
    Ok(model)
}

/// GET /v1/facilitators/{id} — staff within their territory.
#[utoipa::path(get, path = paths::FACILITATOR, tag = "facilitators", params(("id" = Uuid, Path, description = "Identifiant")), responses((status = 200, body = FacilitatorView), (status = 404, body = cafeia_platform::errors::Problem), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn get(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let model = for_staff(&state.platform.db, &caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view(model)))
}

/// GET /v1/facilitators/{id}/audit
#[utoipa::path(get, path = paths::FACILITATOR_AUDIT, tag = "facilitators", params(("id" = Uuid, Path, description = "Identifiant")), responses((status = 200, body = [AuditEntry]), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn audit_trail(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let model = for_staff(&state.platform.db, &caller, id.into_inner()).await?;
    let trail: Vec<AuditEntry> =
        cafeia_platform::audit::trail_seen_by(&state.platform.db, model.id, &caller)
            .await?
            .into_iter()
            .map(|e| AuditEntry {
                at: e.at,
                actor: e.actor,
                action: e.action,
                reason: e.reason,
                detail: e.detail,
            })
            .collect();
    Ok(HttpResponse::Ok().json(trail))
}

async fn decide(
    state: &State,
    caller: &Caller,
    id: Uuid,
    decision: Decision,
    reason: Option<String>,
) -> AppResult<HttpResponse> {
    let reason = cafeia_platform::validation::reason(
        reason,
        (decision == Decision::Suspend).then_some("une suspension doit être motivée"),
    )?;
    let db = &state.platform.db;
    let txn = cafeia_platform::db::begin(db).await?;
    let current = for_staff(&txn, caller, id).await?;
    let to = decision
        .apply(current.status)
        .map_err(|why| AppError::new(ErrorCode::InvalidTransition, why))?;
    if decision == Decision::Verify && current.training_completed_on.is_none() {
        return Err(AppError::invalid(
            "training_completed_on",
            "la formation d'animateur·rice Café IA doit être suivie avant la vérification",
        ));
    }
    let mut model = current.into_active_model();
    model.status = Set(to);
    model.status_reason = Set(if to == FacilitatorStatus::Suspended {
        reason.clone()
    } else {
        None
    });
    model.updated_at = Set(Utc::now());
    let model = model.update(&txn).await?;
    cafeia_platform::audit::record(
        &txn,
        caller.into(),
        decision.as_str(),
        "facilitator",
        model.id,
        reason.as_deref(),
    )
    .await?;
    // The mail is keyed by the audit entry just written: one mail per decision, written with it.
    let audited = cafeia_platform::audit::entity::Entity::find()
        .filter(cafeia_platform::audit::entity::Column::SubjectId.eq(model.id))
        .filter(cafeia_platform::audit::entity::Column::Action.eq(decision.as_str()))
        .order_by_desc(cafeia_platform::audit::entity::Column::Id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal("the decision's audit entry is missing"))?;
    let mailed = crate::mail::queue_decision(
        &txn,
        &model,
        decision,
        reason.as_deref(),
        audited.id,
        Utc::now(),
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
    if mailed {
        state.mail.wake();
    }
    Ok(HttpResponse::Ok().json(view(model)))
}

fn optional_body(body: Option<Json<DecisionInput>>) -> Option<String> {
    body.and_then(|b| b.0.reason)
}

#[utoipa::path(post, path = paths::VERIFY, tag = "facilitators", params(("id" = Uuid, Path, description = "Identifiant")), request_body(content = Option<DecisionInput>), responses((status = 200, body = FacilitatorView), (status = 409, description = "Décision impossible depuis ce statut (INVALID_TRANSITION)", body = cafeia_platform::errors::Problem), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
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

#[utoipa::path(post, path = paths::SUSPEND, tag = "facilitators", params(("id" = Uuid, Path, description = "Identifiant")), request_body = cafeia_api::decisions::RefusalInput, responses((status = 200, body = FacilitatorView), (status = 409, description = "Décision impossible depuis ce statut (INVALID_TRANSITION)", body = cafeia_platform::errors::Problem), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
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

#[utoipa::path(post, path = paths::REINSTATE, tag = "facilitators", params(("id" = Uuid, Path, description = "Identifiant")), request_body(content = Option<DecisionInput>), responses((status = 200, body = FacilitatorView), (status = 409, description = "Décision impossible depuis ce statut (INVALID_TRANSITION)", body = cafeia_platform::errors::Problem), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
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

/// GET /v1/facilitators — staff directory (coordinators see their territory only), in
/// registration order or nearest first; each page carries the total of the whole list.
#[utoipa::path(get, path = paths::FACILITATORS, tag = "facilitators", params(FacilitatorListQuery), responses((status = 200, body = Page<FacilitatorView>), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn list(
    state: web::Data<State>,
    caller: Caller,
    query: Query<FacilitatorListQuery>,
) -> AppResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let q = query.into_inner();
    let limit = paging::limit(q.limit)?;
    let after = paging::cursor(q.cursor.as_deref())?;
    let (departement, region) = scoped_filter(&caller, q.departement, q.region)?;
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
    if let Some(s) = q.status {
        select = select.filter(facilitator::Column::Status.eq(s));
    }
    if let Some(k) = q.kind {
        select = select.filter(facilitator::Column::Kind.eq(k));
    }
    let txn = cafeia_platform::db::snapshot(&state.platform.db).await?;
    let page = if let Some(near) = near {
        let (lat_min, lat_max, lon_min, lon_max) = near.bounds();
        let rows = select
            .filter(facilitator::Column::Lat.between(lat_min, lat_max))
            .filter(facilitator::Column::Lon.between(lon_min, lon_max))
            .order_by_asc(facilitator::Column::Id)
            .all(&txn)
            .await
            .map_err(unreadable("facilitator"))?;
        let ranked = near.page(rows, |m| Some((m.lat?, m.lon?)), |m| m.id, after, limit)?;
        Page {
            items: ranked
                .hits
                .into_iter()
                .map(|(d, m)| FacilitatorView {
                    distance_km: Some(d),
                    ..view(m)
                })
                .collect(),
            next_cursor: ranked.next_cursor,
            total: Some(ranked.total),
        }
    } else {
        let total = select.clone().count(&txn).await?;
        let mut select = select.order_by_asc(facilitator::Column::Id);
        if let Some(after) = after {
            select = select.filter(facilitator::Column::Id.gt(after));
        }
        let rows = select
            .limit(limit + 1)
            .all(&txn)
            .await
            .map_err(unreadable("facilitator"))?;
        let (rows, next_cursor) = paging::split(rows, limit, |m| m.id);
        Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
            total: Some(total),
        }
    };
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(page))
}

/// What anyone may see of a stored facilitator, with their organisation when they have one.
fn profile_view(
    model: facilitator::Model,
    organisation: Option<&organisation::Model>,
) -> FacilitatorProfileView {
    FacilitatorProfileView {
        id: model.id,
        display_name: model.display_name,
        kind: model.kind,
        organisation_id: model.organisation_id,
        organisation_name: organisation.map(|o| o.name.clone()),
        languages: model.languages.0,
        topics: model.topics.0,
        status: model.status,
    }
}

/// GET /v1/facilitators/profiles/batch?ids=… — public profiles, for anyone: verified
/// facilitators only (a pending person's name and a suspension are not public); erased and
/// unknown facilitators are absent.
#[utoipa::path(get, path = paths::FACILITATOR_PROFILES_BATCH, tag = "facilitators", params(BatchQuery), responses((status = 200, body = [FacilitatorProfileView]), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem)))]
pub async fn profiles(
    state: web::Data<State>,
    query: Query<BatchQuery>,
) -> AppResult<HttpResponse> {
    let ids = paging::batch(&query)?;
    if ids.is_empty() {
        return Ok(HttpResponse::Ok().json(Vec::<FacilitatorProfileView>::new()));
    }
    let txn = cafeia_platform::db::snapshot(&state.platform.db).await?;
    let rows = facilitator::Entity::find()
        .filter(facilitator::Column::Id.is_in(ids))
        .filter(facilitator::Column::ErasedAt.is_null())
        .filter(facilitator::Column::Status.eq(FacilitatorStatus::Verified))
        .order_by_asc(facilitator::Column::Id)
        .all(&txn)
        .await
        .map_err(unreadable("facilitator"))?;
    let organisation_ids: BTreeSet<Uuid> = rows.iter().filter_map(|m| m.organisation_id).collect();
    let organisations: BTreeMap<Uuid, organisation::Model> = if organisation_ids.is_empty() {
        BTreeMap::new()
    } else {
        organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(organisation_ids))
            .all(&txn)
            .await
            .map_err(unreadable("organisation"))?
            .into_iter()
            .map(|o| (o.id, o))
            .collect()
    };
    txn.commit().await?;
    let profiles = rows
        .into_iter()
        .map(|m| {
            let organisation = m.organisation_id.and_then(|id| organisations.get(&id));
            profile_view(m, organisation)
        })
        .collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(profiles))
}

/// GET /v1/facilitators/stats/departements — counts by status per département (scoped).
#[utoipa::path(get, path = paths::FACILITATOR_COUNTS, tag = "facilitators", responses((status = 200, body = [FacilitatorCount]), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn counts(state: web::Data<State>, caller: Caller) -> AppResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let (departement, region) = scoped_filter(&caller, None, None)?;
    let statuses: BTreeMap<Uuid, FacilitatorStatus> = facilitator::Entity::find()
        .filter(facilitator::Column::ErasedAt.is_null())
        .all(&state.platform.db)
        .await
        .map_err(unreadable("facilitator"))?
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
    let mut by_dep: BTreeMap<String, FacilitatorCount> = BTreeMap::new();
    for a in areas.all(&state.platform.db).await? {
        let Some(status) = statuses.get(&a.facilitator_id) else {
            continue;
        };
        let entry = by_dep
            .entry(a.departement.clone())
            .or_insert_with(|| FacilitatorCount {
                name: Gazetteer::get()
                    .departement(&a.departement)
                    .map(|d| d.name.clone())
                    .unwrap_or_default(),
                departement: a.departement.clone(),
                ..Default::default()
            });
        match status {
            FacilitatorStatus::Pending => entry.pending += 1,
            FacilitatorStatus::Verified => entry.verified += 1,
            FacilitatorStatus::Suspended => entry.suspended += 1,
        }
    }
    Ok(HttpResponse::Ok().json(by_dep.into_values().collect::<Vec<_>>()))
}

/// GET /v1/facilitators/me/export — everything held about the caller (GDPR access).
#[utoipa::path(get, path = paths::MY_DATA, tag = "facilitators", responses((status = 404, description = "Aucun profil d'animateur·rice pour ce compte", body = cafeia_platform::errors::Problem), (status = 200, description = "Toutes les données de la personne (JSON)")), security(("bearer" = [])))]
pub async fn export_me(state: web::Data<State>, caller: Caller) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let me = mine(db, &caller).await?;
    let organisation = match me.organisation_id {
        Some(id) => organisation::Entity::find_by_id(id)
            .one(db)
            .await
            .map_err(unreadable("organisation"))?,
        None => None,
    };
    let venues = venue::Entity::find()
        .filter(venue::Column::CreatedBy.eq(caller.sub.as_str()))
        .all(db)
        .await
        .map_err(unreadable("venue"))?;
    // Decisions about the person name the staff role, not the staff member's account.
    let trail = cafeia_platform::audit::trail_seen_by(db, me.id, &caller).await?;
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
#[utoipa::path(delete, path = paths::MY_PROFILE, tag = "facilitators", responses((status = 404, description = "Aucun profil d'animateur·rice pour ce compte", body = cafeia_platform::errors::Problem), (status = 204, description = "Données personnelles effacées")), security(("bearer" = [])))]
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
    // Their mail still queued holds their address: it goes with them.
    crate::mail::forget(&txn, id).await?;
    crate::digests::forget(&txn, id).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::NoContent().finish())
}
