//! A service under test: started on a test's own backends, called over real HTTP, with the
//! messages it publishes captured (and checked against their contracts).

use crate::{Backend, TestEnv, contracts};
use cafeia_platform::{
    auth::{DevIssuer, Role, Territory},
    bus::{Subscriber, Subscription},
    runtime::{self, Launch, Running, Service, Shared},
};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

pub struct ServiceHarness {
    pub env: TestEnv,
    pub base: String,
    pub http: reqwest::Client,
    pub messages: Subscriber,
    /// The broker the service runs on, to play other services' announcements to it.
    pub bus: std::sync::Arc<dyn cafeia_platform::bus::Bus>,
    issuer: DevIssuer,
    running: Option<Running>,
    replicas: Vec<Running>,
}

impl ServiceHarness {
    /// Starts `S` and listens to the messages matching `patterns` (e.g. `catalogue.#`).
    pub async fn start<S: Service>(backend: Backend, patterns: &[&str]) -> Self {
        Self::start_with::<S>(backend, patterns, |_| {}).await
    }

    /// [`Self::start`] with the test's configuration changed by `tweak` first (a real mail
    /// server, a setting of the service's own section in `sources.overrides`).
    pub async fn start_with<S: Service>(
        backend: Backend,
        patterns: &[&str],
        tweak: impl FnOnce(&mut cafeia_platform::config::PlatformConfig),
    ) -> Self {
        let mut env = TestEnv::new(backend).await;
        tweak(&mut env.config);
        let bus = cafeia_platform::bus::connect(&env.config.bus)
            .await
            .expect("bus");
        let messages = bus
            .subscribe(Subscription::new(env.queue("watch"), patterns))
            .await
            .expect("subscribe");
        let running = launch::<S>(&env, &bus).await;
        for queue in running.platform.queues() {
            env.adopt_queue(queue);
        }
        let issuer =
            DevIssuer::load_or_create(&env.config.data_dir, &env.config.auth).expect("issuer");
        Self {
            base: format!("http://127.0.0.1:{}", running.port()),
            running: Some(running),
            env,
            issuer,
            http: reqwest::Client::new(),
            messages,
            bus,
            replicas: Vec::new(),
        }
    }

    /// Starts another replica of `S` on the same database and broker (consumers compete for
    /// its queues, as in production); returns its base URL. Stopped with the harness.
    pub async fn replica<S: Service>(&mut self) -> String {
        let running = launch::<S>(&self.env, &self.bus).await;
        let base = format!("http://127.0.0.1:{}", running.port());
        self.replicas.push(running);
        base
    }

    pub fn token(&self, sub: &str, role: Role, territory: Option<Territory>) -> String {
        self.issuer
            .issue(sub, &[role], territory.as_ref(), Duration::from_secs(600))
            .expect("token")
    }

    /// A provider's token, scoped to its SIRET.
    pub fn provider_token(&self, sub: &str, siret: &str) -> String {
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

    /// Publishes what another service would announce (`kind` with `data`), as it would.
    pub async fn publish<T: serde::Serialize>(
        &self,
        kind: cafeia_platform::envelope::MessageType,
        subject: &str,
        data: T,
    ) {
        let envelope = cafeia_platform::envelope::Envelope::new(kind, subject, data);
        let message =
            cafeia_platform::bus::Message::event(kind.routing_key(), &envelope).expect("message");
        self.bus.publish(&message).await.expect("published");
    }

    /// A JSON call; the body comes back as JSON (or as a string when it is not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A raw body with its content type (file imports).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let resp = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The next message published, checked against its contract: (routing key, data).
    pub async fn next_message(&mut self) -> (String, Value) {
        let delivery = self
            .messages
            .next_within(Duration::from_secs(10))
            .await
            .expect("a message was published");
        contracts::validate(&delivery.message.body, true).expect("message matches its contract");
        let envelope: Value = serde_json::from_slice(&delivery.message.body).expect("json");
        let key = delivery.message.routing_key.clone();
        delivery.ack().await.expect("ack");
        (key, envelope["data"].clone())
    }

    /// Asserts nothing more is published within a short while.
    pub async fn no_more_messages(&mut self) {
        if let Some(d) = self.messages.next_within(Duration::from_millis(300)).await {
            panic!("unexpected message {}", d.message.routing_key);
        }
    }

    pub async fn stop(mut self) {
        for r in self.replicas.drain(..) {
            r.stop().await;
        }
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

async fn launch<S: Service>(
    env: &TestEnv,
    bus: &std::sync::Arc<dyn cafeia_platform::bus::Bus>,
) -> Running {
    runtime::start::<S>(Launch {
        config: env.config.clone(),
        shared: Shared {
            bus: Some(bus.clone()),
            ..Shared::default()
        },
        listener: runtime::bind("127.0.0.1", 0).expect("bind"),
        demo_data: false,
        workers: 1,
    })
    .await
    .unwrap_or_else(|e| panic!("{} starts: {e}", S::NAME))
}

impl ServiceHarness {
    /// Checks the service's `/openapi.json` against the routes its contract lists
    /// (`paths::ALL`, full paths): each is documented, nothing else is, and every documented
    /// operation is served (not the router's own 404).
    pub async fn assert_openapi_matches(&self, routes: &[&str]) {
        let (status, doc) = self.call(Method::GET, "/openapi.json", None, None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        let paths = doc["paths"].as_object().expect("paths");
        for path in routes {
            assert!(
                paths.contains_key(*path),
                "{path} is routed but not documented"
            );
        }
        for path in paths.keys() {
            assert!(
                routes.contains(&path.as_str()),
                "{path} is documented but not in the contract's paths"
            );
        }
        let staff = self.token("openapi-check", Role::Staff, None);
        for (path, item) in paths {
            for method in item.as_object().expect("operations").keys() {
                let concrete = path
                    .replace("{id}", "0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b")
                    .replace("{insee}", "69123")
                    .replace("{postcode}", "69001");
                let resp = self
                    .http
                    .request(
                        Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"),
                        format!("{}{concrete}", self.base),
                    )
                    .bearer_auth(&staff)
                    .send()
                    .await
                    .expect("request");
                let text = resp.text().await.expect("body");
                assert!(
                    !text.contains("aucune ressource"),
                    "{method} {path} is documented but not routed"
                );
            }
        }
    }
}

/// The first problem's field name.
pub fn field(body: &Value) -> &str {
    body["errors"][0]["field"].as_str().unwrap_or("<none>")
}
