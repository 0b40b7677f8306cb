//! Matching benchmark: a generated national dataset (100,000 sessions, 50,000 trainings over
//! real communes) in PostgreSQL; recommendations for random profiles from the in-memory engine,
//! from a naive PostgreSQL query doing the same filtering and distance ranking (the baseline,
//! same run, same profiles), from the same query on an indexed table (what a team would pick
//! instead: `earthdistance` boxes under a GiST index for the radius, a partial index for the
//! offers not held to it, GIN over the accessibility arrays), and through the gateway
//! (GraphQL → matching service).
//!
//! ```sh
//! cargo run --release -p cafeia-bench --bin matching-bench -- --sessions 100000 --trainings 50000
//! ```
//! Creates its own database (dropped at the end). `--postgres` overrides the local default.

use cafeia_api::vocabulary::{Audience, Format, Level, wire_name};
use cafeia_bench::{Latencies, Report, Target, machine::rss_mib};
use cafeia_matching::{
    engine::Engine,
    model::{AccessibilityNeed, Item, OfferKind, Place},
    recommend::{self, Experience, Profile},
    storage::item,
};
use cafeia_platform::{config::PlatformConfig, runtime, territory::Gazetteer};
use chrono::{Duration, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection, EntityTrait};
use sea_orm_migration::MigratorTrait;
use secrecy::SecretString;
use serde_json::json;
use std::time::Instant;
use uuid::Uuid;

/// The matching benchmark.
#[derive(clap::Parser)]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    sessions: usize,
    #[arg(long, default_value_t = 50_000)]
    trainings: usize,
    /// Random profiles asked of the engine (in process; half as many through the gateway).
    #[arg(long, default_value_t = 2_000)]
    profiles: usize,
    /// Profiles asked of the naive PostgreSQL baseline.
    #[arg(long, default_value_t = 200)]
    baseline_profiles: usize,
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
}

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Prints an operation's figures as the bench always has, and adds them to the report.
fn stats(
    report: &mut Report,
    name: &str,
    latencies: Vec<std::time::Duration>,
    wall: std::time::Duration,
    p99: Option<Target>,
) -> f64 {
    let l = Latencies::new(latencies, wall);
    println!(
        "{name}: {} queries, p50 {:.2} ms, p99 {:.2} ms, {:.0} queries/s",
        l.count(),
        l.p50(),
        l.p99(),
        l.per_second()
    );
    report.latencies(name, &l, p99);
    l.p50()
}

/// Offers and interests are drawn from the first six topics of the shared vocabulary.
const TOPICS: &[&str] = cafeia_platform::vocabulary::TOPICS.split_at(6).0;
const LEVELS: [Level; 4] = [
    Level::Discovery,
    Level::Beginner,
    Level::Intermediate,
    Level::Advanced,
];
const ACCESS: [AccessibilityNeed; 4] = [
    AccessibilityNeed::Wheelchair,
    AccessibilityNeed::Lsf,
    AccessibilityNeed::HearingLoop,
    AccessibilityNeed::EasyRead,
];

