//! Request admission over HTTP, on both backend sets (the limits live in the cache): client
//! addresses behind a trusted proxy, the failed-token budget, and readiness with the bus.

use async_trait::async_trait;
use cafeia_gateway::{GatewayConfig, Shared};
use cafeia_platform::{
    auth::{DevIssuer, Role},
    bus::{self, Bus, BusError, Message, Subscriber, Subscription},
    config::Sources,
};
use cafeia_testkit::{Backend, TestEnv, backend_matrix};
use serde_json::{Value, json};
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

struct Gw {
    base: String,
    issuer: DevIssuer,
    gateway: Option<cafeia_gateway::Gateway>,
    _env: TestEnv,
}

impl Gw {
    async fn start(backend: Backend, tune: impl FnOnce(&mut GatewayConfig)) -> Self {
        Self::start_with(backend, tune, None).await
    }

    /// With `bus_down`, the gateway's bus is the backend's behind a [`SwitchableBus`].
    async fn start_with(
        backend: Backend,
        tune: impl FnOnce(&mut GatewayConfig),
        bus_down: Option<Arc<AtomicBool>>,
    ) -> Self {
        let env = TestEnv::new(backend).await;
        let mut config = GatewayConfig {
            platform: env.config.clone(),
            ..GatewayConfig::default()
        };
        // The web app's cookie key, required outside the embedded run.
        config.web.session_key = Some(secrecy::SecretString::from("k".repeat(64)));
        tune(&mut config);
        let issuer = DevIssuer::load_or_create(&config.platform.data_dir, &config.platform.auth)
            .expect("issuer");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut shared = Shared::default();
        if let Some(down) = bus_down {
            let inner = bus::connect(&env.config.bus).await.expect("bus");
            shared.bus = Some(Arc::new(SwitchableBus { inner, down }));
        }
        let gateway = cafeia_gateway::start(config, shared, listener, 1)
            .await
            .expect("gateway starts");
        Self {
            base: format!("http://127.0.0.1:{}", gateway.port()),
            issuer,
            gateway: Some(gateway),
            _env: env,
        }
    }

    /// `{ __typename }` as a client behind the Ingress: `forwarded` is the
    /// `X-Forwarded-For` the controller sends.
    async fn ask(&self, forwarded: Option<&str>, token: Option<&str>) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": "{ __typename }" }));
        if let Some(f) = forwarded {
            req = req.header("x-forwarded-for", f);
        }
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("post");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn stop(mut self) {
        if let Some(g) = self.gateway.take() {
            g.stop().await;
        }
    }
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// Issue 14, defect 6: behind the Ingress every anonymous client shared the proxy's bucket.
async fn anonymous_rate_limit_behind_the_ingress_is_per_client(backend: Backend) {
    let gw = Gw::start(backend, |c| {
        c.rate_limit.requests_per_minute = 3;
        c.rate_limit.trusted_proxies = vec!["127.0.0.0/8".into()];
    })
    .await;
    for _ in 0..3 {
        assert_eq!(gw.ask(Some("203.0.113.1"), None).await.0, 200);
    }
    let (status, body) = gw.ask(Some("203.0.113.1"), None).await;
    assert_eq!(status, 429);
    assert_eq!(code(&body), "RATE_LIMITED");
    // What the client writes itself, on the left of what the proxy appends, does not help.
    assert_eq!(gw.ask(Some("198.51.100.9, 203.0.113.1"), None).await.0, 429);
    // Another client behind the same proxy has its own budget.
    assert_eq!(gw.ask(Some("203.0.113.2"), None).await.0, 200);
    gw.stop().await;
}

/// Without trusted proxies (the default) the header is ignored: it cannot buy budgets.
async fn forwarded_for_is_ignored_unless_the_proxy_is_trusted(backend: Backend) {
    let gw = Gw::start(backend, |c| c.rate_limit.requests_per_minute = 3).await;
    for n in 1..=3 {
        assert_eq!(gw.ask(Some(&format!("203.0.113.{n}")), None).await.0, 200);
    }
    let (status, body) = gw.ask(Some("203.0.113.4"), None).await;
    assert_eq!(status, 429);
    assert_eq!(code(&body), "RATE_LIMITED");
    gw.stop().await;
}

/// Issue 14, defect 6: failed authentication was never counted.
async fn failed_authentication_is_counted_per_client_address(backend: Backend) {
    let gw = Gw::start(backend, |c| {
        c.rate_limit.failed_auth_per_minute = 3;
        c.rate_limit.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    for n in 0..3 {
        let (status, body) = gw
            .ask(Some("203.0.113.1"), Some(&format!("forged-{n}")))
            .await;
        assert_eq!(status, 401, "try {n}");
        assert_eq!(code(&body), "UNAUTHENTICATED");
    }
    let (status, body) = gw.ask(Some("203.0.113.1"), Some("forged-4")).await;
    assert_eq!(status, 429, "over the failed-token budget");
    assert_eq!(code(&body), "RATE_LIMITED");
    // Another address still gets its own tries; a valid token is not refused.
    assert_eq!(gw.ask(Some("203.0.113.2"), Some("forged")).await.0, 401);
    let token = gw
        .issuer
        .issue("u1", &[Role::Citizen], None, Duration::from_secs(60))
        .expect("token");
    assert_eq!(gw.ask(Some("203.0.113.1"), Some(&token)).await.0, 200);
    // The documents routes are admitted the same way.
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/calendars/sessions/00000000-0000-0000-0000-000000000000.ics",
            gw.base
        ))
        .header("x-forwarded-for", "203.0.113.1")
        .bearer_auth("forged-5")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 429);
    gw.stop().await;
}

