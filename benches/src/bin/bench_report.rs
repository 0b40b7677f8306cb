//! Gathers the figures every bench of a `scripts/bench` run appended to one file (JSON lines,
//! see `cafeia_bench::report`) into one JSON report with the machine's facts, and prints them
//! as a table: figure, value, target, met or missed (and by how much).
//!
//! ```sh
//! bench-report target/bench/figures.jsonl --json target/bench/report.json --revision "$(git rev-parse HEAD)"
//! ```

use cafeia_bench::{Figure, machine, report::number};
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Parser)]
struct Args {
    /// The figures, one JSON object per line.
    figures: PathBuf,
    /// Where to write the report.
    #[arg(long)]
    json: PathBuf,
    /// The git revision measured.
    #[arg(long, default_value = "")]
    revision: String,
    /// Benches that failed or did not finish (their figures may be missing).
    #[arg(long, value_delimiter = ',')]
    failed: Vec<String>,
    /// The run was `--quick`: small sizes, figures not comparable with the targets.
    #[arg(long)]
    quick: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = <Args as clap::Parser>::parse();
    let text = std::fs::read_to_string(&args.figures)
        .map_err(|e| format!("{}: {e}", args.figures.display()))?;
    let figures: Vec<Figure> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| format!("{} line {}: {e}", args.figures.display(), i + 1))
        })
        .collect::<Result<_, _>>()?;

    let machine = json!({
        "cpu": machine::cpu_model(),
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "memory_gib": machine::memory_gib(),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
    });
    let missed: Vec<&Figure> = figures.iter().filter(|f| f.met() == Some(false)).collect();
    let report = json!({
        "revision": args.revision,
        "measured_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "quick": args.quick,
        "machine": machine,
        "failed_benches": args.failed,
        "figures": figures.iter().map(|f| {
            let mut v = serde_json::to_value(f).unwrap_or_default();
            v["met"] = json!(f.met());
            v["shortfall"] = json!(f.target.filter(|_| f.met() == Some(false)).map(|t| t.shortfall(f.value)));
            v
        }).collect::<Vec<_>>(),
        "targets": { "held": figures.iter().filter(|f| f.target.is_some()).count(), "missed": missed.len() },
    });
    std::fs::write(&args.json, serde_json::to_string_pretty(&report)? + "\n")?;

    println!(
        "revision {} on {} ({} cores){}",
        if args.revision.is_empty() {
            "?"
        } else {
            &args.revision
        },
        report["machine"]["cpu"].as_str().unwrap_or("?"),
        report["machine"]["cores"],
        if args.quick {
            ", quick run: sizes too small for the targets"
        } else {
            ""
        }
    );
    println!();
    println!("| bench | figure | value | target | |");
    println!("|---|---|---|---|---|");
    for f in &figures {
        let verdict = match (f.met(), f.target) {
            (Some(true), _) => "met".to_owned(),
            (Some(false), _) if f.value.is_nan() => "missed (not measured)".to_owned(),
            (Some(false), Some(t)) => format!("missed ({:.2}×)", t.shortfall(f.value)),
            _ => String::new(),
        };
        println!(
            "| {} | {} | {} {} | {} | {verdict} |",
            f.bench,
            f.name,
            number(f.value),
            f.unit,
            f.target
                .map(|t| format!("{t} {}", f.unit))
                .unwrap_or_default(),
        );
    }
    println!();
    println!(
        "{} figures, {} held to a target, {} missed; report in {}",
        figures.len(),
        report["targets"]["held"],
        missed.len(),
        args.json.display()
    );
    if !args.failed.is_empty() {
        println!("benches that failed: {}", args.failed.join(", "));
    }
    Ok(())
}
