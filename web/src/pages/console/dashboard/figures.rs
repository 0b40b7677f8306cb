//! The dashboard's figures as people read them: French numbers and words for the API's codes,
//! one table per chart with the very numbers the chart draws, and the chart's attributes.

use super::Period;
use crate::{
    format, labels,
    operations::console_dashboard::{self, Place, Progress as Status, Row},
    operations::console_unmet_demand,
    pages::console::Scope,
};
use cafeia_platform::territory::Gazetteer;
use chrono::NaiveDate;
use serde_json::json;

/// Everything the page shows below its form.
pub struct Figures {
    /// Whom the figures cover: « toute la France », « la région Bretagne ».
    pub territory: String,
    pub as_of: String,
    pub period: String,
    pub progress: Progress,
    pub weekly: Weekly,
    pub breakdowns: Vec<Breakdown>,
    pub map: Option<Map>,
    pub reach: Vec<ReachRow>,
    pub gaps: Vec<Gap>,
}

pub struct Progress {
    pub reached: String,
    pub goal: String,
    pub share: String,
    pub status: &'static str,
    /// The DSFR badge's colour for the status.
    pub badge: &'static str,
    /// Why the status is what it is, in a sentence.
    pub reason: String,
    /// The gauge's `value` and `target` (plain integers).
    pub gauge_value: i64,
    pub gauge_target: i64,
    /// The table beside the gauge: what, how much.
    pub facts: Vec<(&'static str, String)>,
}

pub struct Weekly {
    pub chart: Chart,
    pub rows: Vec<WeekRow>,
}

pub struct WeekRow {
    pub week: String,
    pub reached: String,
    pub cumulative: String,
    pub goal_line: String,
}

/// One breakdown: its heading, its table (rows in the chart's order) and its chart.
pub struct Breakdown {
    pub id: &'static str,
    pub title: String,
    /// The first column's header (« Région », « Public »…).
    pub what: &'static str,
    /// Whether people reached are counted (not for age bands and occupations).
    pub counts_people: bool,
    pub note: Option<&'static str>,
    pub rows: Vec<Line>,
    pub chart: Chart,
}

pub struct Line {
    pub label: String,
    pub sessions: String,
    pub participations: String,
    pub reached: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Bar,
    HorizontalBar,
    Pie,
    Line,
}

/// A DSFR chart's data attributes, JSON as the web components read them.
pub struct Chart {
    pub kind: ChartKind,
    pub x: String,
    pub y: String,
    pub name: String,
}

impl Chart {
    /// One series: `labels` against `values`.
    fn single(kind: ChartKind, name: &str, labels: Vec<String>, values: Vec<i64>) -> Self {
        Self {
            kind,
            x: json!([labels]).to_string(),
            y: json!([values]).to_string(),
            name: json!([name]).to_string(),
        }
    }
}

/// The map of reach per 10,000 inhabitants (`map-chart`, or `map-chart-reg` for a région).
pub struct Map {
    pub region: Option<String>,
    pub data: String,
    pub value: String,
    pub date: String,
}

pub struct ReachRow {
    pub code: String,
    pub name: String,
    pub population: String,
    pub sessions: String,
    pub reached: String,
    pub per_10000: String,
    pub planned: String,
}

pub struct Gap {
    pub rank: usize,
    pub code: String,
    pub name: String,
    pub region: String,
    pub population: String,
    pub reached: String,
    pub per_10000: String,
    /// Unmet searches over 90 days, or why it is unknown.
    pub unmet: String,
    /// The communes asked for most, « Guéret (12), Aubusson (3) ».
    pub communes: String,
}

/// A number with two decimals, French style: 1234.5 → « 1 234,50 ».
pub fn decimal(value: f64, places: usize) -> String {
    let text = format!("{:.*}", places, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let grouped = format::number(whole.parse::<i64>().unwrap_or(0));
    let sign = if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{fraction}")
    }
}

/// « 12,34 % », and « moins de 0,01 % » rather than a zero that hides the first people reached.
fn percent(value: f64) -> String {
    if value > 0.0 && value < 0.01 {
        "moins de 0,01\u{a0}%".into()
    } else {
        format!("{}\u{a0}%", decimal(value, 2))
    }
}

fn n(value: i64) -> String {
    format::number(value)
}

/// « 05/01/2026 »: the weeks' labels, short enough for a chart's axis.
fn short_day(day: NaiveDate) -> String {
    day.format("%d/%m/%Y").to_string()
}

pub fn build(
    view: &Scope,
    period: &Period,
    data: console_dashboard::ConsoleDashboardOutreachDashboard,
    demand: Vec<Option<console_unmet_demand::ResponseData>>,
) -> Figures {
    let h = &data.headline;
    let per_10000 = |reached: i64, population: i64| {
        if population > 0 {
            reached as f64 * 10_000.0 / population as f64
        } else {
            0.0
        }
    };
    let map = map(
        view,
        &data.reach,
        h.as_of,
        per_10000(h.reached, h.population),
    );
    Figures {
        territory: view.label(),
        as_of: format::day(&h.as_of),
        period: period.describe(),
        progress: progress(h),
        weekly: weekly(&data.weekly),
        breakdowns: vec![
            breakdown(
                if view.is_national() {
                    Dimension::Region
                } else {
                    Dimension::Departement
                },
                &data.by_territory,
            ),
            breakdown(Dimension::Audience, &data.by_audience),
            breakdown(Dimension::AgeBand, &data.by_age_band),
            breakdown(Dimension::Occupation, &data.by_occupation),
            breakdown(Dimension::Format, &data.by_format),
            breakdown(Dimension::Topic, &data.by_topic),
        ],
        map,
        reach: {
            // By code, as the map's legend and the INSEE lists read them.
            let mut places: Vec<&Place> = data.reach.iter().collect();
            places.sort_by(|a, b| a.departement.cmp(&b.departement));
            places.into_iter().map(reach_row).collect()
        },
        gaps: data
            .coverage_gaps
            .iter()
            .zip(demand)
            .enumerate()
            .map(|(i, (g, d))| gap(i + 1, g, d))
            .collect(),
    }
}

fn progress(h: &console_dashboard::ConsoleDashboardOutreachDashboardHeadline) -> Progress {
    let share = match h.goal {
        goal if goal > 0 => percent(h.reached as f64 * 100.0 / goal as f64),
        _ => percent(0.0),
    };
    let rate = decimal(h.run_rate_per_week, 1);
    let needed = decimal(h.needed_per_week, 1);
    let deadline = format::day(&h.deadline);
    let projected = h.projected_date.map(|d| format::day(&d));
    let (status, badge, reason) = match (&h.status, &projected) {
        (Status::REACHED, _) => (
            "Objectif atteint",
            "fr-badge--success",
            format!(
                "{} personnes sensibilisées pour un objectif de {} : l'objectif est atteint.",
                n(h.reached),
                n(h.goal)
            ),
        ),
        (Status::ON_TRACK, Some(when)) => (
            "En bonne voie",
            "fr-badge--info",
            format!(
                "Au rythme des quatre dernières semaines ({rate} personnes par semaine), \
                 l'objectif serait atteint le {when}, avant l'échéance du {deadline} \
                 (il faut {needed} personnes par semaine)."
            ),
        ),
        (_, Some(when)) => (
            "En retard",
            "fr-badge--warning",
            format!(
                "Au rythme des quatre dernières semaines ({rate} personnes par semaine), \
                 l'objectif ne serait atteint que le {when}, après l'échéance du {deadline} : \
                 il faudrait {needed} personnes par semaine."
            ),
        ),
        (_, None) => (
            "En retard",
            "fr-badge--warning",
            format!(
                "Personne n'a été sensibilisé ces quatre dernières semaines : à ce rythme, \
                 l'objectif ne sera pas atteint. Il faudrait {needed} personnes par semaine \
                 d'ici le {deadline}."
            ),
        ),
    };
    let facts = vec![
        ("Personnes sensibilisées", n(h.reached)),
        ("Objectif", n(h.goal)),
        ("Part de l'objectif", share.clone()),
        ("Participations (sur place compris)", n(h.participations)),
        ("Sessions tenues", n(h.sessions_held)),
        (
            "Animateurs actifs (90 derniers jours)",
            n(h.active_facilitators),
        ),
        ("Rythme actuel, par semaine", rate),
        ("Rythme nécessaire, par semaine", needed),
        (
            "Date projetée de l'objectif",
            projected.unwrap_or_else(|| "aucune au rythme actuel".into()),
        ),
        ("Échéance", deadline),
    ];
    Progress {
        reached: n(h.reached),
        goal: n(h.goal),
        share,
        status,
        badge,
        reason,
        gauge_value: h.reached,
        gauge_target: h.goal,
        facts,
    }
}

fn weekly(points: &[console_dashboard::ConsoleDashboardOutreachDashboardWeekly]) -> Weekly {
    let weeks: Vec<String> = points.iter().map(|p| short_day(p.week)).collect();
    let chart = Chart {
        kind: ChartKind::Line,
        x: json!([weeks, weeks]).to_string(),
        y: json!([
            points.iter().map(|p| p.cumulative).collect::<Vec<_>>(),
            points.iter().map(|p| p.goal_line).collect::<Vec<_>>()
        ])
        .to_string(),
        name: json!([
            "Personnes sensibilisées (cumul)",
            "Trajectoire vers l'objectif"
        ])
        .to_string(),
    };
    Weekly {
        chart,
        rows: points
            .iter()
            .map(|p| WeekRow {
                week: short_day(p.week),
                reached: n(p.reached),
                cumulative: n(p.cumulative),
                goal_line: n(p.goal_line),
            })
            .collect(),
    }
}

/// What a breakdown is by, as this page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dimension {
    Region,
    Departement,
    Audience,
    AgeBand,
    Occupation,
    Format,
    Topic,
}