/// Issue 14, defect 6, over WebSocket: a token refused at `connection_init` is counted too.
async fn failed_authentication_is_counted_on_websocket_connection_init(backend: Backend) {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message as Frame, client::IntoClientRequest};
    let gw = Gw::start(backend, |c| c.rate_limit.failed_auth_per_minute = 2).await;
    let refusal = |token: &'static str| {
        let url = format!("{}/graphql", gw.base.replace("http://", "ws://"));
        async move {
            let mut request = url.as_str().into_client_request().expect("request");
            request.headers_mut().insert(
                "sec-websocket-protocol",
                "graphql-transport-ws".parse().expect("header"),
            );
            let (mut ws, _) = tokio_tungstenite::connect_async(request)
                .await
                .expect("websocket");
            ws.send(Frame::text(
                json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}})
                    .to_string(),
            ))
            .await
            .expect("init");
            loop {
                let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
                    .await
                    .expect("an answer in time");
                match frame {
                    Some(Ok(Frame::Close(Some(close)))) => return close.reason.to_string(),
                    Some(Ok(Frame::Text(text))) => return text.to_string(),
                    Some(Ok(_)) => continue,
                    other => panic!("connection ended without a refusal: {other:?}"),
                }
            }
        }
    };
    for token in ["forged-1", "forged-2"] {
        let why = refusal(token).await;
        assert!(!why.contains("trop de"), "within the budget: {why}");
    }
    let why = refusal("forged-3").await;
    assert!(
        why.contains("trop de jetons refusés"),
        "over the budget: {why}"
    );
    // The same address over HTTP is over the budget too: one budget per address.
    assert_eq!(gw.ask(None, Some("forged-4")).await.0, 429);
    gw.stop().await;
}

/// A bus whose readiness check can be made to fail; everything else goes to the real one.
struct SwitchableBus {
    inner: Arc<dyn Bus>,
    down: Arc<AtomicBool>,
}

#[async_trait]
impl Bus for SwitchableBus {
    async fn publish(&self, message: &Message) -> Result<(), BusError> {
        self.inner.publish(message).await
    }
    async fn subscribe(&self, subscription: Subscription) -> Result<Subscriber, BusError> {
        self.inner.subscribe(subscription).await
    }
    async fn check(&self) -> Result<(), BusError> {
        if self.down.load(Ordering::SeqCst) {
            Err(BusError::Unreachable("switched off by the test".into()))
        } else {
            self.inner.check().await
        }
    }
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
}

/// Issue 14, defect 1: the gateway's readiness did not check the bus its `seats`
/// subscription listens on.
async fn gateway_readiness_checks_the_bus(backend: Backend) {
    let down = Arc::new(AtomicBool::new(false));
    let gw = Gw::start_with(backend, |_| {}, Some(down.clone())).await;
    let readyz = || async {
        let resp = reqwest::get(format!("{}/readyz", gw.base))
            .await
            .expect("readyz");
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.expect("json"))
    };
    let (status, body) = readyz().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["bus"], "ok", "{body}");
    down.store(true, Ordering::SeqCst);
    let (status, body) = readyz().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["bus"], "failing", "{body}");
    gw.stop().await;
}

backend_matrix!(
    anonymous_rate_limit_behind_the_ingress_is_per_client,
    forwarded_for_is_ignored_unless_the_proxy_is_trusted,
    failed_authentication_is_counted_per_client_address,
    failed_authentication_is_counted_on_websocket_connection_init,
    gateway_readiness_checks_the_bus,
);

#[test]
fn trusted_proxies_are_validated_and_read_from_a_list_or_an_environment_string() {
    let base = || Sources::default().with("auth.dev_issuer", "true");
    let config = GatewayConfig::load(&base()).expect("defaults");
    assert!(
        config.rate_limit.trusted_proxies.is_empty(),
        "off by default"
    );
    assert_eq!(config.rate_limit.failed_auth_per_minute, 30);
    let config =
        GatewayConfig::load(&base().with("rate_limit.trusted_proxies", "10.0.0.0/8, fd00::/8"))
            .expect("a comma-separated string, as in CAFEIA_RATE_LIMIT__TRUSTED_PROXIES");
    assert_eq!(
        config.rate_limit.trusted_proxies,
        vec!["10.0.0.0/8".to_owned(), "fd00::/8".to_owned()]
    );
    let err = GatewayConfig::load(&base().with("rate_limit.trusted_proxies", "ingress-nginx"))
        .expect_err("not an address");
    assert_eq!(err.keys(), vec!["rate_limit.trusted_proxies"]);
    let err = GatewayConfig::load(&base().with("rate_limit.failed_auth_per_minute", "0"))
        .expect_err("zero");
    assert_eq!(err.keys(), vec!["rate_limit.failed_auth_per_minute"]);
}
