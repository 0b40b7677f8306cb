//! The mail outbox a service keeps in its own database (a `mail_outbox` table) and the sender
//! loop that hands it to the transport: one piece for every service that mails (events to
//! registrants, facilitators to facilitators).
//!
//! A service writes the mail in the transaction of the change it tells about, so a rolled-back
//! change mails nothing and a mail server that is down only delays mail. Each row has a
//! `dedupe_key` (unique): a second attempt at one mail, another replica's included, finds the
//! key taken. What the mail is about is a nullable uuid column of the service's choosing
//! (`registration_id` for events, `about_id` for facilitators: [`create_table`]): the rows go
//! with what they are about when it is erased ([`forget`]).
//!
//! The loop is shaped like the platform's outbox relay: due rows are claimed with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL (replicas share the work; SQLite has one sender per
//! file), sent, and marked. A server refusing for now (SMTP 4xx) defers the row with a growing
//! delay; a refusal for good (5xx, an address that does not parse) or too many deferrals
//! parks it and counts it in `cafeia_mail_parked_total`; a server that cannot be reached
//! leaves the rows as they are and backs off. Once sent, a row's recipient and content are
//! blanked; sent and parked rows go after the service's retention ([`purge_before`]). Neither
//! the logs nor the metrics name an address: a row is named by its id and kind. A mail's
//! `Message-ID` comes from its row (id and queuing time), so a mail sent again after a crash
//! between the server's answer and the commit is the same message to the reader.

use super::{Attachment, Mail, MailMetrics, SendError, Transport};
use crate::columns::JsonText;
use crate::stored::Rows;
use chrono::{DateTime, Utc};
use row::{Column, Entity, Model};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{
        Alias, Expr, LockBehavior, LockType, OnConflict, Query, Table, TableCreateStatement,
    },
};
use sea_orm_migration::prelude::{ColumnDef, IndexCreateStatement};
use std::{sync::Arc, time::Duration};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The table's name, in every service's database.
pub const TABLE: &str = "mail_outbox";

/// Deferrals (SMTP 4xx) before a mail is parked: with delays doubling from one minute up to
/// an hour, about nine hours of trying.
pub const MAX_DEFERRALS: i32 = 12;

/// Rows sent per round.
const BATCH: u64 = 50;

/// Where a mail stands (stored as its snake_case name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
pub enum MailStatus {
    /// To send at `next_attempt_at`.
    Queued,
    /// Handed to the transport; recipient and content blanked.
    Sent,
    /// Given up on (refused for good, or deferred too many times); kept for operators until
    /// the retention sweep.
    Parked,
}

