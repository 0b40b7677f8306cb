//! Seventh migration: every mailed link keeps working. `mail_link` held one token per
//! registration, kind of mail and action, so a second « session changed » mail replaced the
//! token of the first and its link stopped working. The unique index goes; a plain one on
//! the registration stays for what reads and deletes by it (the reminder sweep, erasure).
//! Links still go with their registration (erasure, retention).

use cafeia_platform::db::columns::index;
use sea_orm_migration::prelude::*;

pub struct MailLinksKept;

impl MigrationName for MailLinksKept {
    fn name(&self) -> &str {
        "m20270501_000107_events_mail_links_kept"
    }
}

const UNIQUE: &str = "uq_mail_link_registration";
const PLAIN: &str = "ix_mail_link_registration";

#[async_trait::async_trait]
impl MigrationTrait for MailLinksKept {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(UNIQUE).table("mail_link").to_owned())
            .await?;
        m.create_index(index(
            "mail_link",
            PLAIN,
            &["registration_id", "kind", "action"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Only the latest token of each kind and action comes back unique.
        m.drop_index(Index::drop().name(PLAIN).table("mail_link").to_owned())
            .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "DELETE FROM mail_link WHERE EXISTS (SELECT 1 FROM mail_link newer \
             WHERE newer.registration_id = mail_link.registration_id \
             AND newer.kind = mail_link.kind AND newer.action = mail_link.action \
             AND (newer.created_at > mail_link.created_at \
                  OR (newer.created_at = mail_link.created_at AND newer.token_hash > mail_link.token_hash)))",
        )
        .await?;
        let mut unique = index("mail_link", UNIQUE, &["registration_id", "kind", "action"]);
        m.create_index(unique.unique().to_owned()).await
    }
}
