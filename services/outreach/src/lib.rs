//! Outreach metrics: progress toward 2,000,000 citizens made aware of AI by the end of 2027.
//!
//! Shape shared by every service: `storage` (tables and migrations), `domain` (the goal, what
//! counts, scope), `routes` (REST) with `reports` (handlers); `ingest` consumes the bus (in
//! batches) into the history and the derived tables; `figures` keeps them in memory;
//! `aggregates` computes every figure. It publishes nothing, so it has no `messages`.

pub mod aggregates;
pub mod domain;
pub mod figures;
pub mod ingest;
pub mod openapi;
pub mod reports;
pub mod routes;
pub mod storage;

use async_trait::async_trait;
use cafeia_platform::runtime::{Platform, Service, StartError};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;

/// What handlers share.
pub struct State {
    pub platform: Platform,
    pub figures: Arc<figures::Figures>,
}

#[derive(Clone)]
pub struct Outreach {
    state: actix_web::web::Data<State>,
}

#[async_trait]
impl Service for Outreach {
    const NAME: &'static str = "outreach";

    async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
        storage::Migrator::up(db, None).await
    }

    async fn start(platform: &Platform) -> Result<Self, StartError> {
        let figures = Arc::new(figures::Figures::default());
        // A warm start only: a stored row the code cannot read must not keep the service down
        // (the figures answer an internal error naming the table until it is mended, e.g. by a
        // rebuild), and every request refreshes anyway.
        if let Err(e) = figures.refresh(&platform.db).await {
            let cause = std::error::Error::source(&e).map(ToString::to_string);
            tracing::error!(error = %e, cause = ?cause, "figures not loaded at start");
        }
        ingest::start(platform, figures.clone()).await?;
        Ok(Self {
            state: actix_web::web::Data::new(State {
                platform: platform.clone(),
                figures,
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
