//! Typed calls to the outreach service, one method per endpoint.

use crate::{
    paths,
    queries::{
        BreakdownQuery, DashboardQuery, ExportQuery, FileFormat, Filter, GapsQuery, OpenDataQuery,
    },
    views::{BreakdownRow, Dashboard, Headline, MonthCell, Reach, Rebuilt, WeekPoint},
};
use cafeia_api::client::{Call, ClientResult, Http, Method, RawAnswer};

/// The outreach service over HTTP.
#[derive(Clone)]
pub struct OutreachClient {
    http: Http,
}

impl OutreachClient {
    pub fn new(http: Http) -> Self {
        Self { http }
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    /// Progress toward the goal (staff; coordinators within their territory).
    pub async fn headline(&self, call: &Call, filter: &Filter) -> ClientResult<Headline> {
        self.http.get(paths::HEADLINE, filter, call).await
    }

    /// Figures split by one dimension.
    pub async fn breakdown(
        &self,
        call: &Call,
        query: &BreakdownQuery,
    ) -> ClientResult<Vec<BreakdownRow>> {
        self.http.get(paths::BREAKDOWN, query, call).await
    }

    /// People reached per 10,000 inhabitants, per département.
    pub async fn reach(&self, call: &Call, filter: &Filter) -> ClientResult<Vec<Reach>> {
        self.http.get(paths::REACH, filter, call).await
    }

    /// Lowest reach per inhabitant with no session planned in the next 30 days.
    pub async fn gaps(&self, call: &Call, query: &GapsQuery) -> ClientResult<Vec<Reach>> {
        self.http.get(paths::GAPS, query, call).await
    }

    /// Weekly people reached, cumulated, beside the straight line to the goal.
    pub async fn weekly(&self, call: &Call, filter: &Filter) -> ClientResult<Vec<WeekPoint>> {
        self.http.get(paths::WEEKLY, filter, call).await
    }

    /// Every figure of the staff dashboard in one call (one pass over the reports).
    pub async fn dashboard(&self, call: &Call, query: &DashboardQuery) -> ClientResult<Dashboard> {
        self.http.get(paths::DASHBOARD, query, call).await
    }

    /// The staff's monthly table, read as JSON whatever `query.format` says.
    pub async fn export(&self, call: &Call, query: &ExportQuery) -> ClientResult<Vec<MonthCell>> {
        let query = ExportQuery {
            format: FileFormat::Json,
            ..query.clone()
        };
        self.http.get(paths::EXPORT, &query, call).await
    }

    /// The staff's monthly table as the file the service serves (CSV by default), passed on
    /// as it came.
    pub async fn export_file(&self, call: &Call, query: &ExportQuery) -> ClientResult<RawAnswer> {
        self.http.raw(paths::EXPORT, query, call).await
    }

    /// The public open data (no token needed), read as JSON.
    pub async fn open_data(&self, call: &Call) -> ClientResult<Vec<MonthCell>> {
        let query = OpenDataQuery {
            format: FileFormat::Json,
        };
        self.http.get(paths::OPEN_DATA_REACH, &query, call).await
    }

    /// The public open data as the file the service serves, passed on as it came.
    pub async fn open_data_file(&self, call: &Call, format: FileFormat) -> ClientResult<RawAnswer> {
        self.http
            .raw(paths::OPEN_DATA_REACH, &OpenDataQuery { format }, call)
            .await
    }

    /// Recomputes every figure from the history (national staff).
    pub async fn rebuild(&self, call: &Call) -> ClientResult<Rebuilt> {
        self.http
            .change::<_, (), _>(Method::POST, paths::REBUILD, &(), None, call)
            .await
    }
}
