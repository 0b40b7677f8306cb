//! The HTTP shell every service shares: request ids and trace context, metrics, JSON and
//! query errors as problem documents, `/livez` `/readyz` `/metrics`, graceful shutdown.

use crate::{
    auth::Verifier,
    errors::{AppError, ErrorCode},
    health::Readiness,
    metrics::Metrics,
    openapi::Document,
    telemetry::{self, REQUEST_ID, RequestContext, TRACEPARENT, TRACESTATE},
};
use actix_web::{
    App, FromRequest, HttpRequest, HttpResponse, HttpServer, ResponseError,
    body::{EitherBody, MessageBody},
    dev::{Payload, ServerHandle, ServiceRequest, ServiceResponse},
    http::{
        Method,
        header::{self, CONTENT_TYPE, HeaderName, HeaderValue},
    },
    middleware::{Next, from_fn},
    web,
};
use serde::de::DeserializeOwned;
use std::{
    future::Future,
    net::TcpListener,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};
use tracing::Instrument;

/// How long a server keeps an idle connection open. Longer than any client of the platform
/// keeps one in its pool (`api::client::POOL_IDLE`): with actix's 5 s default, a
/// connection the client picks from its pool just as the server closes it fails the request
/// (« connection closed before message completed ») — a failure no retry policy should hide.
pub const KEEP_ALIVE: Duration = Duration::from_secs(75);
const _: () = assert!(KEEP_ALIVE.as_secs() > cafeia_api::client::POOL_IDLE.as_secs());

/// Everything the shared routes and middleware need.
#[derive(Clone)]
pub struct HttpState {
    pub service: &'static str,
    pub metrics: Metrics,
    pub readiness: Readiness,
    pub verifier: Verifier,
    pub max_body_bytes: usize,
    /// The service's OpenAPI document, served at `/openapi.json`, which also tells a path
    /// asked with an undocumented method (405) from one that names nothing (404). The
    /// gateway has none: its API is the GraphQL schema.
    pub document: Option<Arc<Document>>,
}

/// A running HTTP server: the port it listens on, and how to stop it.
pub struct RunningHttp {
    pub port: u16,
    handle: ServerHandle,
    join: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningHttp {
    /// Stops accepting, lets in-flight requests finish, then returns.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.join.await;
    }
}

/// Serves `configure`'s routes plus the shared ones on `listener`.
pub fn serve<F>(
    listener: TcpListener,
    state: HttpState,
    workers: usize,
    configure: F,
) -> std::io::Result<RunningHttp>
where
    F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
{
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .app_data(web::Data::new(state.verifier.clone()))
            .app_data(web::Data::new(state.metrics.clone()))
            .app_data(web::PayloadConfig::new(state.max_body_bytes))
            .app_data(json_config(state.max_body_bytes))
            .app_data(query_config())
            .app_data(path_config())
            .wrap(from_fn(documented_methods))
            .wrap(from_fn(observe))
            .route("/livez", web::get().to(livez))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics))
            .route("/openapi.json", web::get().to(openapi))
            .configure(configure.clone())
            .default_service(web::to(unrouted))
    })
    // Before `listen`, which reads it. actix leaves Nagle on by default; a compressed page
    // goes out as headers then body, and the body would wait for the client's delayed ACK
    // (40 ms on Linux) — the floor the web bench measured under every page.
    .tcp_nodelay(true)
    .keep_alive(KEEP_ALIVE)
    .listen(listener)?
    .workers(workers.max(1))
    .disable_signals()
    .shutdown_timeout(10)
    .run();
    let handle = server.handle();
    let join = tokio::spawn(server);
    Ok(RunningHttp { port, handle, join })
}

