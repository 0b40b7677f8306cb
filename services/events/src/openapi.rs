//! The OpenAPI 3.1 document of the events REST API, served at `/openapi.json`.

use cafeia_events_api as api;
use cafeia_platform::openapi::BearerAuth;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Café IA — events", description = "Sessions de Café IA : publication, inscriptions avec capacité stricte et liste d'attente, présence, calendriers."),
    paths(
        crate::sessions::create,
        crate::sessions::create_series,
        crate::sessions::list,
        crate::sessions::batch,
        crate::sessions::by_venue,
        crate::sessions::by_facilitator,
        crate::sessions::get,
        crate::sessions::update,
        crate::sessions::publish,
        crate::sessions::cancel,
        crate::sessions::complete,
        crate::sessions::mine,
        crate::jsonld::get,
        crate::registrations::register,
        crate::registrations::roll,
        crate::registrations::confirm,
        crate::registrations::cancel,
        crate::registrations::cancel_with_token,
        crate::registrations::erase_with_token,
        crate::registrations::stop_reminders,
        crate::registrations::erase_mine,
        crate::registrations::mine,
        crate::attendance::report,
        crate::attendance::get,
        crate::calendar::session,
        crate::calendar::facilitator_feed,
        crate::calendar::public_feed,
        crate::calendar::create_private_feed,
        crate::calendar::private_feed,
    ),
    components(schemas(
        cafeia_platform::errors::Problem,
        cafeia_platform::errors::FieldError,
        cafeia_platform::ErrorCode,
        api::SessionStatus,
        api::RegistrationStatus,
        api::RegistrationMode,
        api::Accessibility,
        api::Frequency,
        api::SessionInput,
        api::Recurrence,
        api::SeriesInput,
        api::CancelInput,
        api::RegistrationInput,
        api::TokenInput,
        api::AttendanceInput,
        api::RollCall,
        api::SessionView,
        api::SessionPlace,
        api::FacilitatorRef,
        api::SeriesView,
        api::SessionGroup,
        api::RegistrationView,
        api::RegistrationPending,
        api::MyRegistration,
        api::RollEntry,
        api::AttendanceView,
        api::PrivateFeed,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

pub async fn document() -> actix_web::HttpResponse {
    cafeia_platform::openapi::document::<ApiDoc>().await
}
