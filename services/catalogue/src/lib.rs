//! Training catalogue: free AI training programmes, providers and educational modules, with
//! LHEO import and export and schema.org JSON-LD.
//!
//! Shape shared by every service: `storage` (tables and migrations), `domain` (rules and the
//! one validation), `messages` (what it publishes), `routes` + `openapi` (REST), one module per
//! resource (`providers`, `trainings`, `modules`), `store` (programmes with places and
//! sessions), `lheo` + `imports` (the national exchange format), `jsonld`, `demo`.

pub mod demo;
pub mod domain;
pub mod imports;
pub mod jsonld;
pub mod lheo;
pub mod messages;
pub mod modules;
pub mod openapi;
pub mod providers;
pub mod review;
pub mod routes;
pub mod storage;
pub mod store;
pub mod trainings;

use async_trait::async_trait;
use cafeia_platform::runtime::{Platform, Service, StartError};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

/// What handlers share.
pub struct State {
    pub platform: Platform,
}

#[derive(Clone)]
pub struct Catalogue {
    state: actix_web::web::Data<State>,
}

#[async_trait]
impl Service for Catalogue {
    const NAME: &'static str = "catalogue";

    async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
        storage::Migrator::up(db, None).await
    }

    async fn start(platform: &Platform) -> Result<Self, StartError> {
        Ok(Self {
            state: actix_web::web::Data::new(State {
                platform: platform.clone(),
            }),
        })
    }

    fn routes(&self, cfg: &mut actix_web::web::ServiceConfig) {
        cfg.app_data(self.state.clone());
        routes::configure(cfg);
    }

    fn openapi() -> utoipa::openapi::OpenApi {
        <openapi::ApiDoc as utoipa::OpenApi>::openapi()
    }

    async fn seed_demo(&self, platform: &Platform) -> Result<(), StartError> {
        let summary = demo::seed(&platform.db)
            .await
            .map_err(|e| StartError::Service(e.to_string()))?;
        if let Some(summary) = summary {
            platform.outbox.wake();
            tracing::info!(
                created = summary.created,
                "catalogue: demo programmes loaded"
            );
        }
        Ok(())
    }
}
