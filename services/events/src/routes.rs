//! REST routes of the events service, documented by `openapi.rs` (served at `/openapi.json`).

use crate::{attendance, calendar, jsonld, registrations, sessions};
use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(crate::openapi::document));
    cfg.service(
        web::scope("/v1")
            .route("/sessions", web::get().to(sessions::list))
            .route("/sessions", web::post().to(sessions::create))
            .route("/series", web::post().to(sessions::create_series))
            .route("/sessions/{id}", web::get().to(sessions::get))
            .route("/sessions/{id}", web::put().to(sessions::update))
            .route("/sessions/{id}/publish", web::post().to(sessions::publish))
            .route("/sessions/{id}/cancel", web::post().to(sessions::cancel))
            .route(
                "/sessions/{id}/complete",
                web::post().to(sessions::complete),
            )
            .route("/sessions/{id}/jsonld", web::get().to(jsonld::get))
            .route(
                "/sessions/{id}/calendar.ics",
                web::get().to(calendar::session),
            )
            .route(
                "/sessions/{id}/registrations",
                web::post().to(registrations::register),
            )
            .route(
                "/sessions/{id}/registrations",
                web::get().to(registrations::roll),
            )
            .route(
                "/sessions/{id}/attendance",
                web::put().to(attendance::report),
            )
            .route("/sessions/{id}/attendance", web::get().to(attendance::get))
            .route(
                "/registrations/cancel",
                web::post().to(registrations::cancel_with_token),
            )
            .route(
                "/registrations/erase",
                web::post().to(registrations::erase_with_token),
            )
            .route(
                "/registrations/{id}",
                web::delete().to(registrations::cancel),
            )
            .route("/me/sessions", web::get().to(sessions::mine))
            .route("/me/registrations", web::get().to(registrations::mine))
            .route(
                "/me/registrations",
                web::delete().to(registrations::erase_mine),
            )
            .route(
                "/me/calendar",
                web::post().to(calendar::create_private_feed),
            )
            .route(
                "/calendars/public.ics",
                web::get().to(calendar::public_feed),
            )
            .route(
                "/calendars/facilitators/{id}/feed.ics",
                web::get().to(calendar::facilitator_feed),
            )
            .route(
                "/calendars/private/{token}/feed.ics",
                web::get().to(calendar::private_feed),
            ),
    );
}
