//! The facilitators database: the platform's outbox and inbox first, then facilitators, their
//! areas, organisations and venues (the audit log is the platform's), then the foreign keys
//! between them ([`foreign_keys`]), then names out of the outbox rows ([`names_off_the_bus`]),
//! then the mail to facilitators ([`mail_outbox`]), then what their digests need
//! ([`digests`]).
//!
//! Columns are typed: kinds and statuses are the contract's enums (stored as their wire
//! names), lists are JSON text read as their Rust type ([`JsonText`]). A stored value the code
//! does not know is a read error ([`unreadable`]), never a default.

pub mod digests;
mod foreign_keys;
pub mod mail_outbox;
mod names_off_the_bus;

pub use cafeia_platform::columns::JsonText;

use cafeia_platform::AppError;
use cafeia_platform::db::columns::{id, text, text_null, timestamp};
use sea_orm::DbErr;
use sea_orm_migration::{MigrationTrait, MigratorTrait, prelude::*};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = cafeia_platform::db::platform_migrations();
        migrations.push(Box::new(CreateNetwork));
        migrations.push(Box::new(foreign_keys::NetworkForeignKeys));
        migrations.push(Box::new(names_off_the_bus::NamesOffTheBus));
        migrations.push(Box::new(mail_outbox::MailOutbox));
        migrations.push(Box::new(digests::Digests));
        migrations
    }
}

/// A read of `table` that failed on a stored value the code cannot read back (an unknown enum
/// name, JSON of the wrong shape): a damaged row, answered as an internal error whose logged
/// cause names the table and the column (or its enum) and the value
/// ([`cafeia_platform::stored::in_table`]). Any other database error as usual.
pub fn unreadable(table: &'static str) -> impl Fn(DbErr) -> AppError {
    move |e| cafeia_platform::stored::in_table(table, e).into()
}

pub mod facilitator {
    use super::JsonText;
    use cafeia_facilitators_api::{FacilitatorKind, FacilitatorStatus};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "facilitator")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Token subject; replaced by a tombstone on erasure.
        pub sub: String,
        pub display_name: String,
        pub email: Option<String>,
        pub kind: FacilitatorKind,
        pub organisation_id: Option<Uuid>,
        /// INSEE codes of the communes or départements served, as given.
        pub territories: JsonText<Vec<String>>,
        /// Topics of the shared vocabulary.
        pub topics: JsonText<Vec<String>>,
        /// Language codes of the shared vocabulary.
        pub languages: JsonText<Vec<String>>,
        pub training_completed_on: Option<Date>,
        pub status: FacilitatorStatus,
        pub status_reason: Option<String>,
        pub lat: Option<f64>,
        pub lon: Option<f64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub erased_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Départements and régions a facilitator serves, for directory queries and scope checks.
pub mod area {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "facilitator_area")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub facilitator_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub departement: String,
        pub region: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod organisation {
    use cafeia_facilitators_api::OrganisationKind;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "organisation")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub siret: Option<String>,
        pub rna: Option<String>,
        pub kind: OrganisationKind,
        pub address: String,
        pub insee: String,
        pub departement: String,
        pub region: String,
        pub created_by: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod venue {
    use super::JsonText;
    use crate::domain::Accessibility;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "venue")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Identifier in the national open-data standard, for idempotent imports.
        pub source_id: Option<String>,
        pub name: String,
        pub address: String,
        pub postcode: String,
        pub insee: String,
        pub departement: String,
        pub region: String,
        pub lat: f64,
        pub lon: f64,
        pub opening_hours: Option<String>,
        pub accessibility: JsonText<Vec<Accessibility>>,
        pub capacity: Option<i32>,
        /// Free-text services offered, as the author or the national file gives them.
        pub services: JsonText<Vec<String>>,
        /// Free-text publics addressed.
        pub publics: JsonText<Vec<String>>,
        pub is_public: bool,
        pub organisation_id: Option<Uuid>,
        /// Token subject of whoever created it (staff or a facilitator); none for imported
        /// venues and after the author's erasure.
        pub created_by: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

struct CreateNetwork;

impl MigrationName for CreateNetwork {
    fn name(&self) -> &str {
        "m20261124_000101_facilitator_network"
    }
}

#[derive(DeriveIden)]
enum Facilitator {
    Table,
    Id,
    Sub,
    DisplayName,
    Email,
    Kind,
    OrganisationId,
    Territories,
    Topics,
    Languages,
    TrainingCompletedOn,
    Status,
    StatusReason,
    Lat,
    Lon,
    CreatedAt,
    UpdatedAt,
    ErasedAt,
}

