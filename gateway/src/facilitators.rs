//! The facilitator network in GraphQL: profiles, staff decisions, directory, organisations,
//! venues, venue import, and gazetteer look-ups. Every resolver calls the facilitators service.

use crate::{
    errors::gql,
    rest::{client, enum_text, query_string, required, segment, to_value},
};
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject};
use cafeia_platform::AppError;
use chrono::{DateTime, NaiveDate, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};

const SERVICE: &str = "facilitators";

#[derive(Enum, Copy, Clone, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilitatorKind {
    ConseillerNumerique,
    MediateurNumerique,
    Bibliothecaire,
    Benevole,
    Formateur,
    AgentPublic,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilitatorStatus {
    Pending,
    Verified,
    Suspended,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    FranceServices,
    Mediatheque,
    Association,
    Collectivite,
    Entreprise,
    EtablissementScolaire,
    TiersLieu,
    AutreStructurePublique,
}

/// A facilitator (staff and the person themself see the email).
#[derive(SimpleObject, Deserialize, Clone)]
pub struct Facilitator {
    pub id: ID,
    pub display_name: String,
    pub email: Option<String>,
    pub kind: FacilitatorKind,
    pub organisation_id: Option<ID>,
    /// INSEE codes served (communes or départements).
    pub territories: Vec<String>,
    pub departements: Vec<String>,
    pub regions: Vec<String>,
    pub topics: Vec<String>,
    pub languages: Vec<String>,
    pub training_completed_on: Option<NaiveDate>,
    pub status: FacilitatorStatus,
    pub status_reason: Option<String>,
    /// Set on proximity searches.
    pub distance_km: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(SimpleObject, Deserialize)]
pub struct FacilitatorPage {
    pub items: Vec<Facilitator>,
    pub next_cursor: Option<String>,
}

#[derive(SimpleObject, Deserialize)]
pub struct FacilitatorCount {
    pub departement: String,
    pub name: String,
    pub pending: u64,
    pub verified: u64,
    pub suspended: u64,
}

#[derive(SimpleObject, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub reason: Option<String>,
}

#[derive(SimpleObject, Deserialize)]
pub struct Organisation {
    pub id: ID,
    pub name: String,
    pub siret: Option<String>,
    pub rna: Option<String>,
    pub kind: OrganisationKind,
    pub address: String,
    pub insee: String,
    pub commune: String,
    pub departement: String,
    pub region: String,
}

#[derive(SimpleObject, Deserialize)]
pub struct OrganisationPage {
    pub items: Vec<Organisation>,
    pub next_cursor: Option<String>,
}

/// A venue (lieu de médiation numérique); public fields only.
#[derive(SimpleObject, Deserialize)]
pub struct Venue {
    pub id: ID,
    pub name: String,
    pub address: String,
    pub postcode: String,
    pub insee: String,
    pub commune: String,
    pub departement: String,
    pub region: String,
    pub latitude: f64,
    pub longitude: f64,
    /// OpenStreetMap `opening_hours` syntax.
    pub opening_hours: Option<String>,
    pub accessibility: Vec<String>,
    pub capacity: Option<i32>,
    pub services: Vec<String>,
    pub publics: Vec<String>,
    pub is_public: bool,
    pub distance_km: Option<f64>,
}

#[derive(SimpleObject, Deserialize)]
pub struct VenuePage {
    pub items: Vec<Venue>,
    pub next_cursor: Option<String>,
}

#[derive(SimpleObject, Deserialize)]
pub struct Commune {
    pub insee: String,
    pub name: String,
    pub postcodes: Vec<String>,
    pub departement: String,
    pub departement_name: String,
    pub region: String,
    pub region_name: String,
    pub population: u64,
    pub latitude: f64,
    pub longitude: f64,
    pub arrondissement: bool,
}

