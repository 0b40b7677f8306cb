//! One catalogue of error codes for the whole platform, and the problem document that carries
//! them. REST answers RFC 9457 `application/problem+json` with the stable `code`; the gateway
//! puts the same code in GraphQL `extensions.code`. `docs/errors.md` lists them all.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident = ($name:literal, $status:literal, $title:literal) ),* $(,)?) => {
        /// Stable, machine-readable error codes. Clients switch on these; never rename one.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $( $(#[$doc])* #[serde(rename = $name)] $variant, )*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name,)* }
            }

            /// The HTTP status a REST answer with this code carries.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* }
            }

            /// Human title for the problem document (RFC 9457 `title`), in French like all
            /// labels.
            pub fn title(self) -> &'static str {
                match self { $(ErrorCode::$variant => $title,)* }
            }
        }
    };
}

catalogue! {
    /// A field is missing, malformed or out of range; `errors[].field` says which.
    BadUserInput = ("BAD_USER_INPUT", 400, "Donnée invalide"),
    /// The request body is not valid JSON (or not the expected shape at all).
    MalformedBody = ("MALFORMED_BODY", 400, "Requête illisible"),
    /// A GraphQL document that does not parse.
    GraphqlParseFailed = ("GRAPHQL_PARSE_FAILED", 400, "Requête GraphQL illisible"),
    /// A GraphQL document that does not fit the schema (unknown field, bad argument type…).
    GraphqlValidationFailed = ("GRAPHQL_VALIDATION_FAILED", 400, "Requête GraphQL non conforme au schéma"),
    /// Deeper than `graphql.depth_limit`.
    QueryTooDeep = ("QUERY_TOO_DEEP", 400, "Requête trop profonde"),
    /// Costs more than `graphql.complexity_limit`.
    QueryTooComplex = ("QUERY_TOO_COMPLEX", 400, "Requête trop coûteuse"),
    /// Several GraphQL operations in one HTTP request (a JSON array): send them one by one.
    BatchNotSupported = ("BATCH_NOT_SUPPORTED", 400, "Requêtes groupées non acceptées"),
    /// More mutation fields in one operation than `graphql.max_mutations` (aliases count).
    TooManyMutations = ("TOO_MANY_MUTATIONS", 400, "Trop de mutations dans une requête"),
    /// More subscriptions running on one WebSocket than `graphql.max_subscriptions`.
    TooManySubscriptions = ("TOO_MANY_SUBSCRIPTIONS", 400, "Trop d'abonnements sur cette connexion"),
    /// No token where one is needed, or a token that fails verification.
    Unauthenticated = ("UNAUTHENTICATED", 401, "Authentification requise"),
    /// The caller's role or territory does not allow the action.
    Forbidden = ("FORBIDDEN", 403, "Action non autorisée"),
    /// Only a verified facilitator may do this (publish a session, for instance).
    FacilitatorNotVerified = ("FACILITATOR_NOT_VERIFIED", 403, "Animateur non vérifié"),
    /// The facilitator is suspended.
    FacilitatorSuspended = ("FACILITATOR_SUSPENDED", 403, "Animateur suspendu"),
    /// No such resource (or not visible to this caller).
    NotFound = ("NOT_FOUND", 404, "Introuvable"),
    /// The HTTP method is not one this path answers.
    MethodNotAllowed = ("METHOD_NOT_ALLOWED", 405, "Méthode non acceptée"),
    /// The change contradicts the current state in a way no more specific code names.
    Conflict = ("CONFLICT", 409, "Conflit avec l'état actuel"),
    /// Something with the same identity (SIRET, RNA, source id…) exists already.
    AlreadyExists = ("ALREADY_EXISTS", 409, "Existe déjà"),
    /// A registration on a full session without a waiting list.
    SessionFull = ("SESSION_FULL", 409, "Session complète"),
    /// This person is registered to this session already.
    AlreadyRegistered = ("ALREADY_REGISTERED", 409, "Déjà inscrit·e"),
    /// The session takes no registration now (cancelled, completed, started, on-site only).
    RegistrationClosed = ("REGISTRATION_CLOSED", 409, "Inscriptions closes"),
    /// A capacity below the seats already confirmed.
    CapacityBelowConfirmed = ("CAPACITY_BELOW_CONFIRMED", 409, "Capacité inférieure aux inscrits"),
    /// Only a draft may be published.
    NotADraft = ("NOT_A_DRAFT", 409, "Ce n'est pas un brouillon"),
    /// The session is cancelled or completed: it no longer changes.
    SessionClosed = ("SESSION_CLOSED", 409, "Session annulée ou terminée"),
    /// The session has started (or is over): too late to edit, publish or cancel it, or to
    /// cancel a registration to it.
    SessionStarted = ("SESSION_STARTED", 409, "Session déjà commencée"),
    /// Attendance before the session has started.
    SessionNotStarted = ("SESSION_NOT_STARTED", 409, "Session pas encore commencée"),
    /// An attendance correction after its window (7 days after the end).
    CorrectionWindowClosed = ("CORRECTION_WINDOW_CLOSED", 409, "Délai de correction dépassé"),
    /// The registration is cancelled or closed already.
    RegistrationNotActive = ("REGISTRATION_NOT_ACTIVE", 409, "Inscription déjà annulée ou close"),
    /// A review or verification decision the current status does not allow.
    InvalidTransition = ("INVALID_TRANSITION", 409, "Changement d'état impossible"),
    /// The resource changed while the request was decided: try again.
    RetryableConflict = ("RETRYABLE_CONFLICT", 409, "Changement concurrent, réessayez"),
    /// The body exceeds `http.max_body_bytes`.
    PayloadTooLarge = ("PAYLOAD_TOO_LARGE", 413, "Requête trop volumineuse"),
    /// Not a content type this path reads.
    UnsupportedMediaType = ("UNSUPPORTED_MEDIA_TYPE", 415, "Type de contenu non accepté"),
    /// Too many requests; `retry-after` says when to come back.
    RateLimited = ("RATE_LIMITED", 429, "Trop de requêtes"),
    /// A bug; the response says nothing more, the log has the cause.
    Internal = ("INTERNAL", 500, "Erreur interne"),
    /// A backend or another service does not answer; retry later.
    Unavailable = ("UNAVAILABLE", 503, "Service momentanément indisponible"),
}

