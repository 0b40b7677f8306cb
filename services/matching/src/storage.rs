//! The matching database: the platform's tables, then the read model built from the bus: one
//! row per session or training (its searchable document as JSON), the latest attendance
//! figures per session (reach per territory), and unmet demand. Every change takes the next
//! number of a counter, so each replica's in-memory index reloads exactly what changed.

use cafeia_platform::db::columns::{big_int, id, text, text_null, timestamp};
use sea_orm_migration::{MigrationTrait, MigratorTrait, prelude::*};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = cafeia_platform::db::platform_migrations();
        migrations.push(Box::new(CreateReadModel));
        migrations
    }
}

pub mod item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "item")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// `session` or `training`.
        pub kind: String,
        /// The [`crate::model::Item`] as JSON.
        pub doc: String,
        pub seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Latest attendance figures per session: people reached per département.
pub mod reached {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "reached")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_id: Uuid,
        pub version: i32,
        pub departement: Option<String>,
        pub first_timers: i32,
        pub seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A search or recommendation that found nothing nearby.
pub mod demand {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "unmet_demand")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub departement: String,
        pub insee: Option<String>,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod counter {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "counter")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub value: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

struct CreateReadModel;

impl MigrationName for CreateReadModel {
    fn name(&self) -> &str {
        "m20261125_000301_matching"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateReadModel {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("item")
                .col(id("id"))
                .col(ColumnDef::new("kind").string_len(10).not_null())
                .col(text("doc"))
                .col(big_int("seq"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("reached")
                .col(id("session_id"))
                .col(ColumnDef::new("version").integer().not_null())
                .col(text_null("departement"))
                .col(ColumnDef::new("first_timers").integer().not_null())
                .col(big_int("seq"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("unmet_demand")
                .col(id("id"))
                .col(ColumnDef::new("departement").string_len(3).not_null())
                .col(text_null("insee"))
                .col(timestamp("at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("counter")
                .col(
                    ColumnDef::new("name")
                        .string_len(40)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new("value").big_integer().not_null())
                .to_owned(),
        )
        .await?;
        for (table, name, col) in [
            ("item", "idx_item_seq", "seq"),
            ("reached", "idx_reached_seq", "seq"),
            ("unmet_demand", "idx_demand_departement", "departement"),
        ] {
            m.create_index(Index::create().name(name).table(table).col(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
