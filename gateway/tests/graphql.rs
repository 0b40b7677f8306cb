//! The gateway as a client sees it: the committed SDL, limits, switches, error codes, auth,
//! GET restrictions and WebSocket subscriptions.

use cafeia_gateway::{GatewayConfig, Shared, config::GraphqlConfig};
use cafeia_platform::auth::{DevIssuer, Role};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

#[test]
fn committed_sdl_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/schema.graphql");
    let committed = std::fs::read_to_string(&path).expect("schema/schema.graphql exists");
    let current = cafeia_gateway::sdl();
    assert!(
        committed == current,
        "schema/schema.graphql is out of date: run `cargo run -p cafeia -- schema > schema/schema.graphql`"
    );
}

struct TestGateway {
    base: String,
    issuer: DevIssuer,
    gateway: Option<cafeia_gateway::Gateway>,
    dir: std::path::PathBuf,
}

impl TestGateway {
    async fn start(graphql: GraphqlConfig) -> Self {
        let dir = std::env::temp_dir().join(format!("cafeia-gw-{}", uuid::Uuid::now_v7()));
        let mut config = GatewayConfig::default();
        config.platform.data_dir = dir.clone();
        config.platform.auth.dev_issuer = true;
        config.graphql = graphql;
        config.rate_limit.requests_per_minute = 1000;
        let issuer = DevIssuer::load_or_create(&dir, &config.platform.auth).expect("issuer");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let gateway = cafeia_gateway::start(config, Shared::default(), listener, 1)
            .await
            .expect("gateway starts");
        Self {
            base: format!("http://127.0.0.1:{}", gateway.port()),
            issuer,
            gateway: Some(gateway),
            dir,
        }
    }

    fn token(&self, roles: &[Role]) -> String {
        self.issuer
            .issue("u1", roles, None, Duration::from_secs(300))
            .expect("token")
    }

    async fn post(&self, query: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("post");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json"))
    }

