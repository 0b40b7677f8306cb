//! Fourth migration: the mail to facilitators (their verification, suspension, reinstatement).
//! The platform's `mail_outbox` table ([`cafeia_platform::mail::outbox`]), `about_id` naming
//! the facilitator a row is about, so their erasure takes their pending mail with it.

use cafeia_platform::mail::outbox;
use sea_orm_migration::prelude::*;

/// The column naming what a mail row is about: the facilitator.
pub const ABOUT: &str = "about_id";

pub struct MailOutbox;

impl MigrationName for MailOutbox {
    fn name(&self) -> &str {
        "m20270501_000104_facilitators_mail_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MailOutbox {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(outbox::create_table(ABOUT)).await?;
        for index in outbox::create_indexes(ABOUT) {
            m.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(outbox::drop_table()).await
    }
}
