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
//! PostgreSQL adds the constraints in place (checking the rows already there). SQLite cannot
//! add a constraint to an existing table: each table is rebuilt from its own definition (as
//! `sqlite_master` holds it) with the keys added, its rows copied, the old table dropped, the
//! new one renamed, its indexes recreated, all in one transaction. A dangling reference
//! already stored fails the migration on both backends, and nothing of it is kept.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;

pub struct CatalogueForeignKeys;

impl MigrationName for CatalogueForeignKeys {
    fn name(&self) -> &str {
        "m20261202_000102_catalogue_foreign_keys"
    }
}

/// A foreign key: the table holding it, its name, and its clause (the same SQL on both
/// backends).
struct Key {
    table: &'static str,
    name: &'static str,
    clause: &'static str,
}

/// In the order the SQLite rebuild needs: a table's keys reference tables rebuilt before it.
const KEYS: [Key; 4] = [
    Key {
        table: "training",
        name: "fk_training_provider",
        clause: "FOREIGN KEY (\"provider_id\") REFERENCES \"provider\" (\"id\")",
    },
    Key {
        table: "training_place",
        name: "fk_place_training",
        clause: "FOREIGN KEY (\"training_id\") REFERENCES \"training\" (\"id\") ON DELETE CASCADE",
    },
    Key {
        table: "training_session",
        name: "fk_session_training",
        clause: "FOREIGN KEY (\"training_id\") REFERENCES \"training\" (\"id\") ON DELETE CASCADE",
    },
    Key {
        table: "training_session",
        name: "fk_session_place",
        clause: "FOREIGN KEY (\"training_id\", \"insee\") \
                 REFERENCES \"training_place\" (\"training_id\", \"insee\")",
    },
];

/// The tables holding keys, in the order of `KEYS`.
const TABLES: [&str; 3] = ["training", "training_place", "training_session"];

/// `, CONSTRAINT "name" FOREIGN KEY …`: as it is appended to a table's definition.
fn constraint(key: &Key) -> String {
    format!(", CONSTRAINT \"{}\" {}", key.name, key.clause)
}

fn keys_of(table: &str) -> impl Iterator<Item = &'static Key> {
    KEYS.iter().filter(move |k| k.table == table)
}

#[async_trait::async_trait]
impl MigrationTrait for CatalogueForeignKeys {
    /// SQLite runs migrations outside a transaction by default: a rebuild stopped half way
    /// would lose a table.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() != DbBackend::Sqlite {
            for key in &KEYS {
                db.execute_unprepared(&format!(
                    "ALTER TABLE \"{}\" ADD CONSTRAINT \"{}\" {}",
                    key.table, key.name, key.clause
                ))
                .await?;
            }
            return Ok(());
        }
        for table in TABLES {
            rebuild(db, table, |definition| {
                add_keys(definition, keys_of(table).map(constraint))
            })
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() != DbBackend::Sqlite {
            for key in KEYS.iter().rev() {
                db.execute_unprepared(&format!(
                    "ALTER TABLE \"{}\" DROP CONSTRAINT \"{}\"",
                    key.table, key.name
                ))
                .await?;
            }
            return Ok(());
        }
        // Referencing tables first: a table is dropped only once nothing references it.
        for table in TABLES.iter().rev() {
            rebuild(db, table, |definition| {
                Ok(keys_of(table).fold(definition.to_owned(), |sql, key| {
                    sql.replace(&constraint(key), "")
                }))
            })
            .await?;
        }
        Ok(())
    }
}

/// `CREATE TABLE "t" (…)` with the constraints appended inside its parentheses.
fn add_keys(definition: &str, constraints: impl Iterator<Item = String>) -> Result<String, DbErr> {
    let end = definition
        .rfind(')')
        .ok_or_else(|| DbErr::Migration(format!("unexpected table definition {definition:?}")))?;
    let keys: String = constraints.collect();
    Ok(format!(
        "{}{keys}{}",
        &definition[..end],
        &definition[end..]
    ))
}

async fn texts<C: ConnectionTrait>(db: &C, sql: &str, table: &str) -> Result<Vec<String>, DbErr> {
    db.query_all_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        sql,
        [table.into()],
    ))
    .await?
    .iter()
    .map(|row| row.try_get_by_index::<String>(0))
    .collect()
}

/// Rebuilds an SQLite table with the definition `change` makes of its current one, keeping its
/// rows (checked against the new keys as they are copied) and its indexes.
async fn rebuild<C: ConnectionTrait>(
    db: &C,
    table: &str,
    change: impl Fn(&str) -> Result<String, DbErr>,
) -> Result<(), DbErr> {
    let definition = texts(
        db,
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
        table,
    )
    .await?
    .pop()
    .ok_or_else(|| DbErr::Migration(format!("no table {table}")))?;
    // Indexes declared with CREATE INDEX; those of the primary key and UNIQUE columns (no
    // `sql`) come back with the definition.
    let indexes = texts(
        db,
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        table,
    )
    .await?;
    let rebuilt = format!("{table}_rebuilt");
    let changed = change(&definition)?;
    // `CREATE TABLE "training" (` → `CREATE TABLE "training_rebuilt" (`.
    let open = changed
        .find('(')
        .ok_or_else(|| DbErr::Migration(format!("unexpected table definition {changed:?}")))?;
    db.execute_unprepared(&format!("CREATE TABLE \"{rebuilt}\" {}", &changed[open..]))
        .await?;
    db.execute_unprepared(&format!(
        "INSERT INTO \"{rebuilt}\" SELECT * FROM \"{table}\""
    ))
    .await?;
    db.execute_unprepared(&format!("DROP TABLE \"{table}\""))
        .await?;
    db.execute_unprepared(&format!("ALTER TABLE \"{rebuilt}\" RENAME TO \"{table}\""))
        .await?;
    for index in indexes {
        db.execute_unprepared(&index).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_go_inside_the_definition_and_come_out_again() {
        let definition = "CREATE TABLE \"training_place\" ( \"training_id\" uuid_text NOT NULL, \
                          PRIMARY KEY (\"training_id\", \"insee\") )";
        let with = add_keys(definition, keys_of("training_place").map(constraint)).expect("sql");
        assert!(
            with.ends_with("\"insee\") , CONSTRAINT \"fk_place_training\" FOREIGN KEY (\"training_id\") REFERENCES \"training\" (\"id\") ON DELETE CASCADE)"),
            "{with}"
        );
        let without =
            keys_of("training_place").fold(with, |sql, key| sql.replace(&constraint(key), ""));
        assert_eq!(without, definition);
        // Every table holding a key is rebuilt after the tables it references.
        let position = |table: &str| TABLES.iter().position(|t| *t == table);
        for key in &KEYS {
            let referenced = key
                .clause
                .split("REFERENCES \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("a referenced table");
            let own = position(key.table).expect("a rebuilt table");
            assert!(
                position(referenced).is_none_or(|p| p < own),
                "{} references a table rebuilt after it",
                key.name
            );
        }
    }
}
