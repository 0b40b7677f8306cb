//! What a client needs that is not JSON, under the gateway's own paths: iCalendar feeds (one
//! session, a facilitator's sessions, the public feed, a citizen's private feed) and schema.org
//! JSON-LD (a session, a training programme).
//!
//! Each route checks the caller's token like `/graphql` does (a bad one is a 401; none is
//! fine), counts against the same rate limit, then calls the owning service's typed client
//! with the token, the request id and a child `traceparent`, and passes the document on with
//! its content type. A service's refusal comes back with its status as a problem document;
//! an unreachable service is a 503 problem document. The links the graph gives
//! (`Session.icalUrl`…) are built by the `*_path` functions here, so they cannot drift from
//! the routes.

use crate::{
    admission::{self, Refused},
    clients::CallContext,
    errors,
    routes::GatewayState,
};
use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    http::header::{self, HeaderValue},
    web,
};
use cafeia_api::client::{ClientError, RawAnswer, fill};
use cafeia_events_api::FeedQuery;
use cafeia_platform::{AppError, ErrorCode};
use serde::Deserialize;
use std::time::Duration;
use uuid::Uuid;

/// The gateway's routes for documents (what the ingress sends here: `/calendars`, `/jsonld`).
pub mod paths {
    /// One session as an iCalendar file.
    pub const SESSION_CALENDAR: &str = "/calendars/sessions/{id}.ics";
    /// A facilitator's public sessions as an iCalendar feed.
    pub const FACILITATOR_CALENDAR: &str = "/calendars/facilitators/{id}.ics";
    /// The public feed, by `departement` and `topic`.
    pub const PUBLIC_CALENDAR: &str = "/calendars/public.ics";
    /// A citizen's private feed: the token is the secret.
    pub const PRIVATE_CALENDAR: &str = "/calendars/private/{token}.ics";
    /// A session as schema.org `Event`/`EducationEvent`.
    pub const SESSION_JSONLD: &str = "/jsonld/sessions/{id}";
    /// A published training programme as schema.org `Course`.
    pub const TRAINING_JSONLD: &str = "/jsonld/trainings/{id}";
}

/// How one kind of document is served.
#[derive(Clone, Copy)]
struct Kind {
    /// `cache-control` of the document when fetched without a token.
    cache_control: &'static str,
    /// Its URL is the secret: the gateway logs nothing for the request (every line logged
    /// during a request carries its path, token included) and no cache keeps the answer.
    secret: bool,
}

/// Public feeds and documents: calendar apps poll, crawlers come back; a few minutes of
/// staleness is fine, and cancellations still reach subscribers quickly.
const PUBLIC: Kind = Kind {
    cache_control: "public, max-age=300",
    secret: false,
};
/// Session JSON-LD carries the live seat count: shorter.
const LIVE: Kind = Kind {
    cache_control: "public, max-age=60",
    secret: false,
};
/// The private feed.
const SECRET: Kind = Kind {
    cache_control: NO_STORE,
    secret: true,
};
/// A document fetched with a token: no shared cache keeps it.
const SIGNED_IN: &str = "private, max-age=60";
/// The private feed and every refusal.
const NO_STORE: &str = "private, no-store";

/// `/calendars/sessions/{id}.ics`
pub fn session_ical_path(id: Uuid) -> String {
    fill(paths::SESSION_CALENDAR, &[&id.to_string()])
}

/// `/jsonld/sessions/{id}`
pub fn session_jsonld_path(id: Uuid) -> String {
    fill(paths::SESSION_JSONLD, &[&id.to_string()])
}

/// `/calendars/facilitators/{id}.ics`
pub fn facilitator_ical_path(id: Uuid) -> String {
    fill(paths::FACILITATOR_CALENDAR, &[&id.to_string()])
}

/// `/jsonld/trainings/{id}`
pub fn training_jsonld_path(id: Uuid) -> String {
    fill(paths::TRAINING_JSONLD, &[&id.to_string()])
}

