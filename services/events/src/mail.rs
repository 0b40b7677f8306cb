//! Mail to registrants: a mail outbox written in the transaction of the change it tells about,
//! and the sender loop that hands it to the transport (`mail.url`: SMTP, or `.eml` files).
//!
//! The raw tokens of mailed links exist only in the transaction that makes them, so the mail
//! is written there (`queue`): a rolled-back registration mails nothing, and a mail server
//! that is down only delays mail. One row per `dedupe_key` (one per registration and kind):
//! asking again re-queues that row, at most once per `events.mail_resend_minutes`, and never
//! while it is still queued. The sender loop (claims with `FOR UPDATE SKIP LOCKED`, backoff
//! on 4xx, parking on 5xx, blanking once sent, purging after `events.mail_retention_days`) is
//! the platform's, shared with the facilitators service ([`cafeia_platform::mail::outbox`]):
//! this table is its `mail_outbox`, `registration_id` the column saying what a row is about.
//!
//! Three ways to queue, by what the mail is about: [`queue`] (asked for again by the person:
//! re-queued at most once per interval), [`queue_once`] (an event that happens once per
//! registration: its seat, its reminder — a second attempt, another replica's included, finds
//! the key taken and queues nothing), and [`queue_coalesced`] (a session's change: the queued
//! mail is replaced by the latest content and waits a little more, so edits close together
//! make one mail).

use crate::storage::{
    JsonText, Rows,
    mail_message::{ActiveModel, Column, Entity, MailKind, MailStatus},
};
use cafeia_platform::{errors::AppResult, mail::Mail};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

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
/// is still told about. A row sent already is queued again: a new change is news. A parked row
/// stays parked: the server refused that mail for good, so sending its successor would be
/// refused too, and the row must stay visible to operators (and counted once) until the
/// retention sweep.
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
        if existing.status == MailStatus::Parked {
            return Ok(());
        }
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
        // Sent, or sent while this waited for it: the news goes in a new mail. Never a row
        // parked meanwhile (the filter): it stays as the sender left it.
        content(Entity::update_many(), &out.mail)
            .col_expr(Column::Status, Expr::value(MailStatus::Queued))
            .col_expr(Column::Attempts, Expr::value(0))
            .col_expr(Column::NextAttemptAt, Expr::value(now + window))
            .col_expr(Column::LastError, Expr::value(None::<String>))
            .col_expr(Column::CreatedAt, Expr::value(now))
            .col_expr(Column::SentAt, Expr::value(None::<DateTime<Utc>>))
            .filter(Column::Id.eq(existing.id))
            .filter(Column::Status.ne(MailStatus::Parked))
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

pub use cafeia_platform::mail::outbox::{MAX_DEFERRALS, Round, Sender, Waker, purge_before};
