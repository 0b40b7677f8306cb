//! REST routes of the facilitators service, documented by `openapi.rs` (served at
//! `/openapi.json`). Handlers are thin: they read the caller and the input, call the
//! operation, answer. The paths are the contract's (`cafeia_facilitators_api::paths`).

use crate::{digests, facilitators, organisations, territories, venues};
use actix_web::web;
use cafeia_facilitators_api::paths;

/// Largest import file accepted (a national export is a few MB).
const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::FACILITATORS, web::get().to(facilitators::list))
        .route(
            paths::FACILITATOR_COUNTS,
            web::get().to(facilitators::counts),
        )
        .route(paths::MY_PROFILE, web::post().to(facilitators::register))
        .route(paths::MY_PROFILE, web::get().to(facilitators::me))
        .route(paths::MY_PROFILE, web::patch().to(facilitators::update_me))
        .route(paths::MY_PROFILE, web::delete().to(facilitators::erase_me))
        .route(paths::MY_DATA, web::get().to(facilitators::export_me))
        .route(paths::MY_VENUES, web::get().to(venues::mine))
        // Before `{id}`, which would otherwise capture `profiles`.
        .route(
            paths::FACILITATOR_PROFILES_BATCH,
            web::get().to(facilitators::profiles),
        )
        .route(paths::DIGESTS_STOP, web::post().to(digests::stop_route))
        .route(paths::FACILITATOR, web::get().to(facilitators::get))
        .route(
            paths::FACILITATOR_AUDIT,
            web::get().to(facilitators::audit_trail),
        )
        .route(paths::VERIFY, web::post().to(facilitators::verify))
        .route(paths::SUSPEND, web::post().to(facilitators::suspend))
        .route(paths::REINSTATE, web::post().to(facilitators::reinstate))
        .route(paths::ORGANISATIONS, web::post().to(organisations::create))
        .route(paths::ORGANISATIONS, web::get().to(organisations::list))
        .route(paths::ORGANISATION, web::get().to(organisations::get))
        .route(paths::VENUES, web::get().to(venues::list))
        .route(paths::VENUES, web::post().to(venues::create))
        .route(paths::VENUES_EXPORT, web::get().to(venues::export))
        .route(paths::VENUES_BATCH, web::get().to(venues::batch))
        .service(
            web::resource(paths::VENUES_IMPORT)
                .app_data(web::PayloadConfig::new(IMPORT_LIMIT))
                .route(web::post().to(venues::import)),
        )
        // After the fixed `/v1/venues/…` paths, which `{id}` would otherwise capture.
        .route(paths::VENUE, web::get().to(venues::get))
        .route(paths::VENUE, web::put().to(venues::update))
        .route(paths::VENUE, web::delete().to(venues::remove))
        .route(paths::COMMUNES, web::get().to(territories::search))
        .route(paths::COMMUNE, web::get().to(territories::commune))
        .route(paths::POSTCODE, web::get().to(territories::postcode));
}
