//! REST routes of the events service, documented by `openapi.rs` (served at `/openapi.json`).
//! The paths are the contract's (`cafeia_events_api::paths`), which the typed client fills.

use crate::{attendance, calendar, jsonld, registrations, sessions};
use actix_web::web;
use cafeia_events_api::paths;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::SESSIONS, web::get().to(sessions::list))
        .route(paths::SESSIONS, web::post().to(sessions::create))
        // Before `SESSION`: its `{id}` would take `batch` for an id.
        .route(paths::SESSIONS_BATCH, web::get().to(sessions::batch))
        .route(paths::SESSIONS_BY_VENUE, web::get().to(sessions::by_venue))
        .route(
            paths::SESSIONS_BY_FACILITATOR,
            web::get().to(sessions::by_facilitator),
        )
        .route(paths::SERIES, web::post().to(sessions::create_series))
        .route(paths::SESSION, web::get().to(sessions::get))
        .route(paths::SESSION, web::put().to(sessions::update))
        .route(paths::SESSION_PUBLISH, web::post().to(sessions::publish))
        .route(paths::SESSION_CANCEL, web::post().to(sessions::cancel))
        .route(paths::SESSION_COMPLETE, web::post().to(sessions::complete))
        .route(paths::SESSION_JSONLD, web::get().to(jsonld::get))
        .route(paths::SESSION_CALENDAR, web::get().to(calendar::session))
        .route(
            paths::SESSION_REGISTRATIONS,
            web::post().to(registrations::register),
        )
        .route(
            paths::SESSION_REGISTRATIONS,
            web::get().to(registrations::roll),
        )
        .route(paths::SESSION_ATTENDANCE, web::put().to(attendance::report))
        .route(paths::SESSION_ATTENDANCE, web::get().to(attendance::get))
        .route(
            paths::REGISTRATIONS_CONFIRM,
            web::post().to(registrations::confirm),
        )
        .route(
            paths::REGISTRATIONS_CANCEL,
            web::post().to(registrations::cancel_with_token),
        )
        .route(
            paths::REGISTRATIONS_ERASE,
            web::post().to(registrations::erase_with_token),
        )
        .route(
            paths::REGISTRATIONS_STOP_REMINDERS,
            web::post().to(registrations::stop_reminders),
        )
        .route(paths::REGISTRATION, web::delete().to(registrations::cancel))
        .route(paths::MY_SESSIONS, web::get().to(sessions::mine))
        .route(paths::MY_REGISTRATIONS, web::get().to(registrations::mine))
        .route(
            paths::MY_REGISTRATIONS,
            web::delete().to(registrations::erase_mine),
        )
        .route(
            paths::MY_CALENDAR,
            web::post().to(calendar::create_private_feed),
        )
        .route(paths::PUBLIC_CALENDAR, web::get().to(calendar::public_feed))
        .route(
            paths::FACILITATOR_CALENDAR,
            web::get().to(calendar::facilitator_feed),
        )
        .route(
            paths::PRIVATE_CALENDAR,
            web::get().to(calendar::private_feed),
        );
}
