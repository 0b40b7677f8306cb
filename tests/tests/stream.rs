//! The broker cut mid-stream, on PostgreSQL, RabbitMQ and Redis: attendance reports flow from
//! events to outreach (each report or correction is one committed message) while the broker's
//! connections are cut twice. A checker then compares what events committed with what outreach
//! recorded, message by message: nothing lost, nothing counted twice, the figures equal.
//!
//! The embedded set has no broker connection to cut (its bus is in the process), so this one
//! runs on the real set only. `CAFEIA_STREAM_MESSAGES` sets the run's length (1,000 in the
//! test command; the README's full command sends 100,000).

use cafeia_e2e::TestStack;
use cafeia_platform::auth::Role;
use cafeia_testkit::{Backend, TcpProxy, endpoints, host_port};
use chrono::{Duration as Span, Utc};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

/// Sessions the reports are spread over (each report locks its session).
const SESSIONS: usize = 32;
const CLIENTS: usize = 16;
/// How long each cut lasts.
const CUT: Duration = Duration::from_secs(2);

/// `YYYY-MM-DDTHH:MM:SS` in UTC, `seconds` from now (the sessions run in the UTC zone).
fn utc_in(seconds: i64) -> String {
    (Utc::now() + Span::seconds(seconds))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// `host:port` of a backend's URL, for a proxy in front of it.
fn address_of(url: &str) -> String {
    let (host, port) = host_port(url).unwrap_or_else(|| panic!("no host:port in {url}"));
    format!("{host}:{port}")
}

/// What every answer was, for the figures and the checker.
#[derive(Default)]
struct Tally {
    attempted: AtomicUsize,
    acknowledged: Mutex<Vec<(String, i64)>>,
    unavailable: AtomicUsize,
    server_errors: AtomicUsize,
    other: Mutex<Vec<String>>,
}

/// A history read back from one service's database.
async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// (session, version) of every attendance message outreach keeps in its history.
async fn received(outreach: &DatabaseConnection) -> Vec<(String, i64)> {
    rows(
        outreach,
        "SELECT data FROM history WHERE kind LIKE '%attendance.recorded%'",
    )
    .await
    .iter()
    .map(|row| {
        let data: String = row.try_get("", "data").expect("data");
        let data: Value = serde_json::from_str(&data).expect("history data is JSON");
        (
            data["session_id"].as_str().expect("session_id").to_owned(),
            data["version"].as_i64().expect("version"),
        )
    })
    .collect()
}

/// Each of `ours`' latest (version, attended) as `table` holds it.
async fn latest(
    db: &DatabaseConnection,
    table: &str,
    ours: &[String],
) -> HashMap<String, (i64, i64)> {
    let list = sql_list(ours);
    rows(
        db,
        &format!(
            "SELECT session_id::text AS id, version, attended FROM {table} \
             WHERE session_id IN ({list})"
        ),
    )
    .await
    .iter()
    .map(|row| {
        let id: String = row.try_get("", "id").expect("id");
        let version: i32 = row.try_get("", "version").expect("version");
        let attended: i32 = row.try_get("", "attended").expect("attended");
        (id, (i64::from(version), i64::from(attended)))
    })
    .collect()
}

/// How many attendance messages of `ours` outreach has (counting repeats), counted by the
/// database: the test polls it while the stream runs.
async fn received_count(outreach: &DatabaseConnection, ours: &str) -> usize {
    let row = &rows(
        outreach,
        &format!(
            "SELECT count(*) AS n FROM history WHERE kind LIKE '%attendance.recorded%' \
             AND (data::jsonb ->> 'session_id') IN ({ours})"
        ),
    )
    .await[0];
    let n: i64 = row.try_get("", "n").expect("count");
    usize::try_from(n).expect("a count")
}

/// Waits until outreach holds `due` messages of `ours`; answers false when it stops getting
/// closer for 10 s (the checker then says what is missing).
async fn caught_up(outreach: &DatabaseConnection, ours: &str, due: usize) -> bool {
    let mut last = (0, Instant::now());
    loop {
        let now = received_count(outreach, ours).await;
        if now >= due {
            return true;
        }
        if now > last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(10) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `ours` as an SQL list.
fn sql_list(ours: &[String]) -> String {
    ours.iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Every message events committed for `ours`: versions 1..=latest of each session (a version
/// is taken under the session's lock, one per committed report).
fn committed(events: &HashMap<String, (i64, i64)>) -> HashSet<(String, i64)> {
    events
        .iter()
        .flat_map(|(id, (version, _))| (1..=*version).map(move |v| (id.clone(), v)))
        .collect()
}

/// Reports to the events service itself: the stream under test runs from events to outreach,
/// and the gateway in front would only halve its rate.
async fn report_until(
    events: Arc<String>,
    token: Arc<String>,
    sessions: Arc<Vec<String>>,
    client: usize,
    total: usize,
    tally: Arc<Tally>,
) {
    let http = reqwest::Client::new();
    let mut n = 0usize;
    loop {
        let i = tally.attempted.fetch_add(1, Ordering::SeqCst);
        if i >= total {
            return;
        }
        let id = &sessions[(client + n * CLIENTS) % sessions.len()];
        n += 1;
        let walk_ins = 1 + (i % 40) as i64;
        let resp = http
            .put(format!("{events}/v1/sessions/{id}/attendance"))
            .bearer_auth(token.as_str())
            .json(&json!({ "walk_ins": walk_ins, "first_timers": walk_ins / 2 }))
            .send()
            .await
            .expect("the events service answers");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status >= 500 {
            tally.server_errors.fetch_add(1, Ordering::SeqCst);
        }
        if let Some(version) = body["version"].as_i64() {
            assert_eq!(body["attended"], walk_ins, "{body}");
            tally
                .acknowledged
                .lock()
                .expect("tally")
                .push((id.clone(), version));
        } else if body["code"] == "UNAVAILABLE" {
            tally.unavailable.fetch_add(1, Ordering::SeqCst);
        } else {
            tally
                .other
                .lock()
                .expect("tally")
                .push(format!("{status} {body}"));
        }
    }
}

/// A venue of the demo data, once the events service has seeded its sessions.
async fn demo_venue(stack: &TestStack) -> String {
    for _ in 0..200 {
        let page = stack
            .graphql(
                "{ sessions(first: 50) { edges { node { place { venueId } } } } }",
                json!({}),
                None,
            )
            .await;
        let venue = page["data"]["sessions"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|e| e["node"]["place"]["venueId"].as_str());
        if let Some(venue) = venue {
            return venue.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no demo session at a venue");
}

/// Answers whether the gateway said « not ready » within `within` (the cut is real).
async fn went_unready(stack: &TestStack, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        let status = reqwest::get(format!("{}/readyz", stack.base))
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if status == 503 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broker_cut_twice_mid_stream_loses_and_doubles_nothing() {
    let total = cafeia_testkit::size_from_env("CAFEIA_STREAM_MESSAGES", 1_000);
    let ends = endpoints().await;
    let proxy = TcpProxy::start(&address_of(&ends.amqp)).await;
    let amqp = SecretString::from(proxy.url_for(&ends.amqp));
    let databases: Mutex<HashMap<String, SecretString>> = Mutex::default();
    let stack = TestStack::start_routed(
        Backend::Real,
        |config| config.platform.bus.url = amqp.clone(),
        |service, url| {
            databases
                .lock()
                .expect("databases")
                .insert(service.to_owned(), url.clone());
            url
        },
    )
    .await;
    let database = |service: &str| {
        databases.lock().expect("databases")[service]
            .expose_secret()
            .to_owned()
    };
    let events_db = Database::connect(database("events"))
        .await
        .expect("events db");
    let outreach_db = Database::connect(database("outreach"))
        .await
        .expect("outreach db");

    // Sessions of the verified demo facilitator, at a demo venue, starting in a few seconds.
    let facilitator = stack.token("demo-animatrice", &[Role::Facilitator], None);
    let venue = demo_venue(&stack).await;
    let mut sessions = Vec::new();
    for i in 0..SESSIONS {
        let created = stack
            .graphql(
                "mutation($input: SessionInput!) { createSession(input: $input, publish: true) \
                 { id } }",
                json!({"input": {
                    "title": format!("Café IA n° {i}"), "format": "IN_PERSON", "venueId": venue,
                    "timezone": "UTC", "startsAt": utc_in(8), "endsAt": utc_in(3_600),
                    "capacity": 20,
                }}),
                Some(&facilitator),
            )
            .await;
        sessions.push(
            created["data"]["createSession"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("created: {created}"))
                .to_owned(),
        );
    }
    let ours: HashSet<String> = sessions.iter().cloned().collect();
    let listed = sql_list(&sessions);
    tokio::time::sleep(Duration::from_secs(9)).await;

    let stack = Arc::new(stack);
    let tally = Arc::new(Tally::default());
    let (token, sessions) = (Arc::new(facilitator), Arc::new(sessions));
    let events = Arc::new(stack.service_base("events"));
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            tokio::spawn(report_until(
                events.clone(),
                token.clone(),
                sessions.clone(),
                c,
                total,
                tally.clone(),
            ))
        })
        .collect();

    // Two cuts, at a third and two thirds of the stream; how long outreach takes, after each
    // restore, to hold everything events had committed at that moment.
    let mut recoveries = Vec::new();
    for third in [1, 2] {
        while tally.attempted.load(Ordering::SeqCst) < total * third / 3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        proxy.cut();
        assert!(
            went_unready(&stack, CUT).await,
            "the gateway stayed ready with the broker cut: the cut did not take"
        );
        tokio::time::sleep(CUT.saturating_sub(Duration::from_millis(100))).await;
        proxy.restore();
        let restored = Instant::now();
        let due = committed(&latest(&events_db, "attendance_report", &sessions).await).len();
        recoveries.push(
            caught_up(&outreach_db, &listed, due)
                .await
                .then(|| restored.elapsed()),
        );
    }
    for client in clients {
        client.await.expect("client");
    }
    let sent_in = started.elapsed();

    // Drained: outreach holds every message events committed (or the wait times out).
    let events = latest(&events_db, "attendance_report", &sessions).await;
    let expected = committed(&events);
    // Whether it got there or stopped short, the checker below says what is missing.
    caught_up(&outreach_db, &listed, expected.len()).await;
    // A moment more, for a late duplicate to show.
    tokio::time::sleep(Duration::from_secs(1)).await;

    // The checker: messages are told apart by what they say (session, version), not by
    // their ids, so a redelivery that got past outreach's inbox shows as a duplicate, and a
    // version events committed that never arrived as lost (versions run 1, 2, 3… per session).
    let got: Vec<(String, i64)> = received(&outreach_db)
        .await
        .into_iter()
        .filter(|(id, _)| ours.contains(id))
        .collect();
    let distinct: HashSet<(String, i64)> = got.iter().cloned().collect();
    let lost = expected.difference(&distinct).count();
    let unknown = distinct.difference(&expected).count();
    let duplicated = got.len() - distinct.len();
    let acknowledged = tally.acknowledged.lock().expect("tally").clone();
    let unacknowledged_found = expected.len().saturating_sub(acknowledged.len());
    let other = tally.other.lock().expect("tally").clone();
    // Where a missing message waits, if any: still in events' outbox, or gone from it.
    let unpublished: i64 = rows(
        &events_db,
        "SELECT count(*) AS n FROM outbox_message WHERE published_at IS NULL",
    )
    .await[0]
        .try_get("", "n")
        .expect("count");
    let (server_errors, unavailable) = (
        tally.server_errors.load(Ordering::SeqCst),
        tally.unavailable.load(Ordering::SeqCst),
    );
    println!(
        "broker cut twice mid-stream: {total} reports attempted over {:.1} s, {} acknowledged, \
         {unavailable} UNAVAILABLE, {server_errors} 5xx; events committed {} messages, \
         outreach received {} ({} distinct): lost {lost}, duplicated {duplicated}, \
         unknown {unknown} (events' outbox still holds {unpublished}); committed without an \
         answer {unacknowledged_found}; \
         outreach caught up {} after the restores",
        sent_in.as_secs_f64(),
        acknowledged.len(),
        expected.len(),
        got.len(),
        distinct.len(),
        recoveries
            .iter()
            .map(|d| d.map_or("never".to_owned(), |d| format!("{} ms", d.as_millis())))
            .collect::<Vec<_>>()
            .join(" and ")
    );
    assert!(
        other.is_empty(),
        "{} unexpected answers, the first: {:?}",
        other.len(),
        other.first()
    );
    assert_eq!(server_errors, 0, "5xx answers");
    assert_eq!(
        acknowledged.len() + unavailable,
        total,
        "every report answered"
    );
    for pair in &acknowledged {
        assert!(
            expected.contains(pair),
            "acknowledged {pair:?} is not committed"
        );
    }
    assert_eq!(lost, 0, "messages lost");
    assert!(
        recoveries.iter().all(Option::is_some),
        "outreach did not catch up after a restore"
    );
    assert_eq!(duplicated, 0, "messages counted twice");
    assert_eq!(unknown, 0, "messages events never committed");
    // The figures: outreach's report of each session is events' latest.
    let figures = latest(&outreach_db, "report", &sessions).await;
    assert_eq!(figures, events, "outreach's reports differ from events'");

    let stack = Arc::into_inner(stack).expect("clients done");
    stack.stop().await;
}
