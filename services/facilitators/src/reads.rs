//! How the service reads lists and batches: a page and its total from one snapshot, and the
//! ids of a batch look-up.

use cafeia_facilitators_api::{IdsQuery, MAX_IDS};
use cafeia_platform::{AppError, errors::AppResult};
use sea_orm::{
    AccessMode, DatabaseConnection, DatabaseTransaction, DbErr, IsolationLevel, TransactionTrait,
};
use std::collections::BTreeSet;
use uuid::Uuid;

/// A read-only transaction whose statements all see the same data, so that a page and the
/// `COUNT` of its whole list agree even while others write. PostgreSQL needs `REPEATABLE
/// READ` for that (each statement of a `READ COMMITTED` transaction takes a new snapshot); a
/// SQLite transaction (WAL) reads one snapshot from its first read on, and takes no lock.
pub async fn snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if cafeia_platform::db::is_postgres(db) {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await
    } else {
        db.begin().await
    }
}

/// The ids of a batch look-up (`?ids=a,b,c`), each once, in the order asked: at most
/// [`MAX_IDS`]; a malformed one is refused by name. Empty items (`a,,b`) are skipped.
pub fn ids(query: &IdsQuery) -> AppResult<Vec<Uuid>> {
    let mut seen = BTreeSet::new();
    let mut ids = Vec::new();
    for item in query
        .ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let id = Uuid::parse_str(item)
            .map_err(|_| AppError::invalid("ids", format!("identifiant invalide : {item:?}")))?;
        if seen.insert(id) {
            ids.push(id);
        }
    }
    if ids.len() > MAX_IDS {
        return Err(AppError::invalid(
            "ids",
            format!("au plus {MAX_IDS} identifiants par appel"),
        ));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_are_read_once_each_and_bounded() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let query = |ids: String| IdsQuery { ids };
        assert_eq!(ids(&query(format!("{a}, {b},,{a}"))).ok(), Some(vec![a, b]));
        assert_eq!(ids(&query(String::new())).ok(), Some(vec![]));
        let bad = ids(&query(format!("{a},pas-un-uuid"))).expect_err("refused");
        assert_eq!(bad.field(), Some("ids"));
        let many: Vec<Uuid> = (0..=MAX_IDS).map(|_| Uuid::now_v7()).collect();
        assert!(ids(&IdsQuery::new(&many)).is_err());
        assert!(ids(&IdsQuery::new(&many[..MAX_IDS])).is_ok());
    }
}
