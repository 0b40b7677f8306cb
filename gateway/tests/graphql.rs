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
        Self::start_with(|config| config.graphql = graphql).await
    }

    /// A gateway on the test's own settings (no service runs behind it).
    async fn start_with(configure: impl FnOnce(&mut GatewayConfig)) -> Self {
        let dir = std::env::temp_dir().join(format!("cafeia-gw-{}", uuid::Uuid::now_v7()));
        let mut config = GatewayConfig::default();
        config.platform.data_dir = dir.clone();
        config.platform.auth.dev_issuer = true;
        config.rate_limit.requests_per_minute = 1000;
        configure(&mut config);
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

/// What GraphQL tools send to read the schema.
const STANDARD_INTROSPECTION: &str = include_str!("introspection.graphql");

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
    let deep = "{ venues { nodes { upcomingSessions { venue { name } } } } }";
    let (_, body) = gw.post(deep, None).await;
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
    let wide = "{ a: me { sub } b: me { sub } c: me { sub } d: me { sub } e: me { sub } f: me { sub } g: me { sub } h: me { sub } i: me { sub } j: me { sub } k: me { sub } }";
    let (_, body) = gw.post(wide, None).await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    // Introspection is held to its own bound, so that tools can read the schema.
    let schema = "{ __schema { types { fields { type { ofType { name } } } } } }";
    let (status, body) = gw.post(schema, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["__schema"]["types"].is_array(), "{body}");
    gw.stop().await;

    let gw = TestGateway::start(GraphqlConfig::default()).await;
    let (status, body) = gw.post(STANDARD_INTROSPECTION, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    assert!(
        body["data"]["__schema"]["queryType"]["name"] == "Query",
        "{body}"
    );
    let unwrap = |n: usize| {
        format!(
            "{{ __schema {{ types {{ {}name{} }} }} }}",
            "ofType { ".repeat(n),
            " }".repeat(n)
        )
    };
    let (_, body) = gw.post(&unwrap(17), None).await;
    assert!(body["errors"].is_null(), "{body}");
    let (_, body) = gw.post(&unwrap(18), None).await;
    assert_eq!(code(&body), "QUERY_TOO_DEEP", "{body}");
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
    // A bad Int, written in the document and passed as a variable.
    let (_, body) = gw
        .post("{ sessions(first: \"vingt\") { totalCount } }", None)
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let (_, body) = gw
        .post("{ sessions(first: 3000000000) { totalCount } }", None)
        .await;
    // A literal out of the Int range: its page size is read when the operation's cost is
    // computed, at validation (`cost`).
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    let resp = reqwest::Client::new()
        .post(format!("{}/graphql", gw.base))
        .json(&json!({
            "query": "query($n: Int) { sessions(first: $n) { totalCount } }",
            "variables": {"n": "vingt"},
        }))
        .send()
        .await
        .expect("post");
    let body: Value = resp.json().await.expect("json");
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

/// Every type, field, argument and enum value of the schema is described, so a client reads
/// the API in GraphiQL without the source. Connection plumbing generated by async-graphql
/// (`…Connection`, `…Edge`, `PageInfo`) and the built-in scalars describe themselves.
#[test]
fn every_type_and_field_is_described() {
    use async_graphql::parser::{
        parse_schema,
        types::{TypeKind, TypeSystemDefinition},
    };
    let sdl = cafeia_gateway::sdl();
    let doc = parse_schema(&sdl).expect("the SDL parses");
    let generated =
        |name: &str| name.ends_with("Connection") || name.ends_with("Edge") || name == "PageInfo";
    let mut missing = Vec::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = t.node;
        let name = t.name.node.to_string();
        if generated(&name) || name.starts_with("__") {
            continue;
        }
        let roots = ["Query", "Mutation", "Subscription"];
        if t.description.is_none() && !roots.contains(&name.as_str()) {
            missing.push(name.clone());
        }
        match &t.kind {
            TypeKind::Object(o) => {
                for f in &o.fields {
                    let field = format!("{name}.{}", f.node.name.node);
                    if f.node.description.is_none() {
                        missing.push(field.clone());
                    }
                    for a in &f.node.arguments {
                        if a.node.description.is_none() {
                            missing.push(format!("{field}({})", a.node.name.node));
                        }
                    }
                }
            }
            TypeKind::InputObject(i) => {
                for f in &i.fields {
                    if f.node.description.is_none() {
                        missing.push(format!("{name}.{}", f.node.name.node));
                    }
                }
            }
            TypeKind::Enum(e) => {
                for v in &e.values {
                    if v.node.description.is_none() {
                        missing.push(format!("{name}.{}", v.node.value.node));
                    }
                }
            }
            _ => {}
        }
    }
    assert!(
        missing.is_empty(),
        "{} undescribed:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

/// `count` aliased copies of `field`, as one operation's selection.
fn aliased(count: usize, field: &str) -> String {
    (0..count).map(|i| format!("a{i}: {field} ")).collect()
}

const SESSION_ID: &str = "0193f3a0-0000-7000-8000-000000000001";

/// Issue 14, defect 3: one request carried ~500 aliased `register` calls. At most
/// `graphql.max_mutations` mutation fields now run per operation (aliases and fragments
/// count); past it nothing runs (no service is even called: none runs behind this gateway,
/// so an executed mutation would answer `UNAVAILABLE`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_amplification_too_many_mutations_are_refused() {
    let gw = TestGateway::start(GraphqlConfig::default()).await;
    let token = gw.token(&[Role::Citizen]);
    let register =
        format!("register(sessionId: \"{SESSION_ID}\") {{ ... on Registration {{ status }} }}");
    for count in [6, 500] {
        let (_, body) = gw
            .post(
                &format!("mutation {{ {} }}", aliased(count, &register)),
                Some(&token),
            )
            .await;
        assert_eq!(code(&body), "TOO_MANY_MUTATIONS", "{count}: {body}");
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
        assert!(body["data"].is_null(), "{body}");
    }
    let through_fragments = format!(
        "mutation {{ ...Two ...Two ... on Mutation {{ {} }} }} \
         fragment Two on Mutation {{ {} }}",
        aliased(2, &register)
            .replace("a0:", "b0:")
            .replace("a1:", "b1:"),
        aliased(2, &register)
    );
    let (_, body) = gw.post(&through_fragments, Some(&token)).await;
    assert_eq!(code(&body), "TOO_MANY_MUTATIONS", "{body}");
    // Five run (and fail here only because no events service answers).
    let (_, body) = gw
        .post(
            &format!("mutation {{ {} }}", aliased(5, &register)),
            Some(&token),
        )
        .await;
    assert_eq!(code(&body), "UNAVAILABLE", "{body}");
    gw.stop().await;
}

/// Issue 14, defect 3: 500 cache-busting searches in one request. A search costs what it
/// makes the matching service do, an alias what its field costs, and each caller spends a
/// budget of cost per minute (`rate_limit.cost_per_minute`), not of requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_amplification_50_aliased_searches_exceed_the_cost_budget() {
    let search = "search(input: {q: \"ia\"}, first: 20) { hits { totalCount } }";
    let fifty = format!("{{ {} }}", aliased(50, search));
    // Over the limit of one operation's cost.
    let gw = TestGateway::start(GraphqlConfig::default()).await;
    let (_, body) = gw.post(&fifty, None).await;
    assert_eq!(code(&body), "QUERY_TOO_COMPLEX", "{body}");
    gw.stop().await;

    // And over a budget of 3,000 a minute, even where one operation may cost that much.
    let gw = TestGateway::start_with(|config| {
        config.graphql.complexity_limit = 100_000;
        config.rate_limit.cost_per_minute = 3000;
    })
    .await;
    let resp = reqwest::Client::new()
        .post(format!("{}/graphql", gw.base))
        .json(&json!({ "query": fifty }))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 429);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("60")
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], 60, "{body}");
    gw.stop().await;
}

