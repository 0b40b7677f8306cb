//! Platform errors as GraphQL errors: `extensions.code` from the shared catalogue, and
//! `extensions.field` when one input field is at fault.

use async_graphql::ErrorExtensions;
use cafeia_platform::{AppError, ErrorCode};

pub fn gql(err: AppError) -> async_graphql::Error {
    if matches!(err.code, ErrorCode::Internal | ErrorCode::Unavailable)
        && let Some(source) = std::error::Error::source(&err)
    {
        tracing::error!(code = %err.code, error = %source, "resolver failed");
    }
    let code = err.code.as_str();
    let field = err.field().map(str::to_owned);
    async_graphql::Error::new(err.detail).extend_with(|_, ext| {
        ext.set("code", code);
        if let Some(field) = &field {
            ext.set("field", field.as_str());
        }
    })
}

/// A whole-response error (before execution), e.g. a bad token or too many requests.
pub fn response(code: ErrorCode, message: &str) -> async_graphql::Response {
    let mut error = async_graphql::ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code.as_str());
    error.extensions = Some(ext);
    async_graphql::Response::from_errors(vec![error])
}
