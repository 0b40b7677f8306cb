//! The review queue shared by programmes and modules: who may read it, and its order.

use crate::{domain::ReviewStatus, providers::catalogue_staff};
use cafeia_platform::{AppError, auth::Caller, errors::AppResult, stored::Rows};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Only national staff review the national catalogue; others are told why.
pub fn require_reviewer(caller: &Caller) -> AppResult<()> {
    if catalogue_staff(caller)? {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "la revue du catalogue est réservée à l'équipe nationale",
        ))
    }
}

/// The columns of a reviewed table the queue reads.
pub struct Columns<C> {
    pub id: C,
    pub status: C,
    /// Set on every (re)submission, so an item sent back after a refusal waits from then.
    pub updated_at: C,
}

/// At most `limit + 1` submitted items after the one with id `after`, the longest waiting
/// first (last submitted, then id): the caller splits off the extra row as the next cursor.
pub async fn submitted<E, D>(
    db: &D,
    columns: &Columns<E::Column>,
    after: Option<Uuid>,
    limit: u64,
) -> AppResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    D: ConnectionTrait,
{
    let mut select = E::find().filter(columns.status.eq(ReviewStatus::Submitted));
    if let Some(after) = after {
        let since: Option<DateTime<Utc>> = E::find()
            .filter(columns.id.eq(after))
            .select_only()
            .column(columns.updated_at)
            .into_tuple()
            .one(db)
            .await?;
        select = match since {
            Some(since) => select.filter(
                Condition::any().add(columns.updated_at.gt(since)).add(
                    Condition::all()
                        .add(columns.updated_at.eq(since))
                        .add(columns.id.gt(after)),
                ),
            ),
            // The item of the cursor is gone: the page goes on by id.
            None => select.filter(columns.id.gt(after)),
        };
    }
    Ok(select
        .order_by_asc(columns.updated_at)
        .order_by_asc(columns.id)
        .limit(limit + 1)
        .rows(db)
        .await?)
}