impl Dimension {
    fn id(self) -> &'static str {
        match self {
            Self::Region => "par-region",
            Self::Departement => "par-departement",
            Self::Audience => "par-public",
            Self::AgeBand => "par-age",
            Self::Occupation => "par-situation",
            Self::Format => "par-format",
            Self::Topic => "par-theme",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::Region => "Région",
            Self::Departement => "Département",
            Self::Audience => "Public",
            Self::AgeBand => "Tranche d'âge",
            Self::Occupation => "Situation",
            Self::Format => "Format",
            Self::Topic => "Thème",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Region => "Par région",
            Self::Departement => "Par département",
            Self::Audience => "Par public visé",
            Self::AgeBand => "Par tranche d'âge des participants",
            Self::Occupation => "Par situation des participants",
            Self::Format => "Par format",
            Self::Topic => "Par thème",
        }
    }

    /// Age bands and occupations split the attendees, not the people reached.
    fn counts_people(self) -> bool {
        !matches!(self, Self::AgeBand | Self::Occupation)
    }

    fn note(self) -> Option<&'static str> {
        match self {
            Self::Audience => Some(
                "Une session ouverte à plusieurs publics compte pour chacun : les lignes \
                 s'additionnent au-delà du total.",
            ),
            Self::Topic => Some(
                "Une session sur plusieurs thèmes compte pour chacun : les lignes \
                 s'additionnent au-delà du total.",
            ),
            Self::AgeBand | Self::Occupation => Some(
                "Les premières venues ne sont pas réparties par âge ni par situation : \
                 ces répartitions comptent les participations.",
            ),
            Self::Region | Self::Departement => Some(
                "Les sessions en ligne n'ont pas de territoire : elles forment leur propre ligne.",
            ),
            Self::Format => None,
        }
    }

    fn chart(self) -> ChartKind {
        match self {
            Self::Format | Self::Occupation => ChartKind::Pie,
            Self::Region | Self::Departement | Self::Topic => ChartKind::HorizontalBar,
            Self::Audience | Self::AgeBand => ChartKind::Bar,
        }
    }

    fn label(self, row: &Row) -> String {
        let code = row.key.as_str();
        match self {
            Self::Region | Self::Departement if code == "online" => "En ligne".into(),
            Self::Region | Self::Departement => row.label.clone().unwrap_or_else(|| code.into()),
            Self::Audience => labels::audience(&code.to_uppercase()).into(),
            Self::AgeBand => labels::among(&labels::AGE_BANDS, code),
            Self::Occupation => labels::among(&labels::OCCUPATIONS, code),
            Self::Format => labels::format(&code.to_uppercase()).into(),
            Self::Topic => labels::among(&labels::TOPICS, code),
        }
    }

    /// Where a row goes: age bands youngest first, everything else largest first.
    fn rank(self, row: &Row) -> i64 {
        match self {
            Self::AgeBand => labels::AGE_BANDS
                .iter()
                .position(|(c, _)| *c == row.key)
                .map_or(i64::MAX, |p| p as i64),
            _ => -row.reached.unwrap_or(row.participations),
        }
    }
}

