//! The core every typed service client is built on: JSON over HTTP to one service, the caller's
//! token and trace headers forwarded, query strings encoded by serde, path templates shared
//! with the service's routes, problem documents read back as [`Problem`]s.

use crate::errors::{ErrorCode, Problem};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::{Serialize, de::DeserializeOwned};
use std::{fmt, sync::Arc, time::Duration};

pub use reqwest::Method;

/// Who a call is made for: the caller's token and the headers of the request it belongs to
/// (request id, trace context).
#[derive(Clone, Debug, Default)]
pub struct Call {
    pub token: Option<Arc<str>>,
    pub headers: Vec<(&'static str, String)>,
}

/// Why a call failed.
#[derive(Debug)]
pub enum ClientError {
    /// The service refused, with its problem document.
    Problem(Problem),
    /// The service could not be reached, or did not answer in time.
    Unavailable(reqwest::Error),
    /// The service answered something that is not what its contract says.
    BadAnswer(String),
}

impl ClientError {
    /// The catalogue code this failure stands for.
    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::Problem(p) => p.code,
            ClientError::Unavailable(_) => ErrorCode::Unavailable,
            ClientError::BadAnswer(_) => ErrorCode::Internal,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Problem(p) => p.fmt(f),
            ClientError::Unavailable(e) => write!(f, "service unreachable: {e}"),
            ClientError::BadAnswer(why) => write!(f, "unexpected answer: {why}"),
        }
    }
}

impl std::error::Error for ClientError {}

pub type ClientResult<T> = Result<T, ClientError>;

/// A raw answer (an iCalendar feed, a JSON-LD document) passed on as it came.
#[derive(Clone, Debug)]
pub struct RawAnswer {
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Characters escaped in a path segment: everything but unreserved ones (RFC 3986).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']')
    .add(b'&')
    .add(b'+')
    .add(b'=')
    .add(b';')
    .add(b':')
    .add(b'@')
    .add(b',')
    .add(b'$')
    .add(b'!')
    .add(b'\'')
    .add(b'(')
    .add(b')')
    .add(b'*');

/// Fills a route template shared with the service (`/v1/sessions/{id}`) with `args`, in
/// order, each percent-encoded as one path segment.
pub fn fill(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 40);
    let mut rest = template;
    let mut args = args.iter();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        let arg = args.next().copied().unwrap_or_default();
        out.extend(utf8_percent_encode(arg, SEGMENT));
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// How long a client of the platform keeps an idle connection in its pool; servers keep
/// theirs longer (`platform::http::KEEP_ALIVE`).
pub const POOL_IDLE: Duration = Duration::from_secs(30);

/// HTTP to one service.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    base: Arc<str>,
}

impl Http {
    /// A client for the service at `base` (`http://127.0.0.1:8083`), sharing `client`'s pool.
    pub fn new(client: reqwest::Client, base: &str) -> Self {
        Self {
            client,
            base: base.trim_end_matches('/').into(),
        }
    }

    /// The connection pool the gateway shares between its service clients.
    pub fn pool() -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(POOL_IDLE)
            .build()
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn request<Q: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &Q,
        call: &Call,
    ) -> reqwest::RequestBuilder {
        let mut builder = self
            .client
            .request(method, format!("{}{path}", self.base))
            .query(query);
        if let Some(token) = &call.token {
            builder = builder.bearer_auth(token);
        }
        for (name, value) in &call.headers {
            builder = builder.header(*name, value);
        }
        builder
    }

    /// GET `path` with `query` and read the JSON answer.
    pub async fn get<Q: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Q,
        call: &Call,
    ) -> ClientResult<T> {
        let response = self
            .request(Method::GET, path, query, call)
            .send()
            .await
            .map_err(ClientError::Unavailable)?;
        read(response).await
    }

    /// GET that treats 404 as absence.
    pub async fn find<Q: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Q,
        call: &Call,
    ) -> ClientResult<Option<T>> {
        match self.get(path, query, call).await {
            Ok(v) => Ok(Some(v)),
            Err(ClientError::Problem(p)) if p.code == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends `body` (JSON) with `method`; `Ok(None)` for an empty answer (204).
    pub async fn send<Q: Serialize + ?Sized, B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &Q,
        body: Option<&B>,
        call: &Call,
    ) -> ClientResult<Option<T>> {
        let mut builder = self.request(method, path, query, call);
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let response = builder.send().await.map_err(ClientError::Unavailable)?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        read(response).await.map(Some)
    }

    /// A mutation whose answer the service must send.
    pub async fn change<Q: Serialize + ?Sized, B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &Q,
        body: Option<&B>,
        call: &Call,
    ) -> ClientResult<T> {
        self.send(method, path, query, body, call)
            .await?
            .ok_or_else(|| ClientError::BadAnswer(format!("empty answer from {path}")))
    }

    /// Sends a raw body (a file to import) with its content type and reads the JSON answer.
    pub async fn upload<Q: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Q,
        content_type: &str,
        body: impl Into<reqwest::Body>,
        call: &Call,
    ) -> ClientResult<T> {
        let response = self
            .request(Method::POST, path, query, call)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .map_err(ClientError::Unavailable)?;
        read(response).await
    }

    /// GET a document that is not JSON (iCalendar, JSON-LD), passed on as it came.
    pub async fn raw<Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
        call: &Call,
    ) -> ClientResult<RawAnswer> {
        let response = self
            .request(Method::GET, path, query, call)
            .send()
            .await
            .map_err(ClientError::Unavailable)?;
        if !response.status().is_success() {
            return Err(problem(response).await);
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let body = response
            .bytes()
            .await
            .map_err(ClientError::Unavailable)?
            .to_vec();
        Ok(RawAnswer { content_type, body })
    }

    /// GET `path` and read the JSON answer whatever its status (readiness reports answer 503
    /// with a body).
    pub async fn any_status<T: DeserializeOwned>(
        &self,
        path: &str,
        call: &Call,
    ) -> ClientResult<T> {
        let response = self
            .request(Method::GET, path, &(), call)
            .send()
            .await
            .map_err(ClientError::Unavailable)?;
        response
            .json()
            .await
            .map_err(|e| ClientError::BadAnswer(e.to_string()))
    }
}

async fn read<T: DeserializeOwned>(response: reqwest::Response) -> ClientResult<T> {
    if response.status().is_success() {
        let bytes = response.bytes().await.map_err(ClientError::Unavailable)?;
        return serde_json::from_slice(&bytes).map_err(|e| ClientError::BadAnswer(e.to_string()));
    }
    Err(problem(response).await)
}

async fn problem(response: reqwest::Response) -> ClientError {
    let status = response.status();
    match response.json::<Problem>().await {
        Ok(problem) => ClientError::Problem(problem),
        Err(e) => ClientError::BadAnswer(format!(
            "service answered {status} without a problem document: {e}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn templates_are_filled_with_encoded_segments() {
        assert_eq!(fill("/v1/sessions/{id}", &["abc-1"]), "/v1/sessions/abc-1");
        assert_eq!(
            fill("/v1/a/{x}/b/{y}.ics", &["a/b", "é ?"]),
            "/v1/a/a%2Fb/b/%C3%A9%20%3F.ics"
        );
        assert_eq!(fill("/v1/plain", &[]), "/v1/plain");
    }
}