fn generate(sessions: usize, trainings: usize) -> Vec<Item> {
    let communes: Vec<_> = Gazetteer::get()
        .communes()
        .iter()
        .filter(|c| c.population > 1_000)
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let now = Utc::now();
    let mut items = Vec::with_capacity(sessions + trainings);
    let place = |rng: &mut Rng| {
        let c = communes[rng.below(communes.len())];
        Place {
            insee: c.insee.clone(),
            departement: c.departement.clone(),
            latitude: c.lat,
            longitude: c.lon,
        }
    };
    let subset = |rng: &mut Rng, needs: &[AccessibilityNeed], percent: u64| {
        needs
            .iter()
            .copied()
            .filter(|_| rng.chance(percent))
            .collect::<Vec<_>>()
    };
    for i in 0..sessions + trainings {
        let session = i < sessions;
        let format = match rng.below(10) {
            0 => Format::Online,
            1 => Format::Hybrid,
            _ => Format::InPerson,
        };
        let capacity = 10 + rng.below(30) as i32;
        let topic = TOPICS[rng.below(TOPICS.len())];
        items.push(Item {
            id: Uuid::now_v7(),
            kind: if session {
                OfferKind::Session
            } else {
                OfferKind::Training
            },
            active: true,
            title: format!(
                "{} n°{i} : {topic}",
                if session {
                    "Café IA"
                } else {
                    "Formation à l'IA"
                }
            ),
            text: "Comprendre l'intelligence artificielle et ses usages au quotidien.".into(),
            topics: vec![topic.to_owned()],
            level: LEVELS[rng.below(if session { 2 } else { 4 })],
            audiences: vec![Audience::GeneralPublic],
            languages: if rng.chance(10) {
                vec!["en".into(), "fr".into()]
            } else {
                vec!["fr".into()]
            },
            accessibility: subset(&mut rng, &ACCESS, 30),
            format,
            free: session || rng.chance(60),
            places: if format == Format::Online {
                Vec::new()
            } else if session {
                vec![place(&mut rng)]
            } else {
                (0..1 + rng.below(3)).map(|_| place(&mut rng)).collect()
            },
            starts_at: session.then(|| now + Duration::hours(2 + rng.below(24 * 120) as i64)),
            dates: Vec::new(),
            capacity: session.then_some(capacity),
            seats_left: session.then(|| rng.below(capacity as usize + 1) as i32),
            waitlist_enabled: rng.chance(50),
            revision: 1,
            seats_revision: 0,
            as_of: None,
            timezone: None,
            masks: Default::default(),
        });
    }
    items
}

async fn load(db: &DatabaseConnection, items: &[Item]) -> Result<(), Box<dyn std::error::Error>> {
    db.execute_unprepared(
        "CREATE TABLE naive_item (id uuid, kind text, active bool, starts_at timestamptz, \
         capacity int, seats_left int, waitlist bool, format text, level text, languages text[], \
         accessibility text[], topics text[], lat double precision, lon double precision)",
    )
    .await?;
    for (chunk_no, chunk) in items.chunks(1_000).enumerate() {
        item::Entity::insert_many(chunk.iter().enumerate().map(|(k, it)| item::ActiveModel {
            id: Set(it.id),
            kind: Set(it.kind),
            doc: Set(it.clone()),
            seq: Set((chunk_no * 1_000 + k + 1) as i64),
        }))
        .exec_without_returning(db)
        .await?;
        let mut values = Vec::new();
        for it in chunk {
            let arr = |v: Vec<String>| {
                format!(
                    "ARRAY[{}]::text[]",
                    v.iter()
                        .map(|s| format!("'{s}'"))
                        .collect::<Vec<_>>()
                        .join(",")
                )
            };
            let row = |lat: String, lon: String| {
                format!(
                    "('{}','{}',true,{},{},{},{},'{}','{}',{},{},{},{lat},{lon})",
                    it.id,
                    wire_name(&it.kind),
                    it.starts_at
                        .map_or("NULL".into(), |t| format!("'{}'", t.to_rfc3339())),
                    it.capacity.map_or("NULL".into(), |c| c.to_string()),
                    it.seats_left.map_or("NULL".into(), |c| c.to_string()),
                    it.waitlist_enabled,
                    wire_name(&it.format),
                    wire_name(&it.level),
                    arr(it.languages.clone()),
                    arr(it.accessibility.iter().map(wire_name).collect()),
                    arr(it.topics.clone()),
                )
            };
            if it.places.is_empty() {
                values.push(row("NULL".into(), "NULL".into()));
            }
            for p in &it.places {
                values.push(row(p.latitude.to_string(), p.longitude.to_string()));
            }
        }
        db.execute_unprepared(&format!(
            "INSERT INTO naive_item VALUES {}",
            values.join(",")
        ))
        .await?;
    }
    index(db).await?;
    // Vacuum now, so no background autovacuum competes with the measurements for the CPU.
    db.execute_unprepared("VACUUM ANALYZE naive_item").await?;
    db.execute_unprepared("VACUUM ANALYZE indexed_item").await?;
    db.execute_unprepared("VACUUM ANALYZE item").await?;
    Ok(())
}

