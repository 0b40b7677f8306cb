//! The outreach database: the platform's tables, then the history of every message consumed
//! (which is also this service's inbox: a message id is kept once) and the figures derived from
//! it: the latest attendance report per session, planned sessions, facilitators. The derived
//! tables can be dropped and replayed from the history at any time.

use cafeia_platform::db::columns::{
    big_int, id, int, short, short_null, text, text_null, timestamp,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait, prelude::*};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = cafeia_platform::db::platform_migrations();
        migrations.push(Box::new(CreateOutreach));
        migrations
    }
}

/// Every message consumed, in arrival order.
pub mod history {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "history")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub seq: i64,
        #[sea_orm(unique)]
        pub message_id: String,
        pub kind: String,
        pub time: DateTimeUtc,
        pub data: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The latest version of each session's attendance report.
pub mod report {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "report")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_id: Uuid,
        pub version: i32,
        pub facilitator_id: Uuid,
        pub facilitator_kind: Option<String>,
        pub starts_at: DateTimeUtc,
        pub format: String,
        pub departement: Option<String>,
        pub region: Option<String>,
        /// JSON arrays / objects.
        pub topics: String,
        pub audiences: String,
        pub age_bands: String,
        pub occupations: String,
        pub attended: i32,
        pub first_timers: i32,
        pub walk_ins: i32,
        pub no_shows: i32,
        /// History sequence of the message that last changed the row (replicas reload by it).
        pub seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Sessions as last announced, for "no session planned in the next 30 days".
pub mod planned {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "planned_session")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_id: Uuid,
        pub revision: i32,
        pub status: String,
        pub departement: Option<String>,
        pub starts_at: DateTimeUtc,
        pub seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod facilitator {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "facilitator")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub status: String,
        pub kind: String,
        pub as_of: DateTimeUtc,
        pub seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

struct CreateOutreach;

impl MigrationName for CreateOutreach {
    fn name(&self) -> &str {
        "m20261125_000201_outreach"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutreach {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("history")
                .col(
                    ColumnDef::new("seq")
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new("message_id")
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(short("kind", 100))
                .col(timestamp("time"))
                .col(text("data"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("report")
                .col(id("session_id"))
                .col(int("version"))
                .col(ColumnDef::new("facilitator_id").uuid().not_null())
                .col(text_null("facilitator_kind"))
                .col(timestamp("starts_at"))
                .col(short("format", 20))
                .col(short_null("departement", 3))
                .col(short_null("region", 3))
                .col(text("topics"))
                .col(text("audiences"))
                .col(text("age_bands"))
                .col(text("occupations"))
                .col(int("attended"))
                .col(int("first_timers"))
                .col(int("walk_ins"))
                .col(int("no_shows"))
                .col(big_int("seq"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("planned_session")
                .col(id("session_id"))
                .col(int("revision"))
                .col(short("status", 20))
                .col(short_null("departement", 3))
                .col(timestamp("starts_at"))
                .col(big_int("seq"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("facilitator")
                .col(id("id"))
                .col(short("status", 20))
                .col(short("kind", 40))
                .col(timestamp("as_of"))
                .col(big_int("seq"))
                .to_owned(),
        )
        .await?;
        for table in ["report", "planned_session", "facilitator"] {
            m.create_index(
                Index::create()
                    .name(format!("idx_{table}_seq"))
                    .table(table)
                    .col("seq")
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
