//! Embedded cold start: `cafeia up` started as a process of its own on a fresh data folder
//! (migrations, the development key and the demo data made on the way), timed from the spawn
//! to the first GraphQL query answered, and to the first one that shows the demo data; then
//! started again on the same folder (a restart: everything already there).
//!
//! ```sh
//! cargo build --release -p cafeia --bin cafeia
//! cargo run --release -p cafeia-bench --bin coldstart-bench -- --runs 5
//! ```
//! The `cafeia` binary is the one beside this bench unless `--binary` names another.

use cafeia_bench::{Report, Target, report::number};
use serde_json::{Value, json};
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};
use tokio::process::{Child, Command};

/// The embedded cold-start benchmark.
#[derive(clap::Parser)]
struct Args {
    /// Starts on a fresh folder, each followed by a restart on the same folder.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// The `cafeia` binary (default: the one beside this bench).
    #[arg(long)]
    binary: Option<PathBuf>,
}

/// The target: a query answered with the demo data within 2 s of the start.
const TARGET_MS: f64 = 2000.0;
/// A start that takes this long has failed.
const GIVE_UP: Duration = Duration::from_secs(60);

/// What one start took, in milliseconds from the spawn.
struct Start {
    /// The first query answered (HTTP 200 with `data`).
    answered: f64,
    /// The first answer counting the demo data's sessions.
    demo_visible: f64,
}

type Failure = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let args: Args = clap::Parser::parse();
    let binary = match args.binary {
        Some(b) => b,
        None => std::env::current_exe()?.with_file_name("cafeia"),
    };
    if !binary.is_file() {
        return Err(format!(
            "{}: no such binary (build it: cargo build --release -p cafeia --bin cafeia)",
            binary.display()
        )
        .into());
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let mut fresh = Vec::new();
    let mut restart = Vec::new();
    for run in 0..args.runs {
        let dir =
            std::env::temp_dir().join(format!("cafeia-coldstart-{}-{run}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let first = start(&http, &binary, &dir).await?;
        let again = start(&http, &binary, &dir).await?;
        println!(
            "run {}: fresh folder answered in {} ms (demo data in {} ms); restart {} ms ({} ms)",
            run + 1,
            number(first.answered),
            number(first.demo_visible),
            number(again.answered),
            number(again.demo_visible),
        );
        fresh.push(first);
        restart.push(again);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let mut report = Report::new("coldstart-bench");
    for (what, starts) in [("fresh data folder", &fresh), ("restart", &restart)] {
        let answered: Vec<f64> = starts.iter().map(|s| s.answered).collect();
        let demo: Vec<f64> = starts.iter().map(|s| s.demo_visible).collect();
        report.add(
            format!("embedded start, {what}, to the first answered query, median"),
            median(&answered),
            "ms",
            None,
        );
        report.add(
            format!(
                "embedded start, {what}, to the first answered query, slowest of {}",
                answered.len()
            ),
            slowest(&answered),
            "ms",
            None,
        );
        report.add(
            format!(
                "embedded start, {what}, to the demo data answered, slowest of {}",
                demo.len()
            ),
            slowest(&demo),
            "ms",
            Some(Target::Below(TARGET_MS)),
        );
    }
    for f in report.figures() {
        println!("{}: {} {}", f.name, number(f.value), f.unit);
    }
    report.finish()?;
    Ok(())
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

fn slowest(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::max)
}

/// Starts `cafeia up` in `dir`, times its first answers, and stops it (SIGINT, as Ctrl-C).
async fn start(http: &reqwest::Client, binary: &Path, dir: &Path) -> Result<Start, Failure> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = dir.join("up.log");
    let output = std::fs::File::create(&log)?;
    let began = Instant::now();
    let mut child = Command::new(binary)
        .args(["up", "--port", &port.to_string(), "--data-dir"])
        .arg(dir.join("data"))
        .current_dir(dir)
        // The embedded default: no external backend, whatever this shell has set.
        .env_remove("CAFEIA_DATABASE__URL")
        .env_remove("CAFEIA_BUS__URL")
        .env_remove("CAFEIA_CACHE__URL")
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        .kill_on_drop(true)
        .spawn()?;
    let url = format!("http://127.0.0.1:{port}/graphql");
    let query = json!({ "query": "{ sessions(first: 1) { totalCount } }" });
    let mut answered = None;
    let result = loop {
        if began.elapsed() > GIVE_UP {
            break Err(failure("no answer within 60 s", &log));
        }
        if let Some(status) = child.try_wait()? {
            break Err(failure(&format!("cafeia up exited ({status})"), &log));
        }
        if let Ok(response) = http.post(&url).json(&query).send().await
            && response.status().is_success()
            && let Ok(body) = response.json::<Value>().await
            && let Some(total) = body["data"]["sessions"]["totalCount"].as_u64()
        {
            let now = began.elapsed().as_secs_f64() * 1000.0;
            let answered = *answered.get_or_insert(now);
            if total > 0 {
                break Ok(Start {
                    answered,
                    demo_visible: now,
                });
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    stop(&mut child).await;
    result
}

/// Asks the stack to stop as Ctrl-C would, and kills it if it is still there after 30 s.
async fn stop(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .await;
    }
    if tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

fn failure(what: &str, log: &Path) -> Failure {
    let tail = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = tail.lines().rev().take(20).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    format!(
        "{what}; the last lines of {}:\n{}",
        log.display(),
        tail.join("\n")
    )
    .into()
}
