//! The outreach database: the platform's tables, then the history of every message consumed
//! (which is also this service's inbox: a message id is kept once) and the figures derived from
//! it: the latest attendance report per session, planned sessions, facilitators. The derived
//! tables can be dropped and replayed from the history at any time.
//!
//! Values that come from other services' messages are stored typed with the producers' contract
//! enums (their wire names are the stored text); lists and counts are JSON text read as their
//! types ([`JsonText`]). A stored value the code does not know is a read error, never a default.
//! Every derived row references the history row that last changed it (foreign keys, added by
//! the second migration, in `foreign_keys`). The history keeps nothing that leads to a person
//! (the third migration, `anonymous_history`, cleared the rows kept before). A report holds
//! its session's time zone when the message carried one (the fourth, `report_zone`).

mod anonymous_history;
mod foreign_keys;
mod report_zone;

pub use cafeia_platform::columns::JsonText;

use cafeia_platform::db::columns::{
    big_int, id, int, short, short_null, text, text_null, timestamp,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait, prelude::*};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = cafeia_platform::db::platform_migrations();
        migrations.push(Box::new(CreateOutreach));
        migrations.push(Box::new(foreign_keys::DerivedRowsReferenceHistory));
        migrations.push(Box::new(anonymous_history::AnonymousHistory));
        migrations.push(Box::new(report_zone::ReportZone));
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
    use super::JsonText;
    use cafeia_api::vocabulary::{Audience, Format};
    use cafeia_facilitators_api::FacilitatorKind;
    use sea_orm::entity::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "report")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_id: Uuid,
        pub version: i32,
        pub facilitator_id: Uuid,
        pub facilitator_kind: Option<FacilitatorKind>,
        pub starts_at: DateTimeUtc,
        pub format: Format,
        pub departement: Option<String>,
        pub region: Option<String>,
        /// The session's IANA time zone, when its report carried one (checked on arrival).
        pub timezone: Option<String>,
        /// Topics of the shared vocabulary (a JSON array).
        pub topics: JsonText<Vec<String>>,
        /// A JSON array of audiences.
        pub audiences: JsonText<Vec<Audience>>,
        /// Attendees per age band (a JSON object).
        pub age_bands: JsonText<BTreeMap<String, i32>>,
        /// Attendees per occupation (a JSON object).
        pub occupations: JsonText<BTreeMap<String, i32>>,
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
    use cafeia_events_api::SessionStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "planned_session")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_id: Uuid,
        pub revision: i32,
        pub status: SessionStatus,
        pub departement: Option<String>,
        pub starts_at: DateTimeUtc,
        pub seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Facilitators as last announced (for the count of verified ones).
pub mod facilitator {
    use cafeia_facilitators_api::{FacilitatorKind, FacilitatorStatus};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "facilitator")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub status: FacilitatorStatus,
        pub kind: FacilitatorKind,
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

#[cfg(test)]
mod tests {
    use cafeia_api::vocabulary::{Format, wire_name};
    use cafeia_events_api::SessionStatus;
    use cafeia_facilitators_api::{FacilitatorKind, FacilitatorStatus};
    use sea_orm::{ActiveEnum, Iterable};

    /// The stored text of every value is its wire name, which is what the rows written before
    /// the columns were typed hold: they read unchanged.
    fn stored_as_wire_names<E>()
    where
        E: ActiveEnum<Value = String> + Iterable + serde::Serialize + std::fmt::Debug,
    {
        for value in E::iter() {
            assert_eq!(value.to_value(), wire_name(&value), "{value:?}");
            assert_eq!(
                E::try_from_value(&wire_name(&value))
                    .ok()
                    .map(|v| v.to_value()),
                Some(value.to_value())
            );
        }
        assert!(E::try_from_value(&"unknown".to_owned()).is_err());
    }

    #[test]
    fn enums_are_stored_as_their_wire_names() {
        stored_as_wire_names::<Format>();
        stored_as_wire_names::<SessionStatus>();
        stored_as_wire_names::<FacilitatorKind>();
        stored_as_wire_names::<FacilitatorStatus>();
    }
}
