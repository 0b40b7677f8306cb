//! The GraphQL schema: per-domain query and subscription roots merged into one.

use crate::{
    catalogue::{CatalogueMutation, CatalogueQuery},
    config::GraphqlConfig,
    events::{EventsMutation, EventsQuery, EventsSubscription},
    facilitators::{FacilitatorsMutation, FacilitatorsQuery},
    matching::MatchingQuery,
    outreach::OutreachQuery,
    system::{SystemQuery, SystemSubscription},
};
use async_graphql::{MergedObject, MergedSubscription, Schema};

#[derive(MergedObject, Default)]
pub struct Query(
    SystemQuery,
    FacilitatorsQuery,
    CatalogueQuery,
    EventsQuery,
    OutreachQuery,
    MatchingQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(FacilitatorsMutation, CatalogueMutation, EventsMutation);

#[derive(MergedSubscription, Default)]
pub struct Subscription(SystemSubscription, EventsSubscription);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

pub fn build_schema(config: &GraphqlConfig) -> AppSchema {
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    // Depth is `Limits`'s: it counts introspection apart.
    .limit_complexity(config.complexity_limit)
    .limit_recursive_depth(32)
    .limit_directives(16)
    // Outermost: it sees the codes `ErrorCodes` stamps on validation errors.
    .extension(crate::limits::Limits::new(config))
    .extension(crate::error_codes::ErrorCodes);
    if !config.introspection {
        builder = builder.disable_introspection();
    }
    if !config.suggestions {
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// The SDL committed as `schema/schema.graphql` (independent of runtime limits).
pub fn sdl() -> String {
    build_schema(&GraphqlConfig::default()).sdl()
}
