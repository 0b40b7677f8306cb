//! Third migration: the events tables reference each other with foreign keys.
//!
//! | key | from → to | on delete |
//! |---|---|---|
//! | `fk_session_facilitator` | `session.facilitator_id` → `facilitator_replica.id` | refused |
//! | `fk_session_venue` | `session.venue_id` → `venue_replica.id` (none when online) | refused |
//! | `fk_registration_session` | `registration.session_id` → `session.id` | refused |
//! | `fk_attendance_report_session` | `attendance_report.session_id` → `session.id` | refused |
//!
//! What the code does today decides `ON DELETE`: nothing deletes a session (it is cancelled or
//! completed), a registration (erasure blanks its personal data and keeps the row for the
//! counts) or a report (a correction replaces it in place), so deleting a session that still
//! has any is refused rather than cascading away what was counted and announced. "Refused" is
//! `NO ACTION` (checked at the end of each statement) rather than `RESTRICT`, which SQLite
//! reports as a trigger failure that sea-orm does not recognise as a foreign-key violation.
//!
//! The replicas are filled from the bus, in whatever order messages arrive, so only sessions
//! point at them, never the other way round: a replica row is written (or ignored, when older
//! than the row already there) without looking at any other table, so no message, early or
//! late, can fail on a key. A session is written only once its facilitator and venue are in the
//! replica (creating one with an unknown facilitator or venue is refused by the handler before
//! any write), and the replica never deletes a row nor changes its id: an erased facilitator's
//! row is blanked, a removed venue is marked `removed`, precisely so the sessions held there
//! keep pointing at them. Co-facilitators are a JSON list (`co_facilitators`), checked on the
//! way in; no key can hold them.
//!
//! The keys are added by [`cafeia_platform::db::add_foreign_keys`] (on SQLite, a rebuild of each
//! table holding keys, in one transaction): a dangling reference already stored fails the
//! migration on both backends, and nothing of it is kept.

use cafeia_platform::db::{ForeignKey, add_foreign_keys, drop_foreign_keys};
use sea_orm_migration::prelude::*;

pub struct EventsForeignKeys;

impl MigrationName for EventsForeignKeys {
    fn name(&self) -> &str {
        "m20270115_000103_events_foreign_keys"
    }
}

/// In the order the SQLite rebuild needs: a table's keys reference tables rebuilt before it
/// (or not rebuilt at all: the replicas).
const KEYS: [ForeignKey; 4] = [
    ForeignKey {
        table: "session",
        name: "fk_session_facilitator",
        clause: "FOREIGN KEY (\"facilitator_id\") REFERENCES \"facilitator_replica\" (\"id\")",
    },
    ForeignKey {
        table: "session",
        name: "fk_session_venue",
        clause: "FOREIGN KEY (\"venue_id\") REFERENCES \"venue_replica\" (\"id\")",
    },
    ForeignKey {
        table: "registration",
        name: "fk_registration_session",
        clause: "FOREIGN KEY (\"session_id\") REFERENCES \"session\" (\"id\")",
    },
    ForeignKey {
        table: "attendance_report",
        name: "fk_attendance_report_session",
        clause: "FOREIGN KEY (\"session_id\") REFERENCES \"session\" (\"id\")",
    },
];

#[async_trait::async_trait]
impl MigrationTrait for EventsForeignKeys {
    /// SQLite runs migrations outside a transaction by default: a rebuild stopped half way
    /// would lose a table.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_foreign_keys(m, &KEYS).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_foreign_keys(m, &KEYS).await
    }
}
