//! The computations behind every figure, over the rows in memory: headline and projection,
//! breakdowns, reach per inhabitant and coverage gaps, the weekly series, the monthly table of
//! the exports. Pure functions of the state and a checked window, so tests can work them out.
//!
//! Each figure is an accumulator (`add` one row, then `finish`): an endpoint runs one over the
//! rows of its window, and the dashboard runs all of its own in a single pass over the rows,
//! so its figures are by construction those the separate endpoints give.

use crate::{
    domain::{GOAL, Scope, Window, deadline},
    figures::{Key, Keys, Row, State},
};
use cafeia_events_api::SessionStatus;
use cafeia_facilitators_api::FacilitatorStatus;
use cafeia_outreach_api::{
    BreakdownRow, Dashboard, Dimension, Headline, MonthCell, Progress, Reach, WeekPoint,
};
use cafeia_platform::territory::Gazetteer;
use chrono::{Datelike, Duration, NaiveDate};
use std::collections::BTreeMap;

/// Which rows a scope keeps, as keys: a number compared per row, not text. A code no row holds
/// keeps none.
enum Within {
    All,
    Region(Option<Key>),
    Departement(Option<Key>),
}

impl Within {
    fn new(scope: &Scope, keys: &Keys) -> Self {
        match scope {
            Scope::France => Self::All,
            Scope::Region(r) => Self::Region(keys.get(r)),
            Scope::Departement(d) => Self::Departement(keys.get(d)),
        }
    }

    fn keeps(&self, r: &Row) -> bool {
        match self {
            Self::All => true,
            Self::Region(k) => k.is_some() && r.region == *k,
            Self::Departement(k) => k.is_some() && r.departement == *k,
        }
    }
}

fn rows<'a>(state: &'a State, w: &'a Window) -> impl Iterator<Item = &'a Row> + 'a {
    let within = Within::new(&w.scope, &state.keys);
    state
        .reports
        .iter()
        .filter(move |r| within.keeps(r) && w.keeps_day(r.day))
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

/// The headline's sums.
struct HeadlineSums {
    reached: i64,
    participations: i64,
    sessions: i64,
    recent: i64,
    recent_from: NaiveDate,
    active_from: NaiveDate,
    /// Per facilitator ([`Row::facilitator`]): held a session in the last 90 days.
    active: Vec<bool>,
    active_count: i64,
}

impl HeadlineSums {
    fn new(state: &State, w: &Window) -> Self {
        Self {
            reached: 0,
            participations: 0,
            sessions: 0,
            recent: 0,
            recent_from: w.to - Duration::days(28),
            active_from: w.to - Duration::days(90),
            active: vec![false; state.facilitator_count()],
            active_count: 0,
        }
    }

    fn add(&mut self, r: &Row) {
        self.reached += r.first_timers;
        self.participations += r.attended;
        self.sessions += 1;
        if r.day > self.recent_from {
            self.recent += r.first_timers;
        }
        if r.day > self.active_from
            && let Some(seen) = self.active.get_mut(r.facilitator as usize)
            && !*seen
        {
            *seen = true;
            self.active_count += 1;
        }
    }

    fn finish(self, state: &State, w: &Window) -> Headline {
        let (goal, population) = goal_of(&w.scope);
        let rate = self.recent as f64 / 4.0;
        let remaining = (goal - self.reached).max(0);
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
            reached: self.reached,
            participations: self.participations,
            sessions_held: self.sessions,
            active_facilitators: self.active_count,
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
}

pub fn headline(state: &State, w: &Window) -> Headline {
    let mut sums = HeadlineSums::new(state, w);
    rows(state, w).for_each(|r| sums.add(r));
    sums.finish(state, w)
}

#[derive(Clone, Copy, Default)]
struct Sum {
    sessions: i64,
    participations: i64,
    reached: i64,
}

impl Sum {
    fn add(&mut self, participations: i64, reached: i64) {
        self.sessions += 1;
        self.participations += participations;
        self.reached += reached;
    }
}

/// One breakdown's sums: per key in an array indexed by it (the rows' values are interned),
/// rows without a value (online sessions have no territory, older reports no facilitator
/// kind) apart, months and weeks by date.
struct Tally {
    by: Dimension,
    keyed: Vec<Sum>,
    none: Sum,
    dated: BTreeMap<NaiveDate, Sum>,
}

impl Tally {
    fn new(state: &State, by: Dimension) -> Self {
        Self {
            by,
            keyed: vec![Sum::default(); state.keys.len()],
            none: Sum::default(),
            dated: BTreeMap::new(),
        }
    }

    fn slot(&mut self, key: Option<Key>) -> Option<&mut Sum> {
        match key {
            None => Some(&mut self.none),
            Some(k) => self.keyed.get_mut(k.index()),
        }
    }

