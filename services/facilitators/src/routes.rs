//! REST routes of the facilitators service, documented by `openapi.rs` (served at
//! `/openapi.json`). Handlers are thin: they read the caller and the input, call the
//! operation, answer.

use crate::{facilitators, organisations, venues};
use actix_web::web;

/// Largest import file accepted (a national export is a few MB).
const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(crate::openapi::document));
    cfg.service(
        web::scope("/v1")
            .route("/facilitators", web::get().to(facilitators::list))
            .route(
                "/facilitators/stats/departements",
                web::get().to(facilitators::counts),
            )
            .route("/facilitators/me", web::post().to(facilitators::register))
            .route("/facilitators/me", web::get().to(facilitators::me))
            .route("/facilitators/me", web::patch().to(facilitators::update_me))
            .route("/facilitators/me", web::delete().to(facilitators::erase_me))
            .route(
                "/facilitators/me/export",
                web::get().to(facilitators::export_me),
            )
            .route("/facilitators/{id}", web::get().to(facilitators::get))
            .route(
                "/facilitators/{id}/audit",
                web::get().to(facilitators::audit_trail),
            )
            .route(
                "/facilitators/{id}/verify",
                web::post().to(facilitators::verify),
            )
            .route(
                "/facilitators/{id}/suspend",
                web::post().to(facilitators::suspend),
            )
            .route(
                "/facilitators/{id}/reinstate",
                web::post().to(facilitators::reinstate),
            )
            .route("/organisations", web::post().to(organisations::create))
            .route("/organisations", web::get().to(organisations::list))
            .route("/organisations/{id}", web::get().to(organisations::get))
            .route("/venues", web::get().to(venues::list))
            .route("/venues", web::post().to(venues::create))
            .route("/venues/export", web::get().to(venues::export))
            .service(
                web::resource("/venues/import")
                    .app_data(web::PayloadConfig::new(IMPORT_LIMIT))
                    .route(web::post().to(venues::import)),
            )
            .route("/venues/{id}", web::get().to(venues::get))
            .route("/venues/{id}", web::put().to(venues::update))
            .route("/venues/{id}", web::delete().to(venues::remove))
            .route(
                "/territories/communes/{insee}",
                web::get().to(crate::territories::commune),
            )
            .route(
                "/territories/postcodes/{postcode}",
                web::get().to(crate::territories::postcode),
            ),
    );
}
