//! The OpenAPI 3.1 document of the catalogue REST API, served at `/openapi.json` (completed by the platform).

use cafeia_catalogue_api as api;
use cafeia_platform::openapi::BearerAuth;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Café IA — catalogue", description = "Formations gratuites et accessibles à l'IA, organismes, modules pédagogiques ; import et export LHEO."),
    paths(
        crate::providers::create,
        crate::providers::get,
        crate::providers::batch,
        crate::trainings::list,
        crate::trainings::submit,
        crate::trainings::get,
        crate::trainings::batch,
        crate::trainings::edit,
        crate::trainings::json_ld,
        crate::trainings::audit_trail,
        crate::trainings::edits,
        crate::trainings::review_queue,
        crate::trainings::publish,
        crate::trainings::reject,
        crate::trainings::withdraw,
        crate::imports::import,
        crate::imports::export,
        crate::modules::list,
        crate::modules::submit,
        crate::modules::get,
        crate::modules::batch,
        crate::modules::edit,
        crate::modules::review,
        crate::modules::review_queue,
    ),
    components(schemas(
        cafeia_platform::errors::Problem, cafeia_platform::errors::FieldError, cafeia_platform::ErrorCode,
        api::ProviderInput, api::ProviderView, api::ProviderKind,
        api::TrainingInput, api::TrainingView, api::TrainingSession, api::Place, api::PlaceView,
        api::ReasonInput, api::Level, api::Audience, api::Format, api::Pace, api::Funding,
        api::Accessibility, api::Enrolment, api::ReviewStatus, api::ReviewDecision,
        api::ModuleInput, api::ModuleView, api::ModuleReviewInput, api::messages::ModuleState,
        api::LheoImportSummary, api::LheoProblem,
        api::TrainingEdit, api::FieldChange, api::TrainingField, api::Editor,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;