/// `/calendars/public.ics`, with `departement` and `topic` when given (form-encoded).
pub fn public_ical_path(departement: Option<&str>, topic: Option<&str>) -> String {
    let pairs: Vec<(&str, &str)> = [("departement", departement), ("topic", topic)]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    if pairs.is_empty() {
        return paths::PUBLIC_CALENDAR.to_owned();
    }
    // Any base will do: only the path and the encoded query are kept.
    let mut url = reqwest::Url::parse("http://gateway").expect("constant URL");
    url.set_path(paths::PUBLIC_CALENDAR);
    url.query_pairs_mut().extend_pairs(pairs);
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// The gateway's path of a private feed, from the path the events service answers
/// (`/v1/calendars/private/{token}/feed.ics` → `/calendars/private/{token}.ics`); `None` when
/// `service_path` is not one.
pub fn private_calendar_path(service_path: &str) -> Option<String> {
    let (prefix, suffix) = cafeia_events_api::paths::PRIVATE_CALENDAR.split_once("{token}")?;
    let token = service_path.strip_prefix(prefix)?.strip_suffix(suffix)?;
    plausible_token(token).then(|| fill(paths::PRIVATE_CALENDAR, &[token]))
}

/// Mounts the routes on the gateway's app (its [`GatewayState`] is in the app data).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::SESSION_CALENDAR, web::get().to(session_calendar))
        .route(
            paths::FACILITATOR_CALENDAR,
            web::get().to(facilitator_calendar),
        )
        .route(paths::PUBLIC_CALENDAR, web::get().to(public_calendar))
        .route(paths::PRIVATE_CALENDAR, web::get().to(private_calendar))
        .route(paths::SESSION_JSONLD, web::get().to(session_jsonld))
        .route(paths::TRAINING_JSONLD, web::get().to(training_jsonld))
        .route(
            cafeia_events_api::paths::PUBLIC_UNSUBSCRIBE,
            web::post().to(unsubscribe),
        )
        .route(
            cafeia_facilitators_api::paths::PUBLIC_DIGEST_UNSUBSCRIBE,
            web::post().to(unsubscribe_digests),
        );
}

/// Why a document is not served.
enum Refusal {
    Problem(AppError),
    Limited(Duration),
}

impl From<AppError> for Refusal {
    fn from(err: AppError) -> Self {
        Refusal::Problem(err)
    }
}

/// A failed service call as the error it stands for.
fn failed(err: ClientError) -> Refusal {
    Refusal::Problem(errors::app(err))
}

/// The caller (verified like `/graphql` does) and what the service calls carry.
async fn admit(
    state: &GatewayState,
    req: &HttpRequest,
    kind: Kind,
) -> Result<CallContext, Refusal> {
    match admission::admit(state, req, kind.secret).await {
        Ok(admitted) => Ok(admitted.call),
        Err(Refused::Unauthenticated(why)) => Err(AppError::unauthenticated(why).into()),
        Err(Refused::Limited(retry_after)) => Err(Refusal::Limited(retry_after)),
    }
}

/// An id segment: a UUID, or a 400 naming `id`.
fn id(segment: &str) -> Result<Uuid, Refusal> {
    Uuid::parse_str(segment)
        .map_err(|_| AppError::invalid("id", "identifiant invalide (UUID attendu)").into())
}

