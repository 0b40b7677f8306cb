//! Logs, request ids and W3C trace context.
//!
//! The HTTP middleware (see [`crate::http`]) and the bus consumer both enter a
//! [`RequestContext`] scope, so any code below them can read the current request id and trace
//! context without threading them through every call.

use crate::config::{LogFormat, TelemetryConfig};
use std::fmt;
use tracing_subscriber::{EnvFilter, fmt as tfmt, prelude::*};

pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";
pub const REQUEST_ID: &str = "x-request-id";

/// Installs the global subscriber once; later calls (tests, several services in one process)
/// keep the first one.
pub fn init(config: &TelemetryConfig) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // lettre's debug events quote the SMTP dialogue (recipients, whole messages with their
    // private links): never below warnings, whatever the filter asks.
    let filter = match "lettre=warn".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.log_format {
        LogFormat::Json => registry
            .with(
                tfmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        // Pretty logs are for a terminal next to the launcher's own output: keep them on
        // stderr so stdout stays readable (and pipeable).
        LogFormat::Pretty => registry
            .with(tfmt::layer().compact().with_writer(std::io::stderr))
            .try_init(),
    };
    // Already installed: nothing to do.
    drop(result);
}

/// W3C Trace Context `traceparent` (version 00).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: u128,
    pub span_id: u64,
    pub sampled: bool,
}

impl TraceContext {
    /// A new trace, for a request that arrived without one.
    pub fn new_root() -> Self {
        Self {
            trace_id: random_nonzero_u128(),
            span_id: random_nonzero_u64(),
            sampled: true,
        }
    }

    /// Same trace, new span: what we hand to the next hop.
    pub fn child(&self) -> Self {
        Self {
            trace_id: self.trace_id,
            span_id: random_nonzero_u64(),
            sampled: self.sampled,
        }
    }

    /// Parses a `traceparent` header; anything malformed is treated as absent, as the spec asks.
    pub fn parse(header: &str) -> Option<Self> {
        let parts: Vec<&str> = header.trim().split('-').collect();
        if parts.len() < 4 {
            return None;
        }
        let (version, trace, span, flags) = (parts[0], parts[1], parts[2], parts[3]);
        if version.len() != 2 || version == "ff" || !is_lower_hex(version) {
            return None;
        }
        // Version 00 has exactly four fields; later versions may append more.
        if version == "00" && parts.len() != 4 {
            return None;
        }
        if trace.len() != 32 || span.len() != 16 || flags.len() != 2 {
            return None;
        }
        if !is_lower_hex(trace) || !is_lower_hex(span) || !is_lower_hex(flags) {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok()?;
        let span_id = u64::from_str_radix(span, 16).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        if trace_id == 0 || span_id == 0 {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }

    pub fn trace_id_hex(&self) -> String {
        format!("{:032x}", self.trace_id)
    }
}

impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn random_nonzero_u128() -> u128 {
    loop {
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            // No entropy source is unthinkable on our targets; a UUIDv7 is still unique enough.
            return uuid::Uuid::now_v7().as_u128();
        }
        let value = u128::from_be_bytes(bytes);
        if value != 0 {
            return value;
        }
    }
}

fn random_nonzero_u64() -> u64 {
    loop {
        let value = random_nonzero_u128() as u64;
        if value != 0 {
            return value;
        }
    }
}

/// What identifies the work in progress: one HTTP request or one consumed message.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub request_id: String,
    pub trace: TraceContext,
    pub tracestate: Option<String>,
}

impl RequestContext {
    /// Continues the caller's trace when it sent one, otherwise starts a new trace.
    pub fn from_headers(
        request_id: Option<&str>,
        traceparent: Option<&str>,
        tracestate: Option<&str>,
    ) -> Self {
        let request_id = request_id
            .filter(|id| valid_request_id(id))
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let parent = traceparent.and_then(TraceContext::parse);
        Self {
            request_id,
            trace: parent.map_or_else(TraceContext::new_root, |p| p.child()),
            tracestate: parent.and(tracestate.map(str::to_owned)),
        }
    }

    /// Headers to put on an outgoing call (HTTP or AMQP) so the next hop joins the trace.
    pub fn outgoing_headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            (REQUEST_ID, self.request_id.clone()),
            (TRACEPARENT, self.trace.child().to_string()),
        ];
        if let Some(state) = &self.tracestate {
            headers.push((TRACESTATE, state.clone()));
        }
        headers
    }
}

/// Request ids from outside are echoed back, so keep them short and printable.
fn valid_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

tokio::task_local! {
    static CURRENT: RequestContext;
}

/// Runs `fut` with `ctx` as the current request context.
pub async fn scope<F: std::future::Future>(ctx: RequestContext, fut: F) -> F::Output {
    CURRENT.scope(ctx, fut).await
}

/// Runs `f` with `ctx` as the current request context (work done on behalf of a request by
/// another task, e.g. a batch deciding several requests).
pub fn with_context<T>(ctx: Option<RequestContext>, f: impl FnOnce() -> T) -> T {
    match ctx {
        Some(ctx) => CURRENT.sync_scope(ctx, f),
        None => f(),
    }
}

pub fn current() -> Option<RequestContext> {
    CURRENT.try_with(Clone::clone).ok()
}

pub fn current_request_id() -> Option<String> {
    CURRENT.try_with(|c| c.request_id.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let ctx = TraceContext::parse(header).expect("valid");
        assert_eq!(ctx.to_string(), header);
        assert!(ctx.sampled);
        let child = ctx.child();
        assert_eq!(child.trace_id, ctx.trace_id);
        assert_ne!(child.span_id, ctx.span_id);
    }

    #[test]
    fn malformed_traceparents_are_ignored() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert!(TraceContext::parse(bad).is_none(), "accepted {bad:?}");
        }
    }

    #[test]
    fn request_context_continues_the_incoming_trace() {
        let ctx = RequestContext::from_headers(
            Some("req-1"),
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Some("vendor=1"),
        );
        assert_eq!(ctx.request_id, "req-1");
        assert_eq!(ctx.trace.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        let outgoing = ctx.outgoing_headers();
        let tp = outgoing
            .iter()
            .find(|(k, _)| *k == TRACEPARENT)
            .map(|(_, v)| v.clone())
            .expect("traceparent");
        assert!(tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(outgoing.contains(&(TRACESTATE, "vendor=1".to_owned())));
    }

    #[test]
    fn hostile_request_ids_are_replaced() {
        let ctx = RequestContext::from_headers(Some("<script>\n"), None, None);
        assert_ne!(ctx.request_id, "<script>\n");
        assert!(uuid::Uuid::parse_str(&ctx.request_id).is_ok());
    }

    #[tokio::test]
    async fn scope_exposes_the_current_context() {
        assert!(current().is_none());
        let ctx = RequestContext::from_headers(Some("abc"), None, None);
        let seen = scope(ctx, async { current_request_id() }).await;
        assert_eq!(seen.as_deref(), Some("abc"));
    }
}
