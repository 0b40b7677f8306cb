//! Typed calls to the facilitators service, one method per endpoint.

use crate::{
    AuditEntry, Commune, CommuneSearch, DecisionInput, FacilitatorCount, FacilitatorListQuery,
    FacilitatorProfileInput, FacilitatorProfileView, FacilitatorView, MyVenuesQuery,
    OrganisationInput, OrganisationListQuery, OrganisationView, UnsubscribeInput, VenueFileFormat,
    VenueFileQuery, VenueImportReport, VenueInput, VenueListQuery, VenueView, paths,
};
use cafeia_api::{
    Page,
    batch::chunks,
    client::{Call, ClientResult, Http, Method, RawAnswer, fill},
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The facilitators service over HTTP.
#[derive(Clone)]
pub struct FacilitatorsClient {
    http: Http,
}

/// No query string.
const NO_QUERY: &[(&str, &str)] = &[];
/// No body.
const NO_BODY: Option<&()> = None;

impl FacilitatorsClient {
    pub fn new(http: Http) -> Self {
        Self { http }
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    /// The signed-in facilitator's profile; `None` until they register.
    pub async fn my_profile(&self, call: &Call) -> ClientResult<Option<FacilitatorView>> {
        self.http.find(paths::MY_PROFILE, NO_QUERY, call).await
    }

    /// Everything the network holds about the signed-in facilitator (personal data access),
    /// a JSON document meant for the person.
    pub async fn my_data(&self, call: &Call) -> ClientResult<serde_json::Value> {
        self.http.get(paths::MY_DATA, NO_QUERY, call).await
    }

    /// Registers the signed-in facilitator (pending until staff verify).
    pub async fn register(
        &self,
        call: &Call,
        input: &FacilitatorProfileInput,
    ) -> ClientResult<FacilitatorView> {
        self.http
            .change(Method::POST, paths::MY_PROFILE, NO_QUERY, Some(input), call)
            .await
    }

    /// Replaces the signed-in facilitator's editable profile.
    pub async fn update_my_profile(
        &self,
        call: &Call,
        input: &FacilitatorProfileInput,
    ) -> ClientResult<FacilitatorView> {
        self.http
            .change(
                Method::PATCH,
                paths::MY_PROFILE,
                NO_QUERY,
                Some(input),
                call,
            )
            .await
    }

    /// Erases the signed-in facilitator's name, email and account link.
    pub async fn erase_my_data(&self, call: &Call) -> ClientResult<()> {
        self.http
            .send::<_, _, serde_json::Value>(
                Method::DELETE,
                paths::MY_PROFILE,
                NO_QUERY,
                NO_BODY,
                call,
            )
            .await
            .map(|_| ())
    }

    /// The venues the signed-in facilitator created, public or not.
    pub async fn my_venues(
        &self,
        call: &Call,
        query: &MyVenuesQuery,
    ) -> ClientResult<Page<VenueView>> {
        self.http.get(paths::MY_VENUES, query, call).await
    }

    /// A facilitator (staff, within their territory).
    pub async fn facilitator(
        &self,
        call: &Call,
        id: Uuid,
    ) -> ClientResult<Option<FacilitatorView>> {
        let path = fill(paths::FACILITATOR, &[&id.to_string()]);
        self.http.find(&path, NO_QUERY, call).await
    }

    /// Public profiles of facilitators by ids (anyone); unknown and erased ones are absent.
    /// Any number of ids: they are sent [`MAX_BATCH`](cafeia_api::batch::MAX_BATCH) at a time.
    pub async fn facilitator_profiles(
        &self,
        call: &Call,
        ids: &[Uuid],
    ) -> ClientResult<Vec<FacilitatorProfileView>> {
        self.batch(paths::FACILITATOR_PROFILES_BATCH, call, ids)
            .await
    }

    /// The staff directory.
    pub async fn facilitators(
        &self,
        call: &Call,
        query: &FacilitatorListQuery,
    ) -> ClientResult<Page<FacilitatorView>> {
        self.http.get(paths::FACILITATORS, query, call).await
    }

    /// Facilitators by status in each département (staff, scoped).
    pub async fn facilitator_counts(&self, call: &Call) -> ClientResult<Vec<FacilitatorCount>> {
        self.http
            .get(paths::FACILITATOR_COUNTS, NO_QUERY, call)
            .await
    }

    /// Who decided what about a facilitator (staff).
    pub async fn facilitator_audit(&self, call: &Call, id: Uuid) -> ClientResult<Vec<AuditEntry>> {
        let path = fill(paths::FACILITATOR_AUDIT, &[&id.to_string()]);
        self.http.get(&path, NO_QUERY, call).await
    }

    /// Verifies a pending facilitator (staff).
    pub async fn verify(
        &self,
        call: &Call,
        id: Uuid,
        input: &DecisionInput,
    ) -> ClientResult<FacilitatorView> {
        self.decide(paths::VERIFY, call, id, input).await
    }

    /// Suspends a facilitator; the reason is required (staff).
    pub async fn suspend(
        &self,
        call: &Call,
        id: Uuid,
        input: &DecisionInput,
    ) -> ClientResult<FacilitatorView> {
        self.decide(paths::SUSPEND, call, id, input).await
    }

    /// Reinstates a suspended facilitator (staff).
    pub async fn reinstate(
        &self,
        call: &Call,
        id: Uuid,
        input: &DecisionInput,
    ) -> ClientResult<FacilitatorView> {
        self.decide(paths::REINSTATE, call, id, input).await
    }

    /// Stops the digests of the facilitator a digest's token was mailed to (no account).
    pub async fn stop_digests(&self, call: &Call, input: &UnsubscribeInput) -> ClientResult<()> {
        self.http
            .send::<_, _, serde_json::Value>(
                Method::POST,
                paths::DIGESTS_STOP,
                &(),
                Some(input),
                call,
            )
            .await
            .map(drop)
    }

    async fn decide(
        &self,
        template: &str,
        call: &Call,
        id: Uuid,
        input: &DecisionInput,
    ) -> ClientResult<FacilitatorView> {
        let path = fill(template, &[&id.to_string()]);
        self.http
            .change(Method::POST, &path, NO_QUERY, Some(input), call)
            .await
    }

    /// An organisation (public).
    pub async fn organisation(
        &self,
        call: &Call,
        id: Uuid,
    ) -> ClientResult<Option<OrganisationView>> {
        let path = fill(paths::ORGANISATION, &[&id.to_string()]);
        self.http.find(&path, NO_QUERY, call).await
    }

    /// The public directory of organisations.
    pub async fn organisations(
        &self,
        call: &Call,
        query: &OrganisationListQuery,
    ) -> ClientResult<Page<OrganisationView>> {
        self.http.get(paths::ORGANISATIONS, query, call).await
    }

    /// Adds an organisation (a facilitator or staff).
    pub async fn create_organisation(
        &self,
        call: &Call,
        input: &OrganisationInput,
    ) -> ClientResult<OrganisationView> {
        self.http
            .change(
                Method::POST,
                paths::ORGANISATIONS,
                NO_QUERY,
                Some(input),
                call,
            )
            .await
    }

    /// Public venues, by commune, département or near a point.
    pub async fn venues(
        &self,
        call: &Call,
        query: &VenueListQuery,
    ) -> ClientResult<Page<VenueView>> {
        self.http.get(paths::VENUES, query, call).await
    }

    /// Venues by ids, each visible as [`Self::venue`] shows it; unknown and invisible ones
    /// are absent. Any number of ids: they are sent [`MAX_BATCH`](cafeia_api::batch::MAX_BATCH) at a time.
    pub async fn venues_by_ids(&self, call: &Call, ids: &[Uuid]) -> ClientResult<Vec<VenueView>> {
        self.batch(paths::VENUES_BATCH, call, ids).await
    }

    /// One batch look-up, in calls of at most [`MAX_BATCH`](cafeia_api::batch::MAX_BATCH) ids (none for no ids).
    async fn batch<T: DeserializeOwned>(
        &self,
        path: &str,
        call: &Call,
        ids: &[Uuid],
    ) -> ClientResult<Vec<T>> {
        let mut found = Vec::with_capacity(ids.len());
        for query in chunks(ids) {
            let page: Vec<T> = self.http.get(path, &query, call).await?;
            found.extend(page);
        }
        Ok(found)
    }

    /// A venue: public ones to everyone, private ones to staff and their author.
    pub async fn venue(&self, call: &Call, id: Uuid) -> ClientResult<Option<VenueView>> {
        let path = fill(paths::VENUE, &[&id.to_string()]);
        self.http.find(&path, NO_QUERY, call).await
    }

    /// Adds a venue (staff, or a facilitator who is not suspended).
    pub async fn create_venue(&self, call: &Call, input: &VenueInput) -> ClientResult<VenueView> {
        self.http
            .change(Method::POST, paths::VENUES, NO_QUERY, Some(input), call)
            .await
    }

    /// Replaces a venue (its author, or staff covering it).
    pub async fn update_venue(
        &self,
        call: &Call,
        id: Uuid,
        input: &VenueInput,
    ) -> ClientResult<VenueView> {
        let path = fill(paths::VENUE, &[&id.to_string()]);
        self.http
            .change(Method::PUT, &path, NO_QUERY, Some(input), call)
            .await
    }

    /// Removes a venue (its author, or staff covering it).
    pub async fn remove_venue(&self, call: &Call, id: Uuid) -> ClientResult<()> {
        let path = fill(paths::VENUE, &[&id.to_string()]);
        self.http
            .send::<_, _, serde_json::Value>(Method::DELETE, &path, NO_QUERY, NO_BODY, call)
            .await
            .map(|_| ())
    }

    /// Imports a file in the national « lieux de médiation numérique » standard (national
    /// staff); idempotent by the standard's ids.
    pub async fn import_venues(
        &self,
        call: &Call,
        format: VenueFileFormat,
        content: impl Into<Vec<u8>>,
    ) -> ClientResult<VenueImportReport> {
        let query = VenueFileQuery {
            format: Some(format),
        };
        self.http
            .upload(
                paths::VENUES_IMPORT,
                &query,
                format.content_type(),
                content.into(),
                call,
            )
            .await
    }

    /// Public venues in the national standard, as the service wrote them (CSV or JSON).
    pub async fn export_venues(
        &self,
        call: &Call,
        format: VenueFileFormat,
    ) -> ClientResult<RawAnswer> {
        let query = VenueFileQuery {
            format: Some(format),
        };
        self.http.raw(paths::VENUES_EXPORT, &query, call).await
    }

    /// A commune by INSEE code.
    pub async fn commune(&self, call: &Call, insee: &str) -> ClientResult<Option<Commune>> {
        let path = fill(paths::COMMUNE, &[insee]);
        self.http.find(&path, NO_QUERY, call).await
    }

    /// Communes whose name or postcode starts with what a person typed.
    pub async fn communes(&self, call: &Call, query: &CommuneSearch) -> ClientResult<Vec<Commune>> {
        self.http.get(paths::COMMUNES, query, call).await
    }

    /// The communes a postcode serves; none for an unknown postcode.
    pub async fn communes_by_postcode(
        &self,
        call: &Call,
        postcode: &str,
    ) -> ClientResult<Vec<Commune>> {
        let path = fill(paths::POSTCODE, &[postcode]);
        Ok(self
            .http
            .find(&path, NO_QUERY, call)
            .await?
            .unwrap_or_default())
    }
}
