//! The OpenAPI 3.1 document of the matching REST API, served at `/openapi.json` (completed by the platform).

use cafeia_platform::openapi::BearerAuth;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Café IA — matching", description = "Recherche et recommandations de Cafés IA et de formations, demande non satisfaite."),
    paths(
        crate::search::search,
        crate::recommend::recommend,
        crate::recommend::rebuild,
        crate::demand::view,
    ),
    components(schemas(
        cafeia_matching_api::SearchResults,
        cafeia_matching_api::SearchHit,
        cafeia_matching_api::SearchSort,
        cafeia_matching_api::OfferKind,
        cafeia_matching_api::AccessibilityNeed,
        cafeia_matching_api::Profile,
        cafeia_matching_api::AvailabilityWindow,
        cafeia_matching_api::Experience,
        cafeia_matching_api::Recommendation,
        cafeia_matching_api::Demand,
        cafeia_matching_api::CommuneDemand,
        cafeia_platform::errors::Problem,
        cafeia_platform::errors::FieldError,
        cafeia_platform::ErrorCode,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;
