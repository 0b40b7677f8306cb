//! Outreach metrics in GraphQL: the headline against the 2,000,000 goal, breakdowns, reach per
//! inhabitant and coverage gaps, the weekly series (staff; coordinators within their territory)
//! and the public open-data aggregate; the staff dashboard's figures all at once
//! (`outreachDashboard`: one call, one pass over the reports). Every resolver calls the
//! outreach service through its typed client; the types are the contract's. CSV files are
//! served by the service itself (`/v1/outreach/export`, `/v1/open-data/reach`).

use crate::{errors, rest::services};
use async_graphql::{Context, Object, Result};
use cafeia_outreach_api::{
    BreakdownQuery, BreakdownRow, Dashboard, DashboardQuery, Dimension, ExportQuery, Filter,
    GapsQuery, Headline, MonthCell, Reach, WeekPoint, default_gaps_limit,
};
use chrono::NaiveDate;

#[derive(Default)]
pub struct OutreachQuery;

#[Object]
impl OutreachQuery {
    /// Progress toward 2,000,000 people by 31 December 2027 (staff).
    async fn outreach_headline(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only this région (INSEE code, e.g. `84`); coordinators see their own territory whatever they ask."
        )]
        region: Option<String>,
        #[graphql(desc = "Only this département (INSEE code, e.g. `69`, `2A`, `971`).")]
        departement: Option<String>,
        #[graphql(desc = "The figures as they stood at the end of this day (default: today).")]
        as_of: Option<NaiveDate>,
    ) -> Result<Headline> {
        let (s, call) = services(ctx)?;
        let filter = Filter {
            region,
            departement,
            as_of,
            ..Filter::default()
        };
        s.outreach
            .headline(&call, &filter)
            .await
            .map_err(errors::client)
    }

    /// Figures split by one dimension (staff).
    async fn outreach_breakdown(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The dimension to split the figures by.")] by: Dimension,
        #[graphql(
            desc = "Only this région (INSEE code, e.g. `84`); coordinators see their own territory whatever they ask."
        )]
        region: Option<String>,
        #[graphql(desc = "Only this département (INSEE code, e.g. `69`, `2A`, `971`).")]
        departement: Option<String>,
        #[graphql(desc = "Sessions from this day on (inclusive).")] from: Option<NaiveDate>,
        #[graphql(desc = "Sessions up to this day (inclusive).")] to: Option<NaiveDate>,
    ) -> Result<Vec<BreakdownRow>> {
        let (s, call) = services(ctx)?;
        let query = BreakdownQuery {
            by,
            region,
            departement,
            from,
            to,
            as_of: None,
        };
        s.outreach
            .breakdown(&call, &query)
            .await
            .map_err(errors::client)
    }

    /// People reached per 10,000 inhabitants, per département (staff).
    async fn outreach_reach(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only this région (INSEE code, e.g. `84`); coordinators see their own territory whatever they ask."
        )]
        region: Option<String>,
        #[graphql(desc = "The figures as they stood at the end of this day (default: today).")]
        as_of: Option<NaiveDate>,
    ) -> Result<Vec<Reach>> {
        let (s, call) = services(ctx)?;
        let filter = Filter {
            region,
            as_of,
            ..Filter::default()
        };
        s.outreach
            .reach(&call, &filter)
            .await
            .map_err(errors::client)
    }

    /// Lowest reach per inhabitant with no session planned in the next 30 days (staff).
    async fn coverage_gaps(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "default_gaps_limit()",
            desc = "How many départements to list, lowest reach first."
        )]
        limit: u32,
        #[graphql(
            desc = "Only this région (INSEE code, e.g. `84`); coordinators see their own territory whatever they ask."
        )]
        region: Option<String>,
        #[graphql(desc = "The figures as they stood at the end of this day (default: today).")]
        as_of: Option<NaiveDate>,
    ) -> Result<Vec<Reach>> {
        let (s, call) = services(ctx)?;
        let query = GapsQuery {
            limit,
            region,
            as_of,
            ..GapsQuery::default()
        };
        s.outreach.gaps(&call, &query).await.map_err(errors::client)
    }

    /// Weekly cumulative people reached beside the straight line to the goal (staff).
    async fn outreach_weekly(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only this région (INSEE code, e.g. `84`); coordinators see their own territory whatever they ask."
        )]
        region: Option<String>,
        #[graphql(desc = "Only this département (INSEE code, e.g. `69`, `2A`, `971`).")]
        departement: Option<String>,
        #[graphql(desc = "The figures as they stood at the end of this day (default: today).")]
        as_of: Option<NaiveDate>,
    ) -> Result<Vec<WeekPoint>> {
        let (s, call) = services(ctx)?;
        let filter = Filter {
            region,
            departement,
            as_of,
            ..Filter::default()
        };
        s.outreach
            .weekly(&call, &filter)
            .await
            .map_err(errors::client)
    }

    /// Every figure of the staff dashboard in one call, computed in one pass: progress, the
    /// weekly curve, reach and coverage gaps as of a day, the breakdowns over a period (staff).
    #[allow(clippy::too_many_arguments)] // one per GraphQL argument
    async fn outreach_dashboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only this région (INSEE code, e.g. `84`); coordinators see their own territory whatever they ask."
        )]
        region: Option<String>,
        #[graphql(desc = "Only this département (INSEE code, e.g. `69`, `2A`, `971`).")]
        departement: Option<String>,
        #[graphql(
            desc = "Progress, the weekly curve, reach and gaps as they stood at the end of this day (default: today)."
        )]
        as_of: Option<NaiveDate>,
        #[graphql(desc = "Breakdowns: sessions from this day on (inclusive).")] from: Option<
            NaiveDate,
        >,
        #[graphql(desc = "Breakdowns: sessions up to this day (inclusive; default: `asOf`).")]
        to: Option<NaiveDate>,
        #[graphql(
            default_with = "default_gaps_limit()",
            desc = "How many coverage gaps to list, lowest reach first."
        )]
        gaps_limit: u32,
    ) -> Result<Dashboard> {
        let (s, call) = services(ctx)?;
        let query = DashboardQuery {
            region,
            departement,
            as_of,
            from,
            to,
            gaps_limit,
        };
        s.outreach
            .dashboard(&call, &query)
            .await
            .map_err(errors::client)
    }

    /// Per département and month, every count (staff).
    async fn outreach_export(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Sessions from this day on (inclusive).")] from: Option<NaiveDate>,
        #[graphql(desc = "Sessions up to this day (inclusive).")] to: Option<NaiveDate>,
        #[graphql(
            desc = "Only this région (INSEE code, e.g. `84`); coordinators see their own territory whatever they ask."
        )]
        region: Option<String>,
    ) -> Result<Vec<MonthCell>> {
        let (s, call) = services(ctx)?;
        let query = ExportQuery {
            region,
            from,
            to,
            ..ExportQuery::default()
        };
        s.outreach
            .export(&call, &query)
            .await
            .map_err(errors::client)
    }

    /// Public open data: per département and month, counts of people under 11 hidden.
    async fn open_data_reach(&self, ctx: &Context<'_>) -> Result<Vec<MonthCell>> {
        let (s, call) = services(ctx)?;
        s.outreach.open_data(&call).await.map_err(errors::client)
    }
}
