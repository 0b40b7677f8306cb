//! The training catalogue in GraphQL: programmes, providers, educational modules, LHEO import.
//! Every resolver calls the catalogue service.

use crate::{
    errors::gql,
    rest::{client, enum_text, query_string, required, segment, to_value, wire_enum},
};
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};

const SERVICE: &str = "catalogue";

wire_enum!(Level {
    Discovery,
    Beginner,
    Intermediate,
    Advanced
});
wire_enum!(Audience {
    Students,
    Employees,
    JobSeekers,
    GeneralPublic,
    Seniors,
    Professionals,
    Teachers,
    PublicAgents
});
wire_enum!(
    /// In a venue, online, or both.
    Format {
    InPerson,
    Online,
    Hybrid
});
wire_enum!(Pace {
    SelfPaced,
    Scheduled
});
wire_enum!(Funding {
    Cpf,
    Opco,
    FranceTravail,
    Region,
    Employer
});
wire_enum!(TrainingAccessibility {
    DisabledAccess,
    RgaaCompliant,
    SignLanguage
});
wire_enum!(Enrolment {
    Open,
    Closed,
    Suspended
});
wire_enum!(ReviewStatus {
    Submitted,
    Published,
    Rejected,
    Withdrawn
});
wire_enum!(ProviderKind {
    University,
    AiCluster,
    School,
    Company,
    Association,
    PublicAgency
});

#[derive(SimpleObject, Deserialize)]
pub struct TrainingPlace {
    pub insee: String,
    pub commune: String,
    pub departement: String,
    pub region: String,
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(SimpleObject, Deserialize)]
pub struct TrainingSession {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub enrolment: Enrolment,
    pub insee: Option<String>,
}

/// A training programme (free and accessible AI training).
#[derive(SimpleObject, Deserialize)]
pub struct Training {
    pub id: ID,
    pub provider_id: ID,
    pub title: String,
    pub summary: String,
    pub objectives: String,
    pub content: String,
    pub level: Level,
    pub audiences: Vec<Audience>,
    pub format: Format,
    pub pace: Pace,
    pub duration_hours: i32,
    pub free: bool,
    pub price_eur: Option<f64>,
    pub funding: Vec<Funding>,
    pub certification: Option<String>,
    pub languages: Vec<String>,
    pub accessibility: Vec<TrainingAccessibility>,
    pub topics: Vec<String>,
    /// Open online to anyone in France.
    pub online: bool,
    pub places: Vec<TrainingPlace>,
    pub sessions: Vec<TrainingSession>,
    pub enrolment_url: Option<String>,
    pub contact_email: Option<String>,
    pub status: ReviewStatus,
    pub status_reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(SimpleObject, Deserialize)]
pub struct TrainingPage {
    pub items: Vec<Training>,
    pub next_cursor: Option<String>,
}

#[derive(SimpleObject, Deserialize)]
pub struct Provider {
    pub id: ID,
    pub siret: String,
    pub name: String,
    pub kind: ProviderKind,
    pub email: Option<String>,
    pub website: Option<String>,
}

/// An open educational module used to run an AI Café.
#[derive(SimpleObject, Deserialize)]
pub struct EducationalModule {
    pub id: ID,
    pub title: String,
    pub summary: String,
    pub duration_minutes: i32,
    pub level: Level,
    pub audiences: Vec<Audience>,
    pub topics: Vec<String>,
    pub licence: String,
    pub resources: Vec<String>,
    pub version: String,
    pub status: ReviewStatus,
    pub status_reason: Option<String>,
}

#[derive(SimpleObject, Deserialize)]
pub struct ModulePage {
    pub items: Vec<EducationalModule>,
    pub next_cursor: Option<String>,
}

#[derive(SimpleObject, Deserialize)]
pub struct LheoProblem {
    pub offer: Option<String>,
    pub position: u64,
    /// The LHEO element at fault.
    pub element: String,
    pub message: String,
}

#[derive(SimpleObject, Deserialize)]
pub struct LheoImportSummary {
    pub offers: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub problems: Vec<LheoProblem>,
}

#[derive(InputObject, Serialize)]
pub struct TrainingSessionInput {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub enrolment: Enrolment,
    pub insee: Option<String>,
}

