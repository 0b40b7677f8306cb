//! Transactional outbox: a message is written in the same database transaction as the change
//! it announces, and a relay publishes it afterwards with publisher confirms.
//!
//! A rolled-back transaction therefore publishes nothing, and a broker outage only delays
//! messages: they stay in the table until a publish is confirmed. Publishing is at least once;
//! consumers use [`crate::inbox`] to make duplicates harmless.

use crate::bus::{Bus, BusError, Message};
use crate::envelope::{Envelope, MessageType};
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait, sea_query::ExprTrait,
    sea_query::LockBehavior, sea_query::LockType,
};
use std::{sync::Arc, time::Duration};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox_message")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub routing_key: String,
        pub payload: String,
        pub headers: String,
        pub created_at: DateTimeUtc,
        pub published_at: Option<DateTimeUtc>,
        pub attempts: i32,
        pub last_error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{ActiveModel, Column, Entity};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Records `envelope` for publication. Call it with the transaction that makes the change.
pub async fn enqueue<C, T>(conn: &C, kind: MessageType, envelope: &Envelope<T>) -> Result<(), DbErr>
where
    C: ConnectionTrait,
    T: serde::Serialize,
{
    Entity::insert(row(kind, envelope)?)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Records many messages in one statement (a batch of changes, bulk imports).
pub async fn enqueue_many<C, T>(
    conn: &C,
    messages: &[(MessageType, Envelope<T>)],
) -> Result<(), DbErr>
where
    C: ConnectionTrait,
    T: serde::Serialize,
{
    if messages.is_empty() {
        return Ok(());
    }
    let rows = messages
        .iter()
        .map(|(kind, envelope)| row(*kind, envelope))
        .collect::<Result<Vec<_>, _>>()?;
    Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The outbox row of one message, encoded as it will be published.
fn row<T: serde::Serialize>(
    kind: MessageType,
    envelope: &Envelope<T>,
) -> Result<ActiveModel, DbErr> {
    let message = Message::event(kind.routing_key(), envelope)
        .map_err(|e| DbErr::Custom(format!("cannot encode message: {e}")))?;
    Ok(ActiveModel {
        id: Set(envelope.id),
        routing_key: Set(message.routing_key),
        payload: Set(String::from_utf8(message.body)
            .map_err(|e| DbErr::Custom(format!("message is not UTF-8 JSON: {e}")))?),
        headers: Set(serde_json::to_string(&message.headers)
            .map_err(|e| DbErr::Custom(format!("cannot encode headers: {e}")))?),
        created_at: Set(envelope.time),
        published_at: Set(None),
        attempts: Set(0),
        last_error: Set(None),
    })
}

/// Messages not yet confirmed by the broker.
pub async fn pending_count<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    Entity::find()
        .filter(Column::PublishedAt.is_null())
        .count(conn)
        .await
}

/// After this many refused publications a row is parked (left in the table, skipped by the
/// relay, reported by `parked_count`) so one poison message cannot block the ones after it.
pub const MAX_PUBLISH_ATTEMPTS: i32 = 25;

/// Rows the relay gave up on; operators inspect `last_error` and reset `attempts` to retry.
pub async fn parked_count<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    Entity::find()
        .filter(Column::PublishedAt.is_null())
        .filter(Column::Attempts.gte(MAX_PUBLISH_ATTEMPTS))
        .count(conn)
        .await
}

/// The message a row holds, as the broker takes it.
fn message_of(row: &entity::Model) -> Message {
    Message {
        message_id: row.id.to_string(),
        routing_key: row.routing_key.clone(),
        body: row.payload.clone().into_bytes(),
        headers: serde_json::from_str(&row.headers).unwrap_or_default(),
    }
}

/// Wakes the relay right after a commit, so messages do not wait for the next poll.
#[derive(Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Publishes pending outbox rows in creation order.
#[derive(Clone)]
pub struct Relay {
    db: DatabaseConnection,
    bus: Arc<dyn Bus>,
    waker: Waker,
    pub batch_size: u64,
    pub poll_interval: Duration,
    pub retention: Duration,
    /// How long processed message ids are kept ([`crate::inbox::purge_before`]); the runtime
    /// sets it from `bus.inbox_retention_days`.
    pub inbox_retention: Duration,
    /// What the replay of a bus that dies with the process waits for (every consumer's
    /// queue bound, [`crate::runtime::Shared::consumers_bound`]); None: no wait.
    pub replay_after: Option<CancellationToken>,
    metrics: Option<crate::metrics::Metrics>,
}

