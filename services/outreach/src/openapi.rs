//! The OpenAPI 3.1 document of the outreach REST API, served at `/openapi.json` (completed by the platform).

use cafeia_platform::openapi::BearerAuth;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Café IA — outreach", description = "Indicateurs de diffusion : personnes sensibilisées, objectif de 2 000 000 fin 2027, ventilations, zones blanches, exports et données ouvertes."),
    paths(
        crate::reports::headline,
        crate::reports::breakdown,
        crate::reports::reach,
        crate::reports::gaps,
        crate::reports::weekly,
        crate::reports::dashboard,
        crate::reports::export,
        crate::reports::open_data,
        crate::reports::rebuild,
    ),
    components(schemas(
        cafeia_platform::errors::Problem,
        cafeia_platform::errors::FieldError,
        cafeia_platform::ErrorCode,
        cafeia_outreach_api::Headline,
        cafeia_outreach_api::Progress,
        cafeia_outreach_api::BreakdownRow,
        cafeia_outreach_api::Reach,
        cafeia_outreach_api::WeekPoint,
        cafeia_outreach_api::Dashboard,
        cafeia_outreach_api::MonthCell,
        cafeia_outreach_api::Rebuilt,
        cafeia_outreach_api::Dimension,
        cafeia_outreach_api::FileFormat,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;
