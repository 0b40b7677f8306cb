//! Registration benchmark: one popular session, many people registering at once, through the
//! gateway (GraphQL), with every service on PostgreSQL, RabbitMQ and Redis. The people are
//! signed-in citizens whose identity provider verified their email (`email`,
//! `email_verified`): they register directly, each request deciding a seat. (People without an
//! account ask, then confirm through a mailed link: the seat is decided at the confirmation,
//! on the same admission path.)
//!
//! ```sh
//! cargo run --release -p cafeia-bench --bin registration-bench -- --registrations 20000 --concurrency 16 --capacity 1000
//! ```
//! Creates its own databases (dropped at the end), exchange and queues (deleted at the end).
//! Reports registrations per second, latency percentiles, and checks that no seat was oversold
//! and that counters and rows agree. `--postgres`, `--amqp`, `--redis` override the local
//! defaults.

use cafeia::stack::Stack;
use cafeia_bench::{Latencies, Report, Target};
use cafeia_gateway::GatewayConfig;
use cafeia_platform::{
    auth::{DevIssuer, Role, account_key},
    bus::Message,
    envelope::{Envelope, MessageType},
};
use sea_orm::{ConnectionTrait, Database};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

/// The registration benchmark.
#[derive(clap::Parser)]
struct Args {
    #[arg(long, default_value_t = 20_000)]
    registrations: usize,
    /// Registrations in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seats of the session (the rest are waitlisted).
    #[arg(long, default_value_t = 1_000)]
    capacity: usize,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
    #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
    amqp: String,
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis: String,
}

const SERVICES: [&str; 5] = [
    "catalogue",
    "facilitators",
    "events",
    "matching",
    "outreach",
];

async fn graphql(
    http: &reqwest::Client,
    url: &str,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> Value {
    let mut req = http
        .post(url)
        .json(&json!({"query": query, "variables": variables}));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match req.send().await {
        Ok(resp) => resp.json().await.unwrap_or(Value::Null),
        Err(e) => json!({"errors": [{"message": e.to_string()}]}),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args {
        registrations,
        concurrency,
        capacity,
        postgres,
        amqp,
        redis,
    } = <Args as clap::Parser>::parse();
    let id = format!("bench{}", uuid::Uuid::now_v7().simple());

    // Databases of their own.
    let admin = Database::connect(&postgres).await?;
    let mut urls: HashMap<String, SecretString> = HashMap::new();
    for service in SERVICES {
        let name = format!("{id}_{service}");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        let base = postgres
            .rsplit_once('/')
            .map_or(postgres.as_str(), |(b, _)| b);
        urls.insert(
            service.to_owned(),
            SecretString::from(format!("{base}/{name}")),
        );
    }
    let data_dir = std::env::temp_dir().join(&id);
    let mut config = GatewayConfig::default();
    let p = &mut config.platform;
    p.http.port = 0;
    p.data_dir = data_dir.clone();
    p.bus.url = SecretString::from(amqp.clone());
    p.bus.exchange = format!("{id}.exchange");
    p.bus.queue_prefix = format!("{id}.");
    p.cache.url = SecretString::from(redis);
    p.cache.key_prefix = format!("{id}:");
    p.auth.dev_issuer = true;
    // Every registration comes from this one address: lift the per-address limit.
    config.rate_limit.requests_per_minute = 10_000_000;
    // GraphQL only: the web pages (and their session key) are not measured here.
    config.web.enabled = false;
    config.rate_limit.cost_per_minute = 1_000_000_000;
    let stack = Stack::start(config.clone(), false, &|s| urls.get(s).cloned())
        .await
        .map_err(|e| format!("stack: {e}"))?;
    let url = format!("http://127.0.0.1:{}/graphql", stack.gateway_port());
    let events_db = urls["events"].expose_secret().to_owned();
    let result = run(
        &stack,
        &config,
        &url,
        &events_db,
        registrations,
        concurrency,
        capacity,
    )
    .await;

    // Clean up whatever happened.
    let queues: Vec<String> = stack
        .services()
        .iter()
        .flat_map(|s| s.platform.queues())
        .collect();
    stack.stop().await;
    if let Ok(conn) =
        lapin::Connection::connect(&amqp, lapin::ConnectionProperties::default()).await
        && let Ok(channel) = conn.create_channel().await
    {
        for queue in queues {
            let mut names = vec![queue.clone(), format!("{queue}.dlq")];
            names.extend(
                (0..config.platform.bus.max_attempts).map(|l| format!("{queue}.retry.{l}")),
            );
            for name in names {
                let _ = channel
                    .queue_delete(name.as_str().into(), Default::default())
                    .await;
            }
        }
        let _ = channel
            .exchange_delete(
                config.platform.bus.exchange.as_str().into(),
                Default::default(),
            )
            .await;
    }
    for service in SERVICES {
        let _ = admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{id}_{service}\" WITH (FORCE)"
            ))
            .await;
    }
    let _ = std::fs::remove_dir_all(data_dir);
    result
}

