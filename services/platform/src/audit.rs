//! Who did what to whom, when, and why: services record staff decisions and edits in the same
//! transaction as the change (the table comes with the platform's migrations).

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use uuid::Uuid;

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_entry")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub at: DateTimeUtc,
        pub actor: String,
        pub action: String,
        pub subject_kind: String,
        pub subject_id: Uuid,
        pub reason: Option<String>,
        /// What changed (e.g. the edited fields).
        pub detail: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity as audit;

pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &str,
    action: &str,
    subject_kind: &str,
    subject_id: Uuid,
    reason: Option<&str>,
) -> Result<(), DbErr> {
    record_change(conn, actor, action, subject_kind, subject_id, reason, None).await
}

/// Like [`record`], with what changed.
pub async fn record_change<C: ConnectionTrait>(
    conn: &C,
    actor: &str,
    action: &str,
    subject_kind: &str,
    subject_id: Uuid,
    reason: Option<&str>,
    detail: Option<&str>,
) -> Result<(), DbErr> {
    audit::Entity::insert(audit::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        subject_kind: Set(subject_kind.to_owned()),
        subject_id: Set(subject_id),
        reason: Set(reason.map(str::to_owned)),
        detail: Set(detail.map(str::to_owned)),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Records the same action on many subjects in one statement (bulk imports).
pub async fn record_many<C: ConnectionTrait>(
    conn: &C,
    actor: &str,
    action: &str,
    subject_kind: &str,
    subject_ids: &[Uuid],
) -> Result<(), DbErr> {
    if subject_ids.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    audit::Entity::insert_many(subject_ids.iter().map(|id| audit::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(now),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        subject_kind: Set(subject_kind.to_owned()),
        subject_id: Set(*id),
        reason: Set(None),
        detail: Set(None),
    }))
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
    pub detail: Option<String>,
}

/// Replaces an erased person's subject in the log, keeping what happened.
pub async fn anonymise_actor<C: ConnectionTrait>(conn: &C, actor: &str) -> Result<(), DbErr> {
    audit::Entity::update_many()
        .col_expr(
            audit::Column::Actor,
            sea_orm::sea_query::Expr::value("erased"),
        )
        .filter(audit::Column::Actor.eq(actor))
        .exec(conn)
        .await?;
    Ok(())
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
            detail: e.detail,
        })
        .collect())
}
