//! The OpenAPI 3.1 document of the catalogue REST API, served at `/openapi.json`.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Café IA — catalogue", description = "Formations gratuites et accessibles à l'IA, organismes, modules pédagogiques ; import et export LHEO."),
    paths(
        crate::providers::create,
        crate::providers::get,
        crate::trainings::list,
        crate::trainings::submit,
        crate::trainings::get,
        crate::trainings::edit,
        crate::trainings::json_ld,
        crate::trainings::audit_trail,
        crate::trainings::publish,
        crate::trainings::reject,
        crate::trainings::withdraw,
        crate::imports::import,
        crate::imports::export,
        crate::modules::list,
        crate::modules::submit,
        crate::modules::get,
        crate::modules::edit,
        crate::modules::review,
    ),
    components(schemas(cafeia_platform::errors::Problem, cafeia_platform::errors::FieldError, cafeia_platform::ErrorCode)),
    modifiers(&Bearer),
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

pub async fn document() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(ApiDoc::openapi())
}
