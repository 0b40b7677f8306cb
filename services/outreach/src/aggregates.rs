//! The computations behind every figure, over the rows in memory: headline and projection,
//! breakdowns, reach per inhabitant and coverage gaps, the weekly series, the monthly table of
//! the exports. Pure functions of the state and a checked window, so tests can work them out.

use crate::{
    domain::{GOAL, Scope, Window, deadline},
    figures::{Code, Row, State, month_of, week_of},
};
use cafeia_events_api::SessionStatus;
use cafeia_facilitators_api::FacilitatorStatus;
use cafeia_outreach_api::{
    BreakdownRow, Dimension, Headline, MonthCell, Progress, Reach, WeekPoint,
};
use cafeia_platform::territory::Gazetteer;
use chrono::{Duration, NaiveDate};
use std::collections::{BTreeMap, HashSet};

fn rows<'a>(state: &'a State, w: &'a Window) -> impl Iterator<Item = &'a Row> + 'a {
    state
        .reports
        .values()
        .filter(move |r| {
            w.scope.keeps(
                r.region.as_ref().map(Code::as_str),
                r.departement.as_ref().map(Code::as_str),
            )
        })
        .filter(move |r| w.keeps_day(r.day))
}

fn goal_of(scope: &Scope) -> (i64, u64) {
    let population = scope.population();
    let national = Scope::France.population().max(1);
    if *scope == Scope::France {
        (GOAL, population)
    } else {
        let share = (GOAL as f64 * population as f64 / national as f64).round() as i64;
        (share, population)
    }
}

pub fn headline(state: &State, w: &Window) -> Headline {
    let (goal, population) = goal_of(&w.scope);
    let (mut reached, mut participations, mut sessions, mut recent) = (0i64, 0i64, 0i64, 0i64);
    let mut active = HashSet::new();
    let recent_from = w.to - Duration::days(28);
    let active_from = w.to - Duration::days(90);
    for r in rows(state, w) {
        reached += r.first_timers;
        participations += r.attended;
        sessions += 1;
        if r.day > recent_from {
            recent += r.first_timers;
        }
        if r.day > active_from {
            active.insert(r.facilitator_id);
        }
    }
    let rate = recent as f64 / 4.0;
    let remaining = (goal - reached).max(0);
    let weeks_left = (deadline() - w.to).num_days() as f64 / 7.0;
    let needed = if weeks_left > 0.0 {
        remaining as f64 / weeks_left
    } else {
        remaining as f64
    };
    let projected_date = if remaining == 0 {
        Some(w.to)
    } else if rate > 0.0 {
        let days = (remaining as f64 / rate * 7.0).ceil() as i64;
        w.to.checked_add_signed(Duration::days(days))
    } else {
        None
    };
    let status = match projected_date {
        _ if remaining == 0 => Progress::Reached,
        Some(d) if d <= deadline() => Progress::OnTrack,
        _ => Progress::AtRisk,
    };
    Headline {
        as_of: w.to,
        deadline: deadline(),
        goal,
        population,
        reached,
        participations,
        sessions_held: sessions,
        active_facilitators: active.len() as i64,
        verified_facilitators: (w.scope == Scope::France).then(|| {
            state
                .facilitators
                .values()
                .filter(|status| **status == FacilitatorStatus::Verified)
                .count() as i64
        }),
        run_rate_per_week: rate,
        needed_per_week: (needed * 10.0).round() / 10.0,
        projected_date,
        status,
    }
}

/// A breakdown key, borrowed from the rows while summing (no allocation per row).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key<'a> {
    Text(&'a str),
    Month(i32, u32),
    Week(NaiveDate),
}

impl Key<'_> {
    fn text(self) -> String {
        match self {
            Key::Text(t) => t.to_owned(),
            Key::Month(y, m) => format!("{y:04}-{m:02}"),
            Key::Week(d) => d.to_string(),
        }
    }
}

pub fn breakdown<'a>(state: &'a State, w: &'a Window, by: Dimension) -> Vec<BreakdownRow> {
    use chrono::Datelike;
    #[derive(Default)]
    struct Sum {
        sessions: i64,
        participations: i64,
        reached: i64,
    }
    // Few keys, many rows: an ordered map compares short keys, cheaper than hashing each row.
    let mut sums: BTreeMap<Key<'a>, Sum> = BTreeMap::new();
    let mut add = |key: Key<'a>, participations: i64, reached: i64| {
        let s = sums.entry(key).or_default();
        s.sessions += 1;
        s.participations += participations;
        s.reached += reached;
    };
    for r in rows(state, w) {
        let (a, f) = (r.attended, r.first_timers);
        match by {
            Dimension::Region => add(
                Key::Text(r.region.as_ref().map_or("online", Code::as_str)),
                a,
                f,
            ),
            Dimension::Departement => add(
                Key::Text(r.departement.as_ref().map_or("online", Code::as_str)),
                a,
                f,
            ),
            Dimension::Month => add(Key::Month(r.day.year(), r.day.month()), a, f),
            Dimension::Week => add(Key::Week(week_of(r.day)), a, f),
            Dimension::Format => add(Key::Text(r.format.as_str()), a, f),
            Dimension::FacilitatorKind => add(
                Key::Text(r.facilitator_kind.as_ref().map_or("unknown", Code::as_str)),
                a,
                f,
            ),
            Dimension::Audience => r.audiences.iter().for_each(|k| add(Key::Text(k), a, f)),
            Dimension::Topic => r.topics.iter().for_each(|k| add(Key::Text(k), a, f)),
            Dimension::AgeBand => r
                .age_bands
                .iter()
                .filter(|(_, n)| *n > 0)
                .for_each(|(k, n)| add(Key::Text(k), *n, 0)),
            Dimension::Occupation => r
                .occupations
                .iter()
                .filter(|(_, n)| *n > 0)
                .for_each(|(k, n)| add(Key::Text(k), *n, 0)),
        }
    }
    let g = Gazetteer::get();
    let split = matches!(by, Dimension::AgeBand | Dimension::Occupation);
    sums.into_iter()
        .map(|(key, s)| {
            let key = key.text();
            BreakdownRow {
                label: match by {
                    Dimension::Region => g.region(&key).map(|r| r.name.clone()),
                    Dimension::Departement => g.departement(&key).map(|d| d.name.clone()),
                    _ => None,
                },
                key,
                sessions: s.sessions,
                participations: s.participations,
                reached: (!split).then_some(s.reached),
            }
        })
        .collect()
}