    fn add(&mut self, r: &Row) {
        let (a, f) = (r.attended, r.first_timers);
        let each = |keyed: &mut [Sum], keys: &[Key]| {
            for k in keys {
                if let Some(s) = keyed.get_mut(k.index()) {
                    s.add(a, f);
                }
            }
        };
        // Attendees split by age or occupation; first-timers are not.
        let split = |keyed: &mut [Sum], counts: &[(Key, i64)]| {
            for (k, n) in counts.iter().filter(|(_, n)| *n > 0) {
                if let Some(s) = keyed.get_mut(k.index()) {
                    s.add(*n, 0);
                }
            }
        };
        let one = match self.by {
            Dimension::Region => r.region,
            Dimension::Departement => r.departement,
            Dimension::Format => Some(r.format),
            Dimension::FacilitatorKind => r.facilitator_kind,
            Dimension::Month => {
                let first = r.day.with_day(1).unwrap_or(r.day);
                self.dated.entry(first).or_default().add(a, f);
                return;
            }
            Dimension::Week => {
                self.dated.entry(r.week).or_default().add(a, f);
                return;
            }
            Dimension::Audience => return each(&mut self.keyed, &r.audiences),
            Dimension::Topic => return each(&mut self.keyed, &r.topics),
            Dimension::AgeBand => return split(&mut self.keyed, &r.age_bands),
            Dimension::Occupation => return split(&mut self.keyed, &r.occupations),
        };
        if let Some(s) = self.slot(one) {
            s.add(a, f);
        }
    }

    /// The rows, by key as text (dates are written so that this is their order too).
    fn finish(self, keys: &Keys) -> Vec<BreakdownRow> {
        let by = self.by;
        let mut sums: Vec<(String, Sum)> = match by {
            Dimension::Month => self
                .dated
                .into_iter()
                .map(|(d, s)| (format!("{:04}-{:02}", d.year(), d.month()), s))
                .collect(),
            Dimension::Week => self
                .dated
                .into_iter()
                .map(|(d, s)| (d.to_string(), s))
                .collect(),
            _ => {
                let none = match by {
                    Dimension::FacilitatorKind => "unknown",
                    _ => "online",
                };
                self.keyed
                    .into_iter()
                    .enumerate()
                    .filter(|(_, s)| s.sessions > 0)
                    .map(|(i, s)| (keys.name_at(i).to_owned(), s))
                    .chain((self.none.sessions > 0).then(|| (none.to_owned(), self.none)))
                    .collect()
            }
        };
        sums.sort_by(|a, b| a.0.cmp(&b.0));
        let g = Gazetteer::get();
        let split = matches!(by, Dimension::AgeBand | Dimension::Occupation);
        sums.into_iter()
            .map(|(key, s)| BreakdownRow {
                label: match by {
                    Dimension::Region => g.region(&key).map(|r| r.name.clone()),
                    Dimension::Departement => g.departement(&key).map(|d| d.name.clone()),
                    _ => None,
                },
                key,
                sessions: s.sessions,
                participations: s.participations,
                reached: (!split).then_some(s.reached),
            })
            .collect()
    }
}

pub fn breakdown(state: &State, w: &Window, by: Dimension) -> Vec<BreakdownRow> {
    let mut tally = Tally::new(state, by);
    rows(state, w).for_each(|r| tally.add(r));
    tally.finish(&state.keys)
}

/// Reach's sums: sessions, participations, people reached per département (by key).
struct ReachSums {
    by_departement: Vec<Sum>,
}

impl ReachSums {
    fn new(state: &State) -> Self {
        Self {
            by_departement: vec![Sum::default(); state.keys.len()],
        }
    }

    fn add(&mut self, r: &Row) {
        if let Some(s) = r
            .departement
            .and_then(|d| self.by_departement.get_mut(d.index()))
        {
            s.add(r.attended, r.first_timers);
        }
    }

    fn finish(self, state: &State, w: &Window) -> Vec<Reach> {
        let g = Gazetteer::get();
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
                let s = state
                    .keys
                    .get(&d.code)
                    .and_then(|k| self.by_departement.get(k.index()))
                    .copied()
                    .unwrap_or_default();
                let per = if d.population > 0 {
                    s.reached as f64 * 10_000.0 / d.population as f64
                } else {
                    0.0
                };
                Reach {
                    departement: d.code.clone(),
                    name: d.name.clone(),
                    region: d.region.clone(),
                    population: d.population,
                    sessions: s.sessions,
                    participations: s.participations,
                    reached: s.reached,
                    reached_per_10000: (per * 100.0).round() / 100.0,
                    planned_next_30_days: planned.get(d.code.as_str()).copied().unwrap_or(0),
                }
            })
            .collect()
    }
}

