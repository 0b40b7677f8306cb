//! What the list and batch endpoints share: checked batch ids, and one consistent read for a
//! page and the count of the whole list it belongs to.

use cafeia_catalogue_api::{BatchQuery, MAX_BATCH};
use cafeia_platform::{AppError, db, errors::AppResult};
use sea_orm::{
    AccessMode, DatabaseConnection, DatabaseTransaction, DbErr, IsolationLevel, TransactionTrait,
};
use uuid::Uuid;

/// The ids of a batch look-up, checked (at most [`MAX_BATCH`]).
pub fn batch_ids(query: BatchQuery) -> AppResult<Vec<Uuid>> {
    if query.ids.len() > MAX_BATCH {
        return Err(AppError::invalid(
            "ids",
            format!("au plus {MAX_BATCH} identifiants par appel"),
        ));
    }
    Ok(query.ids)
}

/// A read-only transaction whose statements all see the same snapshot, so a page and its
/// total agree. PostgreSQL needs `REPEATABLE READ` for that (each statement of a `READ
/// COMMITTED` one sees its own); a deferred SQLite transaction reads one snapshot from its
/// first read on (WAL).
pub async fn snapshot(conn: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if db::is_postgres(conn) {
        conn.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await
    } else {
        conn.begin().await
    }
}