pub fn reach(state: &State, w: &Window) -> Vec<Reach> {
    let g = Gazetteer::get();
    let mut by_dep: BTreeMap<&str, (i64, i64, i64)> = BTreeMap::new();
    for r in rows(state, w) {
        if let Some(d) = &r.departement {
            let e = by_dep.entry(d.as_str()).or_default();
            e.0 += 1;
            e.1 += r.attended;
            e.2 += r.first_timers;
        }
    }
    let start = w.to.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let end = start + Duration::days(30);
    let mut planned: BTreeMap<&str, i64> = BTreeMap::new();
    for p in state.planned.values() {
        if p.status == SessionStatus::Published
            && p.starts_at >= start
            && p.starts_at < end
            && let Some(d) = p.departement.as_deref()
        {
            *planned.entry(d).or_default() += 1;
        }
    }
    g.departements()
        .filter(|d| w.scope.keeps(Some(&d.region), Some(&d.code)))
        .map(|d| {
            let (sessions, participations, reached) =
                by_dep.get(d.code.as_str()).copied().unwrap_or_default();
            let per = if d.population > 0 {
                reached as f64 * 10_000.0 / d.population as f64
            } else {
                0.0
            };
            Reach {
                departement: d.code.clone(),
                name: d.name.clone(),
                region: d.region.clone(),
                population: d.population,
                sessions,
                participations,
                reached,
                reached_per_10000: (per * 100.0).round() / 100.0,
                planned_next_30_days: planned.get(d.code.as_str()).copied().unwrap_or(0),
            }
        })
        .collect()
}

/// Départements with no session planned in the next 30 days, lowest reach per inhabitant first.
pub fn gaps(state: &State, w: &Window, limit: usize) -> Vec<Reach> {
    let mut all: Vec<Reach> = reach(state, w)
        .into_iter()
        .filter(|r| r.planned_next_30_days == 0)
        .collect();
    all.sort_by(|a, b| {
        a.reached_per_10000
            .total_cmp(&b.reached_per_10000)
            .then_with(|| b.population.cmp(&a.population))
    });
    all.truncate(limit);
    all
}

pub fn weekly(state: &State, w: &Window) -> Vec<WeekPoint> {
    let mut weeks: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for r in rows(state, w) {
        *weeks.entry(week_of(r.day)).or_default() += r.first_timers;
    }
    let Some(first) = weeks.keys().next().copied() else {
        return Vec::new();
    };
    let (goal, _) = goal_of(&w.scope);
    let span = (deadline() - first).num_days().max(1) as f64;
    let mut out = Vec::new();
    let mut cumulative = 0;
    let mut week = first;
    while week <= week_of(w.to) {
        let reached = weeks.get(&week).copied().unwrap_or(0);
        cumulative += reached;
        let elapsed = (week - first).num_days() as f64;
        out.push(WeekPoint {
            week,
            reached,
            cumulative,
            goal_line: (goal as f64 * (elapsed / span).min(1.0)).round() as i64,
        });
        week += Duration::days(7);
    }
    out
}

/// Sessions, participations and people reached per département and month (in-person and
/// hybrid sessions; online ones have no département).
pub fn monthly(state: &State, w: &Window) -> Vec<MonthCell> {
    let mut cells: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
    for r in rows(state, w) {
        if let Some(d) = &r.departement {
            let e = cells
                .entry((d.as_str().to_owned(), month_of(r.day)))
                .or_default();
            e.0 += 1;
            e.1 += r.attended;
            e.2 += r.first_timers;
        }
    }
    cells
        .into_iter()
        .map(|((departement, month), (s, p, f))| MonthCell {
            departement,
            month,
            sessions: s,
            participations: Some(p),
            reached: Some(f),
        })
        .collect()
}

/// The open-data version: counts of people under [`crate::domain::SMALL_CELL`] are hidden.
pub fn suppressed(cells: Vec<MonthCell>) -> Vec<MonthCell> {
    let hide = |v: Option<i64>| v.filter(|n| *n >= crate::domain::SMALL_CELL);
    cells
        .into_iter()
        .map(|c| MonthCell {
            participations: hide(c.participations),
            reached: hide(c.reached),
            ..c
        })
        .collect()
}