pub fn reach(state: &State, w: &Window) -> Vec<Reach> {
    let mut sums = ReachSums::new(state);
    rows(state, w).for_each(|r| sums.add(r));
    sums.finish(state, w)
}

/// Among `reach`, the départements with no session planned in the next 30 days, lowest reach
/// per inhabitant first.
fn gaps_among(reach: Vec<Reach>, limit: usize) -> Vec<Reach> {
    let mut all: Vec<Reach> = reach
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

/// Départements with no session planned in the next 30 days, lowest reach per inhabitant first.
pub fn gaps(state: &State, w: &Window, limit: usize) -> Vec<Reach> {
    gaps_among(reach(state, w), limit)
}

/// The weekly series' sums: people reached per week (by its Monday).
#[derive(Default)]
struct WeekSums {
    weeks: BTreeMap<NaiveDate, i64>,
}

impl WeekSums {
    fn add(&mut self, r: &Row) {
        *self.weeks.entry(r.week).or_default() += r.first_timers;
    }

    fn finish(self, w: &Window) -> Vec<WeekPoint> {
        let weeks = self.weeks;
        let Some(first) = weeks.keys().next().copied() else {
            return Vec::new();
        };
        let (goal, _) = goal_of(&w.scope);
        let span = (deadline() - first).num_days().max(1) as f64;
        let mut out = Vec::new();
        let mut cumulative = 0;
        let mut week = first;
        while week <= crate::figures::week_of(w.to) {
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
}

pub fn weekly(state: &State, w: &Window) -> Vec<WeekPoint> {
    let mut sums = WeekSums::default();
    rows(state, w).for_each(|r| sums.add(r));
    sums.finish(w)
}

/// The breakdowns the dashboard shows after the one by territory.
const DASHBOARD_BREAKDOWNS: [Dimension; 5] = [
    Dimension::Audience,
    Dimension::AgeBand,
    Dimension::Occupation,
    Dimension::Format,
    Dimension::Topic,
];

/// Every figure of the staff dashboard in one pass over the rows: headline, weekly series,
/// reach and gaps over `now` (up to its « as of » day), the breakdowns over `period` (France
/// split by région, a région or a département by département).
pub fn dashboard(state: &State, now: &Window, period: &Window, gaps_limit: usize) -> Dashboard {
    let (in_now, in_period) = (
        Within::new(&now.scope, &state.keys),
        Within::new(&period.scope, &state.keys),
    );
    let mut head = HeadlineSums::new(state, now);
    let mut weeks = WeekSums::default();
    let mut places = ReachSums::new(state);
    let mut territory = Tally::new(
        state,
        match period.scope {
            Scope::France => Dimension::Region,
            Scope::Region(_) | Scope::Departement(_) => Dimension::Departement,
        },
    );
    let mut tallies = DASHBOARD_BREAKDOWNS.map(|by| Tally::new(state, by));
    for r in &state.reports {
        if in_now.keeps(r) && now.keeps_day(r.day) {
            head.add(r);
            weeks.add(r);
            places.add(r);
        }
        if in_period.keeps(r) && period.keeps_day(r.day) {
            territory.add(r);
            tallies.iter_mut().for_each(|t| t.add(r));
        }
    }
    let reach = places.finish(state, now);
    let [by_audience, by_age_band, by_occupation, by_format, by_topic] =
        tallies.map(|t| t.finish(&state.keys));
    Dashboard {
        headline: head.finish(state, now),
        weekly: weeks.finish(now),
        by_territory: territory.finish(&state.keys),
        by_audience,
        by_age_band,
        by_occupation,
        by_format,
        by_topic,
        coverage_gaps: gaps_among(reach.clone(), gaps_limit),
        reach,
    }
}

/// Sessions, participations and people reached per département and month (in-person and
/// hybrid sessions; online ones have no département).
pub fn monthly(state: &State, w: &Window) -> Vec<MonthCell> {
    // By département code as text, then month: the order of the files.
    let mut cells: BTreeMap<(&str, NaiveDate), Sum> = BTreeMap::new();
    for r in rows(state, w) {
        if let Some(d) = r.departement {
            let month = r.day.with_day(1).unwrap_or(r.day);
            cells
                .entry((state.keys.name(d), month))
                .or_default()
                .add(r.attended, r.first_timers);
        }
    }
    cells
        .into_iter()
        .map(|((departement, month), s)| MonthCell {
            departement: departement.to_owned(),
            month: format!("{:04}-{:02}", month.year(), month.month()),
            sessions: s.sessions,
            participations: Some(s.participations),
            reached: Some(s.reached),
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
