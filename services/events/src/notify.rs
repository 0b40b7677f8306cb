//! Which mail each change queues for the people registered, in the transaction of the change
//! ([`crate::mail`] sends it). A registration without an address (signed in without consent,
//! erased) gets none.
//!
//! - Its seat or waiting-list place, once decided ([`first_mail`], in the admission batch):
//!   the only mail with the first cancellation link, whose token exists only there.
//! - Promoted to a seat ([`promoted`], with the seat decision), a change of time or place
//!   ([`session_changed`], coalesced), the session cancelled ([`session_cancelled`]), the
//!   reminder ([`queue_reminders`], a sweep): each carries a token of its own for its links
//!   (`mail_link`, one row per mail), so no mail breaks the link of another.
//! - A reminder's one-click unsubscription ([`stop_reminders`]) turns reminders off for that
//!   registration.
//!
//! Links point at the web app (`events.web_base_url`): `/annuler?jeton=…` opens a page that asks
//! before it cancels (a mail scanner following the link cancels nothing), and a reminder's
//! `List-Unsubscribe` at the gateway's [`paths::PUBLIC_UNSUBSCRIBE`].

use crate::{
    calendar::{self, Method},
    config::EventsConfig,
    mail::{self, Outgoing},
    notice_text::{self, Letter},
    registrations::{ACTIVE, digest, secret},
    storage::{
        Rows,
        mail_link::{self, LinkAction},
        mail_message::{self, MailKind},
        registration, session,
    },
};
use cafeia_events_api::{RegistrationStatus, SessionStatus, paths};
use cafeia_platform::{AppError, errors::AppResult};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::HashSet;
use uuid::Uuid;

/// The web page that cancels with `token` (after asking).
pub fn cancel_url(settings: &EventsConfig, token: &str) -> String {
    format!("{}/annuler?jeton={token}", settings.web_base_url)
}

fn unsubscribe_url(settings: &EventsConfig, token: &str) -> String {
    format!(
        "{}{}",
        settings.web_base_url,
        paths::PUBLIC_UNSUBSCRIBE.replace("{token}", token)
    )
}

/// A new token for `action` in the mail of `kind` about `registration`. The tokens of earlier
/// mails stay: each mail's links work as long as the registration is there.
async fn new_link<C: ConnectionTrait>(
    conn: &C,
    registration: Uuid,
    kind: MailKind,
    action: LinkAction,
    now: DateTime<Utc>,
) -> AppResult<String> {
    let token = secret()?;
    keep_link(conn, registration, kind, action, &token, now).await?;
    Ok(token)
}

