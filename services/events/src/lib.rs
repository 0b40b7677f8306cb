//! AI Café sessions: publication, registration with hard capacity, waiting list, attendance.
//!
//! Shape shared by every service: `storage` (migrations and tables), and — as the domain
//! lands — `config`, `routes`, `domain` and `messages`.

pub mod storage;

use async_trait::async_trait;
use cafeia_platform::runtime::{Platform, Service, StartError};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

#[derive(Clone)]
pub struct Events;

#[async_trait]
impl Service for Events {
    const NAME: &'static str = "events";

    async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
        storage::Migrator::up(db, None).await
    }

    async fn start(_platform: &Platform) -> Result<Self, StartError> {
        Ok(Events)
    }

    fn routes(&self, _cfg: &mut actix_web::web::ServiceConfig) {}
}
