//! Typed calls to the catalogue service, one method per endpoint.

use crate::{
    edits::{ReviewQueueQuery, TrainingEdit},
    enums::ReviewDecision,
    lheo::LheoImportSummary,
    modules::{ModuleInput, ModuleQuery, ModuleReviewInput, ModuleView},
    paths,
    providers::{ProviderInput, ProviderView},
    trainings::{ReasonInput, TrainingInput, TrainingQuery, TrainingView},
};
use cafeia_api::{
    ErrorCode, Page,
    batch::chunks,
    client::{Call, ClientError, ClientResult, Http, Method, RawAnswer, fill},
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The catalogue service over HTTP.
#[derive(Clone)]
pub struct CatalogueClient {
    http: Http,
}

impl CatalogueClient {
    pub fn new(http: Http) -> Self {
        Self { http }
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    /// Declares a provider (its own SIRET for a provider, any for staff).
    pub async fn create_provider(
        &self,
        call: &Call,
        input: &ProviderInput,
    ) -> ClientResult<ProviderView> {
        self.http
            .change(Method::POST, paths::PROVIDERS, &(), Some(input), call)
            .await
    }

    /// A provider, `None` when unknown.
    pub async fn provider(&self, call: &Call, id: Uuid) -> ClientResult<Option<ProviderView>> {
        self.http
            .find(&fill(paths::PROVIDER, &[&id.to_string()]), &(), call)
            .await
    }

    /// The providers among `ids` (unknown ones absent), in no particular order.
    pub async fn providers_by_ids(
        &self,
        call: &Call,
        ids: &[Uuid],
    ) -> ClientResult<Vec<ProviderView>> {
        self.batch(paths::PROVIDERS_BATCH, ids, call).await
    }

    /// The programmes among `ids` the caller may see (as [`Self::training`]), in no
    /// particular order.
    pub async fn trainings_by_ids(
        &self,
        call: &Call,
        ids: &[Uuid],
    ) -> ClientResult<Vec<TrainingView>> {
        self.batch(paths::TRAININGS_BATCH, ids, call).await
    }

    /// The modules among `ids` the caller may see (as [`Self::module`]), in no particular
    /// order.
    pub async fn modules_by_ids(&self, call: &Call, ids: &[Uuid]) -> ClientResult<Vec<ModuleView>> {
        self.batch(paths::MODULES_BATCH, ids, call).await
    }

    /// One call per [`MAX_BATCH`](cafeia_api::batch::MAX_BATCH) ids (none for no ids).
    async fn batch<T: DeserializeOwned>(
        &self,
        path: &str,
        ids: &[Uuid],
        call: &Call,
    ) -> ClientResult<Vec<T>> {
        let mut found = Vec::with_capacity(ids.len());
        for query in chunks(ids) {
            found.extend(self.http.get::<_, Vec<T>>(path, &query, call).await?);
        }
        Ok(found)
    }

    /// Published programmes matching `query`, one page.
    pub async fn trainings(
        &self,
        call: &Call,
        query: &TrainingQuery,
    ) -> ClientResult<Page<TrainingView>> {
        self.http.get(paths::TRAININGS, query, call).await
    }

    /// A programme: published ones to everyone, others to staff and their provider; `None`
    /// when unknown or not visible to the caller.
    pub async fn training(&self, call: &Call, id: Uuid) -> ClientResult<Option<TrainingView>> {
        self.http
            .find(&fill(paths::TRAINING, &[&id.to_string()]), &(), call)
            .await
    }

    /// Programmes awaiting review, oldest first, one page (national staff).
    pub async fn training_review_queue(
        &self,
        call: &Call,
        query: &ReviewQueueQuery,
    ) -> ClientResult<Page<TrainingView>> {
        self.http.get(paths::TRAININGS_REVIEW, query, call).await
    }

    /// What each edit of a programme changed, oldest first (national staff and its
    /// provider).
    pub async fn training_edits(&self, call: &Call, id: Uuid) -> ClientResult<Vec<TrainingEdit>> {
        let path = fill(paths::TRAINING_EDITS, &[&id.to_string()]);
        self.http.get(&path, &(), call).await
    }

    /// Modules awaiting review, oldest first, one page (national staff).
    pub async fn module_review_queue(
        &self,
        call: &Call,
        query: &ReviewQueueQuery,
    ) -> ClientResult<Page<ModuleView>> {
        self.http.get(paths::MODULES_REVIEW, query, call).await
    }

    /// Submits a programme for review (`provider_siret` required).
    pub async fn submit_training(
        &self,
        call: &Call,
        input: &TrainingInput,
    ) -> ClientResult<TrainingView> {
        self.http
            .change(Method::POST, paths::TRAININGS, &(), Some(input), call)
            .await
    }

    /// Edits a programme (`provider_siret` is ignored).
    pub async fn edit_training(
        &self,
        call: &Call,
        id: Uuid,
        input: &TrainingInput,
    ) -> ClientResult<TrainingView> {
        let path = fill(paths::TRAINING, &[&id.to_string()]);
        self.http
            .change(Method::PUT, &path, &(), Some(input), call)
            .await
    }

    /// Publishes, rejects (a reason is required) or withdraws a programme.
    pub async fn review_training(
        &self,
        call: &Call,
        id: Uuid,
        decision: ReviewDecision,
        reason: Option<String>,
    ) -> ClientResult<TrainingView> {
        let template = match decision {
            ReviewDecision::Publish => paths::TRAINING_PUBLISH,
            ReviewDecision::Reject => paths::TRAINING_REJECT,
            ReviewDecision::Withdraw => paths::TRAINING_WITHDRAW,
        };
        let path = fill(template, &[&id.to_string()]);
        // Publishing takes no body.
        let body = (decision != ReviewDecision::Publish).then_some(ReasonInput { reason });
        self.http
            .change(Method::POST, &path, &(), body.as_ref(), call)
            .await
    }

    /// A published programme as schema.org JSON-LD (`Course` with its `CourseInstance`s),
    /// passed on as it came; `None` when unknown or not published.
    pub async fn training_json_ld(&self, call: &Call, id: Uuid) -> ClientResult<Option<RawAnswer>> {
        let path = fill(paths::TRAINING_JSON_LD, &[&id.to_string()]);
        match self.http.raw(&path, &(), call).await {
            Ok(answer) => Ok(Some(answer)),
            Err(ClientError::Problem(p)) if p.code == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Imports an LHEO document (UTF-8 XML; national staff).
    pub async fn import_lheo(
        &self,
        call: &Call,
        document: Vec<u8>,
    ) -> ClientResult<LheoImportSummary> {
        self.http
            .upload(
                paths::TRAININGS_IMPORT,
                &(),
                "application/xml",
                document,
                call,
            )
            .await
    }

    /// The published catalogue as an LHEO document, passed on as it came.
    pub async fn export_lheo(&self, call: &Call) -> ClientResult<RawAnswer> {
        self.http.raw(paths::TRAININGS_EXPORT, &(), call).await
    }

    /// Published modules matching `query`, one page.
    pub async fn modules(
        &self,
        call: &Call,
        query: &ModuleQuery,
    ) -> ClientResult<Page<ModuleView>> {
        self.http.get(paths::MODULES, query, call).await
    }

    /// A module: published ones to everyone, others to staff and their author; `None` when
    /// unknown or not visible to the caller.
    pub async fn module(&self, call: &Call, id: Uuid) -> ClientResult<Option<ModuleView>> {
        self.http
            .find(&fill(paths::MODULE, &[&id.to_string()]), &(), call)
            .await
    }

    /// Submits a module for review (staff or providers).
    pub async fn submit_module(
        &self,
        call: &Call,
        input: &ModuleInput,
    ) -> ClientResult<ModuleView> {
        self.http
            .change(Method::POST, paths::MODULES, &(), Some(input), call)
            .await
    }

    /// Edits a module (staff or its author); a published one is announced again.
    pub async fn edit_module(
        &self,
        call: &Call,
        id: Uuid,
        input: &ModuleInput,
    ) -> ClientResult<ModuleView> {
        let path = fill(paths::MODULE, &[&id.to_string()]);
        self.http
            .change(Method::PUT, &path, &(), Some(input), call)
            .await
    }

    /// Staff's review of a module.
    pub async fn review_module(
        &self,
        call: &Call,
        id: Uuid,
        review: &ModuleReviewInput,
    ) -> ClientResult<ModuleView> {
        let path = fill(paths::MODULE_REVIEW, &[&id.to_string()]);
        self.http
            .change(Method::POST, &path, &(), Some(review), call)
            .await
    }
}
