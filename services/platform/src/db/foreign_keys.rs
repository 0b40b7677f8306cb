//! Adding foreign keys to tables that already hold rows, in a migration.
//!
//! PostgreSQL adds each constraint in place (`ALTER TABLE … ADD CONSTRAINT`, checking the rows
//! already there). SQLite cannot add a constraint to an existing table: each table holding keys
//! is rebuilt from its own definition (as `sqlite_master` holds it) with its keys appended, its
//! rows copied (checked against the keys as they are), the old table dropped, the new one
//! renamed and its indexes recreated, parents first; `PRAGMA foreign_key_check` then confirms
//! that nothing dangles. The migration must run in one transaction (`use_transaction` →
//! `Some(true)`: SQLite runs migrations outside one by default, and a rebuild stopped half way
//! would lose a table), so a dangling reference already stored fails it on both backends and
//! nothing of it is kept.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use sea_orm_migration::SchemaManager;

/// A foreign key: the table holding it, its name, and its clause (`FOREIGN KEY ("a") REFERENCES
/// "t" ("id") …`, the same SQL on both backends).
#[derive(Clone, Copy, Debug)]
pub struct ForeignKey {
    pub table: &'static str,
    pub name: &'static str,
    pub clause: &'static str,
}

impl ForeignKey {
    /// `, CONSTRAINT "name" FOREIGN KEY …`: as it is appended to a table's definition.
    fn constraint(&self) -> String {
        format!(", CONSTRAINT \"{}\" {}", self.name, self.clause)
    }

    /// The table the key references (`REFERENCES "t"`).
    fn referenced(&self) -> Option<&'static str> {
        self.clause
            .split("REFERENCES \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
    }
}

/// Adds `keys`, listed parents first: a key may reference only tables whose keys come before
/// it, or tables holding none.
pub async fn add_foreign_keys(m: &SchemaManager<'_>, keys: &[ForeignKey]) -> Result<(), DbErr> {
    let tables = rebuild_order(keys)?;
    let db = m.get_connection();
    if m.get_database_backend() != DbBackend::Sqlite {
        for key in keys {
            db.execute_unprepared(&format!(
                "ALTER TABLE \"{}\" ADD CONSTRAINT \"{}\" {}",
                key.table, key.name, key.clause
            ))
            .await?;
        }
        return Ok(());
    }
    for table in tables {
        rebuild(db, table, |definition| {
            add_keys(definition, keys_of(keys, table).map(ForeignKey::constraint))
        })
        .await?;
    }
    check_foreign_keys(m).await
}

/// Undoes [`add_foreign_keys`] with the same `keys`.
pub async fn drop_foreign_keys(m: &SchemaManager<'_>, keys: &[ForeignKey]) -> Result<(), DbErr> {
    let tables = rebuild_order(keys)?;
    let db = m.get_connection();
    if m.get_database_backend() != DbBackend::Sqlite {
        for key in keys.iter().rev() {
            db.execute_unprepared(&format!(
                "ALTER TABLE \"{}\" DROP CONSTRAINT \"{}\"",
                key.table, key.name
            ))
            .await?;
        }
        return Ok(());
    }
    // Referencing tables first: a table is dropped only once nothing references it.
    for table in tables.iter().rev() {
        rebuild(db, table, |definition| {
            Ok(
                keys_of(keys, table).fold(definition.to_owned(), |sql, key| {
                    sql.replace(&key.constraint(), "")
                }),
            )
        })
        .await?;
    }
    Ok(())
}

