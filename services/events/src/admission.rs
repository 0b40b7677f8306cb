//! Admission: registrations that arrive together for one session are decided together.
//!
//! Every seat decision needs the session's row lock, and a row lock is held until the commit
//! is on disk: taken one registration per transaction, a popular session lets one person in
//! per commit however many are waiting, and every hop between the service and the database
//! happens with the lock held. So requests for a session queue in process and are admitted in
//! batches: one transaction locks the session once, gives each person in arrival order a seat
//! or a place in the waiting list, inserts every row, announces each registration and the
//! session's seats once, and commits once. Alone, a request is a batch of one; under load the
//! batches grow by themselves. Several replicas stay correct: their batches queue on the same
//! row lock.
//!
//! Two kinds of people ask: signed-in citizens (a new row), and people confirming the
//! registration they asked for with an email (`Applicant::confirming`, the digest of their
//! link's token: the batch finds their unconfirmed row, which takes its seat, its waiting-list
//! place, or stays unconfirmed when the session is full). Neither reads the database before
//! joining the queue, so a burst of requests costs one transaction per batch. The first mail of
//! each registration taken (its seat or its waiting-list place, with the cancellation link) is
//! queued in the batch's transaction: the link's token exists nowhere else.

use crate::{
    config::EventsConfig,
    domain::RegistrationStatus,
    mail, notify, registrations, sessions,
    storage::{registration, session, unreadable},
};
use cafeia_platform::{
    AppError, ErrorCode,
    errors::AppResult,
    outbox,
    telemetry::{self, RequestContext},
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
    sea_query::{Expr, OnConflict},
};
use std::{
    collections::{HashMap, HashSet, hash_map::Entry},
    sync::{Arc, Mutex},
};
use tokio::sync::oneshot;
use uuid::Uuid;

/// Rows per transaction at most (bind parameters stay far below every backend's limit).
const MAX_BATCH: usize = 256;
/// Attempts at one batch: under the session lock nobody else registers to it, so a second
/// attempt settles who was registered already; a third covers a replica registering the same
/// person in between.
const ATTEMPTS: usize = 3;

/// A person asking for a place; checked already (who they are, consent, token digest).
pub struct Applicant {
    /// Who they are within the session (empty for a confirmation: its row says).
    pub identity: String,
    pub account: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub token_hash: Option<String>,
    /// The cancellation token whose digest is `token_hash`, for the first mail (with an
    /// address only).
    pub cancel_token: Option<String>,
    /// The digest of the confirmation token of the unconfirmed registration this person
    /// confirms (its row is updated, not inserted); `None` for a new registration.
    pub confirming: Option<String>,
}

/// A registration taken: the row, and the place in the waiting list when waitlisted.
pub struct Admitted {
    pub model: registration::Model,
    pub waitlist_position: Option<i64>,
}

struct Pending {
    applicant: Applicant,
    /// The request's trace context: its messages carry it.
    context: Option<RequestContext>,
    reply: oneshot::Sender<AppResult<Admitted>>,
}

/// The queues of the sessions being admitted to right now (an entry exists exactly while a
/// task drains it).
#[derive(Clone)]
pub struct Admissions {
    db: DatabaseConnection,
    waker: outbox::Waker,
    /// What the first mails' links need (`web_base_url`).
    settings: Arc<EventsConfig>,
    mail: mail::Waker,
    queues: Arc<Mutex<HashMap<Uuid, Vec<Pending>>>>,
}

impl Admissions {
    pub fn new(
        db: DatabaseConnection,
        waker: outbox::Waker,
        settings: EventsConfig,
        mail: mail::Waker,
    ) -> Self {
        Self {
            db,
            waker,
            settings: Arc::new(settings),
            mail,
            queues: Arc::default(),
        }
    }

