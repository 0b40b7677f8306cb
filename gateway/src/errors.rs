//! Platform errors as GraphQL errors: `extensions.code` from the shared catalogue, and
//! `extensions.field` when one input field is at fault.

use async_graphql::ErrorExtensions;
use cafeia_api::client::ClientError;
use cafeia_platform::{AppError, ErrorCode};

pub fn gql(err: AppError) -> async_graphql::Error {
    if matches!(err.code, ErrorCode::Internal | ErrorCode::Unavailable)
        && let Some(source) = std::error::Error::source(&err)
    {
        tracing::error!(code = %err.code, error = %source, "resolver failed");
    }
    let code = err.code.as_str();
    // Services name REST fields (snake_case); GraphQL clients know them in camelCase.
    let field = err.field().map(camel_case);
    // Every bad field with its own message, so a form shows them all at once next to their
    // fields (`field` keeps naming the first, for clients that read one).
    let fields: Vec<async_graphql::Value> = err
        .errors
        .iter()
        .map(|e| {
            let mut item = async_graphql::indexmap::IndexMap::new();
            item.insert(
                async_graphql::Name::new("field"),
                async_graphql::Value::from(camel_case(&e.field)),
            );
            item.insert(
                async_graphql::Name::new("message"),
                async_graphql::Value::from(e.message.as_str()),
            );
            async_graphql::Value::Object(item)
        })
        .collect();
    async_graphql::Error::new(err.detail).extend_with(|_, ext| {
        ext.set("code", code);
        if let Some(field) = &field {
            ext.set("field", field.as_str());
        }
        if !fields.is_empty() {
            ext.set("fields", async_graphql::Value::List(fields.clone()));
        }
    })
}

/// A failed call to a service, as the platform error it stands for.
pub fn app(err: ClientError) -> AppError {
    match err {
        ClientError::Problem(problem) => problem.into(),
        ClientError::Unavailable(e) => AppError::unavailable(e),
        ClientError::BadAnswer(why) => AppError::internal(std::io::Error::other(why)),
    }
}

/// A failed call to a service, as a GraphQL error.
pub fn client(err: ClientError) -> async_graphql::Error {
    gql(app(err))
}

/// A whole-response error (before execution), e.g. a bad token or too many requests.
pub fn response(code: ErrorCode, message: &str) -> async_graphql::Response {
    let mut error = async_graphql::ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code.as_str());
    error.extensions = Some(ext);
    async_graphql::Response::from_errors(vec![error])
}

/// `training_completed_on` → `trainingCompletedOn` (indices and dots kept).
pub fn camel_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for ch in field.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::camel_case;

    #[test]
    fn rest_fields_become_graphql_fields() {
        assert_eq!(camel_case("training_completed_on"), "trainingCompletedOn");
        assert_eq!(camel_case("territories[0]"), "territories[0]");
        assert_eq!(camel_case("sessions[2].start_at"), "sessions[2].startAt");
    }

    #[test]
    fn every_bad_field_is_named_with_its_own_message() {
        let err = super::gql(cafeia_platform::AppError::invalid_fields(vec![
            cafeia_platform::errors::FieldError {
                field: "starts_at".into(),
                message: "dans le passé".into(),
            },
            cafeia_platform::errors::FieldError {
                field: "capacity".into(),
                message: "doit être au moins 1".into(),
            },
        ]));
        let ext = err.extensions.expect("extensions");
        assert_eq!(
            ext.get("field"),
            Some(&async_graphql::Value::from("startsAt"))
        );
        let fields = serde_json::to_value(ext.get("fields").expect("fields")).expect("json");
        assert_eq!(
            fields,
            serde_json::json!([
                {"field": "startsAt", "message": "dans le passé"},
                {"field": "capacity", "message": "doit être au moins 1"},
            ])
        );
    }
}
