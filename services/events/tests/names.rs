//! Facilitators' names are read when shown (issue 14, defect 4: names stay off the bus), on
//! both backend sets: events runs beside the real facilitators service, and every view that
//! names a session's facilitator (REST, JSON-LD, iCalendar) shows their current public name,
//! none once they are erased, and none — still answering — while that service is down.

use cafeia_events::Events;
use cafeia_facilitators::Facilitators;
use cafeia_platform::{
    auth::{DevIssuer, Role},
    bus::Bus,
    runtime::{self, Launch, Running, Service, Shared},
};
use cafeia_testkit::{Backend, TestEnv, backend_matrix};
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::{net::TcpListener, sync::Arc, time::Duration as StdDuration};

struct Stage {
    /// Kept for the test's length: dropping it removes its databases and queues.
    _env: TestEnv,
    http: reqwest::Client,
    issuer: DevIssuer,
    events: Option<Running>,
    facilitators: Option<Running>,
    events_base: String,
    facilitators_base: String,
}

async fn launch<S: Service>(
    env: &TestEnv,
    bus: &Arc<dyn Bus>,
    listener: TcpListener,
    setting: Option<(&str, String)>,
) -> Running {
    let mut config = env.config.clone();
    config.database.url = Some(env.database_for(S::NAME).await);
    if let Some((key, value)) = setting {
        config.sources = config.sources.clone().with(key, value);
    }
    let running = runtime::start::<S>(Launch {
        config,
        shared: Shared {
            bus: Some(bus.clone()),
            ..Shared::default()
        },
        listener,
        demo_data: false,
        workers: 1,
    })
    .await
    .unwrap_or_else(|e| panic!("{} starts: {e}", S::NAME));
    for queue in running.platform.queues() {
        env.adopt_queue(queue);
    }
    running
}