fn breakdown(by: Dimension, rows: &[Row]) -> Breakdown {
    let mut rows: Vec<&Row> = rows.iter().collect();
    rows.sort_by(|a, b| {
        by.rank(a)
            .cmp(&by.rank(b))
            .then_with(|| by.label(a).cmp(&by.label(b)))
    });
    let value = |r: &Row| {
        if by.counts_people() {
            r.reached.unwrap_or(0)
        } else {
            r.participations
        }
    };
    let chart = Chart::single(
        by.chart(),
        if by.counts_people() {
            "Personnes sensibilisées"
        } else {
            "Participations"
        },
        rows.iter().map(|r| by.label(r)).collect(),
        rows.iter().map(|r| value(r)).collect(),
    );
    Breakdown {
        id: by.id(),
        title: by.title().into(),
        what: by.what(),
        counts_people: by.counts_people(),
        note: by.note(),
        rows: rows
            .iter()
            .map(|r| Line {
                label: by.label(r),
                sessions: n(r.sessions),
                participations: n(r.participations),
                reached: r.reached.map(n).unwrap_or_default(),
            })
            .collect(),
        chart,
    }
}

/// The map needs every département it draws in its data (one left out is drawn as if it
/// had the lowest value), and a date.
fn map(view: &Scope, places: &[Place], as_of: NaiveDate, overall: f64) -> Option<Map> {
    let region = match view {
        Scope::National => None,
        Scope::Region(code) => Some(code.clone()),
        // One département is not a map: its table says it all.
        Scope::Departement(_) => return None,
    };
    let data: serde_json::Map<String, serde_json::Value> = places
        .iter()
        .map(|p| (p.departement.clone(), json!(p.reached_per10000)))
        .collect();
    if data.is_empty() {
        return None;
    }
    Some(Map {
        region,
        data: serde_json::Value::Object(data).to_string(),
        value: format!("{overall:.2}"),
        date: short_day(as_of),
    })
}