/// The budget is the caller's, over every request and the WebSocket: ten searches a request
/// run out of it after a few requests (far fewer than `requests_per_minute`), for that caller
/// only; ordinary page queries pass meanwhile for the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_amplification_the_cost_budget_is_shared_across_requests() {
    let gw = TestGateway::start(GraphqlConfig::default()).await;
    let heavy = gw.token(&[Role::Citizen]);
    let ten = format!(
        "{{ {} }}",
        aliased(10, "search(first: 20) { hits { totalCount } }")
    );
    let mut passed = 0;
    loop {
        let (status, body) = gw.post(&ten, Some(&heavy)).await;
        if status == 429 {
            assert_eq!(code(&body), "RATE_LIMITED", "{body}");
            break;
        }
        // No matching service runs here: the searches are spent, and fail.
        assert_eq!(code(&body), "UNAVAILABLE", "{body}");
        passed += 1;
        assert!(passed < 100, "the budget never ran out");
    }
    // 10,000 a minute, 690 a request of ten searches: 14 requests, not 600 or 1,000.
    let per_request = 10 * cafeia_gateway::cost::search(Some(20), 2);
    assert_eq!(
        passed,
        10_000 / per_request,
        "{passed} requests of 10 searches"
    );
    // Cheap operations of the same caller are refused too: the budget is spent.
    let (status, _) = gw.post("{ me { sub } }", Some(&heavy)).await;
    assert_eq!(status, 429);
    // A subscription start on the WebSocket spends the same budget.
    let mut ws = connect(&gw, Some(&heavy)).await;
    subscribe(
        &mut ws,
        "1",
        "subscription { serviceStatus(service: EVENTS) { name } }",
    )
    .await;
    let refused = next_json(&mut ws).await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{refused}"
    );

    // Another caller's ordinary page query still passes.
    let other = gw
        .issuer
        .issue("u2", &[Role::Citizen], None, Duration::from_secs(300))
        .expect("token");
    let page = "{ sessions(first: 20) { totalCount pageInfo { hasNextPage endCursor } \
                edges { cursor node { id title startsAt seatsLeft capacity \
                venue { name } facilitators { displayName } } } } }";
    for _ in 0..20 {
        let (status, body) = gw.post(page, Some(&other)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(code(&body), "UNAVAILABLE", "{body}");
    }
    gw.stop().await;
}

