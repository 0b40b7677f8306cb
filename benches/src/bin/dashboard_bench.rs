//! Staff dashboard benchmark: how long the server takes to render `/pilotage` once the
//! outreach service holds the outreach bench's data set (100,000 attendance reports, 2,000,000
//! participations, every département, the 700 days before today), on the embedded stack.
//!
//! ```sh
//! cargo run --release -p cafeia-bench --bin dashboard-bench -- --reports 100000
//! cargo run -p cafeia-bench --bin dashboard-bench -- --reports 5000 --requests 20   # smoke
//! ```
//! The reports go through the real path: attendance messages on the stack's bus, ingested by
//! the outreach consumer; the clock starts once every one is counted. National staff sign in
//! through the browser (its session cookie is then reused); server time is the time to the
//! whole answer of one GET after another over loopback (one person's wait, not throughput),
//! for the national page and for one région's; then the page's GraphQL document alone, and
//! the same figures asked the way the page did before issue #17 (ten fields, ten calls).

use cafeia_bench::{Latencies, Report, Target};
use cafeia_e2e::{
    TestStack,
    browser::{Driver, Options, sign_in_by_click},
};
use cafeia_platform::{
    auth::Role,
    bus::Message,
    envelope::{Envelope, MessageType},
    territory::Gazetteer,
};
use cafeia_testkit::Backend;
use serde_json::json;
use std::time::{Duration, Instant};

/// The dashboard benchmark.
#[derive(clap::Parser)]
struct Args {
    /// Attendance reports to ingest (20 participations each).
    #[arg(long, default_value_t = 100_000)]
    reports: usize,
    /// Requests per page for the server time.
    #[arg(long, default_value_t = 200)]
    requests: usize,
}

const SERVER_P99_TARGET: Duration = Duration::from_millis(300);

/// The page's own GraphQL document: timed alone, it tells the API's share of the page's time.
const DOCUMENT: &str = include_str!("../../../web/graphql/console_dashboard.graphql");

/// The same figures as the page asked for them before `outreachDashboard` (issue #17): ten
/// fields, each one call to the outreach service and one pass over every report. Timed beside
/// the page's document, for the ratio.
const SEPARATE_FIELDS: &str = r#"
query SeparateFields(
  $region: String
  $departement: String
  $asOf: NaiveDate
  $from: NaiveDate
  $to: NaiveDate
  $territoryBy: Dimension!
) {
  outreachHeadline(region: $region, departement: $departement, asOf: $asOf) {
    asOf
    deadline
    goal
    population
    reached
    participations
    sessionsHeld
    activeFacilitators
    runRatePerWeek
    neededPerWeek
    projectedDate
    status
  }
  outreachWeekly(region: $region, departement: $departement, asOf: $asOf) {
    week
    reached
    cumulative
    goalLine
  }
  byTerritory: outreachBreakdown(by: $territoryBy, region: $region, departement: $departement, from: $from, to: $to) {
    ...Row
  }
  byAudience: outreachBreakdown(by: AUDIENCE, region: $region, departement: $departement, from: $from, to: $to) {
    ...Row
  }
  byAgeBand: outreachBreakdown(by: AGE_BAND, region: $region, departement: $departement, from: $from, to: $to) {
    ...Row
  }
  byOccupation: outreachBreakdown(by: OCCUPATION, region: $region, departement: $departement, from: $from, to: $to) {
    ...Row
  }
  byFormat: outreachBreakdown(by: FORMAT, region: $region, departement: $departement, from: $from, to: $to) {
    ...Row
  }
  byTopic: outreachBreakdown(by: TOPIC, region: $region, departement: $departement, from: $from, to: $to) {
    ...Row
  }
  outreachReach(region: $region, asOf: $asOf) {
    ...Place
  }
  coverageGaps(limit: 10, region: $region, asOf: $asOf) {
    ...Place
  }
}

fragment Row on BreakdownRow {
  key
  label
  sessions
  participations
  reached
}

fragment Place on DepartementReach {
  departement
  name
  region
  population
  sessions
  participations
  reached
  reachedPer10000
  plannedNext30Days
}
"#;

