//! REST routes of the catalogue, documented by `openapi.rs` (served at `/openapi.json`).

use crate::{imports, modules, providers, trainings};
use actix_web::web;

/// LHEO files from regional feeds reach tens of MB; the import streams them.
const IMPORT_LIMIT: usize = 512 * 1024 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(crate::openapi::document));
    cfg.service(
        web::scope("/v1")
            .route("/providers", web::post().to(providers::create))
            .route("/providers/{id}", web::get().to(providers::get))
            .route("/trainings", web::get().to(trainings::list))
            .route("/trainings", web::post().to(trainings::submit))
            .route("/trainings/export", web::get().to(imports::export))
            .service(
                web::resource("/trainings/import")
                    .app_data(web::PayloadConfig::new(IMPORT_LIMIT))
                    .route(web::post().to(imports::import)),
            )
            .route("/trainings/{id}", web::get().to(trainings::get))
            .route("/trainings/{id}", web::put().to(trainings::edit))
            .route("/trainings/{id}/jsonld", web::get().to(trainings::json_ld))
            .route(
                "/trainings/{id}/audit",
                web::get().to(trainings::audit_trail),
            )
            .route(
                "/trainings/{id}/publish",
                web::post().to(trainings::publish),
            )
            .route("/trainings/{id}/reject", web::post().to(trainings::reject))
            .route(
                "/trainings/{id}/withdraw",
                web::post().to(trainings::withdraw),
            )
            .route("/modules", web::get().to(modules::list))
            .route("/modules", web::post().to(modules::submit))
            .route("/modules/{id}", web::get().to(modules::get))
            .route("/modules/{id}", web::put().to(modules::edit))
            .route("/modules/{id}/review", web::post().to(modules::review)),
    );
}
