//! What a document says of a plain field when the rule is on its items: types that exist only
//! in the OpenAPI documents (`schema(value_type = Vec<HttpsUrl>)` on a `Vec<String>`).

use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};

/// An https URL of at most 500 characters (a module's resources).
pub struct HttpsUrl;

impl utoipa::PartialSchema for HttpsUrl {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^https://"))
            .max_length(Some(500))
            .into()
    }
}

impl utoipa::ToSchema for HttpsUrl {}
