//! Search and recommendations in GraphQL, and the staff's unmet-demand view. Every resolver
//! calls the matching service through its typed client; the types are the contract's.
//! `SearchHit` and `Recommendation` wrap the contract's data, so that they can gain fields
//! resolved from other services.

use crate::{
    catalogue::Training,
    events::Session,
    loaders::{catalogue::TrainingLoader, events::SessionLoader},
};
use crate::{
    clients::{CallContext, Services},
    connection::{self, Page},
    errors,
    rest::services,
};
use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject, dataloader::DataLoader};
use cafeia_api::client::Call;
use cafeia_matching_api::OfferKind;
use cafeia_matching_api::{
    self as api, Demand, DemandQuery, Facets, Profile, SearchQuery,
    search::{cursor_at, cursor_offset},
};
use cafeia_platform::AppError;

/// An offer found by a search: an AI Café session (events) or a training (catalogue).
#[derive(SimpleObject, Clone)]
#[graphql(complex, name = "SearchHit")]
pub struct SearchHit {
    #[graphql(flatten)]
    pub data: api::SearchHit,
}

#[ComplexObject]
impl SearchHit {
    /// The AI Café session, when this offer is one (null when no longer visible).
    async fn session(&self, ctx: &Context<'_>) -> Result<Option<Session>> {
        if self.data.kind != OfferKind::Session {
            return Ok(None);
        }
        ctx.data::<DataLoader<SessionLoader>>()?
            .load_one(self.data.id)
            .await
    }

    /// The training programme, when this offer is one (null when no longer published).
    async fn training(&self, ctx: &Context<'_>) -> Result<Option<Training>> {
        if self.data.kind != OfferKind::Training {
            return Ok(None);
        }
        ctx.data::<DataLoader<TrainingLoader>>()?
            .load_one(self.data.id)
            .await
    }
}

/// The answer to a search: one page of offers as a Relay connection (`totalCount` counts
/// every offer found), and facet counts over every offer found, to narrow the search.
#[derive(SimpleObject)]
pub struct SearchResults {
    /// This page of offers, in the order asked for (`sort`), as a Relay connection.
    pub hits: Page<SearchHit>,
    /// Counts over every offer found (not only this page), per facet and value.
    pub facets: Facets,
}

/// An offer recommended for a profile: an AI Café session (events) or a training
/// (catalogue), with the reasons it was chosen.
#[derive(SimpleObject, Clone)]
#[graphql(complex, name = "Recommendation")]
pub struct Recommendation {
    #[graphql(flatten)]
    pub data: api::Recommendation,
}

#[ComplexObject]
impl Recommendation {
    /// The AI Café session, when this offer is one (null when no longer visible).
    async fn session(&self, ctx: &Context<'_>) -> Result<Option<Session>> {
        if self.data.kind != OfferKind::Session {
            return Ok(None);
        }
        ctx.data::<DataLoader<SessionLoader>>()?
            .load_one(self.data.id)
            .await
    }

    /// The training programme, when this offer is one (null when no longer published).
    async fn training(&self, ctx: &Context<'_>) -> Result<Option<Training>> {
        if self.data.kind != OfferKind::Training {
            return Ok(None);
        }
        ctx.data::<DataLoader<TrainingLoader>>()?
            .load_one(self.data.id)
            .await
    }
}

/// The services and what a search or recommendation carries: the client's address too, sealed,
/// so the unmet demand they may record counts people, not the gateway
/// ([`Services::for_matching`]).
fn matching_call<'a>(ctx: &'a Context<'_>) -> Result<(&'a Services, Call)> {
    let services = ctx.data::<Services>()?;
    Ok((services, services.for_matching(ctx.data::<CallContext>()?)))
}

#[derive(Default)]
pub struct MatchingQuery;

#[Object]
impl MatchingQuery {
    /// Sessions and trainings open to the public: French full text, filters, distance around
    /// a place, facet counts, pages. Anyone may search.
    #[graphql(complexity = "crate::cost::search(first, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to search for (every criterion optional; none: everything).")]
        input: Option<SearchQuery>,
        #[graphql(desc = "Page size: 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Continue after this edge's `cursor` (or `pageInfo.endCursor`).")]
        after: Option<String>,
    ) -> Result<SearchResults> {
        let limit = connection::first(first)?;
        // The page starts at the position the cursor names (0 without one).
        let start = match after.as_deref() {
            None => 0,
            Some(c) => cursor_offset(c)
                .ok_or_else(|| errors::gql(AppError::invalid("after", "curseur invalide")))?,
        };
        let query = SearchQuery {
            limit,
            cursor: after.clone(),
            ..input.unwrap_or_default()
        };
        let (s, call) = matching_call(ctx)?;
        let results = s
            .matching
            .search(&call, &query)
            .await
            .map_err(errors::client)?;
        Ok(SearchResults {
            hits: connection::connection(
                results.page,
                after.as_deref(),
                |i, _| cursor_at(start + i + 1),
                |data| SearchHit { data },
            ),
            facets: results.facets,
        })
    }

    /// Offers ranked for a person's profile, best first, each with its reasons in plain
    /// French (a short ranked list: no pages; `limit` in the profile says how many). Anyone
    /// may ask.
    #[graphql(complexity = "crate::cost::recommendations(child_complexity)")]
    async fn recommendations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who asks and what they need; a place is required unless `onlineOnly`.")]
        profile: Profile,
    ) -> Result<Vec<Recommendation>> {
        let (s, call) = matching_call(ctx)?;
        let list = s
            .matching
            .recommendations(&call, &profile)
            .await
            .map_err(errors::client)?;
        Ok(list
            .into_iter()
            .map(|data| Recommendation { data })
            .collect())
    }

    /// Where demand exceeds supply in a département: searches and recommendations that found
    /// nothing nearby over the last 90 days, by commune, beside the sessions planned. Staff
    /// only: national staff anywhere, a coordinator inside their territory (`FORBIDDEN`
    /// otherwise).
    async fn unmet_demand(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Code of the département (French county: `23`, `2A`, `974`); an unknown one is refused naming `departement`."
        )]
        departement: String,
    ) -> Result<Demand> {
        let (s, call) = services(ctx)?;
        s.matching
            .demand(&call, &DemandQuery { departement })
            .await
            .map_err(errors::client)
    }
}