impl Relay {
    pub fn new(db: DatabaseConnection, bus: Arc<dyn Bus>, waker: Waker) -> Self {
        Self {
            db,
            bus,
            waker,
            batch_size: 200,
            poll_interval: Duration::from_millis(200),
            retention: Duration::from_secs(7 * 24 * 3600),
            inbox_retention: Duration::from_secs(30 * 24 * 3600),
            replay_after: None,
            metrics: None,
        }
    }

    /// Reports pending and parked rows on these metrics.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    async fn report(&self) {
        let Some(metrics) = &self.metrics else { return };
        if let (Ok(pending), Ok(parked)) =
            (pending_count(&self.db).await, parked_count(&self.db).await)
        {
            metrics
                .outbox_pending
                .set(i64::try_from(pending).unwrap_or(i64::MAX));
            metrics
                .outbox_parked
                .set(i64::try_from(parked).unwrap_or(i64::MAX));
            if parked > 0 {
                tracing::error!(parked, "outbox messages parked after repeated refusals");
            }
        }
    }

    /// Runs until `cancel` fires. Broker outages back off up to 5 s and never lose rows.
    pub async fn run(self, cancel: CancellationToken) {
        if !self.bus.outlives_process() {
            if let Some(gate) = &self.replay_after {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = gate.cancelled() => {}
                }
            }
            match self.replay_sent().await {
                Ok(0) => {}
                Ok(replayed) => tracing::info!(
                    replayed,
                    "outbox: sent again what the in-process broker may have held at the last stop"
                ),
                Err(e) => tracing::warn!(error = %e, "outbox: could not send again what was sent"),
            }
        }
        let mut backoff = self.poll_interval;
        let mut last_purge = tokio::time::Instant::now();
        let mut last_report: Option<tokio::time::Instant> = None;
        loop {
            let wait = match self.publish_pending().await {
                Ok(n) if n as u64 >= self.batch_size => Duration::ZERO,
                Ok(_) => {
                    backoff = self.poll_interval;
                    if last_report.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                        last_report = Some(tokio::time::Instant::now());
                        self.report().await;
                    }
                    if last_purge.elapsed() > Duration::from_secs(600) {
                        last_purge = tokio::time::Instant::now();
                        if let Err(e) = self.purge_published().await {
                            tracing::warn!(error = %e, "outbox purge failed");
                        }
                        if let Err(e) = self.purge_processed().await {
                            tracing::warn!(error = %e, "processed messages purge failed");
                        }
                    }
                    self.poll_interval
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "outbox relay could not publish");
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    wait
                }
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = self.waker.0.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Publishes one batch; returns how many were confirmed. Rows are marked sent up to the
    /// first failure, in order; the rest of the batch is sent again later (it may have gone
    /// out already: publishing is at least once, and a message after a refused one can arrive
    /// before the refused one's retry — consumers ignore older states by their time or
    /// revision).
    pub async fn publish_pending(&self) -> Result<usize, OutboxError> {
        if crate::db::is_postgres(&self.db) {
            // Rows stay locked while we publish, so several replicas never send the same row
            // concurrently; SKIP LOCKED lets each take a different batch.
            let txn = self.db.begin().await?;
            let result = self.publish_batch(&txn, true).await;
            txn.commit().await?;
            result
        } else {
            // SQLite has one writer and one relay per file: no lock needed, and no long
            // transaction that would block the service's own writes.
            self.publish_batch(&self.db, false).await
        }
    }

    /// Sends again every row already sent and still kept (`retention`, at most the inbox's),
    /// oldest first,
    /// leaving them marked sent; returns how many. For a broker that dies with the process
    /// (the in-process one of embedded mode), a message sent and marked but not yet handled
    /// when the last process stopped — a crash, a kill — died with it. Consumers' inboxes,
    /// kept longer than these rows (`bus.inbox_retention_days` ≥ 7 days), make those already
    /// handled change nothing; older states are ignored by their revision or time.
    pub async fn replay_sent(&self) -> Result<usize, OutboxError> {
        // Only what the inboxes still remember (a shorter `bus.inbox_retention_days` than the
        // outbox's retention would otherwise apply a handled message twice).
        let kept = self.retention.min(self.inbox_retention);
        let since =
            Utc::now() - chrono::Duration::from_std(kept).unwrap_or(chrono::Duration::days(7));
        let mut replayed = 0;
        // Pages follow the sending order from the last row sent (not by offset, which would
        // read the table again from the start for every page).
        let mut after: Option<(chrono::DateTime<Utc>, uuid::Uuid)> = None;
        loop {
            let mut query = Entity::find().filter(Column::PublishedAt.gt(since));
            if let Some((at, id)) = after {
                query = query.filter(
                    sea_orm::Condition::any().add(Column::CreatedAt.gt(at)).add(
                        sea_orm::Condition::all()
                            .add(Column::CreatedAt.eq(at))
                            .add(Column::Id.gt(id)),
                    ),
                );
            }
            let rows = query
                .order_by_asc(Column::CreatedAt)
                .order_by_asc(Column::Id)
                .limit(self.batch_size)
                .all(&self.db)
                .await?;
            let Some(last) = rows.last() else {
                return Ok(replayed);
            };
            after = Some((last.created_at, last.id));
            let messages: Vec<Message> = rows.iter().map(message_of).collect();
            let (done, failure) = self.bus.publish_all(&messages).await;
            replayed += done;
            if let Some(e) = failure {
                return Err(e.into());
            }
        }
    }

    async fn publish_batch<C: ConnectionTrait>(
        &self,
        conn: &C,
        lock: bool,
    ) -> Result<usize, OutboxError> {
        let mut query = Entity::find()
            .filter(Column::PublishedAt.is_null())
            .filter(Column::Attempts.lt(MAX_PUBLISH_ATTEMPTS))
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .limit(self.batch_size);
        if lock {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = query.all(conn).await?;
        if rows.is_empty() {
            // Nothing to send: not even a word with the broker.
            return Ok(0);
        }
        let messages: Vec<Message> = rows.iter().map(message_of).collect();
        let (done, failure) = self.bus.publish_all(&messages).await;
        let sent: Vec<_> = rows.iter().take(done).map(|row| row.id).collect();
        if let (Some(e), Some(row)) = (&failure, rows.get(done)) {
            // Only a refusal of this message counts toward parking it: a broker that cannot be
            // reached is no fault of the row, and an outage must not park good messages.
            let refused = matches!(e, BusError::Refused(_) | BusError::Invalid(_));
            Entity::update_many()
                .col_expr(
                    Column::Attempts,
                    sea_orm::sea_query::Expr::col(Column::Attempts).add(i32::from(refused)),
                )
                .col_expr(
                    Column::LastError,
                    sea_orm::sea_query::Expr::value(e.to_string()),
                )
                .filter(Column::Id.eq(row.id))
                .exec(conn)
                .await?;
        }
        let count = sent.len();
        if !sent.is_empty() {
            Entity::update_many()
                .col_expr(
                    Column::PublishedAt,
                    sea_orm::sea_query::Expr::value(Utc::now()),
                )
                .filter(Column::Id.is_in(sent))
                .exec(conn)
                .await?;
        }
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(count),
        }
    }

    /// Deletes rows published longer ago than the retention period.
    pub async fn purge_published(&self) -> Result<u64, DbErr> {
        let cutoff = Utc::now()
            - chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::days(7));
        let result = Entity::delete_many()
            .filter(Column::PublishedAt.lt(cutoff))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }

    /// Deletes the ids of messages processed longer ago than the inbox retention period.
    pub async fn purge_processed(&self) -> Result<u64, DbErr> {
        let cutoff = Utc::now()
            - chrono::Duration::from_std(self.inbox_retention)
                .unwrap_or(chrono::Duration::days(30));
        crate::inbox::purge_before(&self.db, cutoff).await
    }
}
