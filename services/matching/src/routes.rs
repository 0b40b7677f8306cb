//! REST routes of the matching service (the contract's paths), documented by `openapi.rs`
//! (served at `/openapi.json`).

use crate::{demand, recommend, search};
use actix_web::web;
use cafeia_matching_api::paths;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::SEARCH, web::get().to(search::search))
        .route(paths::RECOMMENDATIONS, web::post().to(recommend::recommend))
        .route(paths::DEMAND, web::get().to(demand::view))
        .route(paths::REBUILD, web::post().to(recommend::rebuild));
}