/// How many sessions the national headline counts so far.
async fn held(stack: &TestStack, token: &str) -> i64 {
    let answer = stack
        .graphql(
            "{ outreachHeadline { sessionsHeld } }",
            json!({}),
            Some(token),
        )
        .await;
    answer["data"]["outreachHeadline"]["sessionsHeld"]
        .as_i64()
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Args = clap::Parser::parse();
    // One visitor asking for the same page many times: lift the per-caller limits that would
    // otherwise (rightly) slow it down.
    let stack = TestStack::start_with(Backend::Embedded, |config| {
        config.rate_limit.requests_per_minute = 1_000_000;
        config.rate_limit.cost_per_minute = 1_000_000_000;
    })
    .await;
    let token = stack.token("bench-staff", &[Role::Staff], None);
    // The demo's own reports first, so that the count below is only the bench's.
    let mut demo = 0;
    for _ in 0..600 {
        demo = held(&stack, &token).await;
        if demo >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let bus = stack.bus().expect("the stack's bus");
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
    let topics = [
        "what_is_ai",
        "generative_ai",
        "ai_at_work",
        "data_and_privacy",
    ];
    let today = chrono::Utc::now().date_naive();
    let started = Instant::now();
    for i in 0..args.reports {
        let (dep, region) = &deps[i % deps.len()];
        let day = today - chrono::Duration::days(1 + (i % 700) as i64);
        let data = json!({
            "session_id": uuid::Uuid::now_v7(), "version": 1,
            "facilitator_id": uuid::Uuid::from_u128(1 + (i % 3_000) as u128),
            "facilitator_kind": "mediateur_numerique",
            "starts_at": format!("{day}T17:00:00Z"),
            "format": if i % 5 == 0 { "online" } else { "in_person" },
            "insee": null, "departement": dep, "region": region,
            "topics": [topics[i % topics.len()]], "audiences": [audiences[i % audiences.len()]],
            "level": "discovery", "registered": 20, "attended": 20, "no_shows": 0,
            "walk_ins": 0, "first_timers": 12,
            "age_bands": {"25_39": 8, "60_74": 12}, "occupations": {"employee": 10},
        });
        let message = Message::event(kind.routing_key(), &Envelope::new(kind, "bench", data))
            .expect("message");
        bus.publish(&message).await.expect("published");
    }
    let wanted = demo + args.reports as i64;
    loop {
        let now = held(&stack, &token).await;
        if now >= wanted {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3_600),
            "only {now} of {wanted} reports ingested within an hour"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "ingested {} reports ({} participations) in {:.1} s",
        args.reports,
        args.reports * 20,
        started.elapsed().as_secs_f64()
    );

    let mut driver = Driver::start().await;
    let browser = driver.browser(Options::default()).await;
    sign_in_by_click(&browser, &stack.base, "cnnum", "/pilotage").await;
    let cookie = browser
        .get_all_cookies()
        .await
        .expect("cookies")
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ");
    browser.close().await.ok();

    // No redirect followed: a lost session would answer the sign-in page.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut report = Report::new("dashboard-bench");
    println!("| what | server p50 | server p99 | max |");
    println!("|---|---|---|---|");
    let graphql = format!("{}/graphql", stack.base);
    let figures = json!({
        "query": DOCUMENT,
        "operationName": "ConsoleDashboard",
        "variables": {},
    });
    let separate = json!({
        "query": SEPARATE_FIELDS,
        "operationName": "SeparateFields",
        "variables": { "territoryBy": "REGION" },
    });
    for (name, path, page, body) in [
        ("tableau de bord national", "/pilotage", true, None),
        (
            "tableau de bord, région 84",
            "/pilotage?region=84",
            true,
            None,
        ),
        (
            "its figures alone (one GraphQL request)",
            "",
            false,
            Some(&figures),
        ),
        (
            "the same as ten separate fields (before #17)",
            "",
            false,
            Some(&separate),
        ),
    ] {
        let url = format!("{}{path}", stack.base);
        let mut times = Vec::with_capacity(args.requests);
        let wall = Instant::now();
        for _ in 0..args.requests {
            let started = Instant::now();
            let answer = if page {
                http.get(&url)
                    .header("accept", "text/html")
                    .header("accept-encoding", "br, gzip")
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .expect("GET")
            } else {
                http.post(&graphql)
                    .bearer_auth(&token)
                    .json(body.unwrap_or(&figures))
                    .send()
                    .await
                    .expect("POST")
            };
            assert!(answer.status().is_success(), "{name}: {}", answer.status());
            let bytes = answer.bytes().await.expect("body");
            times.push(started.elapsed());
            // A GraphQL error is answered 200 too: time only full answers.
            if !page {
                let answer: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
                assert!(answer.get("errors").is_none(), "{name}: {answer}");
            }
        }
        let times = Latencies::new(times, wall.elapsed());
        let target = Target::Below(SERVER_P99_TARGET.as_secs_f64() * 1e3);
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms |",
            times.p50(),
            times.p99(),
            times.max(),
        );
        report.add(format!("{name}, p50"), times.p50(), "ms", None);
        report.add(
            format!("{name}, p99"),
            times.p99(),
            "ms",
            page.then_some(target),
        );
    }
    println!(
        "\ntarget: server p99 < {} ms with {} reports: {}",
        SERVER_P99_TARGET.as_millis(),
        args.reports,
        if report.all_met() { "met" } else { "MISSED" }
    );
    stack.stop().await;
    report.finish().expect("bench report");
}