/// Request id, trace context, a span per request, metrics, and response headers.
async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let ctx = RequestContext::from_headers(
        header(REQUEST_ID).as_deref(),
        header(TRACEPARENT).as_deref(),
        header(TRACESTATE).as_deref(),
    );
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let span = tracing::info_span!(
        "http.request",
        method = %method,
        path = %loggable_path(req.path()),
        request_id = %ctx.request_id,
        trace_id = %ctx.trace.trace_id_hex(),
        status = tracing::field::Empty,
    );
    let started = Instant::now();
    let request_id = ctx.request_id.clone();
    let traceparent = ctx.trace.to_string();
    let result = match nul_in_uri(&req) {
        Some(field) => Ok(req
            .error_response(AppError::invalid(field, NUL_REFUSED))
            .map_into_right_body()),
        None => telemetry::scope(ctx, next.call(req))
            .instrument(span.clone())
            .await
            .map(ServiceResponse::map_into_left_body),
    };
    let mut response = result?;
    let status = response.status();
    span.record("status", status.as_u16());
    if let Some(metrics) = metrics {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        metrics
            .http_requests
            .with_label_values(&[method.as_str(), route.as_str(), status.as_str()])
            .inc();
        metrics
            .http_duration
            .with_label_values(&[method.as_str(), route.as_str()])
            .observe(started.elapsed().as_secs_f64());
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static(REQUEST_ID), value);
    }
    if let Ok(value) = HeaderValue::from_str(&traceparent) {
        headers.insert(HeaderName::from_static(TRACEPARENT), value);
    }
    Ok(response)
}

/// U+0000 means nothing in this API and PostgreSQL cannot store it: refused up front, wherever
/// it comes (path, query, JSON body), rather than failing in the database.
const NUL_REFUSED: &str = "contient un caractère nul (U+0000)";

/// The query parameter (or `path`) whose value carries an encoded NUL.
fn nul_in_uri(req: &ServiceRequest) -> Option<String> {
    let has_nul = |s: &str| s.to_ascii_lowercase().contains("%00");
    if has_nul(req.path()) {
        return Some("path".into());
    }
    req.query_string()
        .split('&')
        .find(|pair| has_nul(pair))
        .map(|pair| pair.split('=').next().unwrap_or("query").to_owned())
}

/// In JSON text a NUL can only be the escape `\u0000` (raw control characters are invalid):
/// one whose backslash is not itself escaped.
fn has_nul_escape(json: &[u8]) -> bool {
    json.windows(6).enumerate().any(|(i, w)| {
        w == b"\\u0000" && json[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })
}

/// Where the first string holding a NUL is, as a field path (`name`, `items[0].title`).
fn nul_path(value: &serde_json::Value, path: &str) -> Option<String> {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(if path.is_empty() {
            "body".into()
        } else {
            path.to_owned()
        }),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, &format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join(k))
            } else {
                nul_path(v, &join(k))
            }
        }),
        _ => None,
    }
}

async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<HttpState>) -> HttpResponse {
    let report = state.readiness.report().await;
    if report.ready {
        HttpResponse::Ok().json(report)
    } else {
        HttpResponse::ServiceUnavailable().json(report)
    }
}

async fn metrics(state: web::Data<HttpState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}

async fn openapi(req: HttpRequest, state: web::Data<HttpState>) -> HttpResponse {
    match &state.document {
        Some(document) => HttpResponse::Ok().json(document.json()),
        None => unrouted(req).await,
    }
}

/// A documented path asked with a method it does not answer is a 405 naming the ones it does
/// (`Allow`), before any route reads the path (`PUT /v1/trainings/export` would otherwise be
/// read as `PUT /v1/trainings/{id}` with a bad id).
async fn documented_methods(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let allowed = req
        .app_data::<web::Data<HttpState>>()
        .and_then(|state| state.document.clone())
        .and_then(|document| {
            document
                .allowed(req.path())
                .filter(|methods| !methods.contains(req.method()))
                .map(|methods| {
                    methods
                        .iter()
                        .map(Method::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
        });
    let Some(allow) = allowed else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let mut response = AppError::new(
        ErrorCode::MethodNotAllowed,
        format!("{} n'accepte que {allow}", req.path()),
    )
    .error_response();
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    Ok(req.into_response(response).map_into_right_body())
}

/// What no route took.
async fn unrouted(req: HttpRequest) -> HttpResponse {
    AppError::not_found(format!(
        "aucune ressource à {} {}",
        req.method(),
        req.path()
    ))
    .error_response()
}

/// Pulls the field name out of serde's messages ("missing field `title`").
fn field_in(message: &str) -> Option<String> {
    let start = message.find("field `")? + "field `".len();
    let end = message[start..].find('`')?;
    Some(message[start..start + end].to_owned())
}

/// serde's message as the person reads it: without its "at line 1 column 14" position, and in
/// French where the words are chrono's (a date that does not exist).
fn readable_message(message: &str) -> &str {
    let message = message.split(" at line ").next().unwrap_or(message);
    // chrono's words for a well-formed date that does not exist (30 February, 31 November).
    if message == "input is out of range" {
        "cette date n'existe pas (jour ou heure hors du calendrier)"
    } else {
        message
    }
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _| {
            use actix_web::error::JsonPayloadError as E;
            let app = match &err {
                E::OverflowKnownLength { .. } | E::Overflow { .. } => AppError::new(
                    ErrorCode::PayloadTooLarge,
                    "le corps de la requête est trop volumineux",
                ),
                E::ContentType => AppError::invalid("content-type", "doit être application/json"),
                E::Deserialize(e) => {
                    let message = e.to_string();
                    let field = field_in(&message).unwrap_or_else(|| "body".into());
                    AppError::invalid(field, readable_message(&message))
                }
                _ => AppError::invalid("body", "corps JSON illisible"),
            };
            app.into()
        })
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        let message = err.to_string();
        let field = field_in(&message).unwrap_or_else(|| "query".into());
        AppError::invalid(
            field,
            message.trim_start_matches("Query deserialize error: "),
        )
        .into()
    })
}

fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _| {
        AppError::invalid(
            "path",
            err.to_string()
                .trim_start_matches("Path deserialize error: "),
        )
        .into()
    })
}

/// A JSON body whose deserialisation errors name the exact path of the bad field
/// (`sessions[2].start`), which actix's own `Json` cannot.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json_content = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let ct = ct.to_ascii_lowercase();
                ct.starts_with("application/json") || ct.contains("+json")
            });
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !json_content {
                return Err(AppError::invalid(
                    "content-type",
                    "doit être application/json",
                ));
            }
            let bytes = bytes.await.map_err(|e| {
                if e.as_response_error().status_code()
                    == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
                {
                    AppError::new(
                        ErrorCode::PayloadTooLarge,
                        "le corps de la requête est trop volumineux",
                    )
                } else {
                    AppError::invalid("body", "corps de requête illisible")
                }
            })?;
            if has_nul_escape(&bytes) {
                // Rare: parse once more only to name the field.
                let field = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| nul_path(&v, ""))
                    .unwrap_or_else(|| "body".into());
                return Err(AppError::invalid(field, NUL_REFUSED));
            }
            let refusal = |e: serde_path_to_error::Error<serde_json::Error>| {
                let path = e.path().to_string();
                let inner = e.into_inner().to_string();
                AppError::invalid(field_path(&path, &inner), readable_message(&inner))
            };
            let mut de = serde_json::Deserializer::from_slice(&bytes);
            let value = match serde_path_to_error::deserialize(&mut de) {
                Ok(value) => value,
                // JSON has one kind of number: `399.0` is the integer 399 (JSON Schema says so
                // too), which serde reads into an integer only when written without a
                // fraction. Rare, so read again only then.
                Err(e)
                    if e.inner()
                        .to_string()
                        .starts_with("invalid type: floating point") =>
                {
                    let mut tree: serde_json::Value =
                        serde_json::from_slice(&bytes).map_err(|_| refusal(e))?;
                    integral_numbers_as_integers(&mut tree);
                    serde_path_to_error::deserialize(tree).map_err(refusal)?
                }
                Err(e) => return Err(refusal(e)),
            };
            Ok(Json(value))
        })
    }
}

/// Writes every number with a zero fraction (`3.0`, not `3.5`) as an integer, where it fits
/// one exactly.
fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    // Beyond 2^53 a float no longer holds every integer: leave those as they are.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() <= EXACT
            {
                *n = if f < 0.0 {
                    serde_json::Number::from(f as i64)
                } else {
                    serde_json::Number::from(f as u64)
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers_as_integers),
        _ => {}
    }
}

/// The path as logs may show it: a private calendar's secret token is a credential, so it
/// never reaches a log line (`/calendars/private/…/feed.ics`).
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    const SECRET: &str = "/calendars/private/";
    match path.find(SECRET) {
        Some(at) => {
            let start = at + SECRET.len();
            let rest = &path[start..];
            let end = rest
                .find('/')
                .or_else(|| rest.find('.'))
                .unwrap_or(rest.len());
            format!("{}…{}", &path[..start], &rest[end..]).into()
        }
        None => path.into(),
    }
}

