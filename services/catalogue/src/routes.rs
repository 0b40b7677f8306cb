//! REST routes of the catalogue (templates from the contract's `paths`), documented by
//! `openapi.rs` (served at `/openapi.json`).

use crate::{imports, modules, providers, trainings};
use actix_web::web;
use cafeia_catalogue_api::paths;

/// LHEO files from regional feeds reach tens of MB; the import streams them.
const IMPORT_LIMIT: usize = 512 * 1024 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::PROVIDERS, web::post().to(providers::create))
        // Each `…_BATCH` before the `{id}` route that would match it.
        .route(paths::PROVIDERS_BATCH, web::get().to(providers::batch))
        .route(paths::PROVIDER, web::get().to(providers::get))
        .route(paths::TRAININGS, web::get().to(trainings::list))
        .route(paths::TRAININGS, web::post().to(trainings::submit))
        // Before `TRAINING`, whose `{id}` would match them.
        .route(paths::TRAININGS_BATCH, web::get().to(trainings::batch))
        .route(paths::TRAININGS_EXPORT, web::get().to(imports::export))
        .service(
            web::resource(paths::TRAININGS_IMPORT)
                .app_data(web::PayloadConfig::new(IMPORT_LIMIT))
                .route(web::post().to(imports::import)),
        )
        .route(
            paths::TRAININGS_REVIEW,
            web::get().to(trainings::review_queue),
        )
        .route(paths::TRAINING, web::get().to(trainings::get))
        .route(paths::TRAINING, web::put().to(trainings::edit))
        .route(paths::TRAINING_JSON_LD, web::get().to(trainings::json_ld))
        .route(paths::TRAINING_AUDIT, web::get().to(trainings::audit_trail))
        .route(paths::TRAINING_EDITS, web::get().to(trainings::edits))
        .route(paths::TRAINING_PUBLISH, web::post().to(trainings::publish))
        .route(paths::TRAINING_REJECT, web::post().to(trainings::reject))
        .route(
            paths::TRAINING_WITHDRAW,
            web::post().to(trainings::withdraw),
        )
        .route(paths::MODULES, web::get().to(modules::list))
        .route(paths::MODULES, web::post().to(modules::submit))
        .route(paths::MODULES_BATCH, web::get().to(modules::batch))
        .route(paths::MODULES_REVIEW, web::get().to(modules::review_queue))
        .route(paths::MODULE, web::get().to(modules::get))
        .route(paths::MODULE, web::put().to(modules::edit))
        .route(paths::MODULE_REVIEW, web::post().to(modules::review));
}
