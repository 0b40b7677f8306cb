//! Mail to registrants: a mail outbox written in the transaction of the change it tells about,
//! and the sender loop that hands it to the transport (`mail.url`: SMTP, or `.eml` files).
//!
//! The raw tokens of mailed links exist only in the transaction that makes them, so the mail
//! is written there (`queue`): a rolled-back registration mails nothing, and a mail server
//! that is down only delays mail. One row per `dedupe_key` (one per registration and kind):
//! asking again re-queues that row, at most once per `events.mail_resend_minutes`, and never
//! while it is still queued. The loop is shaped like the platform's outbox relay: due rows
//! are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL (replicas share the work; SQLite
//! has one sender per file), sent, and marked. A server refusing for now (SMTP 4xx) defers
//! the row with a growing delay; a refusal for good (5xx, an address that does not parse) or
//! too many deferrals parks it and counts it in `cafeia_mail_parked_total`; a server that
//! cannot be reached leaves the rows as they are and backs off. Once sent, a row's recipient
//! and content are blanked. Neither the logs nor the metrics name an address: a row is named
//! by its id and kind. A mail's `Message-ID` comes from its row (id and queuing time), so a
//! mail sent again after a crash between the server's answer and the commit is the same
//! message to the reader.
//!
//! Three ways to queue, by what the mail is about: [`queue`] (asked for again by the person:
//! re-queued at most once per interval), [`queue_once`] (an event that happens once per
//! registration: its seat, its reminder — a second attempt, another replica's included, finds
//! the key taken and queues nothing), and [`queue_coalesced`] (a session's change: the queued
//! mail is replaced by the latest content and waits a little more, so edits close together
//! make one mail).

use crate::storage::{
    JsonText, Rows,
    mail_message::{ActiveModel, Column, Entity, MailKind, MailStatus, Model},
};
use cafeia_platform::{
    errors::AppResult,
    mail::{Mail, MailMetrics, SendError, Transport},
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{Expr, LockBehavior, LockType, OnConflict},
};
use std::{sync::Arc, time::Duration};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Deferrals (SMTP 4xx) before a mail is parked: with delays doubling from one minute up to
/// an hour, about nine hours of trying.
pub const MAX_DEFERRALS: i32 = 12;

/// Rows sent per round.
const BATCH: u64 = 50;

/// A mail to queue.
pub struct Outgoing {
    pub kind: MailKind,
    /// One row per key: `registration/<id>/<kind>`.
    pub dedupe_key: String,
    pub registration_id: Option<Uuid>,
    pub mail: Mail,
}

/// The key of the one mail of `kind` about `registration`.
pub fn registration_key(registration: Uuid, kind: MailKind) -> String {
    format!("registration/{registration}/{}", kind.as_str())
}

