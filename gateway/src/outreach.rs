//! Outreach metrics in GraphQL: the headline against the 2,000,000 goal, breakdowns, reach per
//! inhabitant and coverage gaps, the weekly series (staff; coordinators within their territory)
//! and the public open-data aggregate. Every resolver calls the outreach service; CSV files are
//! served by the service itself (`/v1/outreach/export`, `/v1/open-data/reach`).

use crate::{
    errors::gql,
    rest::{client, enum_text, query_string, wire_enum},
};
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::NaiveDate;
use serde::Deserialize;

const SERVICE: &str = "outreach";

wire_enum!(Progress {
    Reached,
    OnTrack,
    AtRisk
});
wire_enum!(
    /// How to split the figures.
    Dimension {
        Region,
        Departement,
        Month,
        Week,
        Audience,
        AgeBand,
        Occupation,
        Format,
        Topic,
        FacilitatorKind
    }
);

#[derive(SimpleObject, Deserialize)]
pub struct OutreachHeadline {
    pub as_of: NaiveDate,
    pub deadline: NaiveDate,
    /// The national goal, or its share for a coordinator's territory (by population).
    pub goal: i64,
    pub population: u64,
    /// People reached: the sum of first-time participants.
    pub reached: i64,
    pub participations: i64,
    pub sessions_held: i64,
    pub active_facilitators: i64,
    /// National figures only.
    pub verified_facilitators: Option<i64>,
    pub run_rate_per_week: f64,
    pub needed_per_week: f64,
    pub projected_date: Option<NaiveDate>,
    pub status: Progress,
}

#[derive(SimpleObject, Deserialize)]
pub struct BreakdownRow {
    pub key: String,
    pub label: Option<String>,
    pub sessions: i64,
    pub participations: i64,
    pub reached: Option<i64>,
}

#[derive(SimpleObject, Deserialize)]
pub struct DepartementReach {
    pub departement: String,
    pub name: String,
    pub region: String,
    pub population: u64,
    pub sessions: i64,
    pub participations: i64,
    pub reached: i64,
    pub reached_per_10000: f64,
    pub planned_next_30_days: i64,
}

#[derive(SimpleObject, Deserialize)]
pub struct WeekPoint {
    pub week: NaiveDate,
    pub reached: i64,
    pub cumulative: i64,
    pub goal_line: i64,
}

#[derive(SimpleObject, Deserialize)]
pub struct MonthCell {
    pub departement: String,
    pub month: String,
    pub sessions: i64,
    /// Hidden (null) in open data when under 11.
    pub participations: Option<i64>,
    pub reached: Option<i64>,
}

fn filter(
    region: Option<String>,
    departement: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    as_of: Option<NaiveDate>,
) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("region", region),
        ("departement", departement),
        ("from", from.map(|d| d.to_string())),
        ("to", to.map(|d| d.to_string())),
        ("as_of", as_of.map(|d| d.to_string())),
    ]
}

#[derive(Default)]
pub struct OutreachQuery;

#[Object]
impl OutreachQuery {
    /// Progress toward 2,000,000 people by 31 December 2027 (staff).
    async fn outreach_headline(
        &self,
        ctx: &Context<'_>,
        region: Option<String>,
        departement: Option<String>,
        as_of: Option<NaiveDate>,
    ) -> Result<OutreachHeadline> {
        let (c, call) = client(ctx)?;
        let q = query_string(&filter(region, departement, None, None, as_of));
        c.get(SERVICE, &format!("/v1/outreach/headline{q}"), call)
            .await
            .map_err(gql)
    }

    /// Figures split by one dimension (staff).
    async fn outreach_breakdown(
        &self,
        ctx: &Context<'_>,
        by: Dimension,
        region: Option<String>,
        departement: Option<String>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<BreakdownRow>> {
        let (c, call) = client(ctx)?;
        let mut pairs = vec![("by", enum_text(&by))];
        pairs.extend(filter(region, departement, from, to, None));
        let q = query_string(&pairs);
        c.get(SERVICE, &format!("/v1/outreach/breakdown{q}"), call)
            .await
            .map_err(gql)
    }

    /// People reached per 10,000 inhabitants, per département (staff).
    async fn outreach_reach(
        &self,
        ctx: &Context<'_>,
        region: Option<String>,
    ) -> Result<Vec<DepartementReach>> {
        let (c, call) = client(ctx)?;
        let q = query_string(&[("region", region)]);
        c.get(SERVICE, &format!("/v1/outreach/reach{q}"), call)
            .await
            .map_err(gql)
    }

    /// Lowest reach per inhabitant with no session planned in the next 30 days (staff).
    async fn coverage_gaps(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] limit: u32,
        region: Option<String>,
    ) -> Result<Vec<DepartementReach>> {
        let (c, call) = client(ctx)?;
        let q = query_string(&[("limit", Some(limit.to_string())), ("region", region)]);
        c.get(SERVICE, &format!("/v1/outreach/gaps{q}"), call)
            .await
            .map_err(gql)
    }

    /// Weekly cumulative people reached beside the straight line to the goal (staff).
    async fn outreach_weekly(
        &self,
        ctx: &Context<'_>,
        region: Option<String>,
        departement: Option<String>,
    ) -> Result<Vec<WeekPoint>> {
        let (c, call) = client(ctx)?;
        let q = query_string(&filter(region, departement, None, None, None));
        c.get(SERVICE, &format!("/v1/outreach/weekly{q}"), call)
            .await
            .map_err(gql)
    }

    /// Per département and month, every count (staff).
    async fn outreach_export(
        &self,
        ctx: &Context<'_>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        region: Option<String>,
    ) -> Result<Vec<MonthCell>> {
        let (c, call) = client(ctx)?;
        let mut pairs = vec![("format", Some("json".to_owned()))];
        pairs.extend(filter(region, None, from, to, None));
        let q = query_string(&pairs);
        c.get(SERVICE, &format!("/v1/outreach/export{q}"), call)
            .await
            .map_err(gql)
    }

    /// Public open data: per département and month, counts of people under 11 hidden.
    async fn open_data_reach(&self, ctx: &Context<'_>) -> Result<Vec<MonthCell>> {
        let (c, call) = client(ctx)?;
        c.get(SERVICE, "/v1/open-data/reach?format=json", call)
            .await
            .map_err(gql)
    }
}
