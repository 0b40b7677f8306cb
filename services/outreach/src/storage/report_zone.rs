//! Fourth migration: `report.timezone`, the session's IANA zone as its attendance report now
//! carries it, so an online session (no département) counts on its own local date. Nullable:
//! reports sent before events added it have none, and count in their département's zone (or
//! Paris) as before. The rows already there keep their figures; a rebuild reads the zone from
//! the history for the reports that had it.

use cafeia_platform::db::columns::short_null;
use sea_orm_migration::prelude::*;

pub struct ReportZone;

impl MigrationName for ReportZone {
    fn name(&self) -> &str {
        "m20270301_000204_outreach_report_zone"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ReportZone {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("report")
                .add_column(short_null("timezone", 64))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("report")
                .drop_column("timezone")
                .to_owned(),
        )
        .await
    }
}
