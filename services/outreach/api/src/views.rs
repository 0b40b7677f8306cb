//! What the outreach endpoints answer: the headline against the goal, breakdowns, reach per
//! inhabitant (also the coverage gaps), the weekly series, the monthly table of the exports and
//! open data, and the outcome of a rebuild.
//!
//! "Reached" is the sum of first-time participants (the honest count of distinct people);
//! "participations" the sum of attendees, walk-ins included.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where the goal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// The goal is met.
    Reached,
    /// At the current rate, the goal is met by the deadline.
    OnTrack,
    /// At the current rate, the goal is not met by the deadline (or nobody was reached lately).
    AtRisk,
}

/// Progress toward 2,000,000 people made aware of AI by 31 December 2027, for France or a
/// territory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "OutreachHeadline")
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Headline {
    /// The last day the figures cover.
    pub as_of: NaiveDate,
    /// When the goal is due (31 December 2027).
    pub deadline: NaiveDate,
    /// The national goal, or its share for a coordinator's territory (by population).
    pub goal: i64,
    /// Inhabitants of the territory (whole France for national figures).
    pub population: u64,
    /// People reached: the sum of first-time participants.
    pub reached: i64,
    /// Attendees, walk-ins included.
    pub participations: i64,
    /// Sessions held with an attendance report.
    pub sessions_held: i64,
    /// Facilitators who held a reported session in the last 90 days.
    pub active_facilitators: i64,
    /// Verified facilitators in the network (national figures only: the network is not split
    /// by territory here).
    pub verified_facilitators: Option<i64>,
    /// People reached per week over the last 4 weeks.
    pub run_rate_per_week: f64,
    /// People to reach per week from now on to meet the goal by the deadline.
    pub needed_per_week: f64,
    /// When the goal is met at the current rate (absent when nobody was reached lately).
    pub projected_date: Option<NaiveDate>,
    /// Where the goal stands.
    pub status: Progress,
}

/// One row of a breakdown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BreakdownRow {
    /// The value split by: an INSEE code (`online` for online sessions), a month `YYYY-MM`, a
    /// week's Monday, or a vocabulary code (audience, topic, format, age band…).
    pub key: String,
    /// The territory's name for régions and départements.
    pub label: Option<String>,
    /// Sessions counted in this row.
    pub sessions: i64,
    /// Attendees, walk-ins included.
    pub participations: i64,
    /// People reached; absent for age bands and occupations (first-timers are not split by
    /// them).
    pub reached: Option<i64>,
}

/// One département's reach: people reached per 10,000 inhabitants and sessions planned soon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "DepartementReach")
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reach {
    /// Département (INSEE code).
    pub departement: String,
    /// The département's name.
    pub name: String,
    /// Its région (INSEE code).
    pub region: String,
    /// Inhabitants.
    pub population: u64,
    /// Sessions held with an attendance report.
    pub sessions: i64,
    /// Attendees, walk-ins included.
    pub participations: i64,
    /// People reached: the sum of first-time participants.
    pub reached: i64,
    /// People reached per 10,000 inhabitants (two decimals).
    pub reached_per_10000: f64,
    /// Published sessions starting within 30 days of the window's end.
    pub planned_next_30_days: i64,
}

/// One week of the series toward the goal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeekPoint {
    /// The week's Monday.
    pub week: NaiveDate,
    /// People reached that week.
    pub reached: i64,
    /// People reached since the first week.
    pub cumulative: i64,
    /// Where a straight line from zero at the first week to the goal at the deadline stands.
    pub goal_line: i64,
}

/// One département and month of the exports and the open data (CSV columns in this order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthCell {
    /// Département (INSEE code).
    pub departement: String,
    /// The month, `YYYY-MM`.
    pub month: String,
    /// Sessions held with an attendance report.
    pub sessions: i64,
    /// Attendees, walk-ins included; hidden (null) in open data when under 11.
    pub participations: Option<i64>,
    /// People reached; hidden (null) in open data when under 11.
    pub reached: Option<i64>,
}

/// Every figure of the staff dashboard, for one territory, computed in one pass over the
/// reports: the same numbers as the separate endpoints give for the same filters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "OutreachDashboard")
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// Progress toward the goal as of the day asked.
    pub headline: Headline,
    /// The weekly series up to that day.
    pub weekly: Vec<WeekPoint>,
    /// Over the breakdowns' period, per territory one level down: per région for France, per
    /// département for a région or a département (online sessions under `online`).
    pub by_territory: Vec<BreakdownRow>,
    /// Per audience; a session for several audiences counts in each.
    pub by_audience: Vec<BreakdownRow>,
    /// Per age band of the participants (no people reached).
    pub by_age_band: Vec<BreakdownRow>,
    /// Per occupation of the participants (no people reached).
    pub by_occupation: Vec<BreakdownRow>,
    /// In person, online or hybrid.
    pub by_format: Vec<BreakdownRow>,
    /// Per topic; a session on several topics counts in each.
    pub by_topic: Vec<BreakdownRow>,
    /// Reach per département of the territory as of the day asked.
    pub reach: Vec<Reach>,
    /// The coverage gaps among them, lowest reach per inhabitant first.
    pub coverage_gaps: Vec<Reach>,
}

/// What a rebuild from the history did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rebuilt {
    /// Messages of the history replayed into the figures.
    pub messages_replayed: u64,
}
