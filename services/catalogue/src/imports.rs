//! LHEO over HTTP: staff import a file (streamed, never held whole in memory) and anyone can
//! export the published catalogue.

use crate::{
    State, lheo,
    storage::{Rows, provider, training},
    store,
};
use actix_web::{HttpResponse, web};
use cafeia_catalogue_api::{LheoImportSummary, ReviewStatus, paths};
use cafeia_platform::{AppError, auth::Caller, errors::AppResult};
use futures::StreamExt;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use std::{collections::HashMap, sync::Arc};

#[utoipa::path(post, path = paths::TRAININGS_IMPORT, tag = "trainings",
    request_body(content = String, description = "Document LHEO (XML, UTF-8)", content_type = "application/xml"),
    responses((status = 200, body = LheoImportSummary), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)),
    security(("bearer" = [])))]
pub async fn import(
    state: web::Data<State>,
    caller: Caller,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    if !caller.is_national_staff() {
        return Err(AppError::forbidden(
            "l'import LHEO est réservé à l'équipe nationale",
        ));
    }
    // The request body streams into the parser: memory stays bounded whatever the file size.
    let stream = payload.map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())));
    let reader = tokio::io::BufReader::new(tokio_util::io::StreamReader::new(stream));
    let summary = lheo::import(&state.platform.db, &caller.sub, reader, Arc::default()).await?;
    if summary.created + summary.updated > 0 {
        state.platform.outbox.wake();
    }
    Ok(HttpResponse::Ok().json(summary))
}

#[utoipa::path(get, path = paths::TRAININGS_EXPORT, tag = "trainings",
    responses((status = 200, description = "Catalogue publié au format LHEO (application/xml)")))]
pub async fn export(state: web::Data<State>) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let rows = training::Entity::find()
        .filter(training::Column::Status.eq(ReviewStatus::Published))
        .order_by_asc(training::Column::Id)
        .rows(db)
        .await?;
    let providers: HashMap<_, _> = provider::Entity::find()
        .rows(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    // Every programme has its provider (`fk_training_provider`): one missing is an error, not
    // a programme left out of the export.
    let rows = store::load_many(db, rows)
        .await?
        .into_iter()
        .map(|full| {
            let id = full.training.provider_id;
            let provider = providers.get(&id).cloned().ok_or_else(|| {
                AppError::internal(std::io::Error::other(format!(
                    "table training: programme {} without provider {id}",
                    full.training.id
                )))
            })?;
            Ok((full, provider))
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .body(lheo::export(&rows)))
}
