//! Matching: search and recommendations of sessions and trainings, from a read model fed by the bus.
//!
//! Shape shared by every service: `storage` (migrations and tables), and — as the domain
//! lands — `config`, `routes`, `domain` and `messages`.

pub mod storage;

use async_trait::async_trait;
use cafeia_platform::runtime::{Platform, Service, StartError};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

#[derive(Clone)]
pub struct Matching;

#[async_trait]
impl Service for Matching {
    const NAME: &'static str = "matching";

    async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
        storage::Migrator::up(db, None).await
    }

    async fn start(_platform: &Platform) -> Result<Self, StartError> {
        Ok(Matching)
    }

    fn routes(&self, _cfg: &mut actix_web::web::ServiceConfig) {}
}
