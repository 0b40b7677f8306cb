//! Who did what to whom, and why: every staff decision and every venue change is recorded in
//! the same transaction as the change.

use crate::storage::audit;
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use uuid::Uuid;

pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &str,
    action: &str,
    subject_kind: &str,
    subject_id: Uuid,
    reason: Option<&str>,
) -> Result<(), DbErr> {
    audit::Entity::insert(audit::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        subject_kind: Set(subject_kind.to_owned()),
        subject_id: Set(subject_id),
        reason: Set(reason.map(str::to_owned)),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub at: chrono::DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub reason: Option<String>,
}

pub async fn trail<C: ConnectionTrait>(conn: &C, subject_id: Uuid) -> Result<Vec<Entry>, DbErr> {
    Ok(audit::Entity::find()
        .filter(audit::Column::SubjectId.eq(subject_id))
        .order_by_asc(audit::Column::At)
        .all(conn)
        .await?
        .into_iter()
        .map(|e| Entry {
            at: e.at,
            actor: e.actor,
            action: e.action,
            reason: e.reason,
        })
        .collect())
}