/// Private tokens are short URL-safe words (the events service issues 64 hex digits); anything
/// else is unknown without asking the service.
fn plausible_token(token: &str) -> bool {
    (1..=128).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn unknown_feed() -> Refusal {
    AppError::not_found("flux inconnu").into()
}

/// The answer to the client: the document with its content type and `cache-control`, or the
/// refusal as a problem document that no cache keeps.
fn respond(result: Result<RawAnswer, Refusal>, kind: Kind, signed_in: bool) -> HttpResponse {
    let mut response = match result {
        Ok(raw) => {
            let cache_control = if signed_in && !kind.secret {
                SIGNED_IN
            } else {
                kind.cache_control
            };
            HttpResponse::Ok()
                .content_type(raw.content_type)
                .insert_header((header::CACHE_CONTROL, cache_control))
                .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .body(raw.body)
        }
        // An error with a cause logs it when rendered: a secret request's keeps only its problem.
        Err(Refusal::Problem(err)) if kind.secret => AppError::from(err.problem()).error_response(),
        Err(Refusal::Problem(err)) => err.error_response(),
        Err(Refusal::Limited(retry_after)) => {
            let mut response = AppError::new(
                ErrorCode::RateLimited,
                "trop de requêtes, réessayez plus tard",
            )
            .error_response();
            if let Ok(value) = HeaderValue::from_str(&retry_after.as_secs().to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    };
    if !response.status().is_success() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
    }
    response
}

/// Serves one document: admits the caller, then `fetch`es it with their call context.
async fn serve<F, Fut>(
    state: &GatewayState,
    req: &HttpRequest,
    kind: Kind,
    fetch: F,
) -> HttpResponse
where
    F: FnOnce(CallContext) -> Fut,
    Fut: Future<Output = Result<RawAnswer, Refusal>>,
{
    let (result, signed_in) = match admit(state, req, kind).await {
        Ok(call) => {
            let signed_in = call.token.is_some();
            (fetch(call).await, signed_in)
        }
        Err(refusal) => (Err(refusal), false),
    };
    respond(result, kind, signed_in)
}

/// GET /calendars/sessions/{id}.ics
async fn session_calendar(
    state: web::Data<GatewayState>,
    req: HttpRequest,
    segment: web::Path<String>,
) -> HttpResponse {
    let events = &state.services.events;
    serve(&state, &req, PUBLIC, |call| async move {
        let id = id(&segment)?;
        events
            .session_calendar(&call.call(), id)
            .await
            .map_err(failed)
    })
    .await
}

/// GET /calendars/facilitators/{id}.ics
async fn facilitator_calendar(
    state: web::Data<GatewayState>,
    req: HttpRequest,
    segment: web::Path<String>,
) -> HttpResponse {
    let events = &state.services.events;
    serve(&state, &req, PUBLIC, |call| async move {
        let id = id(&segment)?;
        events
            .facilitator_calendar(&call.call(), id)
            .await
            .map_err(failed)
    })
    .await
}

/// What the public feed is filtered by. Other parameters (cache busters some calendar apps
/// add) are ignored.
#[derive(Debug, Default, Deserialize)]
struct PublicFeedQuery {
    /// INSEE code of the département (e.g. `69`, `2A`).
    departement: Option<String>,
    /// A topic of the shared vocabulary.
    topic: Option<String>,
}

/// GET /calendars/public.ics?departement=…&topic=…
async fn public_calendar(
    state: web::Data<GatewayState>,
    req: HttpRequest,
    query: web::Query<PublicFeedQuery>,
) -> HttpResponse {
    let PublicFeedQuery { departement, topic } = query.into_inner();
    let query = FeedQuery {
        departement,
        topic,
        ..FeedQuery::default()
    };
    let events = &state.services.events;
    serve(&state, &req, PUBLIC, |call| async move {
        events
            .public_calendar(&call.call(), &query)
            .await
            .map_err(failed)
    })
    .await
}

/// GET /calendars/private/{token}.ics — the token is the secret: never logged, never cached.
async fn private_calendar(
    state: web::Data<GatewayState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> HttpResponse {
    let events = &state.services.events;
    serve(&state, &req, SECRET, |call| async move {
        if !plausible_token(&token) {
            return Err(unknown_feed());
        }
        events
            .private_calendar(&call.call(), &token)
            .await
            .map_err(failed)
    })
    .await
}

/// GET /jsonld/sessions/{id} — `application/ld+json`.
async fn session_jsonld(
    state: web::Data<GatewayState>,
    req: HttpRequest,
    segment: web::Path<String>,
) -> HttpResponse {
    let events = &state.services.events;
    serve(&state, &req, LIVE, |call| async move {
        let id = id(&segment)?;
        events
            .session_jsonld(&call.call(), id)
            .await
            .map_err(failed)
    })
    .await
}

/// GET /jsonld/trainings/{id} — a published programme, `application/ld+json`.
async fn training_jsonld(
    state: web::Data<GatewayState>,
    req: HttpRequest,
    segment: web::Path<String>,
) -> HttpResponse {
    let catalogue = &state.services.catalogue;
    serve(&state, &req, PUBLIC, |call| async move {
        let id = id(&segment)?;
        catalogue
            .training_json_ld(&call.call(), id)
            .await
            .map_err(failed)?
            .ok_or_else(|| AppError::not_found("formation introuvable").into())
    })
    .await
}

/// POST /mail/unsubscribe/{token} — a reminder's one-click unsubscription (RFC 8058): the
/// mail reader POSTs `List-Unsubscribe=One-Click` here, without cookie or sign-in, and the
/// events service stops that registration's reminders. Not a document, but served like the
/// private feed: the token in the path is the secret (nothing logged, nothing cached).
async fn unsubscribe(
    state: web::Data<GatewayState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> HttpResponse {
    let answer = match one_click(&state, &req, &token).await {
        Ok(call) => {
            let input = cafeia_events_api::TokenInput {
                token: token.into_inner(),
            };
            let stop = state.services.events.stop_reminders(&call, &input).await;
            stop.map_err(failed)
        }
        Err(refusal) => Err(refusal),
    };
    stopped(
        answer,
        "Vous ne recevrez plus de rappel pour cette inscription.\n",
    )
}

/// POST /mail/digests/unsubscribe/{token} — a digest's one-click unsubscription (RFC 8058):
/// the facilitator gets no more digests.
async fn unsubscribe_digests(
    state: web::Data<GatewayState>,
    req: HttpRequest,
    token: web::Path<String>,
) -> HttpResponse {
    let answer = match one_click(&state, &req, &token).await {
        Ok(call) => {
            let input = cafeia_facilitators_api::UnsubscribeInput {
                token: token.into_inner(),
            };
            let stop = state
                .services
                .facilitators
                .stop_digests(&call, &input)
                .await;
            stop.map_err(failed)
        }
        Err(refusal) => Err(refusal),
    };
    stopped(
        answer,
        "Vous ne recevrez plus de récapitulatif de vos cafés IA.\n",
    )
}

/// A one-click unsubscription's caller, admitted like any public document (a token not shaped
/// like one refused without asking the service): the call to make.
async fn one_click(
    state: &GatewayState,
    req: &HttpRequest,
    token: &str,
) -> Result<cafeia_api::client::Call, Refusal> {
    let call = admit(state, req, SECRET).await?;
    if !plausible_token(token) {
        // Not shaped like a token (the service's answer names what it does not know).
        return Err(AppError::not_found("lien de désabonnement invalide").into());
    }
    Ok(call.call())
}

/// The answer to a one-click unsubscription: `done` in plain text, or the refusal.
fn stopped(answer: Result<(), Refusal>, done: &'static str) -> HttpResponse {
    match answer {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, NO_STORE))
            .body(done),
        Err(refusal) => respond(Err(refusal), SECRET, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_fill_the_routes() {
        let id = Uuid::parse_str("6a1f9d0e-3b2c-4d5e-8f70-1a2b3c4d5e6f").expect("uuid");
        assert_eq!(
            session_ical_path(id),
            "/calendars/sessions/6a1f9d0e-3b2c-4d5e-8f70-1a2b3c4d5e6f.ics"
        );
        assert_eq!(
            session_jsonld_path(id),
            "/jsonld/sessions/6a1f9d0e-3b2c-4d5e-8f70-1a2b3c4d5e6f"
        );
        assert_eq!(
            facilitator_ical_path(id),
            "/calendars/facilitators/6a1f9d0e-3b2c-4d5e-8f70-1a2b3c4d5e6f.ics"
        );
        assert_eq!(
            training_jsonld_path(id),
            "/jsonld/trainings/6a1f9d0e-3b2c-4d5e-8f70-1a2b3c4d5e6f"
        );
    }

    #[test]
    fn the_public_feed_link_encodes_its_filters() {
        assert_eq!(public_ical_path(None, None), "/calendars/public.ics");
        assert_eq!(
            public_ical_path(Some("2A"), None),
            "/calendars/public.ics?departement=2A"
        );
        assert_eq!(
            public_ical_path(Some("69"), Some("what_is_ai")),
            "/calendars/public.ics?departement=69&topic=what_is_ai"
        );
        assert_eq!(
            public_ical_path(None, Some("a&b=c d")),
            "/calendars/public.ics?topic=a%26b%3Dc+d"
        );
    }

    #[test]
    fn a_private_feed_gets_the_gateway_path() {
        let token = "ab".repeat(32);
        assert_eq!(
            private_calendar_path(&format!("/v1/calendars/private/{token}/feed.ics")),
            Some(format!("/calendars/private/{token}.ics"))
        );
        for bad in [
            "/v1/calendars/private//feed.ics",
            "/v1/calendars/private/a/b/feed.ics",
            "/v1/sessions/x/calendar.ics",
            "",
        ] {
            assert_eq!(private_calendar_path(bad), None, "{bad}");
        }
    }
}