#[derive(SimpleObject, Deserialize)]
pub struct VenueImportError {
    pub row: u64,
    pub id: Option<String>,
    pub field: String,
    pub message: String,
}

#[derive(SimpleObject, Deserialize)]
pub struct VenueImportReport {
    pub total: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub errors: Vec<VenueImportError>,
}

#[derive(InputObject, Serialize)]
pub struct FacilitatorProfileInput {
    pub display_name: String,
    /// Professional email; private (staff and you only).
    pub email: String,
    pub kind: FacilitatorKind,
    pub organisation_id: Option<ID>,
    pub territories: Vec<String>,
    #[graphql(default)]
    pub topics: Vec<String>,
    #[graphql(default_with = "vec![\"fr\".to_owned()]")]
    pub languages: Vec<String>,
    pub training_completed_on: Option<NaiveDate>,
}

#[derive(InputObject, Serialize)]
pub struct OrganisationInput {
    pub name: String,
    pub siret: Option<String>,
    pub rna: Option<String>,
    pub kind: OrganisationKind,
    pub address: String,
    pub insee: String,
}

#[derive(InputObject, Serialize)]
pub struct VenueInput {
    pub name: String,
    pub address: String,
    pub postcode: String,
    pub insee: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub opening_hours: Option<String>,
    #[graphql(default)]
    pub accessibility: Vec<String>,
    pub capacity: Option<i32>,
    #[graphql(default)]
    pub services: Vec<String>,
    #[graphql(default)]
    pub publics: Vec<String>,
    #[graphql(default = true)]
    pub is_public: bool,
    pub organisation_id: Option<ID>,
}

#[derive(InputObject)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(InputObject, Default)]
pub struct FacilitatorFilter {
    pub departement: Option<String>,
    pub region: Option<String>,
    pub status: Option<FacilitatorStatus>,
    pub kind: Option<FacilitatorKind>,
    pub near: Option<GeoPoint>,
    pub radius_km: Option<f64>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum VenueFileFormat {
    Csv,
    Json,
}

fn near(point: Option<&GeoPoint>) -> Option<String> {
    point.map(|p| format!("{},{}", p.latitude, p.longitude))
}

#[derive(Default)]
pub struct FacilitatorsQuery;

#[Object]
impl FacilitatorsQuery {
    /// Your own facilitator profile; null until you register.
    async fn my_facilitator_profile(&self, ctx: &Context<'_>) -> Result<Option<Facilitator>> {
        let (c, call) = client(ctx)?;
        c.find(SERVICE, "/v1/facilitators/me", call)
            .await
            .map_err(gql)
    }

    /// Everything the network holds about you (personal data access).
    async fn my_facilitator_data(&self, ctx: &Context<'_>) -> Result<Json<serde_json::Value>> {
        let (c, call) = client(ctx)?;
        c.get(SERVICE, "/v1/facilitators/me/export", call)
            .await
            .map(Json)
            .map_err(gql)
    }

