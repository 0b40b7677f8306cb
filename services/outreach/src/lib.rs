//! Outreach metrics: progress toward 2,000,000 citizens made aware of AI by the end of 2027.
//!
//! Shape shared by every service: `storage` (migrations and tables), and — as the domain
//! lands — `config`, `routes`, `domain` and `messages`.

pub mod storage;

use async_trait::async_trait;
use cafeia_platform::runtime::{Platform, Service, StartError};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

#[derive(Clone)]
pub struct Outreach;

#[async_trait]
impl Service for Outreach {
    const NAME: &'static str = "outreach";

    async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
        storage::Migrator::up(db, None).await
    }

    async fn start(_platform: &Platform) -> Result<Self, StartError> {
        Ok(Outreach)
    }

    fn routes(&self, _cfg: &mut actix_web::web::ServiceConfig) {}
}
