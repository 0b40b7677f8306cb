//! Open educational modules facilitators use to run an AI Café: submitted by national staff or
//! providers, published by national staff, versioned. The catalogue is national: coordinators
//! neither submit, edit nor review modules, as for programmes ([`catalogue_staff`]).

use crate::{
    State,
    domain::{self, ReviewDecision, ReviewStatus},
    messages::{self, ModuleState, Withdrawn},
    providers::catalogue_staff,
    storage::{Rows, holds, module},
};
use actix_web::{HttpResponse, web};
use cafeia_api::batch::BatchQuery;
use cafeia_catalogue_api::{
    ModuleInput, ModuleQuery, ModuleReviewInput, ModuleView, ReviewQueueQuery, paths,
};
use cafeia_platform::{
    AppError, ErrorCode, audit,
    auth::{Caller, MaybeCaller, Role},
    envelope::Envelope,
    errors::AppResult,
    http::{Json, Query},
    outbox,
    paging::{self, Page},
    validation::Problems,
    vocabulary,
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

fn view(m: module::Model) -> ModuleView {
    ModuleView {
        module: state_of(&m),
        status: m.status,
        status_reason: m.status_reason,
    }
}

/// The message state of a module (also the content of its view).
pub(crate) fn state_of(m: &module::Model) -> ModuleState {
    ModuleState {
        id: m.id,
        title: m.title.clone(),
        summary: m.summary.clone(),
        duration_minutes: m.duration_minutes,
        level: m.level,
        audiences: m.audiences.0.clone(),
        topics: m.topics.0.clone(),
        licence: m.licence.clone(),
        resources: m.resources.0.clone(),
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
        cafeia_platform::vocabulary::LICENCES.contains(&input.licence.trim()),
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
            url.starts_with("https://") && url.chars().count() <= 500,
            &format!("resources[{i}]"),
            "URL https attendue",
        );
    }
    let version = p.text("version", &input.version, 40);
    p.into_result()?;
    model.duration_minutes = Set(input.duration_minutes);
    model.level = Set(input.level);
    model.audiences = Set(domain::sorted(&input.audiences).into());
    model.topics = Set(topics.into());
    model.licence = Set(input.licence.trim().to_owned());
    model.resources = Set(input.resources.clone().into());
    model.version = Set(version);
    model.updated_at = Set(Utc::now());
    Ok(())
}