#[derive(InputObject, Serialize)]
pub struct TrainingInput {
    /// Required when submitting; ignored on edits.
    pub provider_siret: Option<String>,
    pub title: String,
    pub summary: String,
    pub objectives: String,
    #[graphql(default)]
    pub content: String,
    pub level: Level,
    pub audiences: Vec<Audience>,
    pub format: Format,
    pub pace: Pace,
    pub duration_hours: i32,
    pub free: bool,
    pub price_eur: Option<f64>,
    #[graphql(default)]
    pub funding: Vec<Funding>,
    pub certification: Option<String>,
    #[graphql(default_with = "vec![\"fr\".to_owned()]")]
    pub languages: Vec<String>,
    #[graphql(default)]
    pub accessibility: Vec<TrainingAccessibility>,
    pub topics: Vec<String>,
    #[graphql(default)]
    pub online: bool,
    #[graphql(default)]
    pub places: Vec<String>,
    #[graphql(default)]
    pub sessions: Vec<TrainingSessionInput>,
    pub enrolment_url: Option<String>,
    pub contact_email: Option<String>,
}

#[derive(InputObject, Serialize)]
pub struct ProviderInput {
    pub siret: String,
    pub name: String,
    pub kind: ProviderKind,
    pub email: Option<String>,
    pub website: Option<String>,
}

#[derive(InputObject, Serialize)]
pub struct ModuleInput {
    pub title: String,
    pub summary: String,
    pub duration_minutes: i32,
    pub level: Level,
    pub audiences: Vec<Audience>,
    pub topics: Vec<String>,
    pub licence: String,
    pub resources: Vec<String>,
    pub version: String,
}

#[derive(InputObject, Default)]
pub struct TrainingFilter {
    pub level: Option<Level>,
    pub audience: Option<Audience>,
    pub format: Option<Format>,
    pub free_only: Option<bool>,
    pub topic: Option<String>,
    pub departement: Option<String>,
    pub region: Option<String>,
    pub online: Option<bool>,
    pub accessibility: Option<TrainingAccessibility>,
    pub language: Option<String>,
    pub has_open_session: Option<bool>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ReviewDecision {
    Publish,
    Reject,
    Withdraw,
}

impl ReviewDecision {
    /// The decision's name in the catalogue's REST API.
    fn action(self) -> &'static str {
        match self {
            ReviewDecision::Publish => "publish",
            ReviewDecision::Reject => "reject",
            ReviewDecision::Withdraw => "withdraw",
        }
    }
}

#[derive(Default)]
pub struct CatalogueQuery;

