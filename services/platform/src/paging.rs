//! Cursor pagination shared by the list endpoints: rows are ordered by their UUIDv7 id (creation
//! order), and the cursor is the last id of the previous page, so pages stay stable while rows
//! are added.

use crate::errors::AppError;
use uuid::Uuid;

pub use cafeia_api::page::{DEFAULT_LIMIT, MAX_LIMIT, Page};

/// The ids of a batch look-up, each once, checked (at most `MAX_BATCH`).
pub fn batch(query: &cafeia_api::batch::BatchQuery) -> Result<Vec<Uuid>, AppError> {
    query
        .distinct()
        .map_err(|why| AppError::invalid("ids", why))
}

/// The page size asked for, checked.
pub fn limit(requested: Option<u64>) -> Result<u64, AppError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err(AppError::invalid("limit", "doit être au moins 1")),
        Some(n) if n > MAX_LIMIT => Err(AppError::invalid(
            "limit",
            format!("au plus {MAX_LIMIT} par page"),
        )),
        Some(n) => Ok(n),
    }
}

pub fn cursor(value: Option<&str>) -> Result<Option<Uuid>, AppError> {
    value
        .map(|c| Uuid::parse_str(c).map_err(|_| AppError::invalid("cursor", "curseur invalide")))
        .transpose()
}

/// Cuts `rows` (fetched with `limit + 1`) to the page and says where the next one starts.
pub fn split<R>(mut rows: Vec<R>, limit: u64, id: impl Fn(&R) -> Uuid) -> (Vec<R>, Option<String>) {
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        rows.last().map(|r| id(r).to_string())
    } else {
        None
    };
    (rows, next_cursor)
}

/// Cuts `rows` (fetched with `limit + 1`) into a page of views.
pub fn page<R, T>(
    rows: Vec<R>,
    limit: u64,
    id: impl Fn(&R) -> Uuid,
    view: impl Fn(R) -> T,
) -> Page<T> {
    let (rows, next_cursor) = split(rows, limit, id);
    Page {
        items: rows.into_iter().map(view).collect(),
        next_cursor,
        total: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_page_points_to_the_next_one() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let (rows, next) = split(ids.clone(), 2, |id| *id);
        assert_eq!(rows, ids[..2].to_vec());
        assert_eq!(next, Some(ids[1].to_string()));
        let (rows, next) = split(ids.clone(), 3, |id| *id);
        assert_eq!((rows.len(), next), (3, None));
        assert!(limit(Some(0)).is_err() && limit(Some(MAX_LIMIT + 1)).is_err());
        assert_eq!(limit(None).ok(), Some(DEFAULT_LIMIT));
    }
}
