//! REST routes of the outreach service, documented by `openapi.rs` (served at `/openapi.json`).

use crate::reports;
use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(crate::openapi::document));
    cfg.service(
        web::scope("/v1")
            .route("/outreach/headline", web::get().to(reports::headline))
            .route("/outreach/breakdown", web::get().to(reports::breakdown))
            .route("/outreach/reach", web::get().to(reports::reach))
            .route("/outreach/gaps", web::get().to(reports::gaps))
            .route("/outreach/weekly", web::get().to(reports::weekly))
            .route("/outreach/export", web::get().to(reports::export))
            .route("/outreach/rebuild", web::post().to(reports::rebuild))
            .route("/open-data/reach", web::get().to(reports::open_data)),
    );
}
