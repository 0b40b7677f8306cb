//! Idempotent consumption: the id of each processed message is recorded in the same
//! transaction as the handler's effect, so a redelivered message has no second effect.
//! The record is kept for `bus.inbox_retention_days` (far longer than any redelivery: retries
//! and a lost consumer's redeliveries come within minutes), then purged by the outbox relay's
//! sweep ([`purge_before`]), so the table does not grow with every message ever consumed.

use crate::bus::HandlerError;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, TryInsertResult,
};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "processed_message")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub message_id: String,
        pub processed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{ActiveModel, Column, Entity};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Duplicate,
}

/// Runs `effect` once per (`consumer`, `message_id`), atomically with recording it.
pub async fn handle_once<F>(
    db: &DatabaseConnection,
    consumer: &str,
    message_id: &str,
    effect: F,
) -> Result<Outcome, HandlerError>
where
    F: for<'t> FnOnce(&'t DatabaseTransaction) -> BoxFuture<'t, Result<(), HandlerError>>,
{
    if message_id.is_empty() {
        return Err(HandlerError::Permanent("message has no id".into()));
    }
    let txn = crate::db::begin(db).await?;
    let inserted = Entity::insert(ActiveModel {
        consumer: Set(consumer.to_owned()),
        message_id: Set(message_id.to_owned()),
        processed_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([Column::Consumer, Column::MessageId])
    .exec_without_returning(&txn)
    .await?;
    match inserted {
        TryInsertResult::Inserted(n) if n > 0 => {}
        _ => {
            txn.rollback().await?;
            return Ok(Outcome::Duplicate);
        }
    }
    // On error the transaction is dropped, which rolls back the record and the effect together.
    effect(&txn).await?;
    txn.commit().await?;
    Ok(Outcome::Applied)
}

/// Forgets the messages processed before `cutoff` (every consumer's); returns how many.
pub async fn purge_before<C: ConnectionTrait>(
    conn: &C,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = Entity::delete_many()
        .filter(Column::ProcessedAt.lt(cutoff))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}
