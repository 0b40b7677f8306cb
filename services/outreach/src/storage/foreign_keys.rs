//! Second migration: every derived row (`report`, `planned_session`, `facilitator`) references
//! the history row that last changed it (`seq`), so a derived figure can never point at a
//! message the history does not hold.
//!
//! `ON DELETE RESTRICT`: nothing deletes history rows (a rebuild empties the derived tables and
//! replays the history), and a history row still behind a figure must not vanish.
//!
//! PostgreSQL adds the constraints in place. SQLite cannot add a constraint to an existing
//! table: each table is rebuilt (created anew with the key, rows copied, old table dropped, new
//! one renamed, its index recreated), in one transaction.

use cafeia_platform::db::columns::{
    big_int, id, int, short, short_null, text, text_null, timestamp,
};
use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

pub struct DerivedRowsReferenceHistory;

impl MigrationName for DerivedRowsReferenceHistory {
    fn name(&self) -> &str {
        "m20261126_000202_outreach_foreign_keys"
    }
}

/// A derived table: its name, its columns in the order the first migration made them, and how
/// that migration defined them.
struct Derived {
    table: &'static str,
    columns: &'static [&'static str],
    define: fn(&mut TableCreateStatement),
}

const TABLES: [Derived; 3] = [
    Derived {
        table: "report",
        columns: &[
            "session_id",
            "version",
            "facilitator_id",
            "facilitator_kind",
            "starts_at",
            "format",
            "departement",
            "region",
            "topics",
            "audiences",
            "age_bands",
            "occupations",
            "attended",
            "first_timers",
            "walk_ins",
            "no_shows",
            "seq",
        ],
        define: |t| {
            t.col(id("session_id"))
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
                .col(big_int("seq"));
        },
    },
    Derived {
        table: "planned_session",
        columns: &[
            "session_id",
            "revision",
            "status",
            "departement",
            "starts_at",
            "seq",
        ],
        define: |t| {
            t.col(id("session_id"))
                .col(int("revision"))
                .col(short("status", 20))
                .col(short_null("departement", 3))
                .col(timestamp("starts_at"))
                .col(big_int("seq"));
        },
    },
    Derived {
        table: "facilitator",
        columns: &["id", "status", "kind", "as_of", "seq"],
        define: |t| {
            t.col(id("id"))
                .col(short("status", 20))
                .col(short("kind", 40))
                .col(timestamp("as_of"))
                .col(big_int("seq"));
        },
    },
];

fn seq_references_history(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_seq"))
        .from(Alias::new(table), Alias::new("seq"))
        .to(Alias::new("history"), Alias::new("seq"))
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

impl Derived {
    /// The table as the first migration created it, named `name`, with its foreign key.
    fn with_key(&self, name: &str) -> TableCreateStatement {
        let mut create = Table::create();
        create.table(Alias::new(name));
        (self.define)(&mut create);
        let mut key = seq_references_history(self.table);
        // Inside CREATE TABLE the key belongs to the table being created.
        key.from_tbl(Alias::new(name));
        create.foreign_key(&mut key).to_owned()
    }
}

#[async_trait::async_trait]
impl MigrationTrait for DerivedRowsReferenceHistory {
    /// SQLite runs migrations outside a transaction by default: a table rebuild stopped half
    /// way would lose it.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Sqlite {
            for derived in TABLES {
                m.create_foreign_key(seq_references_history(derived.table))
                    .await?;
            }
            return Ok(());
        }
        let db = m.get_connection();
        for derived in TABLES {
            let table = derived.table;
            let rebuilt = format!("{table}_rebuilt");
            m.create_table(derived.with_key(&rebuilt)).await?;
            let columns = derived.columns.join(", ");
            db.execute_unprepared(&format!(
                "INSERT INTO {rebuilt} ({columns}) SELECT {columns} FROM {table}"
            ))
            .await?;
            m.drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
            db.execute_unprepared(&format!("ALTER TABLE {rebuilt} RENAME TO {table}"))
                .await?;
            m.create_index(
                Index::create()
                    .name(format!("idx_{table}_seq"))
                    .table(Alias::new(table))
                    .col("seq")
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