/// Query-string parameters whose errors name the parameter and say what it accepts
/// (`status: unknown variant `archived`, expected one of …`), which actix's `Query` cannot.
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// Reads a query string into `T`, naming the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = match field_path(&path, &inner) {
            f if f == "body" => "query".to_owned(),
            f => f,
        };
        AppError::invalid(field, readable_message(&inner))
    })
}

/// The field a serde error is about, as a dotted path. For an unknown field the path already
/// ends with it; for a missing one it is the path of the object that lacks it.
fn field_path(path: &str, message: &str) -> String {
    let at_root = path == ".";
    match field_in(message) {
        Some(_) if message.starts_with("unknown field") && !at_root => path.to_owned(),
        Some(f) if at_root => f,
        Some(f) => format!("{path}.{f}"),
        None if at_root => "body".into(),
        None => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_found_and_named() {
        assert!(has_nul_escape(br#"{"name":"Zo\u0000e"}"#));
        // An escaped backslash followed by the text u0000 is no NUL.
        assert!(!has_nul_escape(br#"{"name":"a\\u0000"}"#));
        assert!(has_nul_escape(br#"{"name":"a\\\u0000"}"#));
        let body: serde_json::Value =
            serde_json::from_str(r#"{"ok":"x","items":[{"t":"a"},{"t":"b\u0000"}]}"#)
                .expect("json");
        assert_eq!(nul_path(&body, "").as_deref(), Some("items[1].t"));
        let root: serde_json::Value = serde_json::from_str(r#""\u0000""#).expect("json");
        assert_eq!(nul_path(&root, "").as_deref(), Some("body"));
    }

    #[test]
    fn error_paths_name_each_field_once() {
        let unknown = "unknown field `waitlist_enabled`, expected `waitlist`";
        assert_eq!(field_path("waitlist_enabled", unknown), "waitlist_enabled");
        assert_eq!(
            field_path("address.flor", "unknown field `flor`"),
            "address.flor"
        );
        assert_eq!(field_path(".", "missing field `title`"), "title");
        assert_eq!(
            field_path("address", "missing field `city`"),
            "address.city"
        );
        assert_eq!(field_path("capacity", "invalid type: string"), "capacity");
        assert_eq!(field_path(".", "invalid type: string"), "body");
    }

    #[test]
    fn private_calendar_tokens_stay_out_of_logs() {
        assert_eq!(
            loggable_path("/v1/calendars/private/s3cr3t/feed.ics"),
            "/v1/calendars/private/…/feed.ics"
        );
        assert_eq!(
            loggable_path("/calendars/private/s3cr3t.ics"),
            "/calendars/private/….ics"
        );
        assert_eq!(loggable_path("/v1/sessions"), "/v1/sessions");
    }

    #[test]
    fn query_errors_name_the_parameter() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Q {
            #[allow(dead_code)]
            status: Option<crate::vocabulary::Format>,
            #[allow(dead_code)]
            limit: Option<u64>,
        }
        let e = parse_query::<Q>("status=bad").unwrap_err();
        assert_eq!(e.field(), Some("status"));
        assert!(e.detail.contains("in_person"), "{}", e.detail);
        assert_eq!(
            parse_query::<Q>("limit=x").unwrap_err().field(),
            Some("limit")
        );
        assert_eq!(
            parse_query::<Q>("lmit=1").unwrap_err().field(),
            Some("lmit")
        );
        let ok = parse_query::<Q>("status=in_person&limit=3").expect("valid");
        assert_eq!(ok.limit, Some(3));
    }

    #[test]
    fn field_names_are_found_in_serde_messages() {
        assert_eq!(
            field_in("missing field `title` at line 1 column 2").as_deref(),
            Some("title")
        );
        assert_eq!(
            field_in("unknown field `titel`, expected `title`").as_deref(),
            Some("titel")
        );
        assert_eq!(field_in("invalid type: string"), None);
        assert_eq!(
            readable_message("invalid type: string \"x\", expected u32 at line 1 column 9"),
            "invalid type: string \"x\", expected u32"
        );
        let day: Result<chrono::NaiveDateTime, _> =
            serde_json::from_str(r#""2027-11-31T18:00:00""#);
        let message = day.expect_err("31 November").to_string();
        assert_eq!(
            readable_message(&message),
            "cette date n'existe pas (jour ou heure hors du calendrier)",
            "{message}"
        );
    }
}
