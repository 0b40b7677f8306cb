//! The events service killed with SIGKILL in the middle of a burst of registrations, on
//! PostgreSQL and RabbitMQ: `cafeia serve events` runs as its own process, is killed without
//! warning, and started again on the same database and broker. A checker then reads the
//! history: every registration answered « confirmed » (or « waitlisted ») is there as
//! answered, the seat counters equal the rows, and every committed registration was
//! announced on the bus (lost = 0); the broker may deliver one twice (at least once), which
//! the figures count.
//!
//! The same on the embedded set: `cafeia up` (every service and the gateway in one process,
//! SQLite files, the in-process broker) killed mid-burst and started again on the same data
//! directory. The in-process broker dies with the process, and what it held with it: the
//! checker also asks whether what matching shows of the session (its replica, fed by the
//! events service's messages) caught up with what events stored.
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
            panic!("cafeia exited at start: {status}");
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
            "cafeia not ready within 60 s"
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
    /// Set at the kill where nobody asks after it, not even again (the embedded run).
    stop_at_kill: std::sync::atomic::AtomicBool,
}

/// A time as the API takes it: Paris local time, without an offset.
fn paris(at: chrono::DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Paris)
        .naive_local()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// Starts the clients' burst of `total` registrations to `session`, and returns once a third
/// is answered (the moment both tests kill): what they got so far, and the clients.
async fn burst_until_a_third(
    issuer: &Arc<DevIssuer>,
    through: Through,
    base: &str,
    session: &Arc<String>,
    total: usize,
) -> (Arc<Tally>, Vec<tokio::task::JoinHandle<()>>) {
    let tally = Arc::new(Tally::default());
    let shared_base = Arc::new(Mutex::new(base.to_owned()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            tokio::spawn(register_until(
                issuer.clone(),
                through,
                shared_base.clone(),
                session.clone(),
                total,
                tally.clone(),
            ))
        })
        .collect();
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
    (tally, clients)
}

/// Where the clients register: the events service's own API, or the gateway's GraphQL.
#[derive(Clone, Copy)]
enum Through {
    Events,
    Gateway,
}

/// One registration of the person `token` stands for: its id and status as answered, or the
/// error code (and the whole answer, to report).
enum Answer {
    Registered(String, String),
    Refused(Option<String>, String),
}

async fn register_once(
    http: &reqwest::Client,
    through: Through,
    base: &str,
    session: &str,
    token: &str,
) -> Result<(StatusCode, Answer), reqwest::Error> {
    let request = match through {
        Through::Events => http
            .post(format!("{base}/v1/sessions/{session}/registrations"))
            .json(&json!({})),
        Through::Gateway => http.post(format!("{base}/graphql")).json(&json!({
            "query": "mutation($s: UUID!) { register(sessionId: $s) { ... on Registration { id status } } }",
            "variables": {"s": session},
        })),
    };
    let resp = request
        .bearer_auth(token)
        .timeout(Duration::from_secs(10))
        .send()
        .await?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let (found, code) = match through {
        Through::Events => (&body, &body["code"]),
        Through::Gateway => (
            &body["data"]["register"],
            &body["errors"][0]["extensions"]["code"],
        ),
    };
    let answer = match (found["id"].as_str(), found["status"].as_str()) {
        // GraphQL names the statuses in upper case.
        (Some(id), Some(state)) if status.is_success() => {
            Answer::Registered(id.to_owned(), state.to_lowercase())
        }
        _ => Answer::Refused(code.as_str().map(str::to_owned), body.to_string()),
    };
    Ok((status, answer))
}

