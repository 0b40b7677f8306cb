//! Matching: search and recommendations of AI Café sessions and free trainings.
//!
//! Shape shared by every service: `config`, `storage` (the read model's tables), `model` (an
//! item), `consumer` (keeps the read model from the bus), `engine` (the in-memory index:
//! tantivy for French text, an rstar R-tree for places), `search`, `recommend` (ranking and
//! reasons), `demand` (unmet demand for staff), `cache`, `routes`. It publishes nothing.

pub mod cache;
pub mod config;
pub mod consumer;
pub mod demand;
pub mod engine;
pub mod model;
pub mod openapi;
pub mod recommend;
pub mod routes;
pub mod search;
pub mod storage;

use async_trait::async_trait;
use cafeia_platform::runtime::{Platform, Service, StartError};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;

/// What handlers share.
pub struct State {
    pub platform: Platform,
    pub engine: Arc<engine::Engine>,
    pub demand: demand::Recorder,
    /// Opens the client address the gateway forwards (`client_address.key`); `None` without
    /// a key, when the connecting address counts.
    pub client_seal: Option<cafeia_matching_api::client_address::AddressSeal>,
}

#[derive(Clone)]
pub struct Matching {
    state: actix_web::web::Data<State>,
}

#[async_trait]
impl Service for Matching {
    const NAME: &'static str = "matching";

    async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
        storage::Migrator::up(db, None).await
    }

    fn check_config(
        config: &cafeia_platform::config::PlatformConfig,
    ) -> Result<(), cafeia_platform::config::ConfigError> {
        config
            .section::<config::ClientAddress>(config::SECTION)
            .map(drop)
    }

    async fn start(platform: &Platform) -> Result<Self, StartError> {
        let client_address: config::ClientAddress = platform.config.section(config::SECTION)?;
        let client_seal = client_address.seal();
        if client_seal.is_none() && !platform.config.is_embedded() {
            tracing::warn!(
                "client_address.key is not set: anonymous searches through the gateway count as one caller in unmet demand"
            );
        }
        let engine =
            Arc::new(engine::Engine::new().map_err(|e| StartError::Service(e.to_string()))?);
        // The persisted read model: no replay needed after a restart.
        match engine.refresh(&platform.db).await {
            Ok(()) => {}
            // A row that does not read fails every answer (500, logged) until it is mended, but
            // keeps neither the service nor its consumer, which may mend it, from starting.
            Err(e @ engine::RefreshError::Unreadable(_)) => {
                tracing::error!(error = %e, "read model not loaded at start");
            }
            Err(engine::RefreshError::Database(e)) => return Err(e.into()),
            Err(e) => return Err(StartError::Service(e.to_string())),
        }
        let notify = engine.clone();
        consumer::start(platform, Arc::new(move || notify.changed())).await?;
        Ok(Self {
            state: actix_web::web::Data::new(State {
                platform: platform.clone(),
                engine,
                demand: demand::Recorder::start(platform),
                client_seal,
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
}
