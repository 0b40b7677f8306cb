//! Web app benchmark: what the home page, a results page and a session page weigh in a real
//! browser (Debian's headless Chromium at phone width), first visit and repeat visit, and how
//! long the server takes to render them, on the embedded stack with its demo data.
//!
//! ```sh
//! cargo run --release -p cafeia-bench --bin web-bench -- --requests 1000
//! ```
//! Weight is what Chromium's resource timing says was transferred (`transferSize`: compressed
//! bodies and headers), fonts left out as the target says; a repeat visit is the same page
//! opened again in the same browser. Server time is the time to the whole answer of one GET
//! after another over loopback (no concurrency: one person's wait, not throughput).

use cafeia_bench::{Latencies, Report, Target};
use cafeia_e2e::{
    TestStack,
    browser::{Driver, Options},
};
use cafeia_testkit::Backend;
use fantoccini::Client;
use std::time::Instant;

/// The web app benchmark.
#[derive(clap::Parser)]
struct Args {
    /// Requests per page for the server time.
    #[arg(long, default_value_t = 500)]
    requests: usize,
}

const FIRST_VISIT_TARGET: f64 = 150.0 * 1024.0;
const REPEAT_VISIT_TARGET: f64 = 60.0 * 1024.0;
const SERVER_P99_TARGET_MS: f64 = 30.0;

/// Bytes the page and everything it loaded took over the network (fonts left out).
async fn transferred(client: &Client) -> (u64, u64) {
    let script = r#"
        const entries = [...performance.getEntriesByType('navigation'),
                         ...performance.getEntriesByType('resource')];
        let all = 0, fonts = 0;
        for (const e of entries) {
            all += e.transferSize;
            if (/\.woff2?($|\?)/.test(e.name)) fonts += e.transferSize;
        }
        return [all - fonts, fonts];
    "#;
    let value = client
        .execute(script, vec![])
        .await
        .expect("resource timing");
    let n = |i: usize| value[i].as_u64().unwrap_or(0);
    (n(0), n(1))
}

async fn settle(client: &Client) {
    // Fonts and icons load after the document: wait until the page has been quiet a moment.
    client
        .execute_async(
            "const done = arguments[0]; document.fonts.ready.then(() => setTimeout(done, 500));",
            vec![],
        )
        .await
        .ok();
}

fn kib(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}

#[tokio::main]
async fn main() {
    let args: Args = clap::Parser::parse();
    // One visitor asking for the same pages many times: lift the per-caller limits that would
    // otherwise (rightly) slow it down.
    let stack = TestStack::start_with(Backend::Embedded, |config| {
        config.rate_limit.requests_per_minute = 1_000_000;
        config.rate_limit.cost_per_minute = 1_000_000_000;
    })
    .await;
    let session = stack
        .first_session("commune: \"69123\", radiusKm: 30, kind: SESSION")
        .await;
    let pages = [
        ("accueil", "/".to_owned()),
        ("résultats (Lyon)", "/?lieu=Lyon".to_owned()),
        ("page d'une session", format!("/sessions/{session}")),
    ];

    let mut driver = Driver::start().await;
    let mut report = Report::new("web-bench");
    println!(
        "| page | first visit | repeat visit | fonts (first) | server p50 | server p99 | max |"
    );
    println!("|---|---|---|---|---|---|---|");
    let http = reqwest::Client::new();
    for (name, path) in &pages {
        let url = format!("{}{path}", stack.base);
        let client = driver
            .browser(Options {
                javascript: true,
                width: 390,
            })
            .await;
        client.goto(&url).await.expect("first visit");
        settle(&client).await;
        let (first, fonts) = transferred(&client).await;
        client.goto(&url).await.expect("repeat visit");
        settle(&client).await;
        let (repeat, _) = transferred(&client).await;
        client.close().await.ok();

        let mut times = Vec::with_capacity(args.requests);
        let wall = Instant::now();
        for _ in 0..args.requests {
            let started = Instant::now();
            let answer = http
                .get(&url)
                .header("accept", "text/html")
                .header("accept-encoding", "br, gzip")
                .send()
                .await
                .expect("GET");
            assert!(answer.status().is_success(), "{url}: {}", answer.status());
            answer.bytes().await.expect("body");
            times.push(started.elapsed());
        }
        let times = Latencies::new(times, wall.elapsed());
        println!(
            "| {name} | {} | {} | {} | {:.1} ms | {:.1} ms | {:.1} ms |",
            kib(first as f64),
            kib(repeat as f64),
            kib(fonts as f64),
            times.p50(),
            times.p99(),
            times.max(),
        );
        let kibs = |bytes: u64| bytes as f64 / 1024.0;
        report.add(
            format!("{name}, first visit"),
            kibs(first),
            "KiB",
            Some(Target::Below(FIRST_VISIT_TARGET / 1024.0)),
        );
        report.add(
            format!("{name}, repeat visit"),
            kibs(repeat),
            "KiB",
            Some(Target::Below(REPEAT_VISIT_TARGET / 1024.0)),
        );
        report.add(format!("{name}, fonts"), kibs(fonts), "KiB", None);
        report.add(format!("{name}, server p50"), times.p50(), "ms", None);
        report.add(
            format!("{name}, server p99"),
            times.p99(),
            "ms",
            Some(Target::Below(SERVER_P99_TARGET_MS)),
        );
    }
    println!(
        "\ntargets: first visit < {}, repeat visit < {} (fonts left out), server p99 < {} ms: {}",
        kib(FIRST_VISIT_TARGET),
        kib(REPEAT_VISIT_TARGET),
        SERVER_P99_TARGET_MS,
        if report.all_met() { "met" } else { "MISSED" }
    );
    stack.stop().await;
    report.finish().expect("bench report");
}
