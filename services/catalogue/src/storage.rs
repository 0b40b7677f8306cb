//! The catalogue database: providers, training programmes with their places and sessions,
//! what each edit of a programme changed ([`training_edit`]), and educational modules (the
//! outbox, inbox and audit log come with the platform's migrations).
//!
//! Columns are typed: controlled values are the contract's and the shared vocabulary's enums
//! (stored as their serde names, sea-orm's `DeriveActiveEnum`), lists are the platform's
//! [`JsonText`] (matched with [`holds`]), and a stored value that does not read fails the read
//! ([`Rows`]). The tables reference each other with foreign keys
//! ([`foreign_keys`]).

mod foreign_keys;
pub mod training_edit;

use cafeia_platform::db::columns::{index, short, text, text_null, timestamp};
use sea_orm_migration::{MigrationTrait, MigratorTrait, prelude::*};

pub use cafeia_platform::columns::{JsonText, holds};
pub use cafeia_platform::stored::Rows;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = cafeia_platform::db::platform_migrations();
        migrations.push(Box::new(CreateCatalogue));
        migrations.push(Box::new(foreign_keys::CatalogueForeignKeys));
        migrations.push(Box::new(training_edit::CreateTrainingEdit));
        migrations
    }
}

pub mod provider {
    use crate::domain::ProviderKind;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "provider")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub siret: String,
        pub name: String,
        pub kind: ProviderKind,
        pub email: Option<String>,
        pub website: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::training::Entity")]
        Training,
    }

    impl Related<super::training::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Training.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod training {
    use super::JsonText;
    use crate::domain::{Accessibility, Audience, Format, Funding, Level, Pace, ReviewStatus};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "training")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The LHEO `formation/@numero`, for idempotent imports.
        pub lheo_id: Option<String>,
        pub provider_id: Uuid,
        pub title: String,
        pub summary: String,
        pub objectives: String,
        pub content: String,
        pub level: Level,
        #[sea_orm(column_type = "Text")]
        pub audiences: JsonText<Vec<Audience>>,
        pub format: Format,
        pub pace: Pace,
        pub duration_hours: i32,
        pub is_free: bool,
        pub price_cents: Option<i64>,
        #[sea_orm(column_type = "Text")]
        pub funding: JsonText<Vec<Funding>>,
        pub certification: Option<String>,
        /// ISO 639-1 codes (and `lsf`, `oc`) of the shared vocabulary.
        #[sea_orm(column_type = "Text")]
        pub languages: JsonText<Vec<String>>,
        #[sea_orm(column_type = "Text")]
        pub accessibility: JsonText<Vec<Accessibility>>,
        /// Topics of the shared vocabulary.
        #[sea_orm(column_type = "Text")]
        pub topics: JsonText<Vec<String>>,
        /// Open to anyone in France online (no place needed).
        pub online: bool,
        pub enrolment_url: Option<String>,
        pub contact_email: Option<String>,
        pub status: ReviewStatus,
        pub status_reason: Option<String>,
        pub submitted_by: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub published_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::provider::Entity",
            from = "Column::ProviderId",
            to = "super::provider::Column::Id",
            on_delete = "NoAction"
        )]
        Provider,
        #[sea_orm(has_many = "super::place::Entity")]
        Place,
        #[sea_orm(has_many = "super::session::Entity")]
        Session,
    }

    impl Related<super::provider::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Provider.def()
        }
    }

    impl Related<super::place::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Place.def()
        }
    }

    impl Related<super::session::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Session.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod place {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "training_place")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub training_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub insee: String,
        pub departement: String,
        pub region: String,
        pub lat: f64,
        pub lon: f64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::training::Entity",
            from = "Column::TrainingId",
            to = "super::training::Column::Id",
            on_delete = "Cascade"
        )]
        Training,
    }

    impl Related<super::training::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Training.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod session {
    use crate::domain::Enrolment;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "training_session")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub training_id: Uuid,
        pub lheo_id: Option<String>,
        pub start_date: Date,
        pub end_date: Date,
        pub enrolment: Enrolment,
        /// One of the programme's places (`training_place`); none when it has a single one.
        pub insee: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::training::Entity",
            from = "Column::TrainingId",
            to = "super::training::Column::Id",
            on_delete = "Cascade"
        )]
        Training,
    }

    impl Related<super::training::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Training.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod module {
    use super::JsonText;
    use crate::domain::{Audience, Level, ReviewStatus};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "educational_module")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub title: String,
        pub summary: String,
        pub duration_minutes: i32,
        pub level: Level,
        #[sea_orm(column_type = "Text")]
        pub audiences: JsonText<Vec<Audience>>,
        /// Topics of the shared vocabulary.
        #[sea_orm(column_type = "Text")]
        pub topics: JsonText<Vec<String>>,
        pub licence: String,
        /// https URLs.
        #[sea_orm(column_type = "Text")]
        pub resources: JsonText<Vec<String>>,
        pub version: String,
        pub status: ReviewStatus,
        pub status_reason: Option<String>,
        pub submitted_by: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

