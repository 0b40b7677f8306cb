//! Second migration: every derived row (`report`, `planned_session`, `facilitator`) references
//! the history row that last changed it (`seq`), so a derived figure can never point at a
//! message the history does not hold.
//!
//! `ON DELETE RESTRICT`: nothing deletes history rows (a rebuild empties the derived tables and
//! replays the history), and a history row still behind a figure must not vanish.
//!
//! The keys are added by [`cafeia_platform::db::add_foreign_keys`] (on SQLite, a rebuild of each
//! table, in one transaction).

use cafeia_platform::db::{ForeignKey, add_foreign_keys};
use sea_orm_migration::prelude::*;

pub struct DerivedRowsReferenceHistory;

impl MigrationName for DerivedRowsReferenceHistory {
    fn name(&self) -> &str {
        "m20261126_000202_outreach_foreign_keys"
    }
}

/// `seq` of each derived table → `history.seq`. (The clauses are those sea-query wrote when
/// this migration built them, so the keys stay as first applied.)
const KEYS: [ForeignKey; 3] = [
    ForeignKey {
        table: "report",
        name: "fk_report_seq",
        clause: "FOREIGN KEY (\"seq\") REFERENCES \"history\" (\"seq\") \
                 ON DELETE RESTRICT ON UPDATE RESTRICT",
    },
    ForeignKey {
        table: "planned_session",
        name: "fk_planned_session_seq",
        clause: "FOREIGN KEY (\"seq\") REFERENCES \"history\" (\"seq\") \
                 ON DELETE RESTRICT ON UPDATE RESTRICT",
    },
    ForeignKey {
        table: "facilitator",
        name: "fk_facilitator_seq",
        clause: "FOREIGN KEY (\"seq\") REFERENCES \"history\" (\"seq\") \
                 ON DELETE RESTRICT ON UPDATE RESTRICT",
    },
];

#[async_trait::async_trait]
impl MigrationTrait for DerivedRowsReferenceHistory {
    /// SQLite runs migrations outside a transaction by default: a table rebuild stopped half
    /// way would lose it.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_foreign_keys(m, &KEYS).await
    }
}
