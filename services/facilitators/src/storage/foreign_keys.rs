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
//! PostgreSQL adds the constraints in place. SQLite cannot add a constraint to an existing
//! table: `facilitator`, `facilitator_area` and `venue` are rebuilt (created anew with their
//! key, rows copied, old table dropped, new one renamed, indexes recreated), parents first, and
//! the generated column is added with its key; all in one transaction.

use super::{Facilitator, FacilitatorArea, Venue};
use cafeia_platform::db::columns::{id, text, text_null, timestamp};
use sea_orm::{DbBackend, Statement};
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

fn key(
    name: &str,
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(Alias::new(from.0), Alias::new(from.1))
        .to(Alias::new(to.0), Alias::new(to.1))
        .on_delete(on_delete)
        .on_update(ForeignKeyAction::NoAction)
        .to_owned()
}

fn facilitator_organisation() -> ForeignKeyCreateStatement {
    key(
        "fk_facilitator_organisation",
        ("facilitator", "organisation_id"),
        ("organisation", "id"),
        ForeignKeyAction::NoAction,
    )
}

fn area_facilitator() -> ForeignKeyCreateStatement {
    key(
        "fk_facilitator_area_facilitator",
        ("facilitator_area", "facilitator_id"),
        ("facilitator", "id"),
        ForeignKeyAction::Cascade,
    )
}

fn venue_organisation() -> ForeignKeyCreateStatement {
    key(
        "fk_venue_organisation",
        ("venue", "organisation_id"),
        ("organisation", "id"),
        ForeignKeyAction::NoAction,
    )
}

fn audit_facilitator() -> ForeignKeyCreateStatement {
    key(
        "fk_audit_entry_facilitator",
        ("audit_entry", "facilitator_id"),
        ("facilitator", "id"),
        ForeignKeyAction::NoAction,
    )
}

/// A table SQLite rebuilds: how it stands (as the first migration made it) under another
/// name, its foreign key, and the indexes dropped with the old table.
struct Rebuilt {
    table: &'static str,
    define: fn(&mut TableCreateStatement),
    key: fn() -> ForeignKeyCreateStatement,
    indexes: &'static [(&'static str, &'static str)],
}

/// Parents before children: a table is renamed to its final name before another references it.
const REBUILT: [Rebuilt; 3] = [
    Rebuilt {
        table: "facilitator",
        define: |t| {
            t.col(id(Facilitator::Id))
                .col(
                    ColumnDef::new(Facilitator::Sub)
                        .string_len(255)
                        .not_null()
                        .unique_key(),
                )
                .col(text(Facilitator::DisplayName))
                .col(text_null(Facilitator::Email))
                .col(ColumnDef::new(Facilitator::Kind).string_len(40).not_null())
                .col(ColumnDef::new(Facilitator::OrganisationId).uuid().null())
                .col(text(Facilitator::Territories))
                .col(text(Facilitator::Topics))
                .col(text(Facilitator::Languages))
                .col(
                    ColumnDef::new(Facilitator::TrainingCompletedOn)
                        .date()
                        .null(),
                )
                .col(
                    ColumnDef::new(Facilitator::Status)
                        .string_len(20)
                        .not_null(),
                )
                .col(text_null(Facilitator::StatusReason))
                .col(ColumnDef::new(Facilitator::Lat).double().null())
                .col(ColumnDef::new(Facilitator::Lon).double().null())
                .col(timestamp(Facilitator::CreatedAt))
                .col(timestamp(Facilitator::UpdatedAt))
                .col(
                    ColumnDef::new(Facilitator::ErasedAt)
                        .timestamp_with_time_zone()
                        .null(),
                );
        },
        key: facilitator_organisation,
        indexes: &[],
    },
    Rebuilt {
        table: "facilitator_area",
        define: |t| {
            t.col(
                ColumnDef::new(FacilitatorArea::FacilitatorId)
                    .uuid()
                    .not_null(),
            )
            .col(
                ColumnDef::new(FacilitatorArea::Departement)
                    .string_len(3)
                    .not_null(),
            )
            .col(
                ColumnDef::new(FacilitatorArea::Region)
                    .string_len(3)
                    .not_null(),
            )
            .primary_key(
                Index::create()
                    .col(FacilitatorArea::FacilitatorId)
                    .col(FacilitatorArea::Departement),
            );
        },
        key: area_facilitator,
        indexes: &[
            ("idx_area_departement", "departement"),
            ("idx_area_region", "region"),
        ],
    },
    Rebuilt {
        table: "venue",
        define: |t| {
            t.col(id(Venue::Id))
                .col(
                    ColumnDef::new(Venue::SourceId)
                        .string_len(255)
                        .null()
                        .unique_key(),
                )
                .col(text(Venue::Name))
                .col(text(Venue::Address))
                .col(ColumnDef::new(Venue::Postcode).string_len(5).not_null())
                .col(ColumnDef::new(Venue::Insee).string_len(5).not_null())
                .col(ColumnDef::new(Venue::Departement).string_len(3).not_null())
                .col(ColumnDef::new(Venue::Region).string_len(3).not_null())
                .col(ColumnDef::new(Venue::Lat).double().not_null())
                .col(ColumnDef::new(Venue::Lon).double().not_null())
                .col(text_null(Venue::OpeningHours))
                .col(text(Venue::Accessibility))
                .col(ColumnDef::new(Venue::Capacity).integer().null())
                .col(text(Venue::Services))
                .col(text(Venue::Publics))
                .col(ColumnDef::new(Venue::IsPublic).boolean().not_null())
                .col(ColumnDef::new(Venue::OrganisationId).uuid().null())
                .col(ColumnDef::new(Venue::CreatedBy).string_len(255).null())
                .col(timestamp(Venue::CreatedAt))
                .col(timestamp(Venue::UpdatedAt));
        },
        key: venue_organisation,
        indexes: &[
            ("idx_venue_departement", "departement"),
            ("idx_venue_insee", "insee"),
            ("idx_venue_lat", "lat"),
        ],
    },
];

