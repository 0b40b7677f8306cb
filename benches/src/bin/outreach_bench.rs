//! Outreach benchmark: 100,000 attendance reports (2,000,000 participations) spread over real
//! départements and 2026–2027, ingested from RabbitMQ into PostgreSQL; then the latency of the
//! headline and of the département breakdown over HTTP.
//!
//! ```sh
//! cargo run --release -p cafeia-bench --bin outreach-bench -- --sessions 100000
//! ```
//! The messages are queued first (the service declares its queue, stops, the bench publishes),
//! then the service starts again and the clock runs until every report is in: that is the
//! consumer's ingestion rate, not the publisher's. Its own database, exchange and queues are
//! removed at the end. `--postgres`, `--amqp` override the local defaults.

use cafeia_bench::{Latencies, Report, Target};
use cafeia_outreach::Outreach;
use cafeia_platform::{
    auth::{DevIssuer, Role},
    bus::Message,
    config::PlatformConfig,
    envelope::{Envelope, MessageType},
    runtime::{self, Launch, Shared},
    territory::Gazetteer,
};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use secrecy::SecretString;
use serde_json::json;
use std::time::{Duration, Instant};

/// The outreach benchmark.
#[derive(clap::Parser)]
struct Args {
    /// Attendance reports to ingest (20 participations each).
    #[arg(long, default_value_t = 100_000)]
    sessions: usize,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
    #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
    amqp: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args {
        sessions,
        postgres,
        amqp,
    } = <Args as clap::Parser>::parse();
    let id = format!("obench{}", uuid::Uuid::now_v7().simple());
    let admin = Database::connect(&postgres).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{id}\""))
        .await?;
    let base = postgres
        .rsplit_once('/')
        .map_or(postgres.as_str(), |(b, _)| b);
    let url = format!("{base}/{id}");
    let mut config = PlatformConfig::default();
    config.http.port = 0;
    config.database.url = Some(SecretString::from(url.clone()));
    config.bus.url = SecretString::from(amqp.clone());
    config.bus.exchange = format!("{id}.exchange");
    config.bus.queue_prefix = format!("{id}.");
    config.bus.prefetch = 1_000;
    config.auth.dev_issuer = true;
    config.data_dir = std::env::temp_dir().join(&id);
    let result = run(&config, &url, sessions).await;
    // Clean up whatever happened.
    if let Ok(conn) =
        lapin::Connection::connect(&amqp, lapin::ConnectionProperties::default()).await
        && let Ok(channel) = conn.create_channel().await
    {
        let queue = format!("{id}.{}", cafeia_outreach::ingest::QUEUE);
        let mut names = vec![queue.clone(), format!("{queue}.dlq")];
        names.extend((0..config.bus.max_attempts).map(|l| format!("{queue}.retry.{l}")));
        for name in names {
            let _ = channel
                .queue_delete(name.as_str().into(), Default::default())
                .await;
        }
        let _ = channel
            .exchange_delete(config.bus.exchange.as_str().into(), Default::default())
            .await;
    }
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{id}\" WITH (FORCE)"))
        .await;
    let _ = std::fs::remove_dir_all(&config.data_dir);
    result
}

async fn start(config: &PlatformConfig) -> Result<runtime::Running, Box<dyn std::error::Error>> {
    Ok(runtime::start::<Outreach>(Launch {
        config: config.clone(),
        shared: Shared::default(),
        listener: runtime::bind("127.0.0.1", 0)?,
        demo_data: false,
        workers: 2,
    })
    .await?)
}