fn reach_row(p: &Place) -> ReachRow {
    ReachRow {
        code: p.departement.clone(),
        name: p.name.clone(),
        population: n(p.population),
        sessions: n(p.sessions),
        reached: n(p.reached),
        per_10000: decimal(p.reached_per10000, 2),
        planned: n(p.planned_next30_days),
    }
}

fn gap(rank: usize, p: &Place, demand: Option<console_unmet_demand::ResponseData>) -> Gap {
    let region = Gazetteer::get()
        .region(&p.region)
        .map_or_else(|| p.region.clone(), |r| r.name.clone());
    let (unmet, communes) = match demand {
        Some(d) => {
            let d = d.unmet_demand;
            let communes: Vec<String> = d
                .communes
                .iter()
                .filter_map(|c| Some(format!("{} ({})", c.name.as_ref()?, n(c.unmet))))
                .take(3)
                .collect();
            (n(d.unmet), communes.join(", "))
        }
        None => ("non disponible".into(), String::new()),
    };
    Gap {
        rank,
        code: p.departement.clone(),
        name: p.name.clone(),
        region,
        population: n(p.population),
        reached: n(p.reached),
        per_10000: decimal(p.reached_per10000, 2),
        unmet,
        communes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_read_the_french_way() {
        assert_eq!(decimal(1234.5, 2), "1\u{202f}234,50");
        assert_eq!(decimal(0.004, 2), "0,00");
        assert_eq!(decimal(-0.001, 2), "0,00");
        assert_eq!(decimal(-2.5, 1), "-2,5");
        assert_eq!(decimal(12.0, 0), "12");
        assert_eq!(percent(0.0045), "moins de 0,01\u{a0}%");
        assert_eq!(percent(0.0), "0,00\u{a0}%");
        assert_eq!(percent(12.346), "12,35\u{a0}%");
    }
}
