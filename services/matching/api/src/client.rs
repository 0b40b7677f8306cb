//! Typed calls to the matching service, one method per endpoint.

use crate::{Demand, DemandQuery, Profile, Recommendation, SearchQuery, SearchResults, paths};
use cafeia_api::client::{Call, ClientResult, Http, Method};

/// The matching service over HTTP.
#[derive(Clone)]
pub struct MatchingClient {
    http: Http,
}

impl MatchingClient {
    pub fn new(http: Http) -> Self {
        Self { http }
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    /// Sessions and trainings matching `query`, one page.
    pub async fn search(&self, call: &Call, query: &SearchQuery) -> ClientResult<SearchResults> {
        self.http.get(paths::SEARCH, query, call).await
    }

    /// Offers ranked for `profile`, best first, with their reasons.
    pub async fn recommendations(
        &self,
        call: &Call,
        profile: &Profile,
    ) -> ClientResult<Vec<Recommendation>> {
        self.http
            .change(
                Method::POST,
                paths::RECOMMENDATIONS,
                &(),
                Some(profile),
                call,
            )
            .await
    }

    /// Unmet demand in a département (staff covering it).
    pub async fn demand(&self, call: &Call, query: &DemandQuery) -> ClientResult<Demand> {
        self.http.get(paths::DEMAND, query, call).await
    }

    /// Rebuilds the service's index from its read model (national staff).
    pub async fn rebuild(&self, call: &Call) -> ClientResult<()> {
        self.http
            .send::<_, (), serde_json::Value>(Method::POST, paths::REBUILD, &(), None, call)
            .await
            .map(drop)
    }
}
