//! The figures a bench measured, with the target each is held to. A bench adds its figures to a
//! [`Report`] and [`Report::finish`]es it: the figures go, one JSON object per line, to the file
//! named by `CAFEIA_BENCH_REPORT` (set by `scripts/bench`, which runs every bench and then
//! `bench-report` over that file). Run alone, a bench prints what it always printed and the
//! report goes nowhere.

use crate::Latencies;
use serde::{Deserialize, Serialize};
use std::io::Write;

/// The variable naming the file the figures are appended to.
pub const REPORT_VARIABLE: &str = "CAFEIA_BENCH_REPORT";

/// What a figure must be.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Strictly under (a latency, a memory size).
    Below(f64),
    /// At least (a throughput, a ratio).
    AtLeast(f64),
}

impl Target {
    pub fn met(self, value: f64) -> bool {
        match self {
            Target::Below(bound) => value < bound,
            Target::AtLeast(bound) => value >= bound,
        }
    }

    /// How far the figure is from the target, as a factor (above 1: missed by that much).
    pub fn shortfall(self, value: f64) -> f64 {
        match self {
            Target::Below(bound) => value / bound,
            Target::AtLeast(bound) => bound / value,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Below(bound) => write!(f, "< {}", number(*bound)),
            Target::AtLeast(bound) => write!(f, "≥ {}", number(*bound)),
        }
    }
}

/// A number as the table shows it: no decimals from 100 up, two under 10.
pub fn number(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// One measured figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// The bench that measured it (`matching-bench`).
    pub bench: String,
    /// What it is (`recommendations in process p99`).
    pub name: String,
    /// NaN when it could not be measured (no sample, no `/proc`): `null` in JSON, and a
    /// target it is held to counts as missed.
    #[serde(serialize_with = "finite_or_null", deserialize_with = "null_as_nan")]
    pub value: f64,
    /// `ms`, `/s`, `MiB`, `KiB`, `×`, or empty for a count.
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
}

impl Figure {
    /// Whether the figure meets its target (None without one).
    pub fn met(&self) -> Option<bool> {
        self.target.map(|t| t.met(self.value))
    }
}

fn finite_or_null<S: serde::Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
    if value.is_finite() {
        s.serialize_f64(*value)
    } else {
        s.serialize_none()
    }
}

fn null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The figures of one bench run.
#[derive(Debug)]
pub struct Report {
    bench: String,
    figures: Vec<Figure>,
}

impl Report {
    pub fn new(bench: &str) -> Self {
        Report {
            bench: bench.to_owned(),
            figures: Vec::new(),
        }
    }

    pub fn add(&mut self, name: impl Into<String>, value: f64, unit: &str, target: Option<Target>) {
        self.figures.push(Figure {
            bench: self.bench.clone(),
            name: name.into(),
            value,
            unit: unit.to_owned(),
            target,
        });
    }

    /// An operation's p50, p99 (held to `p99`) and throughput.
    pub fn latencies(&mut self, name: &str, latencies: &Latencies, p99: Option<Target>) {
        self.add(format!("{name} p50"), latencies.p50(), "ms", None);
        self.add(format!("{name} p99"), latencies.p99(), "ms", p99);
        self.add(
            format!("{name} throughput"),
            latencies.per_second(),
            "/s",
            None,
        );
    }

    pub fn figures(&self) -> &[Figure] {
        &self.figures
    }

    /// Whether no figure misses its target.
    pub fn all_met(&self) -> bool {
        self.figures.iter().all(|f| f.met() != Some(false))
    }

    /// Appends the figures to the file `CAFEIA_BENCH_REPORT` names, if it names one.
    pub fn finish(self) -> std::io::Result<()> {
        let Some(path) = std::env::var_os(REPORT_VARIABLE) else {
            return Ok(());
        };
        let mut lines = Vec::new();
        for figure in &self.figures {
            serde_json::to_writer(&mut lines, figure)?;
            lines.push(b'\n');
        }
        // One write of whole lines: a bench that dies mid-report leaves no half figure.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?
            .write_all(&lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_say_whether_they_are_met_and_by_how_much_not() {
        assert!(Target::Below(10.0).met(9.9));
        assert!(!Target::Below(10.0).met(10.0));
        assert!(Target::AtLeast(5000.0).met(5000.0));
        assert!(!Target::AtLeast(5000.0).met(1472.0));
        assert!((Target::Below(10.0).shortfall(17.0) - 1.7).abs() < 1e-9);
        assert_eq!(Target::AtLeast(20.0).to_string(), "≥ 20.0");
        assert_eq!(Target::Below(5000.0).to_string(), "< 5000");
    }

    #[test]
    fn figures_read_back_as_written() {
        let mut report = Report::new("matching-bench");
        report.add("ratio", 17.0, "×", Some(Target::AtLeast(50.0)));
        report.add("items", 150_000.0, "", None);
        let lines: Vec<String> = report
            .figures()
            .iter()
            .map(|f| serde_json::to_string(f).expect("figure"))
            .collect();
        assert!(
            lines[0].contains(r#""target":{"at_least":50.0}"#),
            "{}",
            lines[0]
        );
        let back: Vec<Figure> = lines
            .iter()
            .map(|l| serde_json::from_str(l).expect("line"))
            .collect();
        assert_eq!(back, report.figures());
        assert_eq!(back[0].met(), Some(false));
        assert_eq!(back[1].met(), None);
        assert!(!report.all_met(), "the ratio misses its target");
        assert!(Report::new("none").all_met());
        // A figure that could not be measured reads back as such, and misses its target.
        let mut report = Report::new("web-bench");
        report.add("p99", f64::NAN, "ms", Some(Target::Below(30.0)));
        let line = serde_json::to_string(&report.figures()[0]).expect("figure");
        assert!(line.contains(r#""value":null"#), "{line}");
        let back: Figure = serde_json::from_str(&line).expect("line");
        assert!(back.value.is_nan());
        assert_eq!(back.met(), Some(false));
    }
}
