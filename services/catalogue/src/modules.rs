//! Open educational modules facilitators use to run an AI Café: submitted by staff or
//! providers, published by staff, versioned.

use crate::{
    State,
    domain::{Audience, Level, Review, Status},
    messages::{self, ModuleState, Withdrawn},
    storage::module,
    store::{from_json, to_json},
};
use actix_web::{HttpResponse, web};
use cafeia_platform::{
    AppError, audit,
    auth::{Caller, MaybeCaller, Role},
    envelope::Envelope,
    errors::AppResult,
    http::Json,
    outbox,
    paging::{self, Page},
    validation::{Problems, wire_name},
    vocabulary,
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Licences accepted for open modules.
pub const LICENCES: [&str; 5] = [
    "CC BY 4.0",
    "CC BY-SA 4.0",
    "CC0 1.0",
    "Licence Ouverte 2.0",
    "CC BY-NC-SA 4.0",
];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModuleInput {
    pub title: String,
    pub summary: String,
    pub duration_minutes: i32,
    pub level: Level,
    pub audiences: Vec<Audience>,
    pub topics: Vec<String>,
    pub licence: String,
    /// URLs of the slides, guides, activity sheets…
    pub resources: Vec<String>,
    pub version: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModuleView {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    pub duration_minutes: i32,
    pub level: String,
    pub audiences: Vec<String>,
    pub topics: Vec<String>,
    pub licence: String,
    pub resources: Vec<String>,
    pub version: String,
    pub status: String,
    pub status_reason: Option<String>,
}

fn view(m: module::Model) -> ModuleView {
    ModuleView {
        audiences: from_json(&m.audiences),
        topics: from_json(&m.topics),
        resources: from_json(&m.resources),
        id: m.id,
        title: m.title,
        summary: m.summary,
        duration_minutes: m.duration_minutes,
        level: m.level,
        licence: m.licence,
        version: m.version,
        status: m.status,
        status_reason: m.status_reason,
    }
}

fn state_of(m: &module::Model) -> ModuleState {
    ModuleState {
        id: m.id,
        title: m.title.clone(),
        summary: m.summary.clone(),
        duration_minutes: m.duration_minutes,
        level: m.level.clone(),
        audiences: from_json(&m.audiences),
        topics: from_json(&m.topics),
        licence: m.licence.clone(),
        resources: from_json(&m.resources),
        version: m.version.clone(),
    }
}

fn validate(input: &ModuleInput, model: &mut module::ActiveModel) -> AppResult<()> {
    let mut p = Problems::default();
    model.title = Set(p.text("title", &input.title, 200));
    model.summary = Set(p.text("summary", &input.summary, 2000));
    p.check(
        (5..=600).contains(&input.duration_minutes),
        "duration_minutes",
        "entre 5 et 600 minutes",
    );
    p.check(
        !input.audiences.is_empty(),
        "audiences",
        "au moins un public",
    );
    let topics = vocabulary::topics(&input.topics, "topics", &mut p);
    p.check(!input.topics.is_empty(), "topics", "au moins un thème");
    p.check(
        LICENCES.contains(&input.licence.trim()),
        "licence",
        "licence ouverte attendue (ex. CC BY-SA 4.0)",
    );
    p.check(
        !input.resources.is_empty() && input.resources.len() <= 50,
        "resources",
        "entre 1 et 50 ressources",
    );
    for (i, url) in input.resources.iter().enumerate() {
        p.check(
            url.starts_with("https://") && url.len() <= 500,
            &format!("resources[{i}]"),
            "URL https attendue",
        );
    }
    let version = p.text("version", &input.version, 40);
    p.into_result()?;
    let mut audiences = input.audiences.clone();
    audiences.sort();
    audiences.dedup();
    model.duration_minutes = Set(input.duration_minutes);
    model.level = Set(wire_name(&input.level));
    model.audiences = Set(to_json(
        &audiences.iter().map(wire_name).collect::<Vec<_>>(),
    ));
    model.topics = Set(to_json(&topics));
    model.licence = Set(input.licence.trim().to_owned());
    model.resources = Set(to_json(&input.resources));
    model.version = Set(version);
    model.updated_at = Set(Utc::now());
    Ok(())
}

#[utoipa::path(post, path = "/v1/modules", tag = "modules", request_body = ModuleInput,
    responses((status = 201, body = ModuleView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn submit(
    state: web::Data<State>,
    caller: Caller,
    input: Json<ModuleInput>,
) -> AppResult<HttpResponse> {
    caller.require_any(&[Role::Staff, Role::Provider])?;
    let now = Utc::now();
    let mut model = module::ActiveModel {
        id: Set(Uuid::now_v7()),
        status: Set(Status::Submitted.as_str().into()),
        status_reason: Set(None),
        submitted_by: Set(caller.sub.clone()),
        created_at: Set(now),
        ..Default::default()
    };
    validate(&input.0, &mut model)?;
    let txn = cafeia_platform::db::begin(&state.platform.db).await?;
    let model = model.insert(&txn).await?;
    audit::record(&txn, &caller.sub, "submit", "module", model.id, None).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(view(model)))
}

async fn editable(state: &State, caller: &Caller, id: Uuid) -> AppResult<module::Model> {
    let model = module::Entity::find_by_id(id)
        .one(&state.platform.db)
        .await?
        .ok_or_else(|| AppError::not_found("module introuvable"))?;
    if !caller.has(Role::Staff) && model.submitted_by != caller.sub {
        return Err(AppError::forbidden(
            "seule l'équipe ou l'auteur·rice modifie ce module",
        ));
    }
    Ok(model)
}

#[utoipa::path(put, path = "/v1/modules/{id}", tag = "modules", params(("id" = Uuid, Path, description = "Identifiant")), request_body = ModuleInput,
    responses((status = 200, body = ModuleView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn edit(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Json<ModuleInput>,
) -> AppResult<HttpResponse> {
    let current = editable(&state, &caller, id.into_inner()).await?;
    if current.status == Status::Withdrawn.as_str() {
        return Err(AppError::conflict("un module retiré ne se modifie plus"));
    }
    let published = current.status == Status::Published.as_str();
    let rejected = current.status == Status::Rejected.as_str();
    let mut model = current.into_active_model();
    validate(&input.0, &mut model)?;
    if rejected {
        // A corrected module goes back to review.
        model.status = Set(Status::Submitted.as_str().into());
        model.status_reason = Set(None);
    }
    let txn = cafeia_platform::db::begin(&state.platform.db).await?;
    let model = model.update(&txn).await?;
    audit::record(&txn, &caller.sub, "edit", "module", model.id, None).await?;
    if published {
        let envelope = Envelope::new(
            messages::MODULE_PUBLISHED,
            format!("module/{}", model.id),
            state_of(&model),
        );
        outbox::enqueue(&txn, messages::MODULE_PUBLISHED, &envelope).await?;
    }
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(model)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// publish, reject or withdraw
    pub decision: String,
    #[serde(default)]
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/modules/{id}/review", tag = "modules", params(("id" = Uuid, Path, description = "Identifiant")), request_body = ReviewInput,
    responses((status = 200, body = ModuleView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn review(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Json<ReviewInput>,
) -> AppResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let decision = match input.0.decision.as_str() {
        "publish" => Review::Publish,
        "reject" => Review::Reject,
        "withdraw" => Review::Withdraw,
        _ => return Err(AppError::invalid("decision", "publish, reject ou withdraw")),
    };
    let reason = input
        .0
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if decision == Review::Reject && reason.is_none() {
        return Err(AppError::invalid("reason", "un refus doit être motivé"));
    }
    let txn = cafeia_platform::db::begin(&state.platform.db).await?;
    let current = module::Entity::find_by_id(id.into_inner())
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("module introuvable"))?;
    let to = decision
        .apply(Status::parse(&current.status).unwrap_or(Status::Submitted))
        .map_err(|why| AppError::conflict(why.to_owned()))?;
    let mut model = current.into_active_model();
    model.status = Set(to.as_str().into());
    model.status_reason = Set(if to == Status::Rejected {
        reason.clone()
    } else {
        None
    });
    let model = model.update(&txn).await?;
    audit::record(
        &txn,
        &caller.sub,
        decision.as_str(),
        "module",
        model.id,
        reason.as_deref(),
    )
    .await?;
    match to {
        Status::Published => {
            let envelope = Envelope::new(
                messages::MODULE_PUBLISHED,
                format!("module/{}", model.id),
                state_of(&model),
            );
            outbox::enqueue(&txn, messages::MODULE_PUBLISHED, &envelope).await?;
        }
        Status::Withdrawn => {
            let envelope = Envelope::new(
                messages::MODULE_WITHDRAWN,
                format!("module/{}", model.id),
                Withdrawn { id: model.id },
            );
            outbox::enqueue(&txn, messages::MODULE_WITHDRAWN, &envelope).await?;
        }
        _ => {}
    }
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(model)))
}

#[utoipa::path(get, path = "/v1/modules/{id}", tag = "modules", params(("id" = Uuid, Path, description = "Identifiant")),
    responses((status = 200, body = ModuleView), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn get(
    state: web::Data<State>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let model = module::Entity::find_by_id(id.into_inner())
        .one(&state.platform.db)
        .await?
        .filter(|m| {
            m.status == Status::Published.as_str()
                || caller
                    .0
                    .as_ref()
                    .is_some_and(|c| c.has(Role::Staff) || c.sub == m.submitted_by)
        })
        .ok_or_else(|| AppError::not_found("module introuvable"))?;
    Ok(HttpResponse::Ok().json(view(model)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub topic: Option<String>,
    pub level: Option<Level>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

#[utoipa::path(get, path = "/v1/modules", tag = "modules", params(ListQuery),
    responses((status = 200, body = Page<ModuleView>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn list(
    state: web::Data<State>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let limit = paging::limit(q.limit)?;
    let mut select =
        module::Entity::find().filter(module::Column::Status.eq(Status::Published.as_str()));
    if let Some(topic) = &q.topic {
        if !vocabulary::TOPICS.contains(&topic.as_str()) {
            return Err(AppError::invalid(
                "topic",
                format!("thème inconnu : {topic:?}"),
            ));
        }
        select = select.filter(module::Column::Topics.contains(format!("\"{topic}\"")));
    }
    if let Some(level) = q.level {
        select = select.filter(module::Column::Level.eq(wire_name(&level)));
    }
    if let Some(after) = paging::cursor(q.cursor.as_deref())? {
        select = select.filter(module::Column::Id.gt(after));
    }
    let rows = select
        .order_by_asc(module::Column::Id)
        .limit(limit + 1)
        .all(&state.platform.db)
        .await?;
    Ok(HttpResponse::Ok().json(paging::page(rows, limit, |m| m.id, view)))
}