#[utoipa::path(post, path = paths::MODULES, tag = "modules", request_body = ModuleInput,
    responses((status = 201, body = ModuleView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn submit(
    state: web::Data<State>,
    caller: Caller,
    input: Json<ModuleInput>,
) -> AppResult<HttpResponse> {
    caller.require_any(&[Role::Staff, Role::Provider])?;
    catalogue_staff(&caller)?;
    let now = Utc::now();
    let mut model = module::ActiveModel {
        id: Set(Uuid::now_v7()),
        status: Set(ReviewStatus::Submitted),
        status_reason: Set(None),
        submitted_by: Set(caller.sub.clone()),
        created_at: Set(now),
        ..Default::default()
    };
    validate(&input.0, &mut model)?;
    let txn = cafeia_platform::db::begin(&state.platform.db).await?;
    let model = model.insert(&txn).await?;
    audit::record(&txn, (&caller).into(), "submit", "module", model.id, None).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(view(model)))
}

async fn editable(state: &State, caller: &Caller, id: Uuid) -> AppResult<module::Model> {
    let model = module::Entity::find_by_id(id)
        .row(&state.platform.db)
        .await?
        .ok_or_else(|| AppError::not_found("module introuvable"))?;
    if !catalogue_staff(caller)? && model.submitted_by != caller.sub {
        return Err(AppError::forbidden(
            "seule l'équipe nationale ou l'auteur·rice modifie ce module",
        ));
    }
    Ok(model)
}

#[utoipa::path(put, path = paths::MODULE, tag = "modules", params(("id" = Uuid, Path, description = "Identifiant")), request_body = ModuleInput,
    responses((status = 200, body = ModuleView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn edit(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Json<ModuleInput>,
) -> AppResult<HttpResponse> {
    let current = editable(&state, &caller, id.into_inner()).await?;
    if current.status == ReviewStatus::Withdrawn {
        return Err(AppError::new(
            ErrorCode::InvalidTransition,
            "un module retiré ne se modifie plus",
        ));
    }
    let published = current.status == ReviewStatus::Published;
    let rejected = current.status == ReviewStatus::Rejected;
    let mut model = current.into_active_model();
    validate(&input.0, &mut model)?;
    if rejected {
        // A corrected module goes back to review.
        model.status = Set(ReviewStatus::Submitted);
        model.status_reason = Set(None);
    }
    let txn = cafeia_platform::db::begin(&state.platform.db).await?;
    let model = model.update(&txn).await?;
    audit::record(&txn, (&caller).into(), "edit", "module", model.id, None).await?;
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

#[utoipa::path(post, path = paths::MODULE_REVIEW, tag = "modules", params(("id" = Uuid, Path, description = "Identifiant")), request_body = ModuleReviewInput,
    responses((status = 200, body = ModuleView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn review(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Json<ModuleReviewInput>,
) -> AppResult<HttpResponse> {
    // Staff without a scope are refused naming the claim; coordinators as for programmes.
    caller.require(Role::Staff)?;
    catalogue_staff(&caller)?;
    let decision = input.0.decision;
    let reason = cafeia_platform::validation::reason(
        input.0.reason,
        (decision == ReviewDecision::Reject).then_some("un refus doit être motivé"),
    )?;
    let txn = cafeia_platform::db::begin(&state.platform.db).await?;
    let current = module::Entity::find_by_id(id.into_inner())
        .row(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("module introuvable"))?;
    let to = domain::decide(decision, current.status)
        .map_err(|why| AppError::new(ErrorCode::InvalidTransition, why))?;
    let mut model = current.into_active_model();
    model.status = Set(to);
    model.status_reason = Set(if to == ReviewStatus::Rejected {
        reason.clone()
    } else {
        None
    });
    let model = model.update(&txn).await?;
    audit::record(
        &txn,
        (&caller).into(),
        decision.as_str(),
        "module",
        model.id,
        reason.as_deref(),
    )
    .await?;
    match to {
        ReviewStatus::Published => {
            let envelope = Envelope::new(
                messages::MODULE_PUBLISHED,
                format!("module/{}", model.id),
                state_of(&model),
            );
            outbox::enqueue(&txn, messages::MODULE_PUBLISHED, &envelope).await?;
        }
        ReviewStatus::Withdrawn => {
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

#[utoipa::path(get, path = paths::MODULE, tag = "modules", params(("id" = Uuid, Path, description = "Identifiant")),
    responses((status = 200, body = ModuleView), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn get(
    state: web::Data<State>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let model = module::Entity::find_by_id(id.into_inner())
        .row(&state.platform.db)
        .await?
        .filter(|m| may_see(&caller, m))
        .ok_or_else(|| AppError::not_found("module introuvable"))?;
    Ok(HttpResponse::Ok().json(view(model)))
}

/// Published modules to everyone; others to staff and their author.
fn may_see(caller: &MaybeCaller, m: &module::Model) -> bool {
    m.status == ReviewStatus::Published
        || caller
            .0
            .as_ref()
            .is_some_and(|c| c.has(Role::Staff) || c.sub == m.submitted_by)
}

#[utoipa::path(get, path = paths::MODULES_BATCH, tag = "modules", params(BatchQuery),
    responses((status = 200, body = [ModuleView], description = "Les modules trouvés que l'appelant peut voir (comme `GET /v1/modules/{id}`) ; les autres sont absents"),
              (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn batch(
    state: web::Data<State>,
    caller: MaybeCaller,
    query: Query<BatchQuery>,
) -> AppResult<HttpResponse> {
    let ids = paging::batch(&query)?;
    let models = if ids.is_empty() {
        Vec::new()
    } else {
        module::Entity::find()
            .filter(module::Column::Id.is_in(ids))
            .rows(&state.platform.db)
            .await?
    };
    let items: Vec<ModuleView> = models
        .into_iter()
        .filter(|m| may_see(&caller, m))
        .map(view)
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

#[utoipa::path(get, path = paths::MODULES, tag = "modules", params(ModuleQuery),
    responses((status = 200, body = Page<ModuleView>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn list(state: web::Data<State>, query: Query<ModuleQuery>) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let limit = paging::limit(q.limit)?;
    let mut select =
        module::Entity::find().filter(module::Column::Status.eq(ReviewStatus::Published));
    if let Some(topic) = &q.topic {
        if !vocabulary::TOPICS.contains(&topic.as_str()) {
            return Err(AppError::invalid(
                "topic",
                format!("thème inconnu : {topic:?}"),
            ));
        }
        select = select.filter(holds(module::Column::Topics, topic));
    }
    if let Some(level) = q.level {
        select = select.filter(module::Column::Level.eq(level));
    }
    let after = paging::cursor(q.cursor.as_deref())?;
    let read = cafeia_platform::db::snapshot(&state.platform.db).await?;
    let total = select.clone().count(&read).await?;
    if let Some(after) = after {
        select = select.filter(module::Column::Id.gt(after));
    }
    let rows = select
        .order_by_asc(module::Column::Id)
        .limit(limit + 1)
        .rows(&read)
        .await?;
    read.commit().await?;
    Ok(HttpResponse::Ok().json(Page {
        total: Some(total),
        ..paging::page(rows, limit, |m| m.id, view)
    }))
}

#[utoipa::path(get, path = paths::MODULES_REVIEW, tag = "modules", params(ReviewQueueQuery),
    responses((status = 200, body = Page<ModuleView>, description = "Les modules soumis, le plus ancien d'abord"),
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
    let total = module::Entity::find()
        .filter(module::Column::Status.eq(ReviewStatus::Submitted))
        .count(&read)
        .await?;
    let columns = crate::review::Columns {
        id: module::Column::Id,
        status: module::Column::Status,
        updated_at: module::Column::UpdatedAt,
    };
    let rows = crate::review::submitted::<module::Entity, _>(&read, &columns, after, limit).await?;
    read.commit().await?;
    Ok(HttpResponse::Ok().json(Page {
        total: Some(total),
        ..paging::page(rows, limit, |m| m.id, view)
    }))
}
