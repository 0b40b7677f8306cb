//! REST routes of the matching service, documented by `openapi.rs` (served at `/openapi.json`).

use crate::{demand, recommend, search};
use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(crate::openapi::document));
    cfg.service(
        web::scope("/v1")
            .route("/search", web::get().to(search::search))
            .route("/recommendations", web::post().to(recommend::recommend))
            .route("/matching/demand", web::get().to(demand::view))
            .route("/matching/rebuild", web::post().to(recommend::rebuild)),
    );
}