    /// Admits `applicant` to `session_id` with whoever else is asking at the same moment.
    pub async fn admit(&self, session_id: Uuid, applicant: Applicant) -> AppResult<Admitted> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            applicant,
            context: telemetry::current(),
            reply,
        };
        let lead = match self.queues().entry(session_id) {
            Entry::Occupied(mut waiting) => {
                waiting.get_mut().push(pending);
                false
            }
            Entry::Vacant(slot) => {
                slot.insert(vec![pending]);
                true
            }
        };
        if lead {
            // The guard exists before the task: a task dropped before it first runs (a
            // runtime shutting down) still clears the queue.
            let guard = Drained {
                admissions: self.clone(),
                session_id,
                armed: true,
            };
            // A task of its own: a caller that goes away must not strand the others.
            tokio::spawn(guard.drain());
        }
        answer
            .await
            .map_err(|_| AppError::internal("admission interrupted"))?
    }

    fn queues(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Vec<Pending>>> {
        // A poisoned lock only means a panic elsewhere; the map itself is always whole.
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next people waiting for `session_id`, without those who stopped waiting (a client
    /// gone, a request timed out): nobody is registered without being told, and given the
    /// cancellation token. `None` (and the queue removed) once nobody is left.
    fn next_batch(&self, session_id: Uuid) -> Option<Vec<Pending>> {
        let mut queues = self.queues();
        loop {
            let waiting = queues.get_mut(&session_id)?;
            if waiting.is_empty() {
                queues.remove(&session_id);
                return None;
            }
            let n = waiting.len().min(MAX_BATCH);
            let batch: Vec<Pending> = waiting
                .drain(..n)
                .filter(|p| !p.reply.is_closed())
                .collect();
            if !batch.is_empty() {
                return Some(batch);
            }
        }
    }

    /// Decides `batch` and answers everyone in it. A batch that fails as a whole for a reason
    /// that is not the database's availability is split in halves until the request that
    /// fails is alone, so one bad request only affects itself.
    async fn admit_batch(&self, session_id: Uuid, batch: Vec<Pending>) {
        let mut work = vec![batch];
        while let Some(batch) = work.pop() {
            match decide(&self.db, &self.settings, session_id, &batch, ATTEMPTS).await {
                Ok(outcomes) => {
                    for (pending, outcome) in batch.into_iter().zip(outcomes) {
                        let _ = pending.reply.send(outcome);
                    }
                }
                Err(e) if batch.len() > 1 && e.code != ErrorCode::Unavailable => {
                    let mut first = batch;
                    let second = first.split_off(first.len() / 2);
                    // Second half pushed first: the first half, which arrived earlier, is
                    // decided first.
                    work.push(second);
                    work.push(first);
                }
                Err(e) => {
                    // Everyone hears the same answer; the first gets the error itself, so its
                    // cause is logged once.
                    let mut replies = batch.into_iter().map(|p| p.reply);
                    let first = replies.next();
                    for reply in replies {
                        let _ = reply.send(Err(AppError::new(e.code, e.detail.clone())));
                    }
                    if let Some(reply) = first {
                        let _ = reply.send(Err(e));
                    }
                }
            }
        }
        self.waker.wake();
        self.mail.wake();
    }
}

/// The task draining one session's queue. If it stops without emptying the queue (a panic, a
/// shutdown), dropping it removes the queue: the people still waiting get an error instead of
/// waiting forever, and the next request starts a new task.
struct Drained {
    admissions: Admissions,
    session_id: Uuid,
    armed: bool,
}

impl Drained {
    async fn drain(mut self) {
        while let Some(batch) = self.admissions.next_batch(self.session_id) {
            self.admissions.admit_batch(self.session_id, batch).await;
        }
        // `next_batch` removed the queue under the lock; a newer one may exist by now.
        self.armed = false;
    }
}

impl Drop for Drained {
    fn drop(&mut self) {
        if self.armed {
            self.admissions.queues().remove(&self.session_id);
        }
    }
}

/// The same refusal for everyone in `batch`; the first gets the error itself, so an
/// unexpected cause is logged once.
fn everyone(batch: &[Pending], why: AppError) -> Vec<AppResult<Admitted>> {
    let mut outcomes: Vec<AppResult<Admitted>> = batch
        .iter()
        .skip(1)
        .map(|_| Err(AppError::new(why.code, why.detail.clone())))
        .collect();
    outcomes.insert(0, Err(why));
    outcomes
}

fn lost() -> AppError {
    AppError::internal("registration outcome lost")
}

/// An outcome per applicant, in their order. The batch is decided as if nobody in it were
/// registered already (the usual case: no query to ask); the unique (session, identity) index
/// tells otherwise, and then the batch is decided again knowing who was — `attempts` times at
/// most, then everyone is told to try again.
async fn decide(
    db: &DatabaseConnection,
    settings: &EventsConfig,
    session_id: Uuid,
    batch: &[Pending],
    attempts: usize,
) -> AppResult<Vec<AppResult<Admitted>>> {
    let mut registered = HashSet::new();
    let mut gone = HashSet::new();
    for _ in 0..attempts {
        match attempt(db, settings, session_id, batch, &registered, &gone).await? {
            Attempt::Decided(outcomes) => return Ok(outcomes),
            Attempt::AlreadyRegistered(found) => registered.extend(found),
            Attempt::Gone(found) => gone.extend(found),
        }
    }
    Err(AppError::new(
        ErrorCode::RetryableConflict,
        "la session vient de changer : réessayez",
    ))
}

fn already_registered() -> AppError {
    AppError::new(
        ErrorCode::AlreadyRegistered,
        "déjà inscrit·e à cette session",
    )
}

/// What a confirmation meets when its registration was confirmed (a second click) or erased
/// (expired) in the meantime.
pub fn confirmation_unknown() -> AppError {
    AppError::not_found("lien de confirmation inconnu, expiré ou déjà utilisé")
}

enum Attempt {
    Decided(Vec<AppResult<Admitted>>),
    /// These identities hold a registration already; nothing was written.
    AlreadyRegistered(Vec<String>),
    /// These registrations are no longer waiting for confirmation; nothing was written.
    Gone(Vec<Uuid>),
}

/// A confirmation decided in a batch, written once the new rows are in.
struct Confirming {
    /// Its place among the batch's outcomes.
    index: usize,
    id: Uuid,
    status: RegistrationStatus,
    arrival: i64,
    waitlist_position: Option<i64>,
    token_hash: Option<String>,
    cancel_token: Option<String>,
    context: Option<RequestContext>,
}

/// One transaction for the whole batch.
async fn attempt(
    db: &DatabaseConnection,
    settings: &EventsConfig,
    session_id: Uuid,
    batch: &[Pending],
    registered: &HashSet<String>,
    gone: &HashSet<Uuid>,
) -> AppResult<Attempt> {
    let now = Utc::now();
    let txn = cafeia_platform::db::begin(db).await?;
    // The first statement takes the session's row lock (SQLite: the write lock, taken at BEGIN),
    // so whether the session takes registrations is decided on the row as it stands.
    let locked = session::Entity::update_many()
        .col_expr(
            session::Column::Arrivals,
            Expr::col(session::Column::Arrivals),
        )
        .filter(session::Column::Id.eq(session_id))
        .exec_with_returning(&txn)
        .await
        .map_err(unreadable::<session::Entity>)?
        .pop();
    let checked = match locked {
        None => Err(AppError::not_found("session inconnue")),
        Some(session) => sessions::admission(&session, now).map(|()| session),
    };
    let mut session = match checked {
        Ok(session) => session,
        Err(why) => {
            drop(txn);
            return Ok(Attempt::Decided(everyone(batch, why)));
        }
    };
    // The registrations the confirmations' tokens name, if they still wait, read under the
    // lock: nothing else confirms one meanwhile (a second click waits for this batch), so a
    // link used already (or expired, or forged) is told so rather than anything about seats.
    let asked: Vec<&str> = batch
        .iter()
        .filter_map(|p| p.applicant.confirming.as_deref())
        .collect();
    let waiting: HashMap<String, (Uuid, String)> = if asked.is_empty() {
        HashMap::new()
    } else {
        registration::Entity::find()
            .select_only()
            .column(registration::Column::ConfirmHash)
            .column(registration::Column::Id)
            .column(registration::Column::Identity)
            .filter(registration::Column::ConfirmHash.is_in(asked))
            .filter(registration::Column::SessionId.eq(session_id))
            .filter(registration::Column::Status.eq(RegistrationStatus::Unconfirmed))
            .filter(registration::Column::ConfirmBy.gt(now))
            .into_tuple::<(String, Uuid, String)>()
            .all(&txn)
            .await?
            .into_iter()
            .filter(|(_, id, _)| !gone.contains(id))
            .map(|(hash, id, identity)| (hash, (id, identity)))
            .collect()
    };
    let mut known = registered.clone();
    let mut refused = Vec::new();
    let mut rows = Vec::new();
    let mut confirmations: Vec<Confirming> = Vec::new();
    // Each registration taken, its place in the waiting list and its cancellation token.
    let mut first_mails: Vec<(registration::Model, Option<i64>, String)> = Vec::new();
    let mut messages = Vec::new();
    let mut outcomes = Vec::with_capacity(batch.len());
    for Pending {
        applicant, context, ..
    } in batch
    {
        let (identity, confirming) = match applicant.confirming.as_deref() {
            None => (applicant.identity.as_str(), None),
            // Used already (by this batch too: the same link twice), expired, or unknown.
            Some(hash) => match waiting.get(hash) {
                Some((id, identity)) if !known.contains(identity) => (identity.as_str(), Some(*id)),
                _ => {
                    outcomes.push(Err(confirmation_unknown()));
                    continue;
                }
            },
        };
        if known.contains(identity) {
            outcomes.push(Err(already_registered()));
            continue;
        }
        // Waitlisted people stay 0 exactly while seats remain (promotion fills freed seats
        // first), so nobody overtakes the waiting list.
        let seat_free = session
            .capacity
            .is_none_or(|c| session.confirmed < c && session.waitlisted == 0);
        let status = if seat_free {
            session.confirmed += 1;
            RegistrationStatus::Confirmed
        } else if session.waitlist_enabled {
            session.waitlisted += 1;
            RegistrationStatus::Waitlisted
        } else {
            // A confirmation holds its own identity: being full is its whole answer (it stays
            // unconfirmed, and may be confirmed again until it expires).
            if confirming.is_none() {
                refused.push((outcomes.len(), identity));
            }
            outcomes.push(Err(AppError::new(
                ErrorCode::SessionFull,
                "session complète (pas de liste d'attente)",
            )));
            continue;
        };
        known.insert(identity.to_owned());
        session.arrivals += 1;
        let waitlist_position =
            (status == RegistrationStatus::Waitlisted).then_some(i64::from(session.waitlisted));
        if let Some(id) = confirming {
            confirmations.push(Confirming {
                index: outcomes.len(),
                id,
                status,
                arrival: session.arrivals,
                waitlist_position,
                token_hash: applicant.token_hash.clone(),
                cancel_token: applicant.cancel_token.clone(),
                context: context.clone(),
            });
            // Filled in once the row is updated.
            outcomes.push(Err(lost()));
            continue;
        }
        let model = registration::Model {
            id: Uuid::now_v7(),
            session_id,
            identity: applicant.identity.clone(),
            account: applicant.account.clone(),
            email: applicant.email.clone(),
            name: applicant.name.clone(),
            // Kept only with consent (checked before).
            consent_at: applicant.email.as_ref().map(|_| now),
            status,
            position: session.arrivals,
            token_hash: applicant.token_hash.clone(),
            created_at: now,
            updated_at: now,
            erased_at: None,
            confirm_hash: None,
            confirm_by: None,
            reminders_off_at: None,
        };
        if let Some(token) = &applicant.cancel_token {
            first_mails.push((model.clone(), waitlist_position, token.clone()));
        }
        let kind = registrations::kind_of(status);
        messages.push(telemetry::with_context(context.clone(), || {
            registrations::change_envelope(kind, &model, waitlist_position, None)
        })?);
        rows.push(model.clone().into_active_model().reset_all());
        outcomes.push(Ok(Admitted {
            model,
            waitlist_position,
        }));
    }
    if !refused.is_empty() {
        // Someone refused for want of a seat may hold one already: that is the answer they
        // need. Only asked when a session without waiting list is full (few rows to look at).
        let holders: HashSet<String> = registration::Entity::find()
            .select_only()
            .column(registration::Column::Identity)
            .filter(registration::Column::SessionId.eq(session_id))
            .filter(registration::Column::Identity.is_in(refused.iter().map(|r| r.1)))
            .into_tuple::<String>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        for (i, identity) in refused {
            if holders.contains(identity) {
                outcomes[i] = Err(already_registered());
            }
        }
    }
    if rows.is_empty() && confirmations.is_empty() {
        // Nobody taken: the transaction ends without a change.
        return Ok(Attempt::Decided(outcomes));
    }
    let count = rows.len();
    if count > 0 {
        let inserted: HashSet<Uuid> = registration::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    registration::Column::SessionId,
                    registration::Column::Identity,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_with_returning_keys(&txn)
            .await?
            .into_iter()
            .collect();
        if inserted.len() < count {
            drop(txn);
            return Ok(Attempt::AlreadyRegistered(
                outcomes
                    .into_iter()
                    .flatten()
                    .filter(|a| !inserted.contains(&a.model.id))
                    .map(|a| a.model.identity)
                    .collect(),
            ));
        }
    }
    let mut missing = Vec::new();
    for Confirming {
        index,
        id,
        status,
        arrival,
        waitlist_position,
        token_hash,
        cancel_token,
        context,
    } in confirmations
    {
        // Still unconfirmed and in time, or someone clicked twice, or it expired meanwhile.
        let confirmed = registration::Entity::update_many()
            .col_expr(registration::Column::Status, Expr::value(status))
            .col_expr(registration::Column::Position, Expr::value(arrival))
            .col_expr(registration::Column::TokenHash, Expr::value(token_hash))
            .col_expr(
                registration::Column::ConfirmHash,
                Expr::value(None::<String>),
            )
            .col_expr(
                registration::Column::ConfirmBy,
                Expr::value(None::<chrono::DateTime<Utc>>),
            )
            .col_expr(registration::Column::UpdatedAt, Expr::value(now))
            .filter(registration::Column::Id.eq(id))
            .filter(registration::Column::SessionId.eq(session_id))
            .filter(registration::Column::Status.eq(RegistrationStatus::Unconfirmed))
            .filter(registration::Column::ConfirmBy.gt(now))
            .exec_with_returning(&txn)
            .await
            .map_err(unreadable::<registration::Entity>)?
            .pop();
        let Some(model) = confirmed else {
            missing.push(id);
            continue;
        };
        let kind = registrations::kind_of(status);
        messages.push(telemetry::with_context(context, || {
            registrations::change_envelope(kind, &model, waitlist_position, None)
        })?);
        if let Some(token) = cancel_token {
            first_mails.push((model.clone(), waitlist_position, token));
        }
        outcomes[index] = Ok(Admitted {
            model,
            waitlist_position,
        });
    }
    if !missing.is_empty() {
        drop(txn);
        return Ok(Attempt::Gone(missing));
    }
    let session = session::Entity::update_many()
        .col_expr(session::Column::Arrivals, Expr::value(session.arrivals))
        .col_expr(session::Column::Confirmed, Expr::value(session.confirmed))
        .col_expr(session::Column::Waitlisted, Expr::value(session.waitlisted))
        .filter(session::Column::Id.eq(session_id))
        .exec_with_returning(&txn)
        .await
        .map_err(unreadable::<session::Entity>)?
        .pop()
        .ok_or_else(lost)?;
    // Seats are announced once per batch: subscribers want the count as it stands.
    messages.push(telemetry::with_context(batch[0].context.clone(), || {
        sessions::seats_envelope(&session)
    })?);
    outbox::enqueue_many(&txn, &messages).await?;
    let mut mails = Vec::with_capacity(first_mails.len());
    for (model, position, token) in &first_mails {
        mails.extend(notify::first_mail(
            settings, &session, model, token, *position,
        )?);
    }
    mail::queue_once(&txn, mails, now).await?;
    txn.commit().await?;
    Ok(Attempt::Decided(outcomes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::{RegistrationMode, SessionStatus},
        storage::{JsonText, Zone},
    };
    use cafeia_platform::vocabulary::{Audience, Format, Level};
    use sea_orm::Database;
    use sea_orm_migration::MigratorTrait;

    fn applicant(identity: &str) -> (Pending, oneshot::Receiver<AppResult<Admitted>>) {
        let (reply, answer) = oneshot::channel();
        let applicant = Applicant {
            identity: identity.to_owned(),
            account: None,
            email: Some("ana@example.org".into()),
            name: None,
            token_hash: None,
            cancel_token: None,
            confirming: None,
        };
        let pending = Pending {
            applicant,
            context: None,
            reply,
        };
        (pending, answer)
    }

    /// A batch that keeps meeting people registered in the meantime (here, after one attempt
    /// out of one) tells everyone to try again, with a code a client can act on.
    #[tokio::test]
    async fn a_batch_not_settled_in_its_attempts_is_a_retryable_conflict() {
        let db = Database::connect("sqlite::memory:").await.expect("db");
        crate::storage::Migrator::up(&db, None)
            .await
            .expect("migrated");
        let now = Utc::now();
        // The session's facilitator, as the replica knows them (the session references them).
        let facilitator = crate::storage::facilitator::Model {
            id: Uuid::now_v7(),
            account: "account".into(),
            kind: cafeia_facilitators_api::FacilitatorKind::MediateurNumerique,
            status: cafeia_facilitators_api::FacilitatorStatus::Verified,
            as_of: now,
        };
        facilitator
            .clone()
            .into_active_model()
            .reset_all()
            .insert(&db)
            .await
            .expect("facilitator");
        let session_id = Uuid::now_v7();
        let session = session::Model {
            id: session_id,
            series_id: None,
            title: "Café IA".into(),
            description: String::new(),
            modules: JsonText(vec![]),
            topics: JsonText(vec![]),
            audiences: JsonText(vec![Audience::GeneralPublic]),
            languages: JsonText(vec!["fr".into()]),
            accessibility: JsonText(vec![]),
            co_facilitators: JsonText(vec![]),
            facilitator_id: facilitator.id,
            format: Format::Online,
            level: Level::Discovery,
            registration_mode: RegistrationMode::Open,
            waitlist_enabled: true,
            venue_id: None,
            place_name: None,
            address: None,
            insee: None,
            departement: None,
            region: None,
            lat: None,
            lon: None,
            online_url: Some("https://visio.example.org/x".into()),
            starts_at: now + chrono::Duration::days(2),
            ends_at: now + chrono::Duration::days(2) + chrono::Duration::hours(2),
            timezone: Zone(chrono_tz::Europe::Paris),
            capacity: Some(10),
            confirmed: 1,
            waitlisted: 0,
            arrivals: 1,
            status: SessionStatus::Published,
            status_reason: None,
            created_at: now,
            updated_at: now,
            revision: 1,
        };
        session
            .into_active_model()
            .reset_all()
            .insert(&db)
            .await
            .expect("session");
        let identity = "email:ana@example.org";
        registration::Model {
            id: Uuid::now_v7(),
            session_id,
            identity: identity.into(),
            account: None,
            email: Some("ana@example.org".into()),
            name: None,
            consent_at: Some(now),
            status: RegistrationStatus::Confirmed,
            position: 1,
            token_hash: None,
            created_at: now,
            updated_at: now,
            erased_at: None,
            confirm_hash: None,
            confirm_by: None,
            reminders_off_at: None,
        }
        .into_active_model()
        .reset_all()
        .insert(&db)
        .await
        .expect("registration");

        let (pending, _answer) = applicant(identity);
        let batch = vec![pending];
        let settings = EventsConfig::default();
        let refused = decide(&db, &settings, session_id, &batch, 1)
            .await
            .err()
            .map(|e| e.code);
        assert_eq!(refused, Some(ErrorCode::RetryableConflict));
        // With its usual attempts the batch settles: that person is registered already.
        let outcomes = decide(&db, &settings, session_id, &batch, ATTEMPTS)
            .await
            .expect("decided");
        let codes: Vec<Option<ErrorCode>> = outcomes
            .iter()
            .map(|o| o.as_ref().err().map(|e| e.code))
            .collect();
        assert_eq!(codes, vec![Some(ErrorCode::AlreadyRegistered)]);
    }
}