/// The same rows, indexed as a team choosing PostgreSQL would: each place as a point on the
/// earth (`cube`, `earthdistance`) under GiST, so a radius is a box search; the offers the
/// radius does not hold (online, hybrid) under a partial index; the accessibility arrays under
/// GIN.
async fn index(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    for statement in [
        "CREATE EXTENSION IF NOT EXISTS cube",
        "CREATE EXTENSION IF NOT EXISTS earthdistance",
        "CREATE TABLE indexed_item AS SELECT *, CASE WHEN lat IS NULL THEN NULL \
         ELSE ll_to_earth(lat, lon) END AS earth FROM naive_item",
        "CREATE INDEX indexed_item_earth ON indexed_item USING gist (earth)",
        "CREATE INDEX indexed_item_not_held ON indexed_item (id) WHERE format <> 'in_person'",
        "CREATE INDEX indexed_item_accessibility ON indexed_item USING gin (accessibility)",
    ] {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

fn profiles(n: usize) -> Vec<Profile> {
    let communes: Vec<_> = Gazetteer::get()
        .communes()
        .iter()
        .filter(|c| c.population > 5_000)
        .collect();
    let mut rng = Rng(42);
    (0..n)
        .map(|_| Profile {
            commune: Some(communes[rng.below(communes.len())].insee.clone()),
            radius_km: Some([5.0, 10.0, 20.0, 30.0, 50.0][rng.below(5)]),
            online_only: rng.chance(10),
            interests: vec![TOPICS[rng.below(TOPICS.len())].to_owned()],
            level: Some(LEVELS[rng.below(2)]),
            languages: vec!["fr".into()],
            accessibility: if rng.chance(20) {
                vec![AccessibilityNeed::Wheelchair]
            } else {
                Vec::new()
            },
            experience: Some(if rng.chance(50) {
                Experience::FirstTime
            } else {
                Experience::Returning
            }),
            limit: Some(10),
            ..Profile::default()
        })
        .collect()
}

/// Which PostgreSQL table a baseline asks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Baseline {
    Naive,
    Indexed,
}

/// The same filtering and ranking as the engine's, in SQL. On the indexed table the
/// candidates are first those in the radius's box (GiST; the box is a little wider than the
/// radius, for `earthdistance`'s earth is not quite the haversine's) or not held to it (the
/// partial index), then filtered and ranked by the same expression as the naive query.
fn baseline_sql(p: &Profile, baseline: Baseline) -> String {
    let c = Gazetteer::get()
        .commune(p.commune.as_deref().unwrap_or_default())
        .map_or((46.0, 2.0), |c| (c.lat, c.lon));
    let radius = p.radius_km.unwrap_or(20.0);
    let needs = p
        .accessibility
        .iter()
        .map(|s| format!("'{}'", wire_name(s)))
        .collect::<Vec<_>>()
        .join(",");
    let topic = p.interests.first().cloned().unwrap_or_default();
    let level = p.level.as_ref().map(wire_name).unwrap_or_default();
    let place = if p.online_only {
        "format <> 'in_person'".to_owned()
    } else {
        format!("(format <> 'in_person' OR dist <= {radius})")
    };
    let (table, candidates) = match baseline {
        Baseline::Naive => ("naive_item", String::new()),
        Baseline::Indexed if p.online_only => {
            ("indexed_item", "format <> 'in_person' AND".to_owned())
        }
        Baseline::Indexed => (
            "indexed_item",
            format!(
                "(earth_box(ll_to_earth({lat}, {lon}), {box_m}) @> earth OR format <> 'in_person') AND",
                lat = c.0,
                lon = c.1,
                box_m = radius * 1_010.0,
            ),
        ),
    };
    format!(
        "SELECT id, score FROM (SELECT *, CASE WHEN lat IS NULL THEN NULL ELSE 6371 * 2 * asin(sqrt(\
         power(sin(radians(lat - {lat}) / 2), 2) + cos(radians({lat})) * cos(radians(lat)) * \
         power(sin(radians(lon - {lon}) / 2), 2))) END AS dist FROM {table} \
         WHERE {candidates} active AND (kind = 'training' OR (starts_at > now() AND (seats_left > 0 OR waitlist))) \
         AND accessibility @> ARRAY[{needs}]::text[] AND languages && ARRAY['fr']::text[]) x \
         CROSS JOIN LATERAL (SELECT (1.0 + 0.5 * greatest(0, 1 - coalesce(dist, {radius}) / {radius}) \
         + CASE WHEN topics && ARRAY['{topic}']::text[] THEN 0.3 ELSE 0 END \
         + CASE WHEN level = '{level}' THEN 0.2 ELSE 0 END \
         + CASE WHEN seats_left > 0.2 * capacity THEN 0.3 ELSE 0 END)::float8 AS score) s \
         WHERE {place} ORDER BY score DESC LIMIT 10",
        lat = c.0,
        lon = c.1,
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Args {
        sessions,
        trainings,
        profiles: n_profiles,
        baseline_profiles: n_baseline,
        postgres,
    } = <Args as clap::Parser>::parse();
    let id = format!("mbench{}", Uuid::now_v7().simple());
    let admin = Database::connect(&postgres).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{id}\""))
        .await?;
    let base = postgres
        .rsplit_once('/')
        .map_or(postgres.as_str(), |(b, _)| b);
    let url = format!("{base}/{id}");
    let result = run(&url, sessions, trainings, n_profiles, n_baseline).await;
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{id}\" WITH (FORCE)"))
        .await;
    result
}