impl Rebuilt {
    /// The table as it stands, named `name`, with its foreign key.
    fn with_key(&self, name: &str) -> TableCreateStatement {
        let mut create = Table::create();
        create.table(Alias::new(name));
        (self.define)(&mut create);
        let mut key = (self.key)();
        // Inside CREATE TABLE the key belongs to the table being created.
        key.from_tbl(Alias::new(name));
        create.foreign_key(&mut key).to_owned()
    }

    async fn rebuild(&self, m: &SchemaManager<'_>) -> Result<(), DbErr> {
        let db = m.get_connection();
        let table = self.table;
        let rebuilt = format!("{table}_rebuilt");
        let create = self.with_key(&rebuilt);
        let columns = create
            .get_columns()
            .iter()
            .map(|c| c.get_column_name())
            .collect::<Vec<_>>()
            .join(", ");
        m.create_table(create).await?;
        db.execute_unprepared(&format!(
            "INSERT INTO {rebuilt} ({columns}) SELECT {columns} FROM {table}"
        ))
        .await?;
        m.drop_table(Table::drop().table(Alias::new(table)).to_owned())
            .await?;
        db.execute_unprepared(&format!("ALTER TABLE {rebuilt} RENAME TO {table}"))
            .await?;
        for (name, column) in self.indexes {
            m.create_index(
                Index::create()
                    .name(*name)
                    .table(Alias::new(table))
                    .col(Alias::new(*column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

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
        if m.get_database_backend() != DbBackend::Sqlite {
            for key in [
                facilitator_organisation(),
                area_facilitator(),
                venue_organisation(),
            ] {
                m.create_foreign_key(key).await?;
            }
            db.execute_unprepared(&format!(
                "ALTER TABLE audit_entry ADD COLUMN facilitator_id uuid \
                 GENERATED ALWAYS AS ({AUDIT_FACILITATOR}) STORED"
            ))
            .await?;
            return m.create_foreign_key(audit_facilitator()).await;
        }
        for table in &REBUILT {
            table.rebuild(m).await?;
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
        let dangling = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA foreign_key_check",
            ))
            .await?;
        if let Some(row) = dangling.first() {
            let table: String = row.try_get_by_index(0)?;
            return Err(DbErr::Migration(format!(
                "{} row(s) reference a missing parent (first in table {table})",
                dangling.len()
            )));
        }
        Ok(())
    }
}