/// Queues `out` with the caller's transaction, unless its row is queued already or was last
/// queued less than `resend_after` ago. Returns whether it was queued: the caller makes the
/// change the mail carries (a new token) only then.
pub async fn queue<C: ConnectionTrait>(
    conn: &C,
    out: Outgoing,
    now: DateTime<Utc>,
    resend_after: chrono::Duration,
) -> AppResult<bool> {
    let existing = Entity::find()
        .filter(Column::DedupeKey.eq(out.dedupe_key.as_str()))
        .row(conn)
        .await?;
    let Some(existing) = existing else {
        // A concurrent request may have queued it first: then this one sends nothing.
        let inserted = Entity::insert(row_of(out, now, now))
            .on_conflict(
                OnConflict::column(Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
        return Ok(inserted == 1);
    };
    if existing.status == MailStatus::Queued || existing.created_at > now - resend_after {
        return Ok(false);
    }
    // Conditional, so two requests at once re-queue it once.
    let requeued = Entity::update_many()
        .col_expr(Column::Recipient, Expr::value(out.mail.to))
        .col_expr(Column::Subject, Expr::value(out.mail.subject))
        .col_expr(Column::Text, Expr::value(out.mail.text))
        .col_expr(Column::Html, Expr::value(out.mail.html))
        .col_expr(
            Column::Attachments,
            Expr::value(JsonText(out.mail.attachments)),
        )
        .col_expr(
            Column::ListUnsubscribe,
            Expr::value(out.mail.list_unsubscribe),
        )
        .col_expr(Column::Status, Expr::value(MailStatus::Queued))
        .col_expr(Column::Attempts, Expr::value(0))
        .col_expr(Column::NextAttemptAt, Expr::value(now))
        .col_expr(Column::LastError, Expr::value(None::<String>))
        .col_expr(Column::CreatedAt, Expr::value(now))
        .col_expr(Column::SentAt, Expr::value(None::<DateTime<Utc>>))
        .filter(Column::Id.eq(existing.id))
        .filter(Column::Status.ne(MailStatus::Queued))
        .filter(Column::CreatedAt.lte(now - resend_after))
        .exec(conn)
        .await?;
    Ok(requeued.rows_affected == 1)
}

fn row_of(out: Outgoing, now: DateTime<Utc>, due: DateTime<Utc>) -> ActiveModel {
    ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(out.kind),
        dedupe_key: Set(out.dedupe_key),
        recipient: Set(out.mail.to),
        subject: Set(out.mail.subject),
        text: Set(out.mail.text),
        html: Set(out.mail.html),
        attachments: Set(JsonText(out.mail.attachments)),
        registration_id: Set(out.registration_id),
        status: Set(MailStatus::Queued),
        attempts: Set(0),
        next_attempt_at: Set(due),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        list_unsubscribe: Set(out.mail.list_unsubscribe),
    }
}

/// Queues each of `outs` whose key is free, with the caller's transaction; returns how many
/// were queued. The key once taken stays taken (sent rows keep it until the retention sweep):
/// for what happens once per registration.
pub async fn queue_once<C: ConnectionTrait>(
    conn: &C,
    outs: Vec<Outgoing>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut queued = 0;
    let mut outs = outs.into_iter().peekable();
    while outs.peek().is_some() {
        // Rows of 16 columns: far below every backend's limit of bound parameters.
        let chunk: Vec<ActiveModel> = outs
            .by_ref()
            .take(200)
            .map(|o| row_of(o, now, now))
            .collect();
        queued += Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::column(Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(queued)
}

/// Queues `out`, or replaces the content of its row while still queued, to go `window` from
/// now — at most `4 × window` after it was first queued, so a session edited again and again
/// is still told about. A row sent (or parked) already is queued again: a new change is news.
/// The caller holds the session's lock, so edits of one session queue one at a time; a sender
/// holding the row (PostgreSQL) makes this wait for it, and a row just sent is queued again.
pub async fn queue_coalesced<C: ConnectionTrait>(
    conn: &C,
    out: Outgoing,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<(), DbErr> {
    let content = |update: sea_orm::UpdateMany<Entity>, mail: &Mail| {
        update
            .col_expr(Column::Recipient, Expr::value(mail.to.clone()))
            .col_expr(Column::Subject, Expr::value(mail.subject.clone()))
            .col_expr(Column::Text, Expr::value(mail.text.clone()))
            .col_expr(Column::Html, Expr::value(mail.html.clone()))
            .col_expr(
                Column::Attachments,
                Expr::value(JsonText(mail.attachments.clone())),
            )
            .col_expr(
                Column::ListUnsubscribe,
                Expr::value(mail.list_unsubscribe.clone()),
            )
    };
    let existing = Entity::find()
        .filter(Column::DedupeKey.eq(out.dedupe_key.as_str()))
        .row(conn)
        .await?;
    if let Some(existing) = existing {
        if existing.status == MailStatus::Queued {
            let due = (now + window).min(existing.created_at + window * 4);
            let replaced = content(Entity::update_many(), &out.mail)
                .col_expr(Column::NextAttemptAt, Expr::value(due))
                .filter(Column::Id.eq(existing.id))
                .filter(Column::Status.eq(MailStatus::Queued))
                .exec(conn)
                .await?;
            if replaced.rows_affected == 1 {
                return Ok(());
            }
        }
        // Sent, parked, or sent while this waited for it: the news goes in a new mail.
        content(Entity::update_many(), &out.mail)
            .col_expr(Column::Status, Expr::value(MailStatus::Queued))
            .col_expr(Column::Attempts, Expr::value(0))
            .col_expr(Column::NextAttemptAt, Expr::value(now + window))
            .col_expr(Column::LastError, Expr::value(None::<String>))
            .col_expr(Column::CreatedAt, Expr::value(now))
            .col_expr(Column::SentAt, Expr::value(None::<DateTime<Utc>>))
            .filter(Column::Id.eq(existing.id))
            .exec(conn)
            .await?;
        return Ok(());
    }
    Entity::insert(row_of(out, now, now + window))
        .on_conflict(
            OnConflict::column(Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Deletes the mail still queued about `registrations`, of `kinds` (news that no longer
/// holds: a change or a reminder of a session just cancelled).
pub async fn withdraw<C: ConnectionTrait>(
    conn: &C,
    registrations: &[Uuid],
    kinds: &[MailKind],
) -> Result<u64, DbErr> {
    let mut withdrawn = 0;
    for chunk in registrations.chunks(500) {
        withdrawn += Entity::delete_many()
            .filter(Column::RegistrationId.is_in(chunk.iter().copied()))
            .filter(Column::Kind.is_in(kinds.iter().copied()))
            .filter(Column::Status.eq(MailStatus::Queued))
            .exec(conn)
            .await?
            .rows_affected;
    }
    Ok(withdrawn)
}

/// Deletes the mail about `registrations` and its links (an erasure, an expired request).
pub async fn forget<C: ConnectionTrait>(conn: &C, registrations: &[Uuid]) -> Result<u64, DbErr> {
    let mut forgotten = 0;
    for chunk in registrations.chunks(500) {
        forgotten += Entity::delete_many()
            .filter(Column::RegistrationId.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?
            .rows_affected;
        crate::storage::mail_link::Entity::delete_many()
            .filter(crate::storage::mail_link::Column::RegistrationId.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
    }
    Ok(forgotten)
}

/// Deletes the rows sent or parked before `cutoff`.
pub async fn purge_before<C: ConnectionTrait>(
    conn: &C,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(Entity::delete_many()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(Column::Status.eq(MailStatus::Sent))
                        .add(Column::SentAt.lt(cutoff)),
                )
                .add(
                    Condition::all()
                        .add(Column::Status.eq(MailStatus::Parked))
                        .add(Column::CreatedAt.lt(cutoff)),
                ),
        )
        .exec(conn)
        .await?
        .rows_affected)
}

/// Wakes the sender right after a commit that queued mail.
#[derive(Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Rows sent, deferred or parked.
    pub handled: usize,
    /// The transport could not be used: the round stopped, the rows left as they were.
    pub unavailable: bool,
}

/// Sends due mail until shut down.
#[derive(Clone)]
pub struct Sender {
    db: DatabaseConnection,
    transport: Transport,
    metrics: MailMetrics,
    waker: Waker,
    poll: Duration,
}

impl Sender {
    pub fn new(
        db: DatabaseConnection,
        transport: Transport,
        metrics: MailMetrics,
        waker: Waker,
        poll: Duration,
    ) -> Self {
        Self {
            db,
            transport,
            metrics,
            waker,
            poll,
        }
    }

    /// Runs until `cancel` fires. An unreachable server or database backs off up to a minute.
    pub async fn run(self, cancel: CancellationToken) {
        let mut backoff = self.poll;
        loop {
            let wait = match self.send_due().await {
                Ok(round) if round.unavailable => {
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    wait
                }
                Ok(round) if round.handled as u64 >= BATCH => Duration::ZERO,
                Ok(_) => {
                    backoff = self.poll;
                    self.poll
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "mail sender could not read its outbox");
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(60));
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

    /// Sends one batch of due mail.
    pub async fn send_due(&self) -> Result<Round, DbErr> {
        if cafeia_platform::db::is_postgres(&self.db) {
            // The rows stay locked while they are sent, so replicas never send one twice;
            // SKIP LOCKED lets each take other rows.
            let txn = self.db.begin().await?;
            let round = self.send_batch(&txn, true).await;
            txn.commit().await?;
            round
        } else {
            // One sender per SQLite file, and no long transaction blocking the service's writes.
            self.send_batch(&self.db, false).await
        }
    }

    async fn send_batch<C: ConnectionTrait>(&self, conn: &C, lock: bool) -> Result<Round, DbErr> {
        let now = Utc::now();
        let mut due = Entity::find()
            .filter(Column::Status.eq(MailStatus::Queued))
            .filter(Column::NextAttemptAt.lte(now))
            .order_by_asc(Column::NextAttemptAt)
            .order_by_asc(Column::Id)
            .limit(BATCH);
        if lock {
            due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = due.rows(conn).await?;
        let mut round = Round::default();
        for row in rows {
            let kind = row.kind.as_str();
            match self.transport.send(&mail_of(&row)).await {
                Ok(()) => {
                    sent(conn, &row, Utc::now()).await?;
                    self.metrics.sent.with_label_values(&[kind]).inc();
                    tracing::debug!(mail = %row.id, kind, "mail sent");
                }
                Err(SendError::Unavailable(why)) => {
                    // No fault of this row: it stays due, and the round stops here.
                    note(conn, row.id, &why).await?;
                    tracing::warn!(mail = %row.id, kind, reason = %why, "mail transport unavailable; retrying later");
                    round.unavailable = true;
                    break;
                }
                Err(SendError::Deferred(why)) if row.attempts + 1 < MAX_DEFERRALS => {
                    let attempts = row.attempts + 1;
                    defer(conn, row.id, attempts, Utc::now() + delay(attempts), &why).await?;
                    self.metrics.deferred.with_label_values(&[kind]).inc();
                    tracing::info!(mail = %row.id, kind, attempts, reason = %why, "mail deferred by the server");
                }
                Err(SendError::Deferred(why) | SendError::Refused(why)) => {
                    park(conn, row.id, row.attempts + 1, &why).await?;
                    self.metrics.parked.with_label_values(&[kind]).inc();
                    tracing::error!(mail = %row.id, kind, reason = %why, "mail parked: refused by the server");
                }
            }
            round.handled += 1;
        }
        Ok(round)
    }
}

fn mail_of(row: &Model) -> Mail {
    Mail {
        to: row.recipient.clone(),
        subject: row.subject.clone(),
        text: row.text.clone(),
        html: row.html.clone(),
        attachments: row.attachments.0.clone(),
        list_unsubscribe: row.list_unsubscribe.clone(),
        // Re-queued (a new link asked for), the row is a new mail: its queuing time changed.
        message_id: Some(format!(
            "{}.{}",
            row.id.simple(),
            row.created_at.timestamp_millis()
        )),
    }
}

/// The wait after the `attempts`-th deferral: one minute, doubling, at most an hour.
fn delay(attempts: i32) -> chrono::Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(6);
    chrono::Duration::minutes(1i64 << doublings).min(chrono::Duration::hours(1))
}

/// Marks a row sent and blanks what it said and to whom: only its kind, key and dates stay.
/// Unless its content was replaced while it was being sent (a session edited again; SQLite,
/// where the row is not locked meanwhile): then it stays queued, to tell the latest news.
async fn sent<C: ConnectionTrait>(conn: &C, row: &Model, at: DateTime<Utc>) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(MailStatus::Sent))
        .col_expr(Column::SentAt, Expr::value(at))
        .col_expr(Column::Recipient, Expr::value(""))
        .col_expr(Column::Subject, Expr::value(""))
        .col_expr(Column::Text, Expr::value(""))
        .col_expr(Column::Html, Expr::value(None::<String>))
        .col_expr(
            Column::Attachments,
            Expr::value(JsonText(Vec::<cafeia_platform::mail::Attachment>::new())),
        )
        .col_expr(Column::ListUnsubscribe, Expr::value(None::<String>))
        .col_expr(Column::LastError, Expr::value(None::<String>))
        .filter(Column::Id.eq(row.id))
        .filter(Column::Text.eq(row.text.as_str()))
        .exec(conn)
        .await?;
    Ok(())
}

async fn note<C: ConnectionTrait>(conn: &C, id: Uuid, why: &str) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::LastError, Expr::value(why))
        .filter(Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

async fn defer<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    attempts: i32,
    next: DateTime<Utc>,
    why: &str,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Attempts, Expr::value(attempts))
        .col_expr(Column::NextAttemptAt, Expr::value(next))
        .col_expr(Column::LastError, Expr::value(why))
        .filter(Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

async fn park<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    attempts: i32,
    why: &str,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(MailStatus::Parked))
        .col_expr(Column::Attempts, Expr::value(attempts))
        .col_expr(Column::LastError, Expr::value(why))
        .filter(Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::delay;

    #[test]
    fn deferrals_wait_longer_each_time_up_to_an_hour() {
        let minutes: Vec<i64> = (1..=8).map(|a| delay(a).num_minutes()).collect();
        assert_eq!(minutes, vec![1, 2, 4, 8, 16, 32, 60, 60]);
    }
}
