//! Drives a whole stack (every service and the gateway, in this process) on a test's own
//! backends, through the public GraphQL API only.

pub mod browser;
pub mod oidc;

use cafeia::stack::Stack;
use cafeia_gateway::GatewayConfig;
use cafeia_platform::auth::{DevIssuer, Role, Territory};
use cafeia_testkit::{Backend, TestEnv};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::{collections::HashMap, time::Duration};

pub const SERVICES: [&str; 5] = [
    "catalogue",
    "facilitators",
    "events",
    "matching",
    "outreach",
];

pub struct TestStack {
    pub env: TestEnv,
    pub base: String,
    issuer: DevIssuer,
    stack: Option<Stack>,
    http: reqwest::Client,
}

impl TestStack {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Like [`start`](Self::start), with `configure` changing the configuration last (the
    /// sign-in tests point it at their identity provider).
    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut GatewayConfig)) -> Self {
        Self::start_routed(backend, configure, |_, url| url).await
    }

    /// Like [`start_with`](Self::start_with), each service's database URL passed through
    /// `route` (the fault tests put one behind a proxy they cut).
    pub async fn start_routed(
        backend: Backend,
        configure: impl FnOnce(&mut GatewayConfig),
        route: impl Fn(&str, SecretString) -> SecretString,
    ) -> Self {
        let env = TestEnv::new(backend).await;
        let mut databases: HashMap<String, SecretString> = HashMap::new();
        for service in SERVICES {
            let url = route(service, env.database_for(service).await);
            databases.insert(service.to_owned(), url);
        }
        let mut config = GatewayConfig::default();
        config.platform = env.config.clone();
        config.platform.http.port = 0;
        config.platform.database.url = None;
        // The web app's session cookie key (the embedded run keeps one in its data dir).
        config.web.session_key = Some(SecretString::from("k".repeat(64)));
        // Each test reads what it just wrote; `public_answers` has its own test.
        config.graphql.public_answers = false;
        configure(&mut config);
        let issuer = DevIssuer::load_or_create(&config.platform.data_dir, &config.platform.auth)
            .expect("issuer");
        let stack = Stack::start(config, true, &|service| databases.get(service).cloned())
            .await
            .unwrap_or_else(|e| panic!("stack starts: {e}"));
        for running in stack.services() {
            for queue in running.platform.queues() {
                env.adopt_queue(queue);
            }
        }
        Self {
            base: format!("http://127.0.0.1:{}", stack.gateway_port()),
            env,
            issuer,
            stack: Some(stack),
            http: reqwest::Client::new(),
        }
    }

    pub fn token(&self, sub: &str, roles: &[Role], territory: Option<Territory>) -> String {
        self.issuer
            .issue(sub, roles, territory.as_ref(), Duration::from_secs(600))
            .expect("token")
    }

    /// A citizen's token carrying the address their identity provider verified (they
    /// register at once, as signed-in people do).
    pub fn citizen_token(&self, sub: &str, email: &str) -> String {
        self.issuer
            .issue_with_email(sub, &[Role::Citizen], email, Duration::from_secs(3600))
            .expect("token")
    }

    /// A provider's token, scoped to its SIRET.
    pub fn token_with_siret(&self, sub: &str, siret: &str) -> String {
        self.issuer
            .issue_scoped(
                sub,
                &[Role::Provider],
                None,
                Some(siret),
                Duration::from_secs(600),
            )
            .expect("token")
    }

    /// POSTs a GraphQL request; returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
            .await
            .expect("gateway answers")
            .json()
            .await
            .expect("JSON body")
    }

    /// The id of the first session `search` finds with `input` (a GraphQL `SearchInput`
    /// literal), waiting for the matching service to index the demo data from the bus.
    pub async fn first_session(&self, input: &str) -> String {
        let query =
            format!("{{ search(input: {{{input}}}, first: 1) {{ hits {{ nodes {{ id }} }} }} }}");
        for _ in 0..100 {
            let found = self.graphql(&query, json!({}), None).await;
            if let Some(id) = found["data"]["search"]["hits"]["nodes"][0]["id"].as_str() {
                return id.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("no session for {input} after 20 s");
    }

    /// Registers `email` (and `name`) to `session` without an account through the real path:
    /// `register` (its pending answer checked), the confirmation mail the events service wrote
    /// (`.eml` files in the data directory, its default transport), `confirmRegistration` with
    /// the token of the mail's link. Returns the confirmation's whole response: its
    /// `data.confirmRegistration` holds `id sessionId status waitlistPosition
    /// cancellationToken`, or its `errors` say why not.
    pub async fn register_by_mail(&self, session: &str, email: &str, name: Option<&str>) -> Value {
        use cafeia_testkit::mail::{mail_dir, message_ids, wait_for_new_confirmation};
        let dir = mail_dir(&self.env.config.data_dir);
        let before = message_ids(&dir, email);
        let asked = self
            .graphql(
                "mutation($id: UUID!, $email: String, $name: String) { register(sessionId: $id, \
                 email: $email, name: $name, consent: true) { __typename \
                 ... on RegistrationPending { sessionId message } } }",
                json!({"id": session, "email": email, "name": name}),
                None,
            )
            .await;
        assert_eq!(
            asked["data"]["register"]["__typename"], "RegistrationPending",
            "{asked}"
        );
        // The confirmation mail by its subject: the seat mail of an earlier confirmation to
        // this address may come after it.
        let token = wait_for_new_confirmation(&dir, email, &before).await;
        self.graphql(
            "mutation($t: String!) { confirmRegistration(token: $t) { id sessionId status \
             waitlistPosition cancellationToken } }",
            json!({ "t": token }),
            None,
        )
        .await
    }

    /// How many requests the services have answered so far, per service (their own
    /// `http_requests_total`, not counting the scrapes of `/metrics` themselves).
    pub async fn service_calls(&self) -> HashMap<&'static str, u64> {
        let mut calls = HashMap::new();
        let Some(stack) = self.stack.as_ref() else {
            return calls;
        };
        for running in stack.services() {
            let text = self
                .http
                .get(format!("http://127.0.0.1:{}/metrics", running.port()))
                .send()
                .await
                .expect("metrics answer")
                .text()
                .await
                .expect("metrics text");
            let answered: u64 = text
                .lines()
                .filter(|l| l.starts_with("cafeia_http_requests_total{"))
                .filter(|l| !l.contains("route=\"/metrics\""))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                .sum();
            calls.insert(running.service, answered);
        }
        calls
    }

    /// The base URL of one of the stack's services (`events`…), to call it without the gateway.
    pub fn service_base(&self, service: &str) -> String {
        let running = self
            .stack
            .as_ref()
            .and_then(|s| s.services().iter().find(|r| r.service == service))
            .unwrap_or_else(|| panic!("no {service} service in the stack"));
        format!("http://127.0.0.1:{}", running.port())
    }

    /// The stack's message bus (embedded: the one in-process broker the services share), for
    /// a bench that feeds the consumers directly.
    pub fn bus(&self) -> Option<std::sync::Arc<dyn cafeia_platform::bus::Bus>> {
        let stack = self.stack.as_ref()?;
        stack.services().first().map(|s| s.platform.bus.clone())
    }

    /// The gateway's configuration, to start another replica beside it.
    pub fn gateway_config(&self) -> GatewayConfig {
        self.stack
            .as_ref()
            .map(|s| s.config.clone())
            .unwrap_or_default()
    }

    pub async fn stop(mut self) {
        if let Some(stack) = self.stack.take() {
            stack.stop().await;
        }
    }
}