    /// A facilitator (staff, within their territory).
    async fn facilitator(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Facilitator>> {
        let (c, call) = client(ctx)?;
        c.find(SERVICE, &format!("/v1/facilitators/{}", segment(&id)), call)
            .await
            .map_err(gql)
    }

    /// Staff directory; coordinators only see their territory.
    async fn facilitators(
        &self,
        ctx: &Context<'_>,
        filter: Option<FacilitatorFilter>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> Result<FacilitatorPage> {
        let (c, call) = client(ctx)?;
        let f = filter.unwrap_or_default();
        let path = format!(
            "/v1/facilitators{}",
            query_string(&[
                ("departement", f.departement),
                ("region", f.region),
                ("status", f.status.as_ref().and_then(enum_text)),
                ("kind", f.kind.as_ref().and_then(enum_text)),
                ("near", near(f.near.as_ref())),
                ("radius_km", f.radius_km.map(|r| r.to_string())),
                ("limit", Some(first.to_string())),
                ("cursor", after),
            ])
        );
        c.get(SERVICE, &path, call).await.map_err(gql)
    }

    /// Facilitators by status in each département (staff, scoped).
    async fn facilitator_counts(&self, ctx: &Context<'_>) -> Result<Vec<FacilitatorCount>> {
        let (c, call) = client(ctx)?;
        c.get(SERVICE, "/v1/facilitators/stats/departements", call)
            .await
            .map_err(gql)
    }

    /// Who decided what about a facilitator, and why (staff).
    async fn facilitator_audit(&self, ctx: &Context<'_>, id: ID) -> Result<Vec<AuditEntry>> {
        let (c, call) = client(ctx)?;
        c.get(
            SERVICE,
            &format!("/v1/facilitators/{}/audit", segment(&id)),
            call,
        )
        .await
        .map_err(gql)
    }

    async fn organisation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organisation>> {
        let (c, call) = client(ctx)?;
        c.find(
            SERVICE,
            &format!("/v1/organisations/{}", segment(&id)),
            call,
        )
        .await
        .map_err(gql)
    }

    async fn organisations(
        &self,
        ctx: &Context<'_>,
        departement: Option<String>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> Result<OrganisationPage> {
        let (c, call) = client(ctx)?;
        let path = format!(
            "/v1/organisations{}",
            query_string(&[
                ("departement", departement),
                ("limit", Some(first.to_string())),
                ("cursor", after)
            ])
        );
        c.get(SERVICE, &path, call).await.map_err(gql)
    }

    /// Public venues, by commune (INSEE), département, or near a point.
    #[allow(clippy::too_many_arguments)] // one per GraphQL argument
    async fn venues(
        &self,
        ctx: &Context<'_>,
        commune: Option<String>,
        departement: Option<String>,
        near: Option<GeoPoint>,
        radius_km: Option<f64>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> Result<VenuePage> {
        let (c, call) = client(ctx)?;
        let path = format!(
            "/v1/venues{}",
            query_string(&[
                ("commune", commune),
                ("departement", departement),
                ("near", self::near(near.as_ref())),
                ("radius_km", radius_km.map(|r| r.to_string())),
                ("limit", Some(first.to_string())),
                ("cursor", after),
            ])
        );
        c.get(SERVICE, &path, call).await.map_err(gql)
    }

    async fn venue(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Venue>> {
        let (c, call) = client(ctx)?;
        c.find(SERVICE, &format!("/v1/venues/{}", segment(&id)), call)
            .await
            .map_err(gql)
    }

    /// A commune by INSEE code.
    async fn commune(&self, ctx: &Context<'_>, insee: String) -> Result<Option<Commune>> {
        let (c, call) = client(ctx)?;
        c.find(
            SERVICE,
            &format!("/v1/territories/communes/{}", segment(&insee)),
            call,
        )
        .await
        .map_err(gql)
    }

    /// The communes a postcode serves.
    async fn communes_by_postcode(
        &self,
        ctx: &Context<'_>,
        postcode: String,
    ) -> Result<Vec<Commune>> {
        let (c, call) = client(ctx)?;
        if postcode.len() != 5 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
            return Err(gql(AppError::invalid(
                "postcode",
                "un code postal a 5 chiffres",
            )));
        }
        Ok(c.find(
            SERVICE,
            &format!("/v1/territories/postcodes/{postcode}"),
            call,
        )
        .await
        .map_err(gql)?
        .unwrap_or_default())
    }
}

#[derive(Default)]
pub struct FacilitatorsMutation;

#[Object]
impl FacilitatorsMutation {
    /// Registers the signed-in facilitator (status pending until staff verify).
    async fn register_as_facilitator(
        &self,
        ctx: &Context<'_>,
        input: FacilitatorProfileInput,
    ) -> Result<Facilitator> {
        let (c, call) = client(ctx)?;
        let body = to_value(&input)?;
        required(
            c.send(
                Method::POST,
                SERVICE,
                "/v1/facilitators/me",
                call,
                Some(&body),
            )
            .await,
        )
    }

    async fn update_my_facilitator_profile(
        &self,
        ctx: &Context<'_>,
        input: FacilitatorProfileInput,
    ) -> Result<Facilitator> {
        let (c, call) = client(ctx)?;
        let body = to_value(&input)?;
        required(
            c.send(
                Method::PATCH,
                SERVICE,
                "/v1/facilitators/me",
                call,
                Some(&body),
            )
            .await,
        )
    }

    /// Erases your name, email and account link; the anonymous history of sessions stays.
    async fn erase_my_facilitator_data(&self, ctx: &Context<'_>) -> Result<bool> {
        let (c, call) = client(ctx)?;
        c.send::<serde_json::Value>(Method::DELETE, SERVICE, "/v1/facilitators/me", call, None)
            .await
            .map(|_| true)
            .map_err(gql)
    }

    async fn verify_facilitator(&self, ctx: &Context<'_>, id: ID) -> Result<Facilitator> {
        decide(ctx, &id, "verify", None).await
    }

    async fn suspend_facilitator(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<Facilitator> {
        decide(ctx, &id, "suspend", Some(reason)).await
    }

    async fn reinstate_facilitator(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: Option<String>,
    ) -> Result<Facilitator> {
        decide(ctx, &id, "reinstate", reason).await
    }

    async fn create_organisation(
        &self,
        ctx: &Context<'_>,
        input: OrganisationInput,
    ) -> Result<Organisation> {
        let (c, call) = client(ctx)?;
        let body = to_value(&input)?;
        required(
            c.send(
                Method::POST,
                SERVICE,
                "/v1/organisations",
                call,
                Some(&body),
            )
            .await,
        )
    }

    async fn create_venue(&self, ctx: &Context<'_>, input: VenueInput) -> Result<Venue> {
        let (c, call) = client(ctx)?;
        let body = to_value(&input)?;
        required(
            c.send(Method::POST, SERVICE, "/v1/venues", call, Some(&body))
                .await,
        )
    }

    async fn update_venue(&self, ctx: &Context<'_>, id: ID, input: VenueInput) -> Result<Venue> {
        let (c, call) = client(ctx)?;
        let body = to_value(&input)?;
        required(
            c.send(
                Method::PUT,
                SERVICE,
                &format!("/v1/venues/{}", segment(&id)),
                call,
                Some(&body),
            )
            .await,
        )
    }

    async fn remove_venue(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let (c, call) = client(ctx)?;
        c.send::<serde_json::Value>(
            Method::DELETE,
            SERVICE,
            &format!("/v1/venues/{}", segment(&id)),
            call,
            None,
        )
        .await
        .map(|_| true)
        .map_err(gql)
    }

    /// Imports venues in the national open-data standard (national staff); idempotent.
    async fn import_venues(
        &self,
        ctx: &Context<'_>,
        format: VenueFileFormat,
        content: String,
    ) -> Result<VenueImportReport> {
        let (c, call) = client(ctx)?;
        let (query, content_type) = match format {
            VenueFileFormat::Csv => ("csv", "text/csv"),
            VenueFileFormat::Json => ("json", "application/json"),
        };
        c.upload(
            SERVICE,
            &format!("/v1/venues/import?format={query}"),
            call,
            content_type,
            content,
        )
        .await
        .map_err(gql)
    }
}

async fn decide(
    ctx: &Context<'_>,
    id: &ID,
    action: &str,
    reason: Option<String>,
) -> Result<Facilitator> {
    let (c, call) = client(ctx)?;
    let body = serde_json::json!({ "reason": reason });
    required(
        c.send(
            Method::POST,
            SERVICE,
            &format!("/v1/facilitators/{}/{action}", segment(id)),
            call,
            Some(&body),
        )
        .await,
    )
}
