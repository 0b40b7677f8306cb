//! Facilitator network: facilitators, organisations, venues and their verification.
//!
//! Shape shared by every service: `storage` (tables and migrations), `domain` (rules),
//! `messages` (what it publishes), `routes` (REST), one module per resource
//! (`facilitators`, `organisations`, `venues`, `territories`), `lieux` (the national venue
//! standard), `demo` (embedded demo data).

pub mod demo;
pub mod domain;
pub mod facilitators;
pub mod lieux;
pub mod messages;
pub mod openapi;
pub mod organisations;
pub mod proximity;
pub mod routes;
pub mod storage;
pub mod territories;
pub mod venues;

use async_trait::async_trait;
use cafeia_platform::runtime::{Platform, Service, StartError};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

/// What handlers share.
pub struct State {
    pub platform: Platform,
}

#[derive(Clone)]
pub struct Facilitators {
    state: actix_web::web::Data<State>,
}

#[async_trait]
impl Service for Facilitators {
    const NAME: &'static str = "facilitators";

    async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
        storage::Migrator::up(db, None).await
    }

    async fn start(platform: &Platform) -> Result<Self, StartError> {
        // Decode the gazetteer now rather than on the first request.
        let _ = cafeia_platform::territory::Gazetteer::get();
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

    async fn seed_demo(&self, platform: &Platform) -> Result<(), StartError> {
        if demo::seed(&platform.db)
            .await
            .map_err(|e| StartError::Service(e.to_string()))?
        {
            platform.outbox.wake();
            tracing::info!("facilitators: demo network loaded");
        }
        Ok(())
    }
}
