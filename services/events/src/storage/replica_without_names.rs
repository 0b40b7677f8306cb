//! Fifth migration: the facilitator replica loses `display_name`. Names no longer travel on
//! the bus; events asks the facilitators service for them when it shows one (its public
//! profiles), so the names copied here before (erased people's included) are dropped with the
//! column.

use sea_orm_migration::prelude::*;

pub struct ReplicaWithoutNames;

impl MigrationName for ReplicaWithoutNames {
    fn name(&self) -> &str {
        "m20270301_000105_events_replica_without_names"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ReplicaWithoutNames {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("facilitator_replica")
                .drop_column("display_name")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The names are gone: the column comes back empty.
        m.alter_table(
            Table::alter()
                .table("facilitator_replica")
                .add_column(ColumnDef::new("display_name").text().not_null().default(""))
                .to_owned(),
        )
        .await
    }
}
