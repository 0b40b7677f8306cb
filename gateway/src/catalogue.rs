//! The training catalogue in GraphQL: programmes, providers, educational modules, LHEO import.
//! Every resolver calls the catalogue service through its typed client; the shapes are the
//! contract's (`cafeia_catalogue_api`). Look-ups by id go through the request's loaders
//! (`crate::loaders::catalogue`), so a request asking for many makes one call per kind.

use crate::{
    connection::{self, Page},
    errors,
    loaders::catalogue::{ModuleLoader, ProviderLoader, TrainingLoader},
    rest::services,
};
use async_graphql::{
    ComplexObject, Context, Json, Object, Result, SimpleObject, dataloader::DataLoader,
};
use cafeia_catalogue_api::{
    LheoImportSummary, ModuleInput, ModuleQuery, ModuleReviewInput, ModuleView, ProviderInput,
    ProviderView, ReviewDecision, ReviewQueueQuery, TrainingEdit, TrainingInput, TrainingQuery,
    TrainingView,
};
use cafeia_platform::AppError;
use uuid::Uuid;

pub use cafeia_api::vocabulary::{Audience, Format, Level};

// `Training`, `Provider` and `EducationalModule` wrap the contract's views (their fields,
// flattened); fields that join them to other data are resolved in their `ComplexObject`.

/// A training programme (formation): free and accessible AI training offered by a provider
/// (organisme de formation), with its places and sessions.
#[derive(SimpleObject, Clone)]
#[graphql(complex, name = "Training")]
pub struct Training {
    #[graphql(flatten)]
    pub data: TrainingView,
}

#[ComplexObject]
impl Training {
    /// The provider (organisme de formation) that offers it.
    async fn provider(&self, ctx: &Context<'_>) -> Result<Provider> {
        let id = self.data.provider_id;
        ctx.data::<DataLoader<ProviderLoader>>()?
            .load_one(id)
            .await?
            .ok_or_else(|| {
                errors::gql(AppError::internal(std::io::Error::other(format!(
                    "training {} without provider {id}",
                    self.data.id
                ))))
            })
    }

    /// What each edit changed, oldest first: every field with its value before and after
    /// (national staff and its provider; `FORBIDDEN` for anyone else).
    #[graphql(complexity = "crate::cost::LIST + child_complexity")]
    async fn edits(&self, ctx: &Context<'_>) -> Result<Vec<TrainingEdit>> {
        let (s, call) = services(ctx)?;
        s.catalogue
            .training_edits(&call, self.data.id)
            .await
            .map_err(errors::client)
    }
}

/// A training provider (organisme de formation), identified by its SIRET (the 14-digit number
/// of the establishment).
#[derive(SimpleObject, Clone)]
#[graphql(complex, name = "Provider")]
pub struct Provider {
    #[graphql(flatten)]
    pub data: ProviderView,
}

#[ComplexObject]
impl Provider {}

/// An open educational module facilitators use to run an AI Café: its content (slides,
/// guides, activity sheets under an open licence) and where it is in its review.
#[derive(SimpleObject, Clone)]
#[graphql(complex, name = "EducationalModule")]
pub struct EducationalModule {
    #[graphql(flatten)]
    pub data: ModuleView,
}

#[ComplexObject]
impl EducationalModule {}

#[derive(Default)]
pub struct CatalogueQuery;

