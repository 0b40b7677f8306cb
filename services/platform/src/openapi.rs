//! What every service's OpenAPI document shares: the bearer security scheme and the problem
//! schemas, and the `/openapi.json` handler.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};

/// Adds the `bearer` (JWT) security scheme the operations refer to.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Serves a service's document.
pub async fn document<T: OpenApi>() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(T::openapi())
}