async fn run(
    stack: &Stack,
    config: &GatewayConfig,
    url: &str,
    events_db: &str,
    registrations: usize,
    concurrency: usize,
    capacity: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    // The facilitators service would announce these; play them on the bus.
    let bus = cafeia_platform::bus::connect(&config.platform.bus).await?;
    let venue = uuid::Uuid::now_v7();
    let facilitator = uuid::Uuid::now_v7();
    let venue_state = json!({
        "id": venue, "name": "Médiathèque", "address": "1 place de la Mairie", "postcode": "69007",
        "insee": "69387", "departement": "69", "region": "84", "latitude": 45.745,
        "longitude": 4.842, "opening_hours": null, "accessibility": [], "capacity": null, "is_public": true,
    });
    let person = json!({
        "id": facilitator, "account": account_key("bench-facilitator"), "display_name": "Bench",
        "kind": "mediateur_numerique", "status": "verified", "departements": ["69"],
        "regions": ["84"], "topics": [], "languages": ["fr"], "organisation_id": null,
    });
    for (kind, data) in [
        (
            MessageType::new("facilitators", "venue", "upserted", 1),
            venue_state,
        ),
        (
            MessageType::new("facilitators", "facilitator", "verified", 1),
            person,
        ),
    ] {
        let envelope = Envelope::new(kind, "bench", data);
        bus.publish(&Message::event(kind.routing_key(), &envelope)?)
            .await?;
    }
    let issuer = DevIssuer::load_or_create(&config.platform.data_dir, &config.platform.auth)?;
    let token = issuer.issue(
        "bench-facilitator",
        &[Role::Facilitator],
        None,
        Duration::from_secs(3600),
    )?;
    let start = (chrono::Utc::now() + chrono::Duration::days(30))
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%dT18:00:00")
        .to_string();
    let end = start.replace("T18:", "T20:");
    let mut session = String::new();
    for _ in 0..200 {
        let created = graphql(
            &http,
            url,
            "mutation($i: SessionInput!) { createSession(input: $i, publish: true) { id } }",
            json!({"i": {"title": "Café IA très demandé", "format": "IN_PERSON", "venueId": venue,
                "startsAt": start, "endsAt": end, "capacity": capacity}}),
            Some(&token),
        )
        .await;
        if let Some(id) = created["data"]["createSession"]["id"].as_str() {
            session = id.to_owned();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if session.is_empty() {
        return Err("the events service never learnt of the bench facilitator".into());
    }
    eprintln!(
        "session {session}: capacity {capacity}; {registrations} registrations, {concurrency} at a time"
    );

    // Every citizen's token signed before the clock starts (the gateway still verifies each).
    let citizens: Arc<Vec<String>> = Arc::new(
        (0..registrations)
            .map(|i| {
                issuer.issue_with_email(
                    &format!("bench-citizen-{i}"),
                    &[Role::Citizen],
                    &format!("person{i}@example.org"),
                    Duration::from_secs(3600),
                )
            })
            .collect::<Result<_, _>>()?,
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (http, url, session, next, citizens) = (
            http.clone(),
            url.to_owned(),
            session.clone(),
            next.clone(),
            citizens.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut out: Vec<(Duration, String)> = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= registrations {
                    return out;
                }
                let t = Instant::now();
                let reg = graphql(
                    &http,
                    &url,
                    "mutation($s: UUID!) { register(sessionId: $s) { ... on Registration { status } } }",
                    json!({"s": session}),
                    Some(&citizens[i]),
                )
                .await;
                let status = reg["data"]["register"]["status"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("error: {}", reg["errors"]));
                out.push((t.elapsed(), status));
            }
        }));
    }
    let mut results = Vec::with_capacity(registrations);
    for w in workers {
        results.extend(w.await?);
    }
    let elapsed = started.elapsed();
    // The bus keeps up when the outbox empties soon after the last registration.
    let events = Database::connect(events_db).await?;
    let pending = || async {
        events
            .query_one_raw(sea_orm::Statement::from_string(
                events.get_database_backend(),
                "SELECT COUNT(*) AS n FROM outbox_message WHERE published_at IS NULL",
            ))
            .await
            .ok()
            .flatten()
            .and_then(|row| row.try_get::<i64>("", "n").ok())
            .unwrap_or(-1)
    };
    let at_end = pending().await;
    let drain = Instant::now();
    while pending().await > 0 && drain.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "outbox: {at_end} messages waiting at the last registration, all published {:.0} ms later",
        drain.elapsed().as_secs_f64() * 1e3
    );
    let latencies = Latencies::new(results.iter().map(|r| r.0).collect(), elapsed);
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (_, status) in &results {
        *counts.entry(status.clone()).or_default() += 1;
    }
    println!(
        "registrations: {registrations} in {:.2} s = {:.0}/s; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        elapsed.as_secs_f64(),
        registrations as f64 / elapsed.as_secs_f64(),
        latencies.p50(),
        latencies.ms(0.90),
        latencies.p99(),
        latencies.max(),
    );
    // The targets: at 16 clients ≥ 2,000/s with p99 < 25 ms, at 64 ≥ 3,000/s with p99 < 50 ms.
    let targets = match concurrency {
        16 => Some((2_000.0, 25.0)),
        64 => Some((3_000.0, 50.0)),
        _ => None,
    };
    let mut report = Report::new("registration-bench");
    let name = format!("registrations on one session through the gateway, {concurrency} clients");
    report.add(format!("{name} p50"), latencies.p50(), "ms", None);
    report.add(
        format!("{name} p99"),
        latencies.p99(),
        "ms",
        targets.map(|(_, p99)| Target::Below(p99)),
    );
    report.add(
        format!("{name} throughput"),
        latencies.per_second(),
        "/s",
        targets.map(|(rate, _)| Target::AtLeast(rate)),
    );
    report.add(
        format!("outbox drained after the last registration, {concurrency} clients"),
        drain.elapsed().as_secs_f64() * 1e3,
        "ms",
        None,
    );
    println!("outcomes: {counts:?}");
    let view = graphql(
        &http,
        url,
        "query($s: UUID!) { session(id: $s) { capacity confirmed waitlisted seatsLeft } }",
        json!({"s": session}),
        Some(&token),
    )
    .await;
    let s = &view["data"]["session"];
    // The whole roll, page by page.
    let mut roll = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = graphql(
            &http,
            url,
            "query($s: UUID!, $a: String) { sessionRoll(sessionId: $s, first: 100, after: $a) { pageInfo { hasNextPage endCursor } edges { node { status } } } }",
            json!({"s": session, "a": after}),
            Some(&token),
        )
        .await;
        let connection = &page["data"]["sessionRoll"];
        roll.extend(
            connection["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["node"].clone()),
        );
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    let rows = |st: &str| roll.iter().filter(|r| r["status"] == st).count();
    println!(
        "session counters: confirmed {} waitlisted {} seats left {}; rows: confirmed {} waitlisted {}",
        s["confirmed"],
        s["waitlisted"],
        s["seatsLeft"],
        rows("CONFIRMED"),
        rows("WAITLISTED")
    );
    let confirmed = counts.get("CONFIRMED").copied().unwrap_or(0);
    let ok = confirmed == capacity.min(registrations)
        && s["confirmed"].as_u64() == Some(confirmed as u64)
        && rows("CONFIRMED") == confirmed
        && rows("WAITLISTED") == counts.get("WAITLISTED").copied().unwrap_or(0);
    println!(
        "oversold: {}; counters and rows agree: {ok}",
        confirmed > capacity
    );
    let _ = stack;
    report.add(
        format!("seats oversold, {concurrency} clients"),
        confirmed.saturating_sub(capacity) as f64,
        "",
        Some(Target::Below(1.0)),
    );
    report.add(
        format!("counters disagreeing with rows, {concurrency} clients"),
        if ok { 0.0 } else { 1.0 },
        "",
        Some(Target::Below(1.0)),
    );
    report.finish()?;
    if ok {
        Ok(())
    } else {
        Err("seat invariant violated".into())
    }
}
