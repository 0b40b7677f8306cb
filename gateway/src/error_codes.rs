//! Every GraphQL error carries a stable `extensions.code` from the one catalogue — including
//! the ones async-graphql raises itself before any resolver runs (a document that does not
//! parse, one that does not fit the schema, too deep, too complex), over HTTP and WebSocket
//! alike. Resolver errors already carry theirs (`errors::gql`); anything left without one is
//! classified here rather than sent bare.

use async_graphql::{
    ErrorExtensionValues, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextValidation,
    },
    parser::types::ExecutableDocument,
};
use cafeia_platform::ErrorCode;
use std::sync::Arc;

/// The extension that stamps codes; installed on the schema.
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Stamp)
    }
}

struct Stamp;

#[async_trait::async_trait]
impl Extension for Stamp {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            if code_of(error).is_none() {
                let code = if error.path.is_empty() {
                    // Raised while preparing the operation (an unknown or missing operation
                    // name): the document does not fit what the request asked for.
                    ErrorCode::GraphqlValidationFailed
                } else if error.message.starts_with("Failed to parse")
                    || error.message.starts_with("Invalid value")
                {
                    ErrorCode::BadUserInput
                } else {
                    ErrorCode::Internal
                };
                set_code(error, code);
            }
        }
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|mut e| {
            set_code(&mut e, ErrorCode::GraphqlParseFailed);
            e
        })
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            for e in &mut errors {
                if code_of(e).is_none() {
                    set_code(e, validation_code(&e.message));
                }
            }
            errors
        })
    }
}

/// async-graphql reports its limits as plain validation errors; these are its words.
fn validation_code(message: &str) -> ErrorCode {
    match message {
        "Query is nested too deep." => ErrorCode::QueryTooDeep,
        "Query is too complex." => ErrorCode::QueryTooComplex,
        _ => ErrorCode::GraphqlValidationFailed,
    }
}

fn code_of(error: &ServerError) -> Option<&Value> {
    error.extensions.as_ref().and_then(|ext| ext.get("code"))
}

pub fn set_code(error: &mut ServerError, code: ErrorCode) {
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code.as_str());
}

#[cfg(test)]
mod tests {
    use super::validation_code;
    use cafeia_platform::ErrorCode;

    #[test]
    fn limits_have_their_own_codes() {
        assert_eq!(
            validation_code("Query is nested too deep."),
            ErrorCode::QueryTooDeep
        );
        assert_eq!(
            validation_code("Query is too complex."),
            ErrorCode::QueryTooComplex
        );
        assert_eq!(
            validation_code("Unknown field \"x\" on type \"Query\"."),
            ErrorCode::GraphqlValidationFailed
        );
    }
}
