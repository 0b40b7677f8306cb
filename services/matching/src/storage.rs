//! The matching database: the platform's tables, then the read model built from the bus: one
//! row per session or training (its searchable document as JSON), the latest attendance
//! figures per session (reach per territory), and unmet demand. Every change takes the next
//! number of a counter, so each replica's in-memory index reloads exactly what changed.
//!
//! Columns read as their types: the offer kind as [`OfferKind`](crate::model::OfferKind), the
//! document as [`Item`](crate::model::Item) (a `json` column on PostgreSQL, text on SQLite). A
//! stored value that does not read is an error naming its table ([`Unreadable`]), never skipped
//! or read as a default. No foreign key: `reached` names sessions matching may never have seen
//! (attendance can be reported for a session whose announcement it has not read), and no other
//! table refers to another.

use cafeia_platform::db::columns::{big_int, id, text, text_null, timestamp};
use sea_orm::{DbErr, RuntimeErr};
use sea_orm_migration::{MigrationTrait, MigratorTrait, prelude::*};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = cafeia_platform::db::platform_migrations();
        migrations.push(Box::new(CreateReadModel));
        migrations.push(Box::new(TypedDocument));
        migrations.push(Box::new(DemandPerCaller));
        migrations
    }
}

/// A read of `table` failed on a stored value that is not of its column's type: an unknown
/// enum text (the enum is named) or a document of another shape (the column is named).
#[derive(Debug)]
pub struct Unreadable {
    pub table: &'static str,
    pub source: DbErr,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "table {}: stored value unreadable: {}",
            self.table, self.source
        )
    }
}

impl std::error::Error for Unreadable {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl Unreadable {
    /// Tells a stored value that does not read (`Ok`) from a failure of the database itself,
    /// which stays what it was (`Err`: a lost connection is still "unavailable").
    pub fn classify(table: &'static str, source: DbErr) -> Result<Self, DbErr> {
        let unreadable = match &source {
            // Unknown enum text.
            DbErr::Type(_) | DbErr::Json(_) => true,
            // A document the driver could not decode as its type.
            DbErr::Query(RuntimeErr::SqlxError(e)) => matches!(
                **e,
                sea_orm::sqlx::Error::ColumnDecode { .. } | sea_orm::sqlx::Error::Decode(_)
            ),
            _ => false,
        };
        if unreadable {
            Ok(Self { table, source })
        } else {
            Err(source)
        }
    }
}

pub mod item {
    use crate::model::{Item, OfferKind};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "item")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub kind: OfferKind,
        /// The whole offer, as JSON.
        pub doc: Item,
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

/// Someone's searches or recommendations that found nothing near a place, on one day: one
/// row per (caller, place, day), however often they asked. The caller is not stored, only in
/// the digest that keeps the row unique, salted with that day's [`demand_salt`].
pub mod demand {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "unmet_demand_per_caller")]
    pub struct Model {
        /// SHA-256 (hex) of the day's salt, the caller, the place and the day.
        #[sea_orm(primary_key, auto_increment = false)]
        pub digest: String,
        pub departement: String,
        pub insee: Option<String>,
        /// The day (UTC) the request was made.
        pub day: Date,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One random salt per day for the digests of [`demand`], shared by the replicas through the
/// database and deleted once its day is over: afterwards no digest can be traced back to a
/// caller, not even by someone who reads the database.
pub mod demand_salt {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "demand_salt")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: Date,
        /// Random, hex.
        pub salt: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod counter {
    use sea_orm::entity::prelude::*;

    /// The counters (one so far), by their stored names.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "Text")]
    pub enum Name {
        /// Every change to `item` and `reached` takes the next value.
        #[sea_orm(string_value = "changes")]
        Changes,
    }

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "counter")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: Name,
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

/// The document becomes a `json` column on PostgreSQL, so the driver reads it straight into an
/// [`Item`](crate::model::Item) (sqlx decodes JSON only from `json`/`jsonb` there) and the
/// database refuses text that is no JSON. The conversion checks every stored document: one
/// that is no JSON stops the migration. `json` rather than `jsonb`: the document is only ever
/// read whole, and `json` gives back its stored text, without a conversion per row. SQLite has no
/// JSON type and reads JSON from text: its column stays as it is.
struct TypedDocument;

impl MigrationName for TypedDocument {
    fn name(&self) -> &str {
        "m20261203_000302_matching_typed_document"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for TypedDocument {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared("ALTER TABLE item ALTER COLUMN doc TYPE json USING doc::json")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared("ALTER TABLE item ALTER COLUMN doc TYPE text")
                .await?;
        }
        Ok(())
    }
}

/// Unmet demand counted once per caller, place and day (it was one row per request, so anyone
/// could inflate a commune's figure by repeating a query), with a salt per day. The rows
/// counted before cannot be told apart by caller: each place and day they name is kept once.
struct DemandPerCaller;

impl MigrationName for DemandPerCaller {
    fn name(&self) -> &str {
        "m20261210_000303_matching_demand_per_caller"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for DemandPerCaller {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("unmet_demand_per_caller")
                .col(
                    ColumnDef::new("digest")
                        .string_len(80)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new("departement").string_len(3).not_null())
                .col(text_null("insee"))
                .col(ColumnDef::new("day").date().not_null())
                .to_owned(),
        )
        .await?;
        // The day of each old row, as a date and as text (for its digest).
        let (day, day_text) = match m.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => (
                "CAST(at AT TIME ZONE 'UTC' AS DATE)",
                "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
            ),
            // Stored as RFC 3339 text in UTC.
            _ => ("substr(at, 1, 10)", "substr(at, 1, 10)"),
        };
        m.get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO unmet_demand_per_caller (digest, departement, insee, day) \
                 SELECT DISTINCT 'before:' || departement || ':' || COALESCE(insee, '') || ':' || {day_text}, \
                 departement, insee, {day} FROM unmet_demand"
            ))
            .await?;
        m.drop_table(Table::drop().table("unmet_demand").to_owned())
            .await?;
        m.create_index(
            Index::create()
                .name("idx_demand_departement_day")
                .table("unmet_demand_per_caller")
                .col("departement")
                .col("day")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("demand_salt")
                .col(ColumnDef::new("day").date().not_null().primary_key())
                .col(text("salt"))
                .to_owned(),
        )
        .await
    }
}
