//! Fourth migration: mail.
//!
//! - `mail_outbox`: mail written in the transaction of the change it tells about, sent by the
//!   sender loop ([`crate::mail`]). `dedupe_key` is unique (one row per registration and kind
//!   of mail: asking again re-queues the row). `registration_id` references the registration
//!   it tells about, refused on delete like every key here: the code deletes the mail first
//!   (an expired request, an erasure).
//! - `registration.confirm_hash`, `registration.confirm_by`: a registration made with an email
//!   waits, unconfirmed, for the owner of the address to follow the mailed link before it holds
//!   anything; the columns hold the digest of that link's token and the deadline.
//!
//! Adding nullable columns and a new table keeps every row as it is, on both backends.

use cafeia_platform::db::columns::{
    id, index, int, short, short_null, text, text_null, timestamp, timestamp_null,
};
use sea_orm_migration::prelude::*;

pub struct MailOutbox;

impl MigrationName for MailOutbox {
    fn name(&self) -> &str {
        "m20270201_000104_events_mail_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MailOutbox {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [short_null("confirm_hash", 64), timestamp_null("confirm_by")] {
            let mut column = column;
            m.alter_table(
                Table::alter()
                    .table("registration")
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table("mail_outbox")
                .col(id("id"))
                .col(short("kind", 40))
                .col(short("dedupe_key", 200))
                .col(text("recipient"))
                .col(text("subject"))
                .col(text("text"))
                .col(text_null("html"))
                .col(text("attachments"))
                .col(ColumnDef::new("registration_id").uuid().null())
                .col(short("status", 20))
                .col(int("attempts"))
                .col(timestamp("next_attempt_at"))
                .col(text_null("last_error"))
                .col(timestamp("created_at"))
                .col(timestamp_null("sent_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_mail_outbox_registration")
                        .from("mail_outbox", "registration_id")
                        .to("registration", "id"),
                )
                .to_owned(),
        )
        .await?;
        for statement in [
            index(
                "mail_outbox",
                "idx_mail_outbox_due",
                &["status", "next_attempt_at"],
            ),
            index(
                "mail_outbox",
                "idx_mail_outbox_registration",
                &["registration_id"],
            ),
            index(
                "registration",
                "idx_registration_confirm_by",
                &["confirm_by"],
            ),
        ] {
            m.create_index(statement).await?;
        }
        for statement in [
            index("mail_outbox", "uq_mail_outbox_dedupe", &["dedupe_key"]),
            index("registration", "uq_registration_confirm", &["confirm_hash"]),
        ] {
            let mut statement = statement;
            m.create_index(statement.unique().to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("mail_outbox").to_owned())
            .await?;
        for index in ["idx_registration_confirm_by", "uq_registration_confirm"] {
            m.drop_index(Index::drop().name(index).table("registration").to_owned())
                .await?;
        }
        for column in ["confirm_hash", "confirm_by"] {
            m.alter_table(
                Table::alter()
                    .table("registration")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