/// Issue 14, defect 3 over the WebSocket: at most `graphql.max_subscriptions` subscriptions
/// run at once on one connection; one that ends gives its place back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alias_amplification_subscriptions_per_connection_are_bounded() {
    // Ten by default.
    let gw = TestGateway::start(GraphqlConfig::default()).await;
    let token = gw.token(&[Role::Staff]);
    let mut ws = connect(&gw, Some(&token)).await;
    let status = "subscription { serviceStatus(service: EVENTS, everySeconds: 60) { name } }";
    for id in 1..=10 {
        let id = id.to_string();
        subscribe(&mut ws, &id, status).await;
        let next = next_json(&mut ws).await;
        assert_eq!(next["id"], id, "{next}");
        assert_eq!(next["payload"]["data"]["serviceStatus"]["name"], "EVENTS");
    }
    subscribe(&mut ws, "11", status).await;
    let refused = next_json(&mut ws).await;
    assert_eq!(refused["id"], "11", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS",
        "{refused}"
    );
    assert_eq!(next_json(&mut ws).await["type"], "complete");
    // Two aliased subscriptions in one operation take two places.
    ws.send(Message::text(
        json!({"id": "1", "type": "complete"}).to_string(),
    ))
    .await
    .expect("complete");
    let complete = next_json(&mut ws).await;
    assert_eq!(
        (&complete["type"], &complete["id"]),
        (&json!("complete"), &json!("1"))
    );
    let two = format!(
        "subscription {{ {} }}",
        aliased(2, "serviceStatus(service: EVENTS) { name }")
    );
    subscribe(&mut ws, "12", &two).await;
    let refused = next_json(&mut ws).await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS",
        "{refused}"
    );
    assert_eq!(next_json(&mut ws).await["type"], "complete");
    subscribe(&mut ws, "13", status).await;
    let next = next_json(&mut ws).await;
    assert_eq!(next["id"], "13", "{next}");
    assert_eq!(next["payload"]["data"]["serviceStatus"]["name"], "EVENTS");
    gw.stop().await;
}

/// Issue 14, defect 13: identity was fixed at `connection_init`, so a staff `serviceStatus`
/// kept streaming after the token expired. Every subscription now ends, with an
/// `UNAUTHENTICATED` error, when the token it was started with expires, and the connection
/// runs nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_outlive_their_token() {
    let gw = TestGateway::start(GraphqlConfig::default()).await;
    let token = gw
        .issuer
        .issue("staff-1", &[Role::Staff], None, Duration::from_secs(2))
        .expect("token");
    let mut ws = connect(&gw, Some(&token)).await;
    subscribe(
        &mut ws,
        "1",
        "subscription { serviceStatus(service: EVENTS, everySeconds: 1) { name } }",
    )
    .await;
    let started = std::time::Instant::now();
    let mut reports = 0;
    let ended = loop {
        let next = next_json(&mut ws).await;
        if next["payload"]["errors"].is_array() {
            break next;
        }
        assert_eq!(next["payload"]["data"]["serviceStatus"]["name"], "EVENTS");
        reports += 1;
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "still streaming {:?} after a 2 s token",
            started.elapsed()
        );
    };
    assert!(reports >= 1, "it streamed while the token was valid");
    assert_eq!(
        ended["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{ended}"
    );
    let complete = next_json(&mut ws).await;
    assert_eq!(
        (&complete["type"], &complete["id"]),
        (&json!("complete"), &json!("1"))
    );
    // Nothing more runs on that connection, a query no more than a subscription.
    subscribe(&mut ws, "2", "{ me { sub } }").await;
    let refused = next_json(&mut ws).await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{refused}"
    );
    gw.stop().await;
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws connection, initialised with `token` when there is one.
async fn connect(gw: &TestGateway, token: Option<&str>) -> Ws {
    let url = format!("{}/graphql", gw.base.replace("http://", "ws://"));
    let mut request = url.as_str().into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    let payload = match token {
        Some(t) => json!({"Authorization": format!("Bearer {t}")}),
        None => json!({}),
    };
    ws.send(Message::text(
        json!({"type": "connection_init", "payload": payload}).to_string(),
    ))
    .await
    .expect("init");
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    ws
}

async fn subscribe(ws: &mut Ws, id: &str, query: &str) {
    ws.send(Message::text(
        json!({"id": id, "type": "subscribe", "payload": {"query": query}}).to_string(),
    ))
    .await
    .expect("subscribe");
}