impl ErrorCode {
    pub fn parse(code: &str) -> Option<ErrorCode> {
        Self::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    /// RFC 9457 `type`: a stable URI per code, documented in `docs/errors.md`.
    pub fn type_uri(self) -> String {
        format!("urn:cafeia:error:{}", self.as_str())
    }
}

// By hand: the derive cannot read the wire names through the macro above, and would document
// the variants' Rust names, which no answer carries.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|code| code.as_str())))
            .description(Some("Code d'erreur stable (docs/errors.md)"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ErrorCode {}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with one input field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// RFC 9457 problem document, plus our stable `code` and per-field `errors`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: ErrorCode,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            type_uri: code.type_uri(),
            title: code.title().to_owned(),
            status: code.http_status(),
            detail: detail.into(),
            code,
            errors: Vec::new(),
            request_id: None,
        }
    }

    /// The first offending field, if any.
    pub fn field(&self) -> Option<&str> {
        self.errors.first().map(|e| e.field.as_str())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_has_a_distinct_name() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert!(seen.insert(code.as_str()), "{code} twice");
            let json = serde_json::to_string(&code).expect("serialize");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!((400..600).contains(&code.http_status()));
        }
    }

    #[test]
    fn the_catalogue_document_lists_every_code() {
        let doc = include_str!("../../../docs/errors.md");
        for &code in ErrorCode::ALL {
            assert!(
                doc.contains(&format!("`{}`", code.as_str())),
                "docs/errors.md does not document {code}"
            );
        }
    }
}

#[cfg(all(test, feature = "openapi"))]
mod openapi_tests {
    use super::ErrorCode;

    #[test]
    fn the_document_lists_the_codes_answers_carry() {
        let schema = serde_json::to_value(<ErrorCode as utoipa::PartialSchema>::schema())
            .expect("schema as JSON");
        let codes = schema["enum"].as_array().expect("an enum");
        assert_eq!(codes.len(), ErrorCode::ALL.len());
        assert!(codes.contains(&serde_json::json!("BAD_USER_INPUT")));
        assert!(!codes.contains(&serde_json::json!("BadUserInput")));
    }
}