async fn run(
    config: &PlatformConfig,
    url: &str,
    sessions: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    // Declare the queue, then stop consuming while the messages are queued.
    start(config).await?.stop().await;
    let bus = cafeia_platform::bus::connect(&config.bus).await?;
    let deps: Vec<(String, String)> = Gazetteer::get()
        .departements()
        .map(|d| (d.code.clone(), d.region.clone()))
        .collect();
    let kind = MessageType::new("events", "attendance", "recorded", 1);
    let audiences = [
        "general_public",
        "students",
        "job_seekers",
        "seniors",
        "employees",
    ];
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let (bus, deps) = (bus.clone(), deps.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = worker;
            while i < sessions {
                let (dep, region) = &deps[i % deps.len()];
                let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()
                    + chrono::Duration::days((i % 700) as i64);
                let data = json!({
                    "session_id": uuid::Uuid::now_v7(), "version": 1,
                    "facilitator_id": uuid::Uuid::from_u128(1 + (i % 3_000) as u128),
                    "facilitator_kind": "mediateur_numerique",
                    "starts_at": format!("{day}T17:00:00Z"),
                    "format": if i % 5 == 0 { "online" } else { "in_person" },
                    "insee": null, "departement": dep, "region": region,
                    "topics": ["what_is_ai"], "audiences": [audiences[i % audiences.len()]],
                    "level": "discovery", "registered": 20, "attended": 20, "no_shows": 0,
                    "walk_ins": 0, "first_timers": 12,
                    "age_bands": {"25_39": 8, "60_74": 12}, "occupations": {"employee": 10},
                });
                let message =
                    Message::event(kind.routing_key(), &Envelope::new(kind, "bench", data))
                        .expect("message");
                bus.publish(&message).await.expect("published");
                i += 16;
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    eprintln!(
        "queued {sessions} reports ({} participations) in {:.1} s",
        sessions * 20,
        started.elapsed().as_secs_f64()
    );

    let db = Database::connect(url).await?;
    let count = || async {
        db.query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM report",
        ))
        .await
        .ok()
        .flatten()
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(0)
    };
    let started = Instant::now();
    let running = start(config).await?;
    while (count().await as usize) < sessions {
        if started.elapsed() > Duration::from_secs(1_800) {
            return Err("ingestion did not finish within 30 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "ingestion: {sessions} attendance messages in {elapsed:.1} s = {:.0} messages/s ({:.0} participations/s)",
        sessions as f64 / elapsed,
        (sessions * 20) as f64 / elapsed
    );
    let mut report = Report::new("outreach-bench");
    report.add(
        format!("ingestion of {sessions} attendance messages"),
        sessions as f64 / elapsed,
        "messages/s",
        Some(Target::AtLeast(5_000.0)),
    );

    let issuer = DevIssuer::load_or_create(&config.data_dir, &config.auth)?;
    let token = issuer.issue(
        "bench-staff",
        &[Role::Staff],
        None,
        Duration::from_secs(3600),
    )?;
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{}", running.port());
    for (name, path) in [
        ("headline", "/v1/outreach/headline?as_of=2027-12-01"),
        (
            "breakdown by département",
            "/v1/outreach/breakdown?by=departement&as_of=2027-12-01",
        ),
    ] {
        let mut latencies = Vec::new();
        let mut last = serde_json::Value::Null;
        let wall = Instant::now();
        for _ in 0..500 {
            let t = Instant::now();
            last = http
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            latencies.push(t.elapsed());
        }
        let l = Latencies::new(latencies, wall.elapsed());
        println!(
            "{name}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over 500 HTTP requests",
            l.p50(),
            l.p99(),
            l.max()
        );
        let p99 = if name == "headline" { 10.0 } else { 15.0 };
        report.latencies(
            &format!("{name} over HTTP, {} participations", sessions * 20),
            &l,
            Some(Target::Below(p99)),
        );
        if name == "headline" {
            println!(
                "  reached {} participations {} sessions {}",
                last["reached"], last["participations"], last["sessions_held"]
            );
        }
    }
    // The same two computations in process, without HTTP.
    let figures = cafeia_outreach::figures::Figures::default();
    figures.refresh(&db).await?;
    let window = cafeia_outreach::domain::Window {
        scope: cafeia_outreach::domain::Scope::France,
        from: None,
        to: chrono::NaiveDate::from_ymd_opt(2027, 12, 1).unwrap_or_default(),
    };
    for name in ["headline", "breakdown by département"] {
        let mut latencies = Vec::new();
        let wall = Instant::now();
        for _ in 0..500 {
            let t = Instant::now();
            figures.read(|s| {
                if name == "headline" {
                    std::hint::black_box(cafeia_outreach::aggregates::headline(s, &window));
                } else {
                    std::hint::black_box(cafeia_outreach::aggregates::breakdown(
                        s,
                        &window,
                        cafeia_outreach::domain::Dimension::Departement,
                    ));
                }
            });
            latencies.push(t.elapsed());
        }
        let l = Latencies::new(latencies, wall.elapsed());
        println!(
            "{name} in process: p50 {:.2} ms, p99 {:.2} ms",
            l.p50(),
            l.p99()
        );
        report.latencies(&format!("{name} in process"), &l, None);
    }
    running.stop().await;
    report.finish()?;
    Ok(())
}
