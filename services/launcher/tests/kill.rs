//! The events service killed with SIGKILL in the middle of a burst of registrations, on
//! PostgreSQL and RabbitMQ: `cafeia serve events` runs as its own process, is killed without
//! warning, and started again on the same database and broker. A checker then reads the
//! history: every registration answered « confirmed » (or « waitlisted ») is there as
//! answered, the seat counters equal the rows, and every committed registration was
//! announced on the bus (lost = 0); the broker may deliver one twice (at least once), which
//! the figures count.
//!
//! `CAFEIA_KILL_REGISTRATIONS` sets the burst (400 in the test command).

use cafeia_platform::{
    auth::{DevIssuer, Role, account_key},
    bus::{Bus, Message, Subscription},
    envelope::{Envelope, MessageType},
};
use cafeia_testkit::{Backend, TestEnv, free_port};
use chrono::{Duration as Span, Utc};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::{
    collections::{HashMap, HashSet},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_cafeia");
const CLIENTS: usize = 8;
const VERIFIED: MessageType = MessageType::new("facilitators", "facilitator", "verified", 1);
const VENUE: MessageType = MessageType::new("facilitators", "venue", "upserted", 1);

/// The service's process, killed with the test whatever happens to it (a panic included), so
/// that none outlives the database and queues the test's env drops.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `cafeia serve events` on the test's database and broker, verifying the test's tokens.
fn serve_events(env: &TestEnv, port: u16) -> Served {
    let config = &env.config;
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("CAFEIA_") {
            cmd.env_remove(key);
        }
    }
    cmd.args(["serve", "events"])
        .env("CAFEIA_HTTP__HOST", "127.0.0.1")
        .env("CAFEIA_HTTP__PORT", port.to_string())
        .env("CAFEIA_DATA_DIR", &config.data_dir)
        .env("CAFEIA_DATABASE__URL", env.database_url().expose_secret())
        .env("CAFEIA_BUS__URL", config.bus.url.expose_secret())
        .env("CAFEIA_BUS__EXCHANGE", &config.bus.exchange)
        .env("CAFEIA_BUS__QUEUE_PREFIX", &config.bus.queue_prefix)
        .env("CAFEIA_CACHE__URL", config.cache.url.expose_secret())
        .env("CAFEIA_CACHE__KEY_PREFIX", &config.cache.key_prefix)
        .env(
            "CAFEIA_AUTH__PUBLIC_KEY_FILE",
            config.data_dir.join(DevIssuer::PUBLIC_FILE),
        )
        .env("CAFEIA_TELEMETRY__LOG_FILTER", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map(Served)
        .expect("spawn cafeia serve events")
}

async fn wait_ready(http: &reqwest::Client, base: &str, Served(child): &mut Served) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("cafeia serve events exited at start: {status}");
        }
        let ready = http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK);
        if ready {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "cafeia serve events not ready within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn publish(bus: &Arc<dyn Bus>, kind: MessageType, data: Value) {
    let envelope = Envelope::new(kind, "test", data);
    let message = Message::event(kind.routing_key(), &envelope).expect("message");
    bus.publish(&message).await.expect("published");
}

/// What each client got: the registrations answered, and those left without an answer.
#[derive(Default)]
struct Tally {
    next: AtomicUsize,
    answered: Mutex<HashMap<String, String>>,
    unanswered: AtomicUsize,
    /// Of those, the ones found registered when asked again.
    committed_unanswered: AtomicUsize,
    server_errors: AtomicUsize,
    other: Mutex<Vec<String>>,
}

