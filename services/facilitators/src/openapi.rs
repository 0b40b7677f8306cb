//! The OpenAPI 3.1 document of the facilitators REST API, served at `/openapi.json`.

use cafeia_platform::openapi::BearerAuth;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Café IA — facilitators", description = "Animateurs et animatrices, structures, lieux de médiation numérique, référentiel des territoires."),
    paths(
        crate::facilitators::register,
        crate::facilitators::me,
        crate::facilitators::update_me,
        crate::facilitators::erase_me,
        crate::facilitators::export_me,
        crate::venues::mine,
        crate::facilitators::list,
        crate::facilitators::counts,
        crate::facilitators::profiles,
        crate::facilitators::get,
        crate::facilitators::audit_trail,
        crate::facilitators::verify,
        crate::facilitators::suspend,
        crate::facilitators::reinstate,
        crate::digests::stop_route,
        crate::organisations::create,
        crate::organisations::list,
        crate::organisations::get,
        crate::venues::create,
        crate::venues::list,
        crate::venues::get,
        crate::venues::batch,
        crate::venues::update,
        crate::venues::remove,
        crate::venues::import,
        crate::venues::export,
        crate::territories::search,
        crate::territories::commune,
        crate::territories::postcode,
    ),
    components(schemas(
        cafeia_platform::errors::Problem,
        cafeia_platform::errors::FieldError,
        cafeia_platform::ErrorCode,
        cafeia_facilitators_api::FacilitatorKind,
        cafeia_facilitators_api::FacilitatorStatus,
        cafeia_facilitators_api::OrganisationKind,
        cafeia_facilitators_api::VenueFileFormat,
        cafeia_facilitators_api::FacilitatorView,
        cafeia_facilitators_api::FacilitatorProfileView,
        cafeia_facilitators_api::FacilitatorProfileInput,
        cafeia_facilitators_api::DecisionInput,
        cafeia_facilitators_api::UnsubscribeInput,
        cafeia_facilitators_api::FacilitatorCount,
        cafeia_facilitators_api::AuditEntry,
        cafeia_facilitators_api::OrganisationView,
        cafeia_facilitators_api::OrganisationInput,
        cafeia_facilitators_api::VenueView,
        cafeia_facilitators_api::VenueInput,
        cafeia_facilitators_api::VenueImportReport,
        cafeia_facilitators_api::VenueImportError,
        cafeia_facilitators_api::Commune,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

pub async fn document() -> actix_web::HttpResponse {
    cafeia_platform::openapi::document::<ApiDoc>().await
}