/// The columns every service's `mail_outbox` has, as the sender reads them. The column naming
/// what a row is about differs by service and is not read here. The kind is the service's
/// (its own enum, stored as text): here only the metrics label.
pub mod row {
    use super::{Attachment, JsonText, MailStatus};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub kind: String,
        pub dedupe_key: String,
        pub recipient: String,
        pub subject: String,
        pub text: String,
        pub html: Option<String>,
        pub attachments: JsonText<Vec<Attachment>>,
        pub status: MailStatus,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub last_error: Option<String>,
        pub created_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
        pub list_unsubscribe: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `mail_outbox` table of a service that starts mailing now, with `about` the nullable
/// uuid column naming what a row is about (no foreign key: what it names may live in any
/// table), and its indexes ([`create_indexes`]). Events' table, older, was made by its own
/// migrations with the same columns (`registration_id` its `about`).
pub fn create_table(about: &str) -> TableCreateStatement {
    use crate::db::columns::{id, int, short, text, text_null, timestamp, timestamp_null};
    Table::create()
        .table(Alias::new(TABLE))
        .col(id("id"))
        .col(short("kind", 40))
        .col(short("dedupe_key", 200))
        .col(text("recipient"))
        .col(text("subject"))
        .col(text("text"))
        .col(text_null("html"))
        .col(text("attachments"))
        .col(ColumnDef::new(Alias::new(about)).uuid().null())
        .col(short("status", 20))
        .col(int("attempts"))
        .col(timestamp("next_attempt_at"))
        .col(text_null("last_error"))
        .col(timestamp("created_at"))
        .col(timestamp_null("sent_at"))
        .col(text_null("list_unsubscribe"))
        .to_owned()
}

/// The indexes of [`create_table`]: due rows, rows by what they are about, one row per key.
pub fn create_indexes(about: &str) -> Vec<IndexCreateStatement> {
    use crate::db::columns::index;
    let mut unique = index(TABLE, "uq_mail_outbox_dedupe", &["dedupe_key"]);
    vec![
        index(TABLE, "idx_mail_outbox_due", &["status", "next_attempt_at"]),
        index(TABLE, &format!("idx_mail_outbox_{about}"), &[about]),
        unique.unique().to_owned(),
    ]
}

/// Drops [`create_table`]'s table (its indexes with it).
pub fn drop_table() -> sea_orm::sea_query::TableDropStatement {
    Table::drop().table(Alias::new(TABLE)).to_owned()
}

/// A mail to queue with [`queue_once`].
pub struct NewMail {
    /// The service's kind of mail (its templates, the metrics label).
    pub kind: &'static str,
    /// One row per key: `facilitator/<id>/<decision>/<audit id>`.
    pub dedupe_key: String,
    /// What it is about, in the table's `about` column: its mail goes when it is erased.
    pub about_id: Option<Uuid>,
    pub mail: Mail,
}

/// Queues each of `mails` whose key is free, with the caller's transaction (`about` names the
/// table's column for [`NewMail::about_id`]); returns how many were queued. A key once taken
/// stays taken until the retention sweep: for what happens once.
pub async fn queue_once<C: ConnectionTrait>(
    conn: &C,
    about: &str,
    mails: Vec<NewMail>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut queued = 0;
    let mut mails = mails.into_iter().peekable();
    while mails.peek().is_some() {
        let mut insert = Query::insert();
        insert.into_table(Alias::new(TABLE)).columns(
            [
                "id",
                "kind",
                "dedupe_key",
                "recipient",
                "subject",
                "text",
                "html",
                "attachments",
                about,
                "status",
                "attempts",
                "next_attempt_at",
                "last_error",
                "created_at",
                "sent_at",
                "list_unsubscribe",
            ]
            .map(Alias::new),
        );
        // Rows of 16 columns, 200 at a time: far below every backend's limit of bound
        // parameters.
        for new in mails.by_ref().take(200) {
            let attachments = serde_json::to_string(&new.mail.attachments)
                .map_err(|e| DbErr::Custom(format!("mail attachments: {e}")))?;
            insert
                .values([
                    Uuid::now_v7().into(),
                    new.kind.into(),
                    new.dedupe_key.into(),
                    new.mail.to.into(),
                    new.mail.subject.into(),
                    new.mail.text.into(),
                    new.mail.html.into(),
                    attachments.into(),
                    new.about_id.into(),
                    "queued".into(),
                    0i32.into(),
                    now.into(),
                    None::<String>.into(),
                    now.into(),
                    None::<DateTime<Utc>>.into(),
                    new.mail.list_unsubscribe.into(),
                ])
                .map_err(|e| DbErr::Custom(format!("mail outbox insert: {e}")))?;
        }
        insert.on_conflict(
            OnConflict::column(Alias::new("dedupe_key"))
                .do_nothing()
                .to_owned(),
        );
        queued += conn.execute(&insert).await?.rows_affected();
    }
    Ok(queued)
}

/// Deletes every row about `ids` (in the table's `about` column): an erasure.
pub async fn forget<C: ConnectionTrait>(conn: &C, about: &str, ids: &[Uuid]) -> Result<u64, DbErr> {
    let mut forgotten = 0;
    for chunk in ids.chunks(500) {
        let delete = Query::delete()
            .from_table(Alias::new(TABLE))
            .and_where(sea_orm::ExprTrait::is_in(
                Expr::col(Alias::new(about)),
                chunk.iter().copied(),
            ))
            .to_owned();
        forgotten += conn.execute(&delete).await?.rows_affected();
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
        if crate::db::is_postgres(&self.db) {
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
            Expr::value(JsonText(Vec::<Attachment>::new())),
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