#[Object]
impl CatalogueQuery {
    /// Published programmes, filtered, in stable pages.
    async fn trainings(
        &self,
        ctx: &Context<'_>,
        filter: Option<TrainingFilter>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> Result<TrainingPage> {
        let (c, call) = client(ctx)?;
        let f = filter.unwrap_or_default();
        let path = format!(
            "/v1/trainings{}",
            query_string(&[
                ("level", f.level.as_ref().and_then(enum_text)),
                ("audience", f.audience.as_ref().and_then(enum_text)),
                ("format", f.format.as_ref().and_then(enum_text)),
                ("free", f.free_only.map(|b| b.to_string())),
                ("topic", f.topic),
                ("departement", f.departement),
                ("region", f.region),
                ("online", f.online.map(|b| b.to_string())),
                (
                    "accessibility",
                    f.accessibility.as_ref().and_then(enum_text)
                ),
                ("language", f.language),
                ("open_session", f.has_open_session.map(|b| b.to_string())),
                ("limit", Some(first.to_string())),
                ("cursor", after),
            ])
        );
        c.get(SERVICE, &path, call).await.map_err(gql)
    }

    /// A programme: published ones to everyone, others to staff and their provider.
    async fn training(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Training>> {
        let (c, call) = client(ctx)?;
        c.find(SERVICE, &format!("/v1/trainings/{}", segment(&id)), call)
            .await
            .map_err(gql)
    }

    /// schema.org `Course` (with `CourseInstance`s) of a published programme, as JSON-LD.
    async fn training_json_ld(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<Json<serde_json::Value>>> {
        let (c, call) = client(ctx)?;
        Ok(c.find(
            SERVICE,
            &format!("/v1/trainings/{}/jsonld", segment(&id)),
            call,
        )
        .await
        .map_err(gql)?
        .map(Json))
    }

    async fn training_provider(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Provider>> {
        let (c, call) = client(ctx)?;
        c.find(SERVICE, &format!("/v1/providers/{}", segment(&id)), call)
            .await
            .map_err(gql)
    }

    /// Published educational modules.
    async fn educational_modules(
        &self,
        ctx: &Context<'_>,
        topic: Option<String>,
        level: Option<Level>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> Result<ModulePage> {
        let (c, call) = client(ctx)?;
        let path = format!(
            "/v1/modules{}",
            query_string(&[
                ("topic", topic),
                ("level", level.as_ref().and_then(enum_text)),
                ("limit", Some(first.to_string())),
                ("cursor", after),
            ])
        );
        c.get(SERVICE, &path, call).await.map_err(gql)
    }

    async fn educational_module(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<EducationalModule>> {
        let (c, call) = client(ctx)?;
        c.find(SERVICE, &format!("/v1/modules/{}", segment(&id)), call)
            .await
            .map_err(gql)
    }
}

#[derive(Default)]
pub struct CatalogueMutation;

#[Object]
impl CatalogueMutation {
    /// Declares a training provider (its own SIRET for a provider, any for staff).
    async fn create_provider(&self, ctx: &Context<'_>, input: ProviderInput) -> Result<Provider> {
        let (c, call) = client(ctx)?;
        required(
            c.send(
                Method::POST,
                SERVICE,
                "/v1/providers",
                call,
                Some(&to_value(&input)?),
            )
            .await,
        )
    }

    /// Submits a programme for review.
    async fn submit_training(&self, ctx: &Context<'_>, input: TrainingInput) -> Result<Training> {
        let (c, call) = client(ctx)?;
        required(
            c.send(
                Method::POST,
                SERVICE,
                "/v1/trainings",
                call,
                Some(&to_value(&input)?),
            )
            .await,
        )
    }

    /// Edits a programme; a published one stays published and the change is audit-logged.
    async fn update_training(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: TrainingInput,
    ) -> Result<Training> {
        let (c, call) = client(ctx)?;
        let mut body = to_value(&input)?;
        if let Some(map) = body.as_object_mut() {
            map.remove("provider_siret");
        }
        required(
            c.send(
                Method::PUT,
                SERVICE,
                &format!("/v1/trainings/{}", segment(&id)),
                call,
                Some(&body),
            )
            .await,
        )
    }

    /// Staff review (publish, reject with a reason) or withdrawal (staff or the provider).
    async fn review_training(
        &self,
        ctx: &Context<'_>,
        id: ID,
        decision: ReviewDecision,
        reason: Option<String>,
    ) -> Result<Training> {
        let (c, call) = client(ctx)?;
        let action = decision.action();
        let body = serde_json::json!({ "reason": reason });
        let body = (decision != ReviewDecision::Publish).then_some(body);
        required(
            c.send(
                Method::POST,
                SERVICE,
                &format!("/v1/trainings/{}/{action}", segment(&id)),
                call,
                body.as_ref(),
            )
            .await,
        )
    }

    async fn submit_educational_module(
        &self,
        ctx: &Context<'_>,
        input: ModuleInput,
    ) -> Result<EducationalModule> {
        let (c, call) = client(ctx)?;
        required(
            c.send(
                Method::POST,
                SERVICE,
                "/v1/modules",
                call,
                Some(&to_value(&input)?),
            )
            .await,
        )
    }

    async fn update_educational_module(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ModuleInput,
    ) -> Result<EducationalModule> {
        let (c, call) = client(ctx)?;
        required(
            c.send(
                Method::PUT,
                SERVICE,
                &format!("/v1/modules/{}", segment(&id)),
                call,
                Some(&to_value(&input)?),
            )
            .await,
        )
    }

    async fn review_educational_module(
        &self,
        ctx: &Context<'_>,
        id: ID,
        decision: ReviewDecision,
        reason: Option<String>,
    ) -> Result<EducationalModule> {
        let (c, call) = client(ctx)?;
        let body = serde_json::json!({ "decision": decision.action(), "reason": reason });
        required(
            c.send(
                Method::POST,
                SERVICE,
                &format!("/v1/modules/{}/review", segment(&id)),
                call,
                Some(&body),
            )
            .await,
        )
    }

    /// Imports an LHEO document (national staff). Large files go through the REST endpoint,
    /// which streams; this one suits files up to the request size limit.
    async fn import_lheo(&self, ctx: &Context<'_>, content: String) -> Result<LheoImportSummary> {
        let (c, call) = client(ctx)?;
        c.upload(
            SERVICE,
            "/v1/trainings/import",
            call,
            "application/xml",
            content,
        )
        .await
        .map_err(gql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_travel_in_the_services_spelling() {
        assert_eq!(
            enum_text(&Audience::JobSeekers).as_deref(),
            Some("job_seekers")
        );
        assert_eq!(enum_text(&Format::InPerson).as_deref(), Some("in_person"));
        assert_eq!(
            enum_text(&TrainingAccessibility::RgaaCompliant).as_deref(),
            Some("rgaa_compliant")
        );
    }
}