struct CreateCatalogue;

impl MigrationName for CreateCatalogue {
    fn name(&self) -> &str {
        "m20261125_000101_catalogue"
    }
}

fn uuid_col(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .uuid()
        .not_null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for CreateCatalogue {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("provider"))
                .col(uuid_col("id").primary_key())
                .col(short("siret", 14).unique_key())
                .col(text("name"))
                .col(short("kind", 40))
                .col(text_null("email"))
                .col(text_null("website"))
                .col(timestamp("created_at"))
                .col(timestamp("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("training"))
                .col(uuid_col("id").primary_key())
                .col(
                    ColumnDef::new(Alias::new("lheo_id"))
                        .string_len(255)
                        .null()
                        .unique_key(),
                )
                .col(uuid_col("provider_id"))
                .col(text("title"))
                .col(text("summary"))
                .col(text("objectives"))
                .col(text("content"))
                .col(short("level", 20))
                .col(text("audiences"))
                .col(short("format", 20))
                .col(short("pace", 20))
                .col(
                    ColumnDef::new(Alias::new("duration_hours"))
                        .integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Alias::new("is_free")).boolean().not_null())
                .col(
                    ColumnDef::new(Alias::new("price_cents"))
                        .big_integer()
                        .null(),
                )
                .col(text("funding"))
                .col(text_null("certification"))
                .col(text("languages"))
                .col(text("accessibility"))
                .col(text("topics"))
                .col(ColumnDef::new(Alias::new("online")).boolean().not_null())
                .col(text_null("enrolment_url"))
                .col(text_null("contact_email"))
                .col(short("status", 20))
                .col(text_null("status_reason"))
                .col(short("submitted_by", 255))
                .col(timestamp("created_at"))
                .col(timestamp("updated_at"))
                .col(
                    ColumnDef::new(Alias::new("published_at"))
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index("training", "idx_training_status", &["status"]))
            .await?;
        m.create_index(index("training", "idx_training_provider", &["provider_id"]))
            .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("training_place"))
                .col(uuid_col("training_id"))
                .col(short("insee", 5))
                .col(short("departement", 3))
                .col(short("region", 3))
                .col(ColumnDef::new(Alias::new("lat")).double().not_null())
                .col(ColumnDef::new(Alias::new("lon")).double().not_null())
                .primary_key(
                    Index::create()
                        .col(Alias::new("training_id"))
                        .col(Alias::new("insee")),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "training_place",
            "idx_place_departement",
            &["departement"],
        ))
        .await?;
        m.create_index(index("training_place", "idx_place_region", &["region"]))
            .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("training_session"))
                .col(uuid_col("id").primary_key())
                .col(uuid_col("training_id"))
                .col(ColumnDef::new(Alias::new("lheo_id")).string_len(255).null())
                .col(ColumnDef::new(Alias::new("start_date")).date().not_null())
                .col(ColumnDef::new(Alias::new("end_date")).date().not_null())
                .col(short("enrolment", 20))
                .col(ColumnDef::new(Alias::new("insee")).string_len(5).null())
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "training_session",
            "idx_session_training",
            &["training_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("educational_module"))
                .col(uuid_col("id").primary_key())
                .col(text("title"))
                .col(text("summary"))
                .col(
                    ColumnDef::new(Alias::new("duration_minutes"))
                        .integer()
                        .not_null(),
                )
                .col(short("level", 20))
                .col(text("audiences"))
                .col(text("topics"))
                .col(short("licence", 60))
                .col(text("resources"))
                .col(short("version", 40))
                .col(short("status", 20))
                .col(text_null("status_reason"))
                .col(short("submitted_by", 255))
                .col(timestamp("created_at"))
                .col(timestamp("updated_at"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "educational_module",
            "training_session",
            "training_place",
            "training",
            "provider",
        ] {
            m.drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::{Audience, Enrolment, Format, Level, Pace, ProviderKind, ReviewStatus};
    use cafeia_api::vocabulary::wire_name;
    use sea_orm::{ActiveEnum, Iterable};
    use serde::Serialize;

    /// Every variant is stored as the text written before the columns were typed (its serde
    /// name), so rows already stored read unchanged.
    fn stored_as_wire_names<E: ActiveEnum<Value = String> + Iterable + Serialize>() {
        for variant in E::iter() {
            assert_eq!(variant.to_value(), wire_name(&variant));
            assert!(E::try_from_value(&wire_name(&variant)).is_ok());
        }
        assert!(E::try_from_value(&"unknown".to_owned()).is_err());
    }

    #[test]
    fn enums_are_stored_as_their_wire_names() {
        stored_as_wire_names::<Pace>();
        stored_as_wire_names::<ProviderKind>();
        stored_as_wire_names::<Enrolment>();
        stored_as_wire_names::<ReviewStatus>();
        stored_as_wire_names::<Format>();
        stored_as_wire_names::<Level>();
        stored_as_wire_names::<Audience>();
    }
}