impl Stage {
    /// Events first (its queue is bound before the facilitators service announces anyone),
    /// told where the facilitators service listens.
    async fn start(backend: Backend) -> Self {
        let env = TestEnv::new(backend).await;
        let bus = cafeia_platform::bus::connect(&env.config.bus)
            .await
            .expect("bus");
        let listener = runtime::bind("127.0.0.1", 0).expect("bind");
        let facilitators_base = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("address").port()
        );
        let events = launch::<Events>(
            &env,
            &bus,
            runtime::bind("127.0.0.1", 0).expect("bind"),
            Some(("services.facilitators", facilitators_base.clone())),
        )
        .await;
        let facilitators = launch::<Facilitators>(&env, &bus, listener, None).await;
        let issuer =
            DevIssuer::load_or_create(&env.config.data_dir, &env.config.auth).expect("issuer");
        Self {
            events_base: format!("http://127.0.0.1:{}", events.port()),
            facilitators_base,
            events: Some(events),
            facilitators: Some(facilitators),
            _env: env,
            http: reqwest::Client::new(),
            issuer,
        }
    }

    fn token(&self, sub: &str, role: Role) -> String {
        self.issuer
            .issue(sub, &[role], None, StdDuration::from_secs(600))
            .expect("token")
    }

    async fn call(
        &self,
        base: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{base}{path}"));
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

    async fn events(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(&self.events_base, method, path, token, body)
            .await
    }

    async fn facilitators(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(&self.facilitators_base, method, path, token, body)
            .await
    }

    /// A facilitator registered and verified by staff; returns their id and token.
    async fn verified(&self, sub: &str, name: &str) -> (String, String) {
        let token = self.token(sub, Role::Facilitator);
        let (status, me) = self
            .facilitators(
                Method::POST,
                "/v1/facilitators/me",
                Some(&token),
                Some(profile(name)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{me}");
        let id = me["id"].as_str().expect("id").to_owned();
        let staff = self.token("cnnum-staff", Role::Staff);
        let (status, verified) = self
            .facilitators(
                Method::POST,
                &format!("/v1/facilitators/{id}/verify"),
                Some(&staff),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{verified}");
        (id, token)
    }

    /// Publishes an online session as `token`'s facilitator, once events has heard they are
    /// verified.
    async fn published(&self, token: &str) -> String {
        let start = Utc::now() + Duration::days(30);
        let local = |at: chrono::DateTime<Utc>| {
            at.with_timezone(&chrono_tz::Europe::Paris)
                .naive_local()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string()
        };
        let body = json!({
            "title": "Café IA en ligne",
            "description": "Pour tout le monde.",
            "format": "online",
            "online_url": "https://visio.example.org/cafe-ia",
            "starts_at": local(start),
            "ends_at": local(start + Duration::hours(2)),
            "timezone": "Europe/Paris",
            "capacity": 20,
            "topics": ["what_is_ai"],
        });
        let mut last = Value::Null;
        for _ in 0..200 {
            let (status, created) = self
                .events(
                    Method::POST,
                    "/v1/sessions?publish=true",
                    Some(token),
                    Some(body.clone()),
                )
                .await;
            if status == StatusCode::CREATED {
                return created["id"].as_str().expect("id").to_owned();
            }
            last = created;
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
        panic!("the verified facilitator never could publish: {last}");
    }

    /// What the three kinds of views say of `session`'s facilitator `id`: the REST view's
    /// name, the JSON-LD organizer's name, whether the session's iCalendar event names them,
    /// and the facilitator's feed title.
    async fn shown(&self, session: &str, id: &str) -> Shown {
        let (status, view) = self
            .events(Method::GET, &format!("/v1/sessions/{session}"), None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        let (status, doc) = self
            .events(
                Method::GET,
                &format!("/v1/sessions/{session}/jsonld"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{doc}");
        let (status, ics) = self
            .events(
                Method::GET,
                &format!("/v1/sessions/{session}/calendar.ics"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{ics}");
        let (status, feed) = self
            .events(
                Method::GET,
                &format!("/v1/calendars/facilitators/{id}/feed.ics"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{feed}");
        let text = |v: &Value| icalendar::parser::unfold(v.as_str().expect("iCalendar text"));
        let feed = text(&feed);
        Shown {
            rest: view["facilitator"]["display_name"]
                .as_str()
                .map(str::to_owned),
            organizer: doc["organizer"]["name"].as_str().map(str::to_owned),
            event: text(&ics)
                .lines()
                .find_map(|l| l.split_once("Animé par ").map(|(_, n)| n.trim().to_owned())),
            feed: feed
                .lines()
                .find_map(|l| l.strip_prefix("X-WR-CALNAME:"))
                .map(str::to_owned),
        }
    }

    async fn stop_facilitators(&mut self) {
        if let Some(f) = self.facilitators.take() {
            f.stop().await;
        }
    }

    async fn stop(mut self) {
        self.stop_facilitators().await;
        if let Some(e) = self.events.take() {
            e.stop().await;
        }
    }
}

#[derive(Debug, PartialEq)]
struct Shown {
    rest: Option<String>,
    organizer: Option<String>,
    event: Option<String>,
    feed: Option<String>,
}

impl Shown {
    fn named(name: &str) -> Self {
        Self {
            rest: Some(name.to_owned()),
            organizer: Some(name.to_owned()),
            event: Some(name.to_owned()),
            feed: Some(format!("Cafés IA — {name}")),
        }
    }

    fn nameless() -> Self {
        Self {
            rest: None,
            organizer: None,
            event: None,
            feed: Some("Cafés IA".to_owned()),
        }
    }
}

fn profile(name: &str) -> Value {
    json!({
        "display_name": name,
        "email": "animation@mediatheque.example.fr",
        "kind": "mediateur_numerique",
        "territories": ["69123"],
        "topics": ["what_is_ai"],
        "languages": ["fr"],
        "training_completed_on": "2026-03-12",
    })
}

async fn views_show_the_facilitators_current_name(backend: Backend) {
    let mut stage = Stage::start(backend).await;
    let (camille, camille_token) = stage.verified("camille", "Camille Martin").await;
    let (dominique, dominique_token) = stage.verified("dominique", "Dominique Petit").await;
    let first = stage.published(&camille_token).await;
    let second = stage.published(&dominique_token).await;
    assert_eq!(
        stage.shown(&first, &camille).await,
        Shown::named("Camille Martin")
    );
    // The list names each session's facilitator from one batch.
    let (status, list) = stage.events(Method::GET, "/v1/sessions", None, None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let names: Vec<(&str, &str)> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|s| {
            Some((
                s["id"].as_str()?,
                s["facilitator"]["display_name"].as_str()?,
            ))
        })
        .collect();
    assert!(
        names.contains(&(first.as_str(), "Camille Martin"))
            && names.contains(&(second.as_str(), "Dominique Petit")),
        "{list}"
    );

    // Renamed after publication: every view shows the new name, with no message in between.
    let (status, renamed) = stage
        .facilitators(
            Method::PATCH,
            "/v1/facilitators/me",
            Some(&camille_token),
            Some(profile("Camille Durand")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(
        stage.shown(&first, &camille).await,
        Shown::named("Camille Durand")
    );

    // Erased: no view names them any more.
    let (status, erased) = stage
        .facilitators(
            Method::DELETE,
            "/v1/facilitators/me",
            Some(&camille_token),
            None,
        )
        .await;
    assert!(status.is_success(), "{status}: {erased}");
    assert_eq!(stage.shown(&first, &camille).await, Shown::nameless());
    assert_eq!(
        stage.shown(&second, &dominique).await,
        Shown::named("Dominique Petit")
    );

    // The facilitators service down: the views still answer, without the name.
    stage.stop_facilitators().await;
    assert_eq!(stage.shown(&second, &dominique).await, Shown::nameless());
    stage.stop().await;
}

backend_matrix!(views_show_the_facilitators_current_name);