#[Object]
impl CatalogueQuery {
    /// Published programmes matching the filter, in creation order, as a connection.
    #[graphql(complexity = "crate::cost::page(first, child_complexity)")]
    async fn trainings(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "What to keep (every criterion given must hold); all published \
                          programmes when absent."
        )]
        filter: Option<TrainingQuery>,
        #[graphql(desc = "How many programmes to return (1 to 100, 20 when absent).")]
        first: Option<i32>,
        #[graphql(
            desc = "The cursor of the edge to continue after (from `pageInfo.endCursor` \
                          or an edge's `cursor`)."
        )]
        after: Option<String>,
    ) -> Result<Page<Training>> {
        let (s, call) = services(ctx)?;
        let query = TrainingQuery {
            limit: connection::first(first)?,
            cursor: after.clone(),
            ..filter.unwrap_or_default()
        };
        let page = s
            .catalogue
            .trainings(&call, &query)
            .await
            .map_err(errors::client)?;
        Ok(connection::connection(
            page,
            after.as_deref(),
            |_, t| t.id.to_string(),
            |data| Training { data },
        ))
    }

    /// Programmes submitted and awaiting review, oldest first (national staff only:
    /// `FORBIDDEN` for anyone else, coordinators included, the catalogue being national).
    #[graphql(complexity = "crate::cost::page(first, child_complexity)")]
    async fn training_review_queue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many programmes to return (1 to 100, 20 when absent).")]
        first: Option<i32>,
        #[graphql(
            desc = "The cursor of the edge to continue after (from `pageInfo.endCursor` \
                          or an edge's `cursor`)."
        )]
        after: Option<String>,
    ) -> Result<Page<Training>> {
        let (s, call) = services(ctx)?;
        let query = ReviewQueueQuery {
            limit: connection::first(first)?,
            cursor: after.clone(),
        };
        let page = s
            .catalogue
            .training_review_queue(&call, &query)
            .await
            .map_err(errors::client)?;
        Ok(connection::connection(
            page,
            after.as_deref(),
            |_, t| t.id.to_string(),
            |data| Training { data },
        ))
    }

    /// Educational modules submitted and awaiting review, oldest first (national staff only:
    /// `FORBIDDEN` for anyone else, coordinators included).
    #[graphql(complexity = "crate::cost::page(first, child_complexity)")]
    async fn educational_module_review_queue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many modules to return (1 to 100, 20 when absent).")] first: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor of the edge to continue after (from `pageInfo.endCursor` \
                          or an edge's `cursor`)."
        )]
        after: Option<String>,
    ) -> Result<Page<EducationalModule>> {
        let (s, call) = services(ctx)?;
        let query = ReviewQueueQuery {
            limit: connection::first(first)?,
            cursor: after.clone(),
        };
        let page = s
            .catalogue
            .module_review_queue(&call, &query)
            .await
            .map_err(errors::client)?;
        Ok(connection::connection(
            page,
            after.as_deref(),
            |_, m| m.module.id.to_string(),
            |data| EducationalModule { data },
        ))
    }

    /// A programme: published ones to everyone, others to national staff and their provider;
    /// null when unknown or not visible to the caller.
    async fn training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's id.")] id: Uuid,
    ) -> Result<Option<Training>> {
        ctx.data::<DataLoader<TrainingLoader>>()?.load_one(id).await
    }

    /// schema.org `Course` (with `CourseInstance`s) of a published programme, as JSON-LD;
    /// null when unknown or not published.
    async fn training_json_ld(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's id.")] id: Uuid,
    ) -> Result<Option<Json<serde_json::Value>>> {
        let (s, call) = services(ctx)?;
        let Some(answer) = s
            .catalogue
            .training_json_ld(&call, id)
            .await
            .map_err(errors::client)?
        else {
            return Ok(None);
        };
        let document =
            serde_json::from_slice(&answer.body).map_err(|e| errors::gql(AppError::internal(e)))?;
        Ok(Some(Json(document)))
    }

    /// A training provider (public); null when unknown.
    async fn training_provider(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The provider's id.")] id: Uuid,
    ) -> Result<Option<Provider>> {
        ctx.data::<DataLoader<ProviderLoader>>()?.load_one(id).await
    }

    /// Published educational modules, in creation order, as a connection.
    #[graphql(complexity = "crate::cost::page(first, child_complexity)")]
    async fn educational_modules(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only modules on this topic of the shared vocabulary \
                          (e.g. `generative_ai`).")]
        topic: Option<String>,
        #[graphql(desc = "Only modules of this level.")] level: Option<Level>,
        #[graphql(desc = "How many modules to return (1 to 100, 20 when absent).")] first: Option<
            i32,
        >,
        #[graphql(
            desc = "The cursor of the edge to continue after (from `pageInfo.endCursor` \
                          or an edge's `cursor`)."
        )]
        after: Option<String>,
    ) -> Result<Page<EducationalModule>> {
        let (s, call) = services(ctx)?;
        let query = ModuleQuery {
            topic,
            level,
            cursor: after.clone(),
            limit: connection::first(first)?,
        };
        let page = s
            .catalogue
            .modules(&call, &query)
            .await
            .map_err(errors::client)?;
        Ok(connection::connection(
            page,
            after.as_deref(),
            |_, m| m.module.id.to_string(),
            |data| EducationalModule { data },
        ))
    }

    /// An educational module: published ones to everyone, others to staff and their author;
    /// null when unknown or not visible to the caller.
    async fn educational_module(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The module's id.")] id: Uuid,
    ) -> Result<Option<EducationalModule>> {
        ctx.data::<DataLoader<ModuleLoader>>()?.load_one(id).await
    }
}