    async fn stop(mut self) {
        if let Some(g) = self.gateway.take() {
            g.stop().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_typename_and_the_callers_identity() {
    let gw = TestGateway::start(GraphqlConfig::default()).await;
    let (status, body) = gw.post("{ __typename }", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["__typename"], "Query");
    let (_, body) = gw.post("{ me { sub } }", None).await;
    assert_eq!(body["data"]["me"], Value::Null);
    let (_, body) = gw
        .post(
            "{ me { sub roles } }",
            Some(&gw.token(&[Role::Facilitator])),
        )
        .await;
    assert_eq!(
        body["data"]["me"],
        json!({"sub": "u1", "roles": ["FACILITATOR"]})
    );

    let get = reqwest::get(format!("{}/graphql?query=%7B__typename%7D", gw.base))
        .await
        .expect("get");
    assert_eq!(get.status(), 200);
    assert_eq!(
        get.json::<Value>().await.expect("json")["data"]["__typename"],
        "Query"
    );
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_codes_come_from_the_catalogue() {
    let gw = TestGateway::start(GraphqlConfig::default()).await;
    let (_, body) = gw.post("{ services { name } }", None).await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
    let (_, body) = gw
        .post("{ services { name } }", Some(&gw.token(&[Role::Citizen])))
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    // Services are not running here: staff see them as not ready, not as an error.
    let (_, body) = gw
        .post(
            "{ services { name ready } }",
            Some(&gw.token(&[Role::Staff])),
        )
        .await;
    assert_eq!(body["data"]["services"].as_array().map(Vec::len), Some(5));
    assert_eq!(body["data"]["services"][0]["ready"], false);

    let (status, body) = gw.post("{ __typename }", Some("not-a-jwt")).await;
    assert_eq!(status, 401);
    assert_eq!(code(&body), "UNAUTHENTICATED");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_and_complexity_are_limited() {
    let gw = TestGateway::start(GraphqlConfig {
        depth_limit: 4,
        complexity_limit: 20,
        ..GraphqlConfig::default()
    })
    .await;
    let deep = "{ __schema { types { fields { type { ofType { name } } } } } }";
    let (_, body) = gw.post(deep, None).await;
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
    let wide = "{ a: me { sub } b: me { sub } c: me { sub } d: me { sub } e: me { sub } f: me { sub } g: me { sub } h: me { sub } i: me { sub } j: me { sub } k: me { sub } }";
    let (_, body) = gw.post(wide, None).await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    gw.stop().await;
}

/// Every refusal, whoever raises it, is a JSON GraphQL error document with a specific code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_json_with_a_specific_code() {
    let gw = TestGateway::start(GraphqlConfig::default()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/graphql", gw.base);
    let raw = |body: Vec<u8>, content_type: &'static str| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let resp = http
                .post(url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("post");
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert!(ct.starts_with("application/json"), "content type {ct}");
            let body: Value = resp.json().await.expect("a JSON body");
            (status, body)
        }
    };
    let json = "application/json";
    let (status, body) = raw(b"{\"query\": ".to_vec(), json).await;
    assert_eq!((status, code(&body)), (400, "MALFORMED_BODY"), "{body}");
    let (status, body) = raw(br#"{"variables": {}}"#.to_vec(), json).await;
    assert_eq!((status, code(&body)), (400, "MALFORMED_BODY"), "{body}");
    let batch = br#"[{"query": "{ __typename }"}, {"query": "{ __typename }"}]"#;
    let (status, body) = raw(batch.to_vec(), json).await;
    assert_eq!(
        (status, code(&body)),
        (400, "BATCH_NOT_SUPPORTED"),
        "{body}"
    );
    let (status, body) = raw(b"{ __typename }".to_vec(), "text/plain").await;
    assert_eq!(
        (status, code(&body)),
        (415, "UNSUPPORTED_MEDIA_TYPE"),
        "{body}"
    );
    // http.max_body_bytes (1 MiB by default) holds on /graphql too: 5 MB is refused, in JSON.
    let mut big = br#"{"query": "{ __typename }", "padding": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 5_000_000));
    big.extend(br#""}"#);
    let (status, body) = raw(big, json).await;
    assert_eq!((status, code(&body)), (413, "PAYLOAD_TOO_LARGE"), "{body}");

    let (_, body) = gw.post("{ __typename", None).await;
    assert_eq!(code(&body), "GRAPHQL_PARSE_FAILED", "{body}");
    let (_, body) = gw.post("{ noSuchField }", None).await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let (_, body) = gw
        .post(
            "{ __type(name: \"Query\") { fields(includeDeprecated: 5) { name } } }",
            None,
        )
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let (_, body) = gw
        .post("query A { __typename } query B { __typename }", None)
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_and_suggestions_can_be_switched_off() {
    let gw = TestGateway::start(GraphqlConfig {
        introspection: false,
        suggestions: false,
        ..GraphqlConfig::default()
    })
    .await;
    let (_, body) = gw.post("{ __schema { types { name } } }", None).await;
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection must reveal nothing: {body}"
    );
    let (_, body) = gw.post("{ servics { name } }", None).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(!message.contains("Did you mean"), "{message}");

    let open = TestGateway::start(GraphqlConfig::default()).await;
    let (_, body) = open.post("{ servics { name } }", None).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Did you mean"),
        "{body}"
    );
    let (_, body) = open.post("{ __schema { queryType { name } } }", None).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    gw.stop().await;
    open.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_refuses_mutations() {
    let gw = TestGateway::start(GraphqlConfig::default()).await;
    let resp = reqwest::get(format!(
        "{}/graphql?query=mutation%7B__typename%7D",
        gw.base
    ))
    .await
    .expect("get");
    assert_eq!(resp.status(), 405);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_is_served_only_when_enabled() {
    let off = TestGateway::start(GraphqlConfig::default()).await;
    assert_eq!(
        reqwest::get(format!("{}/graphiql", off.base))
            .await
            .expect("get")
            .status(),
        404
    );
    let on = TestGateway::start(GraphqlConfig {
        graphiql: true,
        ..GraphqlConfig::default()
    })
    .await;
    let page = reqwest::get(format!("{}/graphiql", on.base))
        .await
        .expect("get");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("graphiql"));
    off.stop().await;
    on.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_run_over_websocket_with_the_token_in_connection_init() {
    let gw = TestGateway::start(GraphqlConfig::default()).await;
    let url = format!("{}/graphql", gw.base.replace("http://", "ws://"));
    let mut request = url.as_str().into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    let token = gw.token(&[Role::Staff]);
    ws.send(Message::text(
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}})
            .to_string(),
    ))
    .await
    .expect("init");
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["type"], "connection_ack");
    ws.send(Message::text(
        json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { serviceStatus(service: EVENTS, everySeconds: 1) { name ready } }"}})
            .to_string(),
    ))
    .await
    .expect("subscribe");
    for _ in 0..2 {
        let next = next_json(&mut ws).await;
        assert_eq!(next["type"], "next", "{next}");
        assert_eq!(next["payload"]["data"]["serviceStatus"]["name"], "EVENTS");
    }
    ws.send(Message::text(
        json!({"id": "1", "type": "complete"}).to_string(),
    ))
    .await
    .expect("complete");

    // Without a staff token the subscription is refused with a catalogue code.
    let mut request = url.as_str().into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut anon, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    anon.send(Message::text(
        json!({"type": "connection_init", "payload": {}}).to_string(),
    ))
    .await
    .expect("init");
    assert_eq!(next_json(&mut anon).await["type"], "connection_ack");
    anon.send(Message::text(
        json!({"id": "2", "type": "subscribe", "payload": {"query": "subscription { serviceStatus(service: EVENTS) { name } }"}}).to_string(),
    ))
    .await
    .expect("subscribe");
    let refused = next_json(&mut anon).await;
    assert_eq!(refused["type"], "next", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    gw.stop().await;
}

async fn next_json<S>(ws: &mut S) -> Value
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("message in time")
            .expect("stream open")
            .expect("frame");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).expect("json frame");
        }
    }
}
