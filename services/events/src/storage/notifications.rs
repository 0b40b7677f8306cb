//! Sixth migration: the mail telling registrants what happens to their registration.
//!
//! - `mail_outbox.list_unsubscribe`: the one-click unsubscription address of a reminder
//!   (RFC 8058), blanked with the rest once sent.
//! - `registration.reminders_off_at`: when the registrant asked for no reminder.
//! - `mail_link`: the digests of the tokens that mails other than the first carry (« je libère
//!   ma place », « ne plus recevoir de rappel »). The first mail's cancellation link is
//!   `registration.token_hash`; each later mail gets a token of its own, so mailing one never
//!   breaks the link of another. One per registration, kind of mail and action: mailing that
//!   kind again replaces it. Deleted with the registration's mail (erasure, retention).
//!
//! A nullable column and a new table on each side: every row stays as it is, on both backends.

use cafeia_platform::db::columns::{index, short, text_null, timestamp, timestamp_null};
use sea_orm_migration::prelude::*;

pub struct Notifications;

impl MigrationName for Notifications {
    fn name(&self) -> &str {
        "m20270401_000106_events_notifications"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Notifications {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("mail_outbox", text_null("list_unsubscribe")),
            ("registration", timestamp_null("reminders_off_at")),
        ] {
            let mut column = column;
            m.alter_table(
                Table::alter()
                    .table(table)
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table("mail_link")
                .col(
                    ColumnDef::new("token_hash")
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new("registration_id").uuid().not_null())
                .col(short("kind", 40))
                .col(short("action", 20))
                .col(timestamp("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_mail_link_registration")
                        .from("mail_link", "registration_id")
                        .to("registration", "id"),
                )
                .to_owned(),
        )
        .await?;
        let mut unique = index(
            "mail_link",
            "uq_mail_link_registration",
            &["registration_id", "kind", "action"],
        );
        m.create_index(unique.unique().to_owned()).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("mail_link").to_owned())
            .await?;
        for (table, column) in [
            ("mail_outbox", "list_unsubscribe"),
            ("registration", "reminders_off_at"),
        ] {
            m.alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