#[derive(Default)]
pub struct CatalogueMutation;

#[Object]
impl CatalogueMutation {
    /// Declares a training provider (its own SIRET for a provider, any for national staff).
    /// A SIRET declared already is refused with `ALREADY_EXISTS`.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn create_provider(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The provider to declare.")] input: ProviderInput,
    ) -> Result<Provider> {
        let (s, call) = services(ctx)?;
        s.catalogue
            .create_provider(&call, &input)
            .await
            .map(|data| Provider { data })
            .map_err(errors::client)
    }

    /// Submits a programme for review by national staff (a provider for its own SIRET, or
    /// staff).
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn submit_training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme; `providerSiret` is required.")] input: TrainingInput,
    ) -> Result<Training> {
        let (s, call) = services(ctx)?;
        s.catalogue
            .submit_training(&call, &input)
            .await
            .map(|data| Training { data })
            .map_err(errors::client)
    }

    /// Edits a programme (national staff or its provider); a published one stays published
    /// and the change is audit-logged, a rejected one goes back to review, a withdrawn one is
    /// refused with `INVALID_TRANSITION`.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn update_training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's id.")] id: Uuid,
        #[graphql(desc = "Its new content, in full (`providerSiret` is ignored).")]
        input: TrainingInput,
    ) -> Result<Training> {
        let (s, call) = services(ctx)?;
        s.catalogue
            .edit_training(&call, id, &input)
            .await
            .map(|data| Training { data })
            .map_err(errors::client)
    }

    /// National staff's review of a programme (publish, reject with a reason) or its
    /// withdrawal (staff or the provider). A decision its status does not allow is refused
    /// with `INVALID_TRANSITION`.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn review_training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The programme's id.")] id: Uuid,
        #[graphql(desc = "Publish, reject or withdraw.")] decision: ReviewDecision,
        #[graphql(desc = "Why: required to reject (shown to the provider).")] reason: Option<
            String,
        >,
    ) -> Result<Training> {
        let (s, call) = services(ctx)?;
        s.catalogue
            .review_training(&call, id, decision, reason)
            .await
            .map(|data| Training { data })
            .map_err(errors::client)
    }

    /// Submits an educational module for review (staff or providers).
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn submit_educational_module(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The module.")] input: ModuleInput,
    ) -> Result<EducationalModule> {
        let (s, call) = services(ctx)?;
        s.catalogue
            .submit_module(&call, &input)
            .await
            .map(|data| EducationalModule { data })
            .map_err(errors::client)
    }

    /// Edits an educational module (staff or its author); a published one is announced
    /// again, a rejected one goes back to review, a withdrawn one is refused with
    /// `INVALID_TRANSITION`.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn update_educational_module(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The module's id.")] id: Uuid,
        #[graphql(desc = "Its new content, in full.")] input: ModuleInput,
    ) -> Result<EducationalModule> {
        let (s, call) = services(ctx)?;
        s.catalogue
            .edit_module(&call, id, &input)
            .await
            .map(|data| EducationalModule { data })
            .map_err(errors::client)
    }

    /// Staff's review of an educational module (publish, reject with a reason, withdraw). A
    /// decision its status does not allow is refused with `INVALID_TRANSITION`.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn review_educational_module(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The module's id.")] id: Uuid,
        #[graphql(desc = "Publish, reject or withdraw.")] decision: ReviewDecision,
        #[graphql(desc = "Why: required to reject (shown to the author).")] reason: Option<String>,
    ) -> Result<EducationalModule> {
        let (s, call) = services(ctx)?;
        let review = ModuleReviewInput { decision, reason };
        s.catalogue
            .review_module(&call, id, &review)
            .await
            .map(|data| EducationalModule { data })
            .map_err(errors::client)
    }

    /// Imports an LHEO document (national staff): LHEO is the national exchange format of
    /// training offers; each valid offer becomes a published programme. Large files go
    /// through the REST endpoint, which streams; this one suits files up to the request size
    /// limit.
    #[graphql(complexity = "crate::cost::import(child_complexity)")]
    async fn import_lheo(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The LHEO document (XML, UTF-8).")] content: String,
    ) -> Result<LheoImportSummary> {
        let (s, call) = services(ctx)?;
        s.catalogue
            .import_lheo(&call, content.into_bytes())
            .await
            .map_err(errors::client)
    }
}
