//! Facilitator network: facilitators, organisations, venues and their verification.
//!
//! Shape shared by every service: `storage` (migrations and tables), and — as the domain
//! lands — `config`, `routes`, `domain` and `messages`.

pub mod storage;

use async_trait::async_trait;
use cafeia_platform::runtime::{Platform, Service, StartError};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

#[derive(Clone)]
pub struct Facilitators;

#[async_trait]
impl Service for Facilitators {
    const NAME: &'static str = "facilitators";

    async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
        storage::Migrator::up(db, None).await
    }

    async fn start(_platform: &Platform) -> Result<Self, StartError> {
        Ok(Facilitators)
    }

    fn routes(&self, _cfg: &mut actix_web::web::ServiceConfig) {}
}