async fn register_until(
    issuer: Arc<DevIssuer>,
    base: Arc<Mutex<String>>,
    session: Arc<String>,
    total: usize,
    tally: Arc<Tally>,
) {
    let http = reqwest::Client::new();
    let mut retrying = false;
    let mut n = 0;
    loop {
        if !retrying {
            n = tally.next.fetch_add(1, Ordering::SeqCst);
            if n >= total {
                return;
            }
        }
        let token = issuer
            .issue(
                &format!("kill-{n}"),
                &[Role::Citizen],
                None,
                Duration::from_secs(600),
            )
            .expect("token");
        let url = format!(
            "{}/v1/sessions/{session}/registrations",
            base.lock().expect("base")
        );
        let sent = http
            .post(url)
            .bearer_auth(&token)
            .json(&json!({}))
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        let Ok(resp) = sent else {
            // Killed under it, or not back yet: the client does not know what became of it,
            // and asks again for the same person until the service answers.
            if !retrying {
                tally.unanswered.fetch_add(1, Ordering::SeqCst);
            }
            retrying = true;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let asked_again = std::mem::take(&mut retrying);
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status.is_server_error() {
            tally.server_errors.fetch_add(1, Ordering::SeqCst);
        }
        match (body["id"].as_str(), body["status"].as_str()) {
            (Some(id), Some(state)) if status.is_success() => {
                tally
                    .answered
                    .lock()
                    .expect("tally")
                    .insert(id.to_owned(), state.to_owned());
            }
            // Asked again after no answer: the first request had committed before the kill.
            _ if asked_again && body["code"] == "ALREADY_REGISTERED" => {
                tally.committed_unanswered.fetch_add(1, Ordering::SeqCst);
            }
            _ => tally
                .other
                .lock()
                .expect("tally")
                .push(format!("{status} {body}")),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_killed_mid_burst_keeps_every_answered_registration_and_message() {
    let total: usize = cafeia_testkit::size_from_env("CAFEIA_KILL_REGISTRATIONS", 400);
    let env = TestEnv::new(Backend::Real).await;
    env.adopt_queue(format!(
        "{}events.facilitators",
        env.config.bus.queue_prefix
    ));
    let issuer =
        Arc::new(DevIssuer::load_or_create(&env.config.data_dir, &env.config.auth).expect("keys"));
    let bus = cafeia_platform::bus::connect(&env.config.bus)
        .await
        .expect("bus");
    let mut watch = bus
        .subscribe(Subscription::new(
            env.queue("watch"),
            &["events.registration.*"],
        ))
        .await
        .expect("subscribe");
    let http = reqwest::Client::new();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = serve_events(&env, port);
    wait_ready(&http, &base, &mut child).await;

    // The facilitators service's announcements: a venue and a verified facilitator.
    let venue = Uuid::now_v7();
    publish(
        &bus,
        VENUE,
        json!({
            "id": venue, "name": "Médiathèque Jean-Macé", "address": "2 rue Jean-Jaurès",
            "postcode": "69007", "insee": "69387", "departement": "69", "region": "84",
            "latitude": 45.745, "longitude": 4.842, "opening_hours": null,
            "accessibility": [], "capacity": 300, "is_public": true,
        }),
    )
    .await;
    publish(
        &bus,
        VERIFIED,
        json!({
            "id": Uuid::now_v7(), "account": account_key("kill-lead"), "display_name": "Alice",
            "kind": "mediateur_numerique", "status": "verified", "departements": ["69"],
            "regions": ["84"], "topics": [], "languages": ["fr"], "organisation_id": null,
        }),
    )
    .await;
    let lead = issuer
        .issue(
            "kill-lead",
            &[Role::Facilitator],
            None,
            Duration::from_secs(600),
        )
        .expect("token");
    // Half the burst is seated, the rest waits.
    let capacity = i64::try_from(total / 2).expect("capacity");
    let start = Utc::now() + Span::days(30);
    let paris = |at: chrono::DateTime<Utc>| {
        at.with_timezone(&chrono_tz::Europe::Paris)
            .naive_local()
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    };
    let body = json!({
        "title": "Café IA : c'est quoi l'IA ?", "description": "Pour tout le monde.",
        "format": "in_person", "venue_id": venue, "starts_at": paris(start),
        "ends_at": paris(start + Span::hours(2)), "timezone": "Europe/Paris",
        "capacity": capacity, "topics": ["what_is_ai"], "accessibility": [],
    });
    let mut session = None;
    for _ in 0..200 {
        let resp = http
            .post(format!("{base}/v1/sessions?publish=true"))
            .bearer_auth(&lead)
            .json(&body)
            .send()
            .await
            .expect("events answers");
        if resp.status() == StatusCode::CREATED {
            let created: Value = resp.json().await.expect("json");
            session = created["id"].as_str().map(str::to_owned);
            break;
        }
        // The announcements are still on their way to the service's replica.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let session = Arc::new(session.expect("a published session"));

    let tally = Arc::new(Tally::default());
    let shared_base = Arc::new(Mutex::new(base.clone()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            tokio::spawn(register_until(
                issuer.clone(),
                shared_base.clone(),
                session.clone(),
                total,
                tally.clone(),
            ))
        })
        .collect();
    // Killed once a third of the burst is answered, without warning.
    let waiting = Instant::now();
    while tally.answered.lock().expect("tally").len() < total / 3 {
        assert!(
            waiting.elapsed() < Duration::from_secs(120)
                && !clients.iter().all(|c| c.is_finished()),
            "a third of the burst never got an answer: {:?}",
            tally.other.lock().expect("tally").first()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.0.kill().expect("SIGKILL");
    let killed = Instant::now();
    child.0.wait().expect("reaped");
    let mut child = serve_events(&env, port);
    wait_ready(&http, &base, &mut child).await;
    let back = killed.elapsed();
    for client in clients {
        client.await.expect("client");
    }

    // Every registration stored, as the database holds it now.
    let db = Database::connect(env.database_url().expose_secret())
        .await
        .expect("events db");
    let query = |sql: String| {
        let db = db.clone();
        async move {
            db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .expect("query")
        }
    };
    let stored: HashMap<String, String> = query(format!(
        "SELECT id::text AS id, status FROM registration WHERE session_id = '{session}'"
    ))
    .await
    .iter()
    .map(|r| {
        (
            r.try_get::<String>("", "id").expect("id"),
            r.try_get::<String>("", "status").expect("status"),
        )
    })
    .collect();
    let counters = &query(format!(
        "SELECT confirmed, waitlisted FROM session WHERE id = '{session}'"
    ))
    .await[0];
    let confirmed: i32 = counters.try_get("", "confirmed").expect("confirmed");
    let waitlisted: i32 = counters.try_get("", "waitlisted").expect("waitlisted");

    // Every committed registration announced: the outbox drains, the watcher hears each.
    let mut heard: Vec<String> = Vec::new();
    let listening = Instant::now();
    while heard.iter().collect::<HashSet<_>>().len() < stored.len()
        && listening.elapsed() < Duration::from_secs(30)
    {
        if let Some(delivery) = watch.next_within(Duration::from_millis(500)).await {
            let envelope: Value = serde_json::from_slice(&delivery.message.body).expect("envelope");
            if envelope["data"]["session_id"] == session.as_str() {
                heard.push(
                    envelope["data"]["registration_id"]
                        .as_str()
                        .expect("registration_id")
                        .to_owned(),
                );
            }
            delivery.ack().await.expect("ack");
        }
    }
    let distinct: HashSet<&String> = heard.iter().collect();
    let lost = stored.keys().filter(|id| !distinct.contains(id)).count();
    let unknown = distinct
        .iter()
        .filter(|id| !stored.contains_key(**id))
        .count();
    let answered = tally.answered.lock().expect("tally").clone();
    let other = tally.other.lock().expect("tally").clone();
    let missing: Vec<(&String, &String)> = answered
        .iter()
        .filter(|(id, status)| stored.get(*id) != Some(*status))
        .collect();
    let unanswered = tally.unanswered.load(Ordering::SeqCst);
    let committed_unanswered = tally.committed_unanswered.load(Ordering::SeqCst);
    let server_errors = tally.server_errors.load(Ordering::SeqCst);
    let count = |s: &str| stored.values().filter(|v| *v == s).count();
    println!(
        "events killed mid-burst: {total} registrations attempted, {} answered ({} confirmed), \
         {unanswered} without an answer (asked again: {committed_unanswered} had been stored), \
         {server_errors} 5xx; {} stored ({} confirmed, {} \
         waitlisted; counters {confirmed} / {waitlisted}); answered but not stored as answered: \
         {}; announced {} ({} distinct): lost {lost}, delivered twice {}; back {} ms after the kill",
        answered.len(),
        answered.values().filter(|s| *s == "confirmed").count(),
        stored.len(),
        count("confirmed"),
        count("waitlisted"),
        missing.len(),
        heard.len(),
        distinct.len(),
        heard.len() - distinct.len(),
        back.as_millis(),
    );
    drop(child);
    assert!(
        other.is_empty(),
        "{} unexpected answers, the first: {:?}",
        other.len(),
        other.first()
    );
    assert_eq!(server_errors, 0, "5xx answers");
    assert!(
        missing.is_empty(),
        "answered but not stored so: {missing:?}"
    );
    assert_eq!(
        stored.len(),
        answered.len() + committed_unanswered,
        "every person asked once is stored once"
    );
    assert_eq!(
        (i64::from(confirmed), i64::from(waitlisted)),
        (
            i64::try_from(count("confirmed")).expect("n"),
            i64::try_from(count("waitlisted")).expect("n")
        ),
        "the session's counters equal its rows"
    );
    assert!(i64::from(confirmed) <= capacity, "oversold");
    assert_eq!(lost, 0, "committed registrations never announced");
    assert_eq!(unknown, 0, "announced registrations not stored");
}