#[derive(DeriveIden)]
enum FacilitatorArea {
    Table,
    FacilitatorId,
    Departement,
    Region,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
    Name,
    Siret,
    Rna,
    Kind,
    Address,
    Insee,
    Departement,
    Region,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Venue {
    Table,
    Id,
    SourceId,
    Name,
    Address,
    Postcode,
    Insee,
    Departement,
    Region,
    Lat,
    Lon,
    OpeningHours,
    Accessibility,
    Capacity,
    Services,
    Publics,
    IsPublic,
    OrganisationId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateNetwork {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Facilitator::Table)
                .col(id(Facilitator::Id))
                .col(
                    ColumnDef::new(Facilitator::Sub)
                        .string_len(255)
                        .not_null()
                        .unique_key(),
                )
                .col(text(Facilitator::DisplayName))
                .col(text_null(Facilitator::Email))
                .col(ColumnDef::new(Facilitator::Kind).string_len(40).not_null())
                .col(ColumnDef::new(Facilitator::OrganisationId).uuid().null())
                .col(text(Facilitator::Territories))
                .col(text(Facilitator::Topics))
                .col(text(Facilitator::Languages))
                .col(
                    ColumnDef::new(Facilitator::TrainingCompletedOn)
                        .date()
                        .null(),
                )
                .col(
                    ColumnDef::new(Facilitator::Status)
                        .string_len(20)
                        .not_null(),
                )
                .col(text_null(Facilitator::StatusReason))
                .col(ColumnDef::new(Facilitator::Lat).double().null())
                .col(ColumnDef::new(Facilitator::Lon).double().null())
                .col(timestamp(Facilitator::CreatedAt))
                .col(timestamp(Facilitator::UpdatedAt))
                .col(
                    ColumnDef::new(Facilitator::ErasedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(FacilitatorArea::Table)
                .col(
                    ColumnDef::new(FacilitatorArea::FacilitatorId)
                        .uuid()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FacilitatorArea::Departement)
                        .string_len(3)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(FacilitatorArea::Region)
                        .string_len(3)
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(FacilitatorArea::FacilitatorId)
                        .col(FacilitatorArea::Departement),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_area_departement", FacilitatorArea::Departement),
            ("idx_area_region", FacilitatorArea::Region),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(FacilitatorArea::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(Organisation::Table)
                .col(id(Organisation::Id))
                .col(text(Organisation::Name))
                .col(
                    ColumnDef::new(Organisation::Siret)
                        .string_len(14)
                        .null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(Organisation::Rna)
                        .string_len(10)
                        .null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Organisation::Kind).string_len(40).not_null())
                .col(text(Organisation::Address))
                .col(ColumnDef::new(Organisation::Insee).string_len(5).not_null())
                .col(
                    ColumnDef::new(Organisation::Departement)
                        .string_len(3)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Organisation::Region)
                        .string_len(3)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Organisation::CreatedBy)
                        .string_len(255)
                        .not_null(),
                )
                .col(timestamp(Organisation::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Venue::Table)
                .col(id(Venue::Id))
                .col(
                    ColumnDef::new(Venue::SourceId)
                        .string_len(255)
                        .null()
                        .unique_key(),
                )
                .col(text(Venue::Name))
                .col(text(Venue::Address))
                .col(ColumnDef::new(Venue::Postcode).string_len(5).not_null())
                .col(ColumnDef::new(Venue::Insee).string_len(5).not_null())
                .col(ColumnDef::new(Venue::Departement).string_len(3).not_null())
                .col(ColumnDef::new(Venue::Region).string_len(3).not_null())
                .col(ColumnDef::new(Venue::Lat).double().not_null())
                .col(ColumnDef::new(Venue::Lon).double().not_null())
                .col(text_null(Venue::OpeningHours))
                .col(text(Venue::Accessibility))
                .col(ColumnDef::new(Venue::Capacity).integer().null())
                .col(text(Venue::Services))
                .col(text(Venue::Publics))
                .col(ColumnDef::new(Venue::IsPublic).boolean().not_null())
                .col(ColumnDef::new(Venue::OrganisationId).uuid().null())
                .col(ColumnDef::new(Venue::CreatedBy).string_len(255).null())
                .col(timestamp(Venue::CreatedAt))
                .col(timestamp(Venue::UpdatedAt))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_venue_departement", Venue::Departement),
            ("idx_venue_insee", Venue::Insee),
            ("idx_venue_lat", Venue::Lat),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Venue::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_entry",
            "venue",
            "organisation",
            "facilitator_area",
            "facilitator",
        ] {
            m.drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::{Accessibility, FacilitatorKind, FacilitatorStatus, OrganisationKind};
    use cafeia_api::vocabulary::wire_name;
    use sea_orm::{ActiveEnum, Iterable};

    /// Rows written before the columns were typed hold the wire names: an enum reads them
    /// unchanged only if it stores exactly those.
    fn stored_as_wire_names<E: ActiveEnum<Value = String> + Iterable + serde::Serialize>() {
        for value in E::iter() {
            assert_eq!(value.to_value(), wire_name(&value));
        }
    }

    #[test]
    fn enums_are_stored_as_their_wire_names() {
        stored_as_wire_names::<FacilitatorKind>();
        stored_as_wire_names::<FacilitatorStatus>();
        stored_as_wire_names::<OrganisationKind>();
    }

    #[test]
    fn accessibility_lists_read_as_before() {
        let stored = r#"["adapted_toilets","lsf","wheelchair"]"#;
        let features: Vec<Accessibility> = serde_json::from_str(stored).expect("known features");
        assert_eq!(
            serde_json::to_string(&features).ok().as_deref(),
            Some(stored)
        );
        assert!(serde_json::from_str::<Vec<Accessibility>>(r#"["teleporter"]"#).is_err());
        assert_eq!(Accessibility::ALL.len(), 6);
    }
}
