//! Second migration: the catalogue's tables reference each other with foreign keys.
//!
//! - `training.provider_id` → `provider`, deleting a provider with programmes refused (`NO
//!   ACTION`): nothing deletes a provider, and one still offering programmes must not vanish
//!   with them. (Not `RESTRICT`, which SQLite reports as a trigger failure rather than a
//!   foreign-key violation.)
//! - `training_place.training_id` and `training_session.training_id` → `training`,
//!   `ON DELETE CASCADE`: places and sessions are parts of their programme, always written with
//!   it (nothing deletes a programme today: it is withdrawn).
//! - `training_session (training_id, insee)` → `training_place`: a session is held in one of
//!   its programme's places (no check when `insee` is null: a programme with a single place).
//!   `NO ACTION`, checked at the end of each statement, so a programme's places and sessions
//!   can go together; its places are replaced after its sessions.
//!
//! The keys are added by [`cafeia_platform::db::add_foreign_keys`] (on SQLite, a rebuild of each
//! table holding keys, in one transaction): a dangling reference already stored fails the
//! migration on both backends, and nothing of it is kept.

use cafeia_platform::db::{ForeignKey, add_foreign_keys, drop_foreign_keys};
use sea_orm_migration::prelude::*;

pub struct CatalogueForeignKeys;

impl MigrationName for CatalogueForeignKeys {
    fn name(&self) -> &str {
        "m20261202_000102_catalogue_foreign_keys"
    }
}

/// In the order the SQLite rebuild needs: a table's keys reference tables rebuilt before it.
const KEYS: [ForeignKey; 4] = [
    ForeignKey {
        table: "training",
        name: "fk_training_provider",
        clause: "FOREIGN KEY (\"provider_id\") REFERENCES \"provider\" (\"id\")",
    },
    ForeignKey {
        table: "training_place",
        name: "fk_place_training",
        clause: "FOREIGN KEY (\"training_id\") REFERENCES \"training\" (\"id\") ON DELETE CASCADE",
    },
    ForeignKey {
        table: "training_session",
        name: "fk_session_training",
        clause: "FOREIGN KEY (\"training_id\") REFERENCES \"training\" (\"id\") ON DELETE CASCADE",
    },
    ForeignKey {
        table: "training_session",
        name: "fk_session_place",
        clause: "FOREIGN KEY (\"training_id\", \"insee\") \
                 REFERENCES \"training_place\" (\"training_id\", \"insee\")",
    },
];

#[async_trait::async_trait]
impl MigrationTrait for CatalogueForeignKeys {
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
