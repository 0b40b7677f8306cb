//! Training providers (organismes), identified by SIRET. A provider's token carries its SIRET
//! and may only act for it.

use crate::{
    State,
    storage::{Rows, provider},
};
use actix_web::{HttpResponse, web};
use cafeia_api::batch::BatchQuery;
use cafeia_catalogue_api::{ProviderInput, ProviderView, paths};
use cafeia_platform::{
    AppError, ErrorCode,
    auth::{Caller, Role},
    errors::AppResult,
    http::{Json, Query},
    paging,
    validation::{Problems, email, valid_siret},
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    SqlErr,
};
use uuid::Uuid;

pub fn view(m: provider::Model) -> ProviderView {
    ProviderView {
        id: m.id,
        siret: m.siret,
        name: m.name,
        kind: m.kind,
        email: m.email,
        website: m.website,
    }
}

/// Whether the caller acts as the catalogue's staff: `true` for national staff, `false` for
/// anyone who is not staff; a coordinator (staff of a région or a département) is refused
/// (`FORBIDDEN`): the catalogue is national, coordinators neither review nor edit it.
pub fn catalogue_staff(caller: &Caller) -> AppResult<bool> {
    if caller.is_national_staff() {
        Ok(true)
    } else if caller.has(Role::Staff) {
        Err(AppError::forbidden(
            "le catalogue national est géré par l'équipe nationale",
        ))
    } else {
        Ok(false)
    }
}

/// National staff act for any provider; a provider only for the SIRET in its token.
pub fn may_act_for(caller: &Caller, siret: &str) -> AppResult<()> {
    if catalogue_staff(caller)? {
        return Ok(());
    }
    caller.require(Role::Provider)?;
    if caller.siret.as_deref() == Some(siret) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "votre jeton ne vous autorise pas à agir pour cet organisme",
        ))
    }
}

pub async fn by_siret<C: ConnectionTrait>(
    conn: &C,
    siret: &str,
) -> AppResult<Option<provider::Model>> {
    Ok(provider::Entity::find()
        .filter(provider::Column::Siret.eq(siret))
        .row(conn)
        .await?)
}

fn already_declared() -> AppError {
    AppError::new(
        ErrorCode::AlreadyExists,
        "un organisme avec ce SIRET existe déjà",
    )
}

#[utoipa::path(post, path = paths::PROVIDERS, tag = "providers", request_body = ProviderInput,
    responses((status = 201, body = ProviderView), (status = 400, body = cafeia_platform::errors::Problem),
              (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<State>,
    caller: Caller,
    input: Json<ProviderInput>,
) -> AppResult<HttpResponse> {
    let input = input.0;
    let siret = input.siret.replace(' ', "");
    let mut p = Problems::default();
    p.check(
        valid_siret(&siret),
        "siret",
        "SIRET invalide (14 chiffres, clé de contrôle Luhn)",
    );
    let name = p.text("name", &input.name, 200);
    let mail = input
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(|e| email(e, &mut p));
    if let Some(w) = &input.website {
        p.check(
            w.starts_with("https://") || w.starts_with("http://"),
            "website",
            "URL http(s) attendue",
        );
    }
    p.into_result()?;
    may_act_for(&caller, &siret)?;
    let db = &state.platform.db;
    if by_siret(db, &siret).await?.is_some() {
        return Err(already_declared());
    }
    let now = Utc::now();
    let model = provider::ActiveModel {
        id: Set(Uuid::now_v7()),
        siret: Set(siret),
        name: Set(name),
        kind: Set(input.kind),
        email: Set(mail),
        website: Set(input.website),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| match e.sql_err() {
        // Declared at the same moment by another request.
        Some(SqlErr::UniqueConstraintViolation(_)) => already_declared(),
        _ => e.into(),
    })?;
    Ok(HttpResponse::Created().json(view(model)))
}

#[utoipa::path(get, path = paths::PROVIDER, tag = "providers", params(("id" = Uuid, Path, description = "Identifiant")),
    responses((status = 200, body = ProviderView), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn get(state: web::Data<State>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let model = provider::Entity::find_by_id(id.into_inner())
        .row(&state.platform.db)
        .await?
        .ok_or_else(|| AppError::not_found("organisme introuvable"))?;
    Ok(HttpResponse::Ok().json(view(model)))
}

#[utoipa::path(get, path = paths::PROVIDERS_BATCH, tag = "providers", params(BatchQuery),
    responses((status = 200, body = [ProviderView], description = "Les organismes trouvés ; les identifiants inconnus sont absents"),
              (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn batch(state: web::Data<State>, query: Query<BatchQuery>) -> AppResult<HttpResponse> {
    let ids = paging::batch(&query)?;
    let models = if ids.is_empty() {
        Vec::new()
    } else {
        provider::Entity::find()
            .filter(provider::Column::Id.is_in(ids))
            .rows(&state.platform.db)
            .await?
    };
    Ok(HttpResponse::Ok().json(models.into_iter().map(view).collect::<Vec<_>>()))
}
