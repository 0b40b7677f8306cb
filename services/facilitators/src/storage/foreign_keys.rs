//! Second migration: the network's tables reference each other.
//!
//! | key | from → to | on delete |
//! |---|---|---|
//! | `fk_facilitator_organisation` | `facilitator.organisation_id` → `organisation.id` | refused |
//! | `fk_facilitator_area_facilitator` | `facilitator_area.facilitator_id` → `facilitator.id` | cascade |
//! | `fk_venue_organisation` | `venue.organisation_id` → `organisation.id` | refused |
//! | `fk_audit_entry_facilitator` | `audit_entry.facilitator_id` → `facilitator.id` | refused |
//!
//! What the code does today decides `ON DELETE`: nothing deletes an organisation or a
//! facilitator (an erasure blanks the facilitator's row and keeps it, so the sessions held and
//! the decisions taken still count), so deleting one that is still referenced is refused. A
//! facilitator's areas are an index of their profile, rewritten with it: they would go with
//! the facilitator. Ids never change; updating a referenced one is refused too. "Refused" is
//! `NO ACTION` (checked at the end of each statement) rather than `RESTRICT`: SQLite reports a
//! `RESTRICT` refusal as a trigger failure, which sea-orm does not recognise as a foreign-key
//! violation.
//!
//! `audit_entry` is the platform's polymorphic log (`subject_kind`, `subject_id`): only its
//! facilitator entries reference a facilitator (venue entries outlive the venue they name), so
//! the key is on a generated column, `facilitator_id`, holding `subject_id` for those entries
//! and `NULL` for the others (a `NULL` key is not checked). The platform's code neither writes
//! nor reads it.
//!
//! Venues took any `organisation_id` until now (facilitators' were checked): one naming no
//! organisation is cleared first, as the venue's answers never showed it. Any other dangling
//! reference cannot have been written by the code and makes the migration fail.
//!
//! The three keys between tables are added by [`cafeia_platform::db::add_foreign_keys`] (on
//! SQLite, a rebuild of `facilitator`, `facilitator_area` and `venue`, parents first). The
//! generated column is added afterwards with its key, which SQLite does not check against the
//! rows already there: `PRAGMA foreign_key_check` does. All in one transaction.

use cafeia_platform::db::{ForeignKey, add_foreign_keys, check_foreign_keys};
use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

pub struct NetworkForeignKeys;

impl MigrationName for NetworkForeignKeys {
    fn name(&self) -> &str {
        "m20261126_000102_facilitator_network_foreign_keys"
    }
}

/// The facilitator a facilitator entry of the audit log is about.
const AUDIT_FACILITATOR: &str =
    "CASE WHEN subject_kind = 'facilitator' THEN subject_id ELSE NULL END";

/// Parents before children: a table is rebuilt before another references it. (The clauses are
/// those sea-query wrote when this migration built them, so the keys stay as first applied.)
const KEYS: [ForeignKey; 3] = [
    ForeignKey {
        table: "facilitator",
        name: "fk_facilitator_organisation",
        clause: "FOREIGN KEY (\"organisation_id\") REFERENCES \"organisation\" (\"id\") \
                 ON DELETE NO ACTION ON UPDATE NO ACTION",
    },
    ForeignKey {
        table: "facilitator_area",
        name: "fk_facilitator_area_facilitator",
        clause: "FOREIGN KEY (\"facilitator_id\") REFERENCES \"facilitator\" (\"id\") \
                 ON DELETE CASCADE ON UPDATE NO ACTION",
    },
    ForeignKey {
        table: "venue",
        name: "fk_venue_organisation",
        clause: "FOREIGN KEY (\"organisation_id\") REFERENCES \"organisation\" (\"id\") \
                 ON DELETE NO ACTION ON UPDATE NO ACTION",
    },
];

#[async_trait::async_trait]
impl MigrationTrait for NetworkForeignKeys {
    /// SQLite runs migrations outside a transaction by default: a table rebuild stopped half
    /// way would lose it.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE venue SET organisation_id = NULL \
             WHERE organisation_id IS NOT NULL \
             AND organisation_id NOT IN (SELECT id FROM organisation)",
        )
        .await?;
        add_foreign_keys(m, &KEYS).await?;
        if m.get_database_backend() != DbBackend::Sqlite {
            db.execute_unprepared(&format!(
                "ALTER TABLE audit_entry ADD COLUMN facilitator_id uuid \
                 GENERATED ALWAYS AS ({AUDIT_FACILITATOR}) STORED"
            ))
            .await?;
            db.execute_unprepared(
                "ALTER TABLE \"audit_entry\" ADD CONSTRAINT \"fk_audit_entry_facilitator\" \
                 FOREIGN KEY (\"facilitator_id\") REFERENCES \"facilitator\" (\"id\") \
                 ON DELETE NO ACTION ON UPDATE NO ACTION",
            )
            .await?;
            return Ok(());
        }
        // SQLite adds a virtual generated column with its key in place, without checking the
        // rows already there: the check below does.
        db.execute_unprepared(&format!(
            "ALTER TABLE audit_entry ADD COLUMN facilitator_id uuid_text \
             GENERATED ALWAYS AS ({AUDIT_FACILITATOR}) VIRTUAL \
             CONSTRAINT fk_audit_entry_facilitator REFERENCES facilitator (id) \
             ON DELETE NO ACTION ON UPDATE NO ACTION"
        ))
        .await?;
        check_foreign_keys(m).await
    }
}
