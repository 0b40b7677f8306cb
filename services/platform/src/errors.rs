//! One catalogue of error codes for the whole platform.
//!
//! REST answers RFC 9457 `application/problem+json` carrying the stable `code`; the gateway puts
//! the same code in GraphQL `extensions.code`. Internal causes are logged, never sent.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use std::fmt;

pub use cafeia_api::errors::{ErrorCode, FieldError, Problem};

/// The error every handler returns. `detail` is safe to show; `source` is only logged.
#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl AppError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            source: None,
        }
    }

    /// A bad value in one field: says which and why.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Self {
            code: ErrorCode::BadUserInput,
            detail: format!("{field}: {message}"),
            errors: vec![FieldError { field, message }],
            source: None,
        }
    }

    /// Several bad fields at once, so a form can show them all.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            code: ErrorCode::BadUserInput,
            detail,
            errors,
            source: None,
        }
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, detail)
    }

    /// An unexpected failure: the cause is kept for the log, the client sees a generic text.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            code: ErrorCode::Internal,
            detail: "une erreur interne est survenue".into(),
            errors: Vec::new(),
            source: Some(source.into()),
        }
    }

    pub fn unavailable(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            code: ErrorCode::Unavailable,
            detail: "service momentanément indisponible, réessayez".into(),
            errors: Vec::new(),
            source: Some(source.into()),
        }
    }

    /// The same error with its fields placed under `prefix` (`occurrences[3].starts_at`), for
    /// input checked piece by piece.
    pub fn prefixed(mut self, prefix: &str) -> Self {
        if self.errors.is_empty() {
            return self;
        }
        for e in &mut self.errors {
            e.field = format!("{prefix}.{}", e.field);
        }
        Self::invalid_fields(self.errors)
    }

    /// The first offending field, if any (GraphQL `extensions.field`).
    pub fn field(&self) -> Option<&str> {
        self.errors.first().map(|e| e.field.as_str())
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: self.code.type_uri(),
            title: self.code.title().to_owned(),
            status: self.code.http_status(),
            detail: self.detail.clone(),
            code: self.code,
            errors: self.errors.clone(),
            request_id: crate::telemetry::current_request_id(),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for AppError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Problem> for AppError {
    /// A problem answered by another service, back as the error it stands for.
    fn from(problem: Problem) -> Self {
        AppError {
            code: problem.code,
            detail: problem.detail,
            errors: problem.errors,
            source: None,
        }
    }
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(source) = &self.source {
            // Internals stay in the log; the client gets the code and a generic detail.
            tracing::error!(code = %self.code, error = %source, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        if self.code == ErrorCode::Unauthenticated {
            response.insert_header(("www-authenticate", "Bearer"));
        }
        response.json(self.problem())
    }
}

fn connection_lost(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match e {
        Error::Io(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed => true,
        // The server ending the session itself: shutting down or restarting (SQLSTATE class
        // 57P: admin_shutdown, crash_shutdown, cannot_connect_now), or a connection exception
        // (class 08). The PostgreSQL restart test met one under a registration.
        Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
        _ => false,
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                AppError::conflict("cet élément existe déjà")
            }
            _ => match err {
                sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => {
                    AppError::unavailable(err)
                }
                // A statement whose connection broke under it (the database restarted, the
                // network cut): the database is unavailable, not the request wrong.
                sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(ref e))
                | sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(ref e))
                    if connection_lost(e) =>
                {
                    AppError::unavailable(err)
                }
                other => AppError::internal(other),
            },
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let err = AppError::internal(std::io::Error::other(
            "SELECT secret FROM users: relation does not exist",
        ));
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some(PROBLEM_JSON)
        );
        let body = response.into_body().try_into_bytes().expect("body");
        let text = String::from_utf8(body.to_vec()).expect("utf8");
        assert!(!text.contains("SELECT"), "leaked: {text}");
        let problem: Problem = serde_json::from_str(&text).expect("problem json");
        assert_eq!(problem.code, ErrorCode::Internal);
        assert_eq!(problem.status, 500);
    }

    #[test]
    fn invalid_names_the_field() {
        let err = AppError::invalid("capacity", "doit être positive");
        assert_eq!(err.field(), Some("capacity"));
        let problem = err.problem();
        assert_eq!(problem.status, 400);
        assert_eq!(problem.errors[0].field, "capacity");
        assert!(problem.detail.contains("capacity"));
    }
}