async fn run(
    url: &str,
    sessions: usize,
    trainings: usize,
    n_profiles: usize,
    n_baseline: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let db = Database::connect(url).await?;
    cafeia_matching::storage::Migrator::up(&db, None).await?;
    let started = Instant::now();
    let items = generate(sessions, trainings);
    load(&db, &items).await?;
    drop(items);
    eprintln!(
        "dataset: {sessions} sessions, {trainings} trainings stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut report = Report::new("matching-bench");
    let before = rss_mib();
    let started = Instant::now();
    let engine = Engine::new()?;
    engine.refresh(&db).await?;
    let count = engine.read(|s| s.items.len());
    let loaded = started.elapsed().as_secs_f64();
    let read_model = rss_mib() - before;
    println!(
        "read model: {count} items loaded in {loaded:.1} s; resident memory +{read_model:.0} MiB (process {:.0} MiB)",
        rss_mib()
    );
    report.add("read model items", count as f64, "", None);
    report.add("read model load time", loaded, "s", None);
    report.add(
        "read model memory",
        read_model,
        "MiB",
        Some(Target::Below(500.0)),
    );

    let profiles = profiles(n_profiles);
    let now = Utc::now();
    let mut latencies = Vec::new();
    let mut returned = 0usize;
    let wall = Instant::now();
    for p in &profiles {
        let t = Instant::now();
        let (origin, radius, limit) = recommend::check(p).map_err(|e| e.detail.clone())?;
        let list = recommend::rank(&engine, p, origin.as_ref(), radius, limit, now);
        latencies.push(t.elapsed());
        returned += list.len();
    }
    let engine_p50 = stats(
        &mut report,
        "recommendations in process",
        latencies,
        wall.elapsed(),
        Some(Target::Below(5.0)),
    );
    println!(
        "  {:.1} results per profile on average",
        returned as f64 / profiles.len() as f64
    );

    // Each profile's answer: the scores of the offers found, best first.
    let mut answers: Vec<Vec<Vec<f64>>> = Vec::new();
    for (baseline, name, at_least) in [
        (Baseline::Naive, "naive", 50.0),
        (Baseline::Indexed, "indexed", 5.0),
    ] {
        let mut latencies = Vec::new();
        let mut scores = Vec::new();
        let wall = Instant::now();
        for p in profiles.iter().take(n_baseline) {
            let t = Instant::now();
            let rows = db
                .query_all_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    baseline_sql(p, baseline),
                ))
                .await?;
            latencies.push(t.elapsed());
            scores.push(
                rows.iter()
                    .map(|r| r.try_get::<f64>("", "score"))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        let p50 = stats(
            &mut report,
            &format!("{name} PostgreSQL baseline"),
            latencies,
            wall.elapsed(),
            None,
        );
        println!(
            "  ratio ({name} baseline p50 / engine p50): {:.1}x",
            p50 / engine_p50
        );
        report.add(
            format!("{name} PostgreSQL p50 / in process p50"),
            p50 / engine_p50,
            "×",
            Some(Target::AtLeast(at_least)),
        );
        answers.push(scores);
    }
    // The indexes change how rows are found, not which: profile by profile, the same scores
    // (offers tied at the tenth place may be others of the same score).
    let disagree = answers[0]
        .iter()
        .zip(&answers[1])
        .filter(|(naive, indexed)| {
            naive.len() != indexed.len()
                || naive
                    .iter()
                    .zip(indexed.iter())
                    .any(|(a, b)| (a - b).abs() > 1e-9)
        })
        .count();
    println!("  profiles whose indexed answer differs from the naive one: {disagree}");
    if disagree > 0 {
        return Err(format!(
            "the indexed baseline answered {disagree} profiles otherwise than the naive one"
        )
        .into());
    }
    drop(engine);

    // Through the gateway: the matching service (loading the same read model) behind it.
    let mut config = PlatformConfig::default();
    config.http.port = 0;
    config.database.url = Some(SecretString::from(url.to_owned()));
    config.auth.dev_issuer = true;
    config.data_dir = std::env::temp_dir().join(format!("mbench-{}", Uuid::now_v7()));
    let service = runtime::start::<cafeia_matching::Matching>(runtime::Launch {
        config: config.clone(),
        shared: runtime::Shared::default(),
        listener: runtime::bind("127.0.0.1", 0)?,
        demo_data: false,
        workers: 2,
    })
    .await?;
    let mut gateway_config = cafeia_gateway::GatewayConfig {
        platform: config.clone(),
        ..Default::default()
    };
    // The GraphQL API alone: the web app is measured by web-bench.
    gateway_config.web.enabled = false;
    gateway_config.rate_limit.requests_per_minute = 10_000_000;
    gateway_config.rate_limit.cost_per_minute = 1_000_000_000;
    gateway_config.services.matching = format!("http://127.0.0.1:{}", service.port());
    let gateway = cafeia_gateway::start(
        gateway_config,
        cafeia_gateway::Shared::default(),
        runtime::bind("127.0.0.1", 0)?,
        2,
    )
    .await?;
    let http = reqwest::Client::new();
    let graphql = format!("http://127.0.0.1:{}/graphql", gateway.port());
    let query =
        "query($p: ProfileInput!) { recommendations(profile: $p) { id score reasons distanceKm } }";
    let mut latencies = Vec::new();
    let wall = Instant::now();
    for p in profiles.iter().take(1_000) {
        // GraphQL names enum values in upper case (`BEGINNER` for `beginner`).
        let upper = |wire: String| wire.to_uppercase();
        let variables = json!({"p": {
            "commune": p.commune, "radiusKm": p.radius_km, "onlineOnly": p.online_only,
            "interests": p.interests, "level": p.level.as_ref().map(|l| upper(wire_name(l))),
            "languages": p.languages,
            "accessibility": p.accessibility.iter().map(|a| upper(wire_name(a))).collect::<Vec<_>>(),
            "limit": 10,
        }});
        let t = Instant::now();
        let body: serde_json::Value = http
            .post(&graphql)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await?
            .json()
            .await?;
        latencies.push(t.elapsed());
        if body.get("errors").is_some() {
            return Err(format!("gateway answered an error: {body}").into());
        }
    }
    stats(
        &mut report,
        "recommendations through the gateway",
        latencies,
        wall.elapsed(),
        Some(Target::Below(15.0)),
    );
    gateway.stop().await;
    service.stop().await;
    let _ = std::fs::remove_dir_all(&config.data_dir);
    report.finish()?;
    Ok(())
}