/// Registers people `kill-<n>` until `total` have asked; one left without an answer asks
/// again, unless `stop_at_kill` is set (then every client stops at its first failure).
async fn register_until(
    issuer: Arc<DevIssuer>,
    through: Through,
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
            if tally.stop_at_kill.load(Ordering::SeqCst) {
                return;
            }
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
        let url = base.lock().expect("base").clone();
        let sent = register_once(&http, through, &url, &session, &token).await;
        let Ok((status, answer)) = sent else {
            // Killed under it, or not back yet: the client does not know what became of it,
            // and asks again for the same person until the service answers.
            if !retrying {
                tally.unanswered.fetch_add(1, Ordering::SeqCst);
            }
            if tally.stop_at_kill.load(Ordering::SeqCst) {
                return;
            }
            retrying = true;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let asked_again = std::mem::take(&mut retrying);
        if status.is_server_error() {
            tally.server_errors.fetch_add(1, Ordering::SeqCst);
        }
        match answer {
            Answer::Registered(id, state) => {
                tally.answered.lock().expect("tally").insert(id, state);
            }
            // Asked again after no answer: the first request had committed before the kill.
            Answer::Refused(Some(code), _) if asked_again && code == "ALREADY_REGISTERED" => {
                tally.committed_unanswered.fetch_add(1, Ordering::SeqCst);
            }
            Answer::Refused(_, body) => tally
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

    // Killed once a third of the burst is answered, without warning.
    let (tally, clients) =
        burst_until_a_third(&issuer, Through::Events, &base, &session, total).await;
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

/// `cafeia up` on `data_dir`: the whole embedded stack with its demo data, the per-address
/// limits lifted (every client of the test is one address).
fn up(data_dir: &std::path::Path, port: u16) -> Served {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("CAFEIA_") {
            cmd.env_remove(key);
        }
    }
    cmd.args(["up", "--port", &port.to_string(), "--data-dir"])
        .arg(data_dir)
        .env("CAFEIA_RATE_LIMIT__REQUESTS_PER_MINUTE", "10000000")
        .env("CAFEIA_RATE_LIMIT__COST_PER_MINUTE", "1000000000")
        .env("CAFEIA_TELEMETRY__LOG_FILTER", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map(Served)
        .expect("spawn cafeia up")
}

async fn graphql(
    http: &reqwest::Client,
    base: &str,
    query: &str,
    variables: Value,
    token: &str,
) -> Value {
    http.post(format!("{base}/graphql"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(30))
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("gateway answers")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_stack_killed_mid_burst_keeps_every_answered_registration_and_message() {
    let total: usize = cafeia_testkit::size_from_env("CAFEIA_KILL_REGISTRATIONS", 400);
    let env = TestEnv::new(Backend::Embedded).await;
    let data_dir = env.config.data_dir.clone();
    let http = reqwest::Client::new();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = up(&data_dir, port);
    wait_ready(&http, &base, &mut child).await;
    // `cafeia up` made its development key in the data directory: sign with it.
    let issuer = Arc::new(
        DevIssuer::load_or_create(&data_dir, &Default::default()).expect("the stack's keys"),
    );
    // A demo facilitator (verified) opens a session at a demo venue, half the burst seated.
    let lead = issuer
        .issue(
            "demo-animatrice",
            &[Role::Facilitator],
            None,
            Duration::from_secs(600),
        )
        .expect("token");
    let capacity = i64::try_from(total / 2).expect("capacity");
    let start = Utc::now() + Span::days(30);
    let mut session = None;
    for _ in 0..300 {
        let venues = graphql(
            &http,
            &base,
            "{ venues(first: 1) { nodes { id } } }",
            json!({}),
            &lead,
        )
        .await;
        if let Some(venue) = venues["data"]["venues"]["nodes"][0]["id"].as_str() {
            let created = graphql(
                &http,
                &base,
                "mutation($i: SessionInput!) { createSession(input: $i, publish: true) { id } }",
                json!({"i": {"title": "Café IA : arrêt brutal", "format": "IN_PERSON",
                    "venueId": venue, "startsAt": paris(start),
                    "endsAt": paris(start + Span::hours(2)), "capacity": capacity}}),
                &lead,
            )
            .await;
            if let Some(id) = created["data"]["createSession"]["id"].as_str() {
                session = Some(id.to_owned());
                break;
            }
        }
        // The demo facilitators and venues are still on their way to the events service.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let session = Arc::new(session.expect("a published session"));

    let (tally, clients) =
        burst_until_a_third(&issuer, Through::Gateway, &base, &session, total).await;
    // Nobody asks after the kill, not even again: so the last seat change matching can hear
    // of is one the killed process committed, and a message the in-process broker lost with
    // it shows. (The PostgreSQL run asks again; here the checker allows those without an
    // answer to be stored or not.)
    tally.stop_at_kill.store(true, Ordering::SeqCst);
    child.0.kill().expect("SIGKILL");
    let killed = Instant::now();
    child.0.wait().expect("reaped");
    let mut child = up(&data_dir, port);
    wait_ready(&http, &base, &mut child).await;
    let back = killed.elapsed();
    for client in clients {
        client.await.expect("client");
    }

    // The roll, page by page, and the session's counters, as events holds them now.
    let mut stored: HashMap<String, String> = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = graphql(
            &http,
            &base,
            "query($s: UUID!, $a: String) { sessionRoll(sessionId: $s, first: 100, after: $a) { pageInfo { hasNextPage endCursor } nodes { id status } } }",
            json!({"s": session.as_str(), "a": after}),
            &lead,
        )
        .await;
        let roll = &page["data"]["sessionRoll"];
        assert!(roll.is_object(), "the roll: {page}");
        for entry in roll["nodes"].as_array().into_iter().flatten() {
            stored.insert(
                entry["id"].as_str().expect("id").to_owned(),
                entry["status"].as_str().expect("status").to_lowercase(),
            );
        }
        if roll["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = roll["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    let view = graphql(
        &http,
        &base,
        "query($s: UUID!) { session(id: $s) { confirmed waitlisted seatsLeft } }",
        json!({"s": session.as_str()}),
        &lead,
    )
    .await;
    let events_view = &view["data"]["session"];
    // What matching shows of it (its replica, fed by events' messages): caught up with events
    // within 30 s, or a committed seat change never reached it.
    let search =
        "{ search(input: {kind: SESSION}, first: 100) { hits { nodes { id seatsLeft } } } }";
    let mut matching_seats = Value::Null;
    let listening = Instant::now();
    while listening.elapsed() < Duration::from_secs(30) {
        let found = graphql(&http, &base, search, json!({}), &lead).await;
        matching_seats = found["data"]["search"]["hits"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|hit| hit["id"] == session.as_str())
            .map(|hit| hit["seatsLeft"].clone())
            .unwrap_or(Value::Null);
        if matching_seats == events_view["seatsLeft"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(child);

    let answered = tally.answered.lock().expect("tally").clone();
    let other = tally.other.lock().expect("tally").clone();
    let missing: Vec<(&String, &String)> = answered
        .iter()
        .filter(|(id, status)| stored.get(*id) != Some(*status))
        .collect();
    let unanswered = tally.unanswered.load(Ordering::SeqCst);
    let server_errors = tally.server_errors.load(Ordering::SeqCst);
    let count = |s: &str| stored.values().filter(|v| *v == s).count();
    println!(
        "embedded stack killed mid-burst: {} answered ({} confirmed), {unanswered} without an \
         answer, {server_errors} 5xx; {} \
         stored ({} confirmed, {} waitlisted; counters {} / {}); answered but not stored as \
         answered: {}; seats left: events {}, matching {matching_seats}; back {} ms after the kill",
        answered.len(),
        answered.values().filter(|s| *s == "confirmed").count(),
        stored.len(),
        count("confirmed"),
        count("waitlisted"),
        events_view["confirmed"],
        events_view["waitlisted"],
        missing.len(),
        events_view["seatsLeft"],
        back.as_millis(),
    );
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
    assert!(
        (answered.len()..=answered.len() + unanswered).contains(&stored.len()),
        "stored: every one answered, and at most those left without an answer besides"
    );
    assert_eq!(
        (
            events_view["confirmed"].as_u64(),
            events_view["waitlisted"].as_u64()
        ),
        (
            Some(count("confirmed") as u64),
            Some(count("waitlisted") as u64)
        ),
        "the session's counters equal its rows"
    );
    assert!(count("confirmed") as i64 <= capacity, "oversold");
    assert!(events_view["seatsLeft"].is_number(), "events' view: {view}");
    assert_eq!(
        matching_seats, events_view["seatsLeft"],
        "matching never heard of the last seat changes events committed (a message lost with the killed process)"
    );
}