/// Keeps the digest of `token`, the link for `action` in the mail of `kind`, beside those of
/// the mails before it.
async fn keep_link<C: ConnectionTrait>(
    conn: &C,
    registration: Uuid,
    kind: MailKind,
    action: LinkAction,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    mail_link::Entity::insert(mail_link::ActiveModel {
        token_hash: Set(digest(token)),
        registration_id: Set(registration),
        kind: Set(kind),
        action: Set(action),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The registration a mailed link's token names, for `action`.
pub async fn by_link<C: ConnectionTrait>(
    conn: &C,
    token_digest: &str,
    action: LinkAction,
) -> AppResult<Option<Uuid>> {
    Ok(mail_link::Entity::find()
        .filter(mail_link::Column::TokenHash.eq(token_digest))
        .filter(mail_link::Column::Action.eq(action))
        .row(conn)
        .await?
        .map(|l| l.registration_id))
}

fn outgoing(
    kind: MailKind,
    reg: &registration::Model,
    mail: cafeia_platform::mail::Mail,
) -> Outgoing {
    Outgoing {
        kind,
        dedupe_key: mail::registration_key(reg.id, kind),
        registration_id: Some(reg.id),
        mail,
    }
}

/// The first mail of a registration just decided: its seat (with the `.ics`) or its place in
/// the waiting list, with the cancellation link of `cancel_token` (made by the caller's
/// transaction, which keeps only its digest). `None` without an address.
pub fn first_mail(
    settings: &EventsConfig,
    session: &session::Model,
    reg: &registration::Model,
    cancel_token: &str,
    waitlist_position: Option<i64>,
) -> AppResult<Option<Outgoing>> {
    let Some(to) = reg.email.as_deref() else {
        return Ok(None);
    };
    let cancel = cancel_url(settings, cancel_token);
    let seat = reg.status == RegistrationStatus::Confirmed;
    let letter = Letter { to, session, seat };
    Ok(Some(if seat {
        let ics = calendar::invitation(session, Method::Publish, true, &settings.organizer)?;
        outgoing(
            MailKind::SeatConfirmed,
            reg,
            notice_text::seat_confirmed(&letter, &cancel, ics),
        )
    } else {
        outgoing(
            MailKind::Waitlisted,
            reg,
            notice_text::waitlisted(&letter, waitlist_position.unwrap_or(1), &cancel),
        )
    }))
}

/// `reg`, just promoted from the waiting list, is told, with « je libère ma place ».
pub async fn promoted<C: ConnectionTrait>(
    conn: &C,
    settings: &EventsConfig,
    session: &session::Model,
    reg: &registration::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(to) = reg.email.as_deref() else {
        return Ok(());
    };
    let token = new_link(conn, reg.id, MailKind::Promoted, LinkAction::Cancel, now).await?;
    let letter = Letter {
        to,
        session,
        seat: true,
    };
    let ics = calendar::invitation(session, Method::Publish, true, &settings.organizer)?;
    let mail = notice_text::promoted(&letter, &cancel_url(settings, &token), ics);
    mail::queue_once(conn, vec![outgoing(MailKind::Promoted, reg, mail)], now).await?;
    Ok(())
}

/// Whether registrants need to hear of the edit from `before` to `after`: its time or its
/// place changed.
pub fn changed(before: &session::Model, after: &session::Model) -> bool {
    before.starts_at != after.starts_at
        || before.ends_at != after.ends_at
        || before.timezone != after.timezone
        || before.format != after.format
        || before.venue_id != after.venue_id
        || before.place_name != after.place_name
        || before.address != after.address
        || before.online_url != after.online_url
}

/// The registration's active people with an address, in arrival order.
async fn reachable<C: ConnectionTrait>(
    conn: &C,
    session_id: Uuid,
) -> AppResult<Vec<registration::Model>> {
    Ok(registration::Entity::find()
        .filter(registration::Column::SessionId.eq(session_id))
        .filter(registration::Column::Status.is_in(ACTIVE))
        .filter(registration::Column::Email.is_not_null())
        .order_by_asc(registration::Column::Position)
        .rows(conn)
        .await?)
}

/// Everyone registered to `session` (as it now is) hears of its new time or place, with the
/// updated `.ics` (same UID, its new SEQUENCE). Coalesced: the mail waits
/// `events.mail_coalesce_minutes`, and a later edit meanwhile replaces its content (so the
/// one mail sent says what holds then). Returns how many registrations were mailed.
pub async fn session_changed<C: ConnectionTrait>(
    conn: &C,
    settings: &EventsConfig,
    session: &session::Model,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let people = reachable(conn, session.id).await?;
    for reg in &people {
        let to = reg.email.as_deref().unwrap_or_default();
        let seat = reg.status == RegistrationStatus::Confirmed;
        let token = new_link(
            conn,
            reg.id,
            MailKind::SessionChanged,
            LinkAction::Cancel,
            now,
        )
        .await?;
        let ics = calendar::invitation(session, Method::Publish, seat, &settings.organizer)?;
        let letter = Letter { to, session, seat };
        let mail = notice_text::session_changed(&letter, &cancel_url(settings, &token), ics);
        mail::queue_coalesced(
            conn,
            outgoing(MailKind::SessionChanged, reg, mail),
            now,
            settings.coalesce_window(),
        )
        .await?;
    }
    Ok(people.len())
}

/// Mail still queued that a cancellation makes pointless.
const STALE_ONCE_CANCELLED: [MailKind; 5] = [
    MailKind::SeatConfirmed,
    MailKind::Waitlisted,
    MailKind::Promoted,
    MailKind::SessionChanged,
    MailKind::Reminder,
];

/// Everyone registered to `session`, cancelled (its status and reason set already), hears of
/// it with `METHOD:CANCEL`; what was still queued for them goes. Call before their
/// registrations are cancelled.
pub async fn session_cancelled<C: ConnectionTrait>(
    conn: &C,
    settings: &EventsConfig,
    session: &session::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if session.status != SessionStatus::Cancelled {
        return Err(AppError::internal(
            "cancellation mail for a session not cancelled",
        ));
    }
    let people = reachable(conn, session.id).await?;
    let ids: Vec<Uuid> = people.iter().map(|r| r.id).collect();
    mail::withdraw(conn, &ids, &STALE_ONCE_CANCELLED).await?;
    let search = format!("{}/", settings.web_base_url);
    let mut outs = Vec::with_capacity(people.len());
    for reg in &people {
        let to = reg.email.as_deref().unwrap_or_default();
        let letter = Letter {
            to,
            session,
            seat: reg.status == RegistrationStatus::Confirmed,
        };
        let ics = calendar::invitation(session, Method::Cancel, false, &settings.organizer)?;
        outs.push(outgoing(
            MailKind::SessionCancelled,
            reg,
            notice_text::session_cancelled(&letter, &search, ics),
        ));
    }
    mail::queue_once(conn, outs, now).await?;
    Ok(())
}

/// Registrations reminded per transaction.
const REMINDER_BATCH: usize = 100;

/// Queues the reminder of every seat in sessions starting within `events.reminder_hours`,
/// once per registration, then commits. Those who registered within that time had everything
/// in their confirmation; those who turned reminders off get none. Replicas may sweep at the
/// same time: the reminder's key is taken by one of them, and only the one that took it makes
/// the links (a transaction meeting the key of another waits for it, then queues nothing).
/// Returns how many reminders this sweep queued.
pub async fn queue_reminders(
    db: &DatabaseConnection,
    settings: &EventsConfig,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let lead = settings.reminder_lead();
    let soon = session::Entity::find()
        .filter(session::Column::Status.eq(SessionStatus::Published))
        .filter(session::Column::StartsAt.gt(now))
        .filter(session::Column::StartsAt.lte(now + lead))
        .order_by_asc(session::Column::StartsAt)
        .rows(db)
        .await?;
    let mut queued = 0;
    for s in soon {
        let seats = registration::Entity::find()
            .filter(registration::Column::SessionId.eq(s.id))
            .filter(registration::Column::Status.eq(RegistrationStatus::Confirmed))
            .filter(registration::Column::Email.is_not_null())
            .filter(registration::Column::RemindersOffAt.is_null())
            .filter(registration::Column::CreatedAt.lte(s.starts_at - lead))
            .order_by_asc(registration::Column::Id)
            .rows(db)
            .await?;
        if seats.is_empty() {
            continue;
        }
        // Those reminded already (the sweep runs every few minutes): no token made for them.
        // The reminder's row is purged `events.mail_retention_days` after it went, its links
        // stay as long as the registration: either says it was reminded, so a purge never
        // frees a reminder to go again.
        let ids = || seats.iter().map(|r| r.id);
        let mut reminded: HashSet<Uuid> = mail_message::Entity::find()
            .select_only()
            .column(mail_message::Column::RegistrationId)
            .filter(mail_message::Column::Kind.eq(MailKind::Reminder))
            .filter(mail_message::Column::RegistrationId.is_in(ids()))
            .into_tuple::<Option<Uuid>>()
            .all(db)
            .await?
            .into_iter()
            .flatten()
            .collect();
        reminded.extend(
            mail_link::Entity::find()
                .select_only()
                .column(mail_link::Column::RegistrationId)
                .filter(mail_link::Column::Kind.eq(MailKind::Reminder))
                .filter(mail_link::Column::RegistrationId.is_in(ids()))
                .into_tuple::<Uuid>()
                .all(db)
                .await?,
        );
        let due: Vec<&registration::Model> =
            seats.iter().filter(|r| !reminded.contains(&r.id)).collect();
        for chunk in due.chunks(REMINDER_BATCH) {
            let txn = cafeia_platform::db::begin(db).await?;
            for reg in chunk {
                queued += remind(&txn, settings, &s, reg, now).await?;
            }
            txn.commit().await?;
        }
    }
    Ok(queued)
}

/// Queues `reg`'s reminder unless its key is taken; its links only then.
async fn remind<C: ConnectionTrait>(
    conn: &C,
    settings: &EventsConfig,
    session: &session::Model,
    reg: &registration::Model,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let to = reg.email.as_deref().unwrap_or_default();
    let (cancel, stop) = (secret()?, secret()?);
    let letter = Letter {
        to,
        session,
        seat: true,
    };
    let mail = notice_text::reminder(
        &letter,
        &cancel_url(settings, &cancel),
        &unsubscribe_url(settings, &stop),
    );
    let queued = mail::queue_once(conn, vec![outgoing(MailKind::Reminder, reg, mail)], now).await?;
    if queued == 1 {
        for (token, action) in [
            (&cancel, LinkAction::Cancel),
            (&stop, LinkAction::StopReminders),
        ] {
            keep_link(conn, reg.id, MailKind::Reminder, action, token, now).await?;
        }
    }
    Ok(queued)
}

/// Turns the reminders of the registration `token` names off (a reminder still queued goes
/// too). `false` when the token names none. Asking twice is fine.
pub async fn stop_reminders<C: ConnectionTrait>(
    conn: &C,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    if !cafeia_platform::auth::is_secret_shaped(token) {
        return Ok(false);
    }
    let digest = digest(&token.to_ascii_lowercase());
    let Some(id) = by_link(conn, &digest, LinkAction::StopReminders).await? else {
        return Ok(false);
    };
    registration::Entity::update_many()
        .col_expr(
            registration::Column::RemindersOffAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(registration::Column::Id.eq(id))
        .filter(registration::Column::RemindersOffAt.is_null())
        .exec(conn)
        .await?;
    mail::withdraw(conn, &[id], &[MailKind::Reminder]).await?;
    Ok(true)
}
