//! Open educational modules facilitators use to run an AI Café.

use crate::{
    enums::{Audience, Level, ReviewDecision, ReviewStatus},
    messages::ModuleState,
};
use serde::{Deserialize, Serialize};

/// A module to submit (staff or providers) or a new version of it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ModuleInput {
    /// Title, up to 200 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    /// Presentation, up to 2,000 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub summary: String,
    /// How long a session with it lasts, in minutes (5 to 600).
    #[cfg_attr(feature = "openapi", schema(minimum = 5, maximum = 600))]
    pub duration_minutes: i32,
    /// How much participants need to know already.
    pub level: Level,
    /// Who it is meant for (at least one).
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub audiences: Vec<Audience>,
    /// Topics of the shared vocabulary (at least one).
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub topics: Vec<String>,
    /// Its open licence (e.g. `CC BY-SA 4.0`, `Licence Ouverte 2.0`).
    #[cfg_attr(feature = "openapi", schema(example = "CC BY-SA 4.0"))]
    pub licence: String,
    /// https URLs of the slides, guides, activity sheets… (1 to 50).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Vec<cafeia_api::schemas::HttpsUrl>, inline, min_items = 1, max_items = 50)
    )]
    pub resources: Vec<String>,
    /// Version label, up to 40 characters (e.g. `1.2`).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40))]
    pub version: String,
}

/// An educational module as the catalogue shows it: its content and where it is in its review.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "EducationalModuleData", visible = false)
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModuleView {
    /// Its content, as announced when published.
    #[serde(flatten)]
    #[cfg_attr(feature = "graphql", graphql(flatten))]
    pub module: ModuleState,
    /// Where it is in its review.
    pub status: ReviewStatus,
    /// Why staff refused it, when rejected.
    pub status_reason: Option<String>,
}

/// Staff's review of a module.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ModuleReviewInput {
    /// Publish, reject or withdraw.
    pub decision: ReviewDecision,
    /// Required to refuse (at most 1,000 characters).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub reason: Option<String>,
}

/// Filters of the public list of modules, and its page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(deny_unknown_fields)]
pub struct ModuleQuery {
    /// On this topic of the shared vocabulary.
    pub topic: Option<String>,
    /// Of this level.
    pub level: Option<Level>,
    /// Where the page starts: the `next_cursor` of the previous page.
    #[cfg_attr(feature = "openapi", param(format = Uuid))]
    pub cursor: Option<String>,
    /// Page size (1 to 100, 20 by default).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u64>,
}