/// On SQLite, fails when a row references a missing parent (a key SQLite added without
/// checking the rows already there, such as one on a column added by `ALTER TABLE`). Nothing to
/// do on PostgreSQL, which checks every constraint as it is added.
pub async fn check_foreign_keys(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    if m.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    let dangling = m
        .get_connection()
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

fn keys_of<'k>(keys: &'k [ForeignKey], table: &'k str) -> impl Iterator<Item = &'k ForeignKey> {
    keys.iter().filter(move |k| k.table == table)
}

/// The tables holding keys, in the order of `keys`, refused when one references a table rebuilt
/// after it (on SQLite, dropping that parent would find the child's key already there).
fn rebuild_order(keys: &[ForeignKey]) -> Result<Vec<&'static str>, DbErr> {
    let mut tables: Vec<&'static str> = Vec::new();
    for key in keys {
        if !tables.contains(&key.table) {
            tables.push(key.table);
        }
    }
    for key in keys {
        let referenced = key.referenced().ok_or_else(|| {
            DbErr::Migration(format!(
                "key {}: no referenced table in {:?}",
                key.name, key.clause
            ))
        })?;
        let position = |table: &str| tables.iter().position(|t| *t == table);
        if position(referenced).is_some_and(|p| Some(p) > position(key.table)) {
            return Err(DbErr::Migration(format!(
                "key {}: {} is rebuilt after {}, which references it",
                key.name, referenced, key.table
            )));
        }
    }
    Ok(tables)
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
    // `CREATE TABLE "session" (` → `CREATE TABLE "session_rebuilt" (`.
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
    use sea_orm::Database;

    const KEYS: [ForeignKey; 2] = [
        ForeignKey {
            table: "child",
            name: "fk_child_parent",
            clause: "FOREIGN KEY (\"parent_id\") REFERENCES \"parent\" (\"id\") ON DELETE CASCADE",
        },
        ForeignKey {
            table: "grandchild",
            name: "fk_grandchild_child",
            clause: "FOREIGN KEY (\"child_id\") REFERENCES \"child\" (\"id\")",
        },
    ];

    #[test]
    fn keys_go_inside_the_definition_and_come_out_again() {
        let definition = "CREATE TABLE \"child\" ( \"id\" integer NOT NULL PRIMARY KEY, \
                          \"parent_id\" integer NOT NULL )";
        let with = add_keys(
            definition,
            keys_of(&KEYS, "child").map(ForeignKey::constraint),
        )
        .expect("sql");
        assert!(
            with.ends_with("NOT NULL , CONSTRAINT \"fk_child_parent\" FOREIGN KEY (\"parent_id\") REFERENCES \"parent\" (\"id\") ON DELETE CASCADE)"),
            "{with}"
        );
        let without =
            keys_of(&KEYS, "child").fold(with, |sql, key| sql.replace(&key.constraint(), ""));
        assert_eq!(without, definition);
    }

    #[test]
    fn parents_are_rebuilt_before_their_children() {
        assert_eq!(
            rebuild_order(&KEYS).expect("order"),
            ["child", "grandchild"]
        );
        let reversed = [KEYS[1], KEYS[0]];
        assert!(rebuild_order(&reversed).is_err());
    }

    async fn database() -> sea_orm::DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.expect("db");
        for sql in [
            "PRAGMA foreign_keys = ON",
            "CREATE TABLE \"parent\" ( \"id\" integer NOT NULL PRIMARY KEY )",
            "CREATE TABLE \"child\" ( \"id\" integer NOT NULL PRIMARY KEY, \"parent_id\" integer NOT NULL, \"name\" text )",
            "CREATE INDEX \"idx_child_name\" ON \"child\" (\"name\")",
            "CREATE TABLE \"grandchild\" ( \"id\" integer NOT NULL PRIMARY KEY, \"child_id\" integer NOT NULL )",
            "INSERT INTO parent VALUES (1)",
            "INSERT INTO child VALUES (10, 1, 'a')",
            "INSERT INTO grandchild VALUES (100, 10)",
        ] {
            db.execute_unprepared(sql).await.expect(sql);
        }
        db
    }

    async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
        db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .expect(sql)
            .expect("a row")
            .try_get_by_index(0)
            .expect("a count")
    }

    #[tokio::test]
    async fn an_sqlite_table_is_rebuilt_with_its_keys_rows_and_indexes() {
        let db = database().await;
        let m = SchemaManager::new(&db);
        add_foreign_keys(&m, &KEYS).await.expect("keys added");
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM pragma_foreign_key_list('child')").await,
            1
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM pragma_foreign_key_list('grandchild')"
            )
            .await,
            1
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM grandchild JOIN child ON child.id = child_id"
            )
            .await,
            1
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'idx_child_name'"
            )
            .await,
            1
        );
        // The keys hold: deleting the parent cascades to the child, which a grandchild keeps.
        assert!(db.execute_unprepared("DELETE FROM parent").await.is_err());

        drop_foreign_keys(&m, &KEYS).await.expect("keys dropped");
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM pragma_foreign_key_list('child')").await,
            0
        );
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM pragma_foreign_key_list('grandchild')"
            )
            .await,
            0
        );
    }

    #[tokio::test]
    async fn a_dangling_reference_fails() {
        let db = database().await;
        db.execute_unprepared("INSERT INTO grandchild VALUES (101, 99)")
            .await
            .expect("dangling row");
        let m = SchemaManager::new(&db);
        assert!(add_foreign_keys(&m, &KEYS).await.is_err());
    }
}
