//! The outreach database: the platform's outbox and inbox tables first, then the service's own.

use sea_orm_migration::{MigrationTrait, MigratorTrait};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        cafeia_platform::db::platform_migrations()
    }
}
