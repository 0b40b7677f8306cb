//! Database connections and the platform's own tables.
//!
//! One sea-orm codebase serves both backends: the URL scheme picks SQLite (embedded default)
//! or PostgreSQL, and the same migrations run on both at start-up.

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::{MigrationTrait, prelude::*};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

mod foreign_keys;

pub use foreign_keys::{ForeignKey, add_foreign_keys, check_foreign_keys, drop_foreign_keys};

/// Opens a pool on `url`. For SQLite the file (and its folder) is created if missing, WAL is on
/// so readers never block the writer, and foreign keys are enforced.
pub async fn connect(
    url: &SecretString,
    max_connections: u32,
) -> Result<DatabaseConnection, DbErr> {
    let url = url.expose_secret();
    if let Some(parent) = sqlite_path(url).and_then(|p| std::path::Path::new(p).parent())
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(options).await
}

/// Starts a transaction that writes. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads first cannot become a writer once another
/// connection has written since its snapshot (SQLite answers "busy" at once, the busy timeout
/// does not apply), so two concurrent writes made one of them fail. PostgreSQL begins as usual.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// A read-only transaction whose statements all see the same data, so that a page and the
/// `COUNT` of its whole list agree even while others write. PostgreSQL needs `REPEATABLE
/// READ` for that (each statement of a `READ COMMITTED` transaction takes a new snapshot); a
/// SQLite transaction (WAL) reads one snapshot from its first read on, and takes no lock.
pub async fn snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if is_postgres(db) {
        db.begin_with_config(
            Some(sea_orm::IsolationLevel::RepeatableRead),
            Some(sea_orm::AccessMode::ReadOnly),
        )
        .await
    } else {
        sea_orm::TransactionTrait::begin(db).await
    }
}

pub fn is_postgres(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// Migrations every service database carries: the outbox and the processed-message table.
/// Services put these first in their own `Migrator::migrations()`.
pub fn platform_migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(CreateOutboxAndInbox),
        Box::new(CreateAuditLog),
        Box::new(crate::audit::AddActorRole),
    ]
}

struct CreateAuditLog;

impl MigrationName for CreateAuditLog {
    fn name(&self) -> &str {
        "m20261124_000002_platform_audit_log"
    }
}

#[derive(DeriveIden)]
enum AuditEntry {
    Table,
    Id,
    At,
    Actor,
    Action,
    SubjectKind,
    SubjectId,
    Reason,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAuditLog {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEntry::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(AuditEntry::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditEntry::At)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEntry::Actor).string_len(255).not_null())
                    .col(ColumnDef::new(AuditEntry::Action).string_len(40).not_null())
                    .col(
                        ColumnDef::new(AuditEntry::SubjectKind)
                            .string_len(20)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEntry::SubjectId).uuid().not_null())
                    .col(ColumnDef::new(AuditEntry::Reason).text().null())
                    .col(ColumnDef::new(AuditEntry::Detail).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_subject")
                    .table(AuditEntry::Table)
                    .col(AuditEntry::SubjectId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEntry::Table).to_owned())
            .await
    }
}

struct CreateOutboxAndInbox;

impl MigrationName for CreateOutboxAndInbox {
    fn name(&self) -> &str {
        "m20261124_000001_platform_outbox_inbox"
    }
}

#[derive(DeriveIden)]
enum OutboxMessage {
    Table,
    Id,
    RoutingKey,
    Payload,
    Headers,
    CreatedAt,
    PublishedAt,
    Attempts,
    LastError,
}

#[derive(DeriveIden)]
enum ProcessedMessage {
    Table,
    Consumer,
    MessageId,
    ProcessedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutboxAndInbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OutboxMessage::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(OutboxMessage::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OutboxMessage::RoutingKey)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(OutboxMessage::Payload).text().not_null())
                    .col(ColumnDef::new(OutboxMessage::Headers).text().not_null())
                    .col(
                        ColumnDef::new(OutboxMessage::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OutboxMessage::PublishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(OutboxMessage::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(OutboxMessage::LastError).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_pending")
                    .table(OutboxMessage::Table)
                    .col(OutboxMessage::PublishedAt)
                    .col(OutboxMessage::CreatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProcessedMessage::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ProcessedMessage::Consumer)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProcessedMessage::MessageId)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProcessedMessage::ProcessedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ProcessedMessage::Consumer)
                            .col(ProcessedMessage::MessageId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProcessedMessage::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OutboxMessage::Table).to_owned())
            .await
    }
}

/// Column definitions every service's migrations use, so the same kind of column has the same
/// type on SQLite and PostgreSQL everywhere.
pub mod columns {
    use sea_orm_migration::prelude::*;

    pub fn text(col: impl IntoIden) -> ColumnDef {
        ColumnDef::new(col).text().not_null().to_owned()
    }

    pub fn text_null(col: impl IntoIden) -> ColumnDef {
        ColumnDef::new(col).text().null().to_owned()
    }

    pub fn timestamp(col: impl IntoIden) -> ColumnDef {
        ColumnDef::new(col)
            .timestamp_with_time_zone()
            .not_null()
            .to_owned()
    }

    pub fn timestamp_null(col: impl IntoIden) -> ColumnDef {
        ColumnDef::new(col)
            .timestamp_with_time_zone()
            .null()
            .to_owned()
    }

    /// A bounded string (codes, statuses).
    pub fn short(col: impl IntoIden, len: u32) -> ColumnDef {
        ColumnDef::new(col).string_len(len).not_null().to_owned()
    }

    pub fn short_null(col: impl IntoIden, len: u32) -> ColumnDef {
        ColumnDef::new(col).string_len(len).null().to_owned()
    }

    pub fn big_int(col: impl IntoIden) -> ColumnDef {
        ColumnDef::new(col).big_integer().not_null().to_owned()
    }

    pub fn int(col: impl IntoIden) -> ColumnDef {
        ColumnDef::new(col).integer().not_null().to_owned()
    }

    /// A (non-unique) index on `cols` of `table`.
    pub fn index(table: &str, name: &str, cols: &[&str]) -> IndexCreateStatement {
        let mut index = Index::create();
        index.name(name).table(Alias::new(table));
        for c in cols {
            index.col(Alias::new(*c));
        }
        index.to_owned()
    }

    pub fn id(col: impl IntoIden) -> ColumnDef {
        ColumnDef::new(col)
            .uuid()
            .not_null()
            .primary_key()
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn sqlite_paths_are_read_from_urls() {
        assert_eq!(
            sqlite_path("sqlite://data/x.sqlite?mode=rwc"),
            Some("data/x.sqlite")
        );
        assert_eq!(sqlite_path("sqlite:x.db"), Some("x.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }
}
