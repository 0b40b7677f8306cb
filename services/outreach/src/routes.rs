//! REST routes of the outreach service, documented by `openapi.rs` (served at `/openapi.json`);
//! the paths are the contract's.

use crate::reports;
use actix_web::web;
use cafeia_outreach_api::paths;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::HEADLINE, web::get().to(reports::headline))
        .route(paths::BREAKDOWN, web::get().to(reports::breakdown))
        .route(paths::REACH, web::get().to(reports::reach))
        .route(paths::GAPS, web::get().to(reports::gaps))
        .route(paths::WEEKLY, web::get().to(reports::weekly))
        .route(paths::DASHBOARD, web::get().to(reports::dashboard))
        .route(paths::EXPORT, web::get().to(reports::export))
        .route(paths::REBUILD, web::post().to(reports::rebuild))
        .route(paths::OPEN_DATA_REACH, web::get().to(reports::open_data));
}
