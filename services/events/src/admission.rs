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

use crate::{
    registrations::{self, CONFIRMED, WAITLISTED},
    sessions,
    storage::{registration, session},
};
use cafeia_platform::{AppError, ErrorCode, errors::AppResult, outbox};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, TransactionTrait,
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

/// A person asking for a place; checked already (who they are, consent, token digest).
pub struct Applicant {
    pub identity: String,
    pub account: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub token_hash: Option<String>,
}

/// A registration taken: the row, and the place in the waiting list when waitlisted.
pub struct Admitted {
    pub model: registration::Model,
    pub waitlist_position: Option<i64>,
}

struct Pending {
    applicant: Applicant,
    reply: oneshot::Sender<AppResult<Admitted>>,
}

/// The queues of the sessions being admitted to right now (an entry exists exactly while a
/// task drains it).
#[derive(Clone)]
pub struct Admissions {
    db: DatabaseConnection,
    waker: outbox::Waker,
    queues: Arc<Mutex<HashMap<Uuid, Vec<Pending>>>>,
}

impl Admissions {
    pub fn new(db: DatabaseConnection, waker: outbox::Waker) -> Self {
        Self {
            db,
            waker,
            queues: Arc::default(),
        }
    }

    /// Admits `applicant` to `session_id` with whoever else is asking at the same moment.
    pub async fn admit(&self, session_id: Uuid, applicant: Applicant) -> AppResult<Admitted> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending { applicant, reply };
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
            // A task of its own: a caller that goes away must not strand the others.
            tokio::spawn(self.clone().drain(session_id));
        }
        answer
            .await
            .map_err(|_| AppError::internal("admission interrupted"))?
    }

    fn queues(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Vec<Pending>>> {
        // A poisoned lock only means a panic elsewhere; the map itself is always whole.
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn drain(self, session_id: Uuid) {
        let mut guard = Drained {
            admissions: &self,
            session_id,
            armed: true,
        };
        loop {
            let batch: Vec<Pending> = {
                let mut queues = self.queues();
                match queues.get_mut(&session_id) {
                    Some(waiting) if !waiting.is_empty() => {
                        let n = waiting.len().min(MAX_BATCH);
                        waiting.drain(..n).collect()
                    }
                    _ => {
                        queues.remove(&session_id);
                        guard.armed = false;
                        return;
                    }
                }
            };
            self.admit_batch(session_id, batch).await;
        }
    }

    async fn admit_batch(&self, session_id: Uuid, batch: Vec<Pending>) {
        let now = Utc::now();
        let (applicants, replies): (Vec<Applicant>, Vec<_>) =
            batch.into_iter().map(|p| (p.applicant, p.reply)).unzip();
        match decide(&self.db, session_id, &applicants, now).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            // A batch that failed as a whole (a database error, a conflict no check foresaw)
            // is retried one person at a time, so one bad request only affects itself.
            Err(_) if applicants.len() > 1 => {
                for (reply, applicant) in replies.into_iter().zip(applicants) {
                    let outcome = decide(&self.db, session_id, &[applicant], now)
                        .await
                        .and_then(|mut o| o.pop().unwrap_or_else(|| Err(lost())));
                    let _ = reply.send(outcome);
                }
            }
            Err(e) => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(e));
                }
            }
        }
        self.waker.wake();
    }
}

/// Removes the session's queue if its task stops without emptying it (a panic, a shutdown):
/// the people still waiting get an error instead of waiting forever, and the next request
/// starts a new task.
struct Drained<'a> {
    admissions: &'a Admissions,
    session_id: Uuid,
    armed: bool,
}

impl Drop for Drained<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.admissions.queues().remove(&self.session_id);
        }
    }
}

fn lost() -> AppError {
    AppError::internal("registration outcome lost")
}

/// An outcome per applicant, in their order. The batch is decided as if nobody in it were
/// registered already (the usual case: no query to ask); the unique (session, identity) index
/// tells otherwise, and then the batch is decided again knowing who was.
async fn decide(
    db: &DatabaseConnection,
    session_id: Uuid,
    applicants: &[Applicant],
    now: DateTime<Utc>,
) -> AppResult<Vec<AppResult<Admitted>>> {
    let mut registered = HashSet::new();
    // Under the session lock nobody else registers to it, so a second attempt settles it;
    // a third covers a replica registering the same person in between.
    for _ in 0..3 {
        match attempt(db, session_id, applicants, &registered, now).await? {
            Attempt::Decided(outcomes) => return Ok(outcomes),
            Attempt::AlreadyRegistered(found) => registered.extend(found),
        }
    }
    Err(AppError::conflict(
        "trop d'inscriptions simultanées de la même personne : réessayez",
    ))
}

enum Attempt {
    Decided(Vec<AppResult<Admitted>>),
    /// These identities hold a registration already; nothing was written.
    AlreadyRegistered(Vec<String>),
}

/// One transaction for the whole batch.
async fn attempt(
    db: &DatabaseConnection,
    session_id: Uuid,
    applicants: &[Applicant],
    registered: &HashSet<String>,
    now: DateTime<Utc>,
) -> AppResult<Attempt> {
    let txn = db.begin().await?;
    // The first statement writes the row, so SQLite takes its write lock at once too.
    let locked = session::Entity::update_many()
        .col_expr(
            session::Column::Arrivals,
            Expr::col(session::Column::Arrivals),
        )
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::Status.eq(crate::domain::SessionStatus::Published.as_str()))
        .filter(session::Column::RegistrationMode.eq("open"))
        .filter(session::Column::StartsAt.gt(now))
        .exec_with_returning(&txn)
        .await?
        .pop();
    let Some(mut session) = locked else {
        drop(txn);
        let why = registrations::why_not(db, session_id, now).await;
        return Ok(Attempt::Decided(
            applicants
                .iter()
                .map(|_| Err(AppError::new(why.code, why.detail.clone())))
                .collect(),
        ));
    };
    let mut known = registered.clone();
    let mut refused = Vec::new();
    let mut rows = Vec::new();
    let mut messages = Vec::new();
    let mut outcomes = Vec::with_capacity(applicants.len());
    for applicant in applicants {
        if known.contains(&applicant.identity) {
            outcomes.push(Err(AppError::conflict("déjà inscrit·e à cette session")));
            continue;
        }
        // Waitlisted people stay 0 exactly while seats remain (promotion fills freed seats
        // first), so nobody overtakes the waiting list.
        let seat_free = session
            .capacity
            .is_none_or(|c| session.confirmed < c && session.waitlisted == 0);
        let status = if seat_free {
            session.confirmed += 1;
            CONFIRMED
        } else if session.waitlist_enabled {
            session.waitlisted += 1;
            WAITLISTED
        } else {
            refused.push((outcomes.len(), applicant.identity.as_str()));
            outcomes.push(Err(AppError::new(
                ErrorCode::SessionFull,
                "session complète (pas de liste d'attente)",
            )));
            continue;
        };
        known.insert(applicant.identity.clone());
        session.arrivals += 1;
        let model = registration::Model {
            id: Uuid::now_v7(),
            session_id,
            identity: applicant.identity.clone(),
            account: applicant.account.clone(),
            email: applicant.email.clone(),
            name: applicant.name.clone(),
            consent_at: applicant.token_hash.as_ref().map(|_| now),
            status: status.to_owned(),
            position: session.arrivals,
            token_hash: applicant.token_hash.clone(),
            created_at: now,
            updated_at: now,
            erased_at: None,
        };
        let waitlist_position = (status == WAITLISTED).then_some(i64::from(session.waitlisted));
        messages.push(registrations::change_envelope(
            registrations::kind_of(status),
            &model,
            waitlist_position,
            None,
        )?);
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
                outcomes[i] = Err(AppError::conflict("déjà inscrit·e à cette session"));
            }
        }
    }
    if rows.is_empty() {
        // Nobody taken: the transaction ends without a change.
        return Ok(Attempt::Decided(outcomes));
    }
    let count = rows.len();
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
    let session = session::Entity::update_many()
        .col_expr(session::Column::Arrivals, Expr::value(session.arrivals))
        .col_expr(session::Column::Confirmed, Expr::value(session.confirmed))
        .col_expr(session::Column::Waitlisted, Expr::value(session.waitlisted))
        .filter(session::Column::Id.eq(session_id))
        .exec_with_returning(&txn)
        .await?
        .pop()
        .ok_or_else(lost)?;
    // Seats are announced once per batch: subscribers want the count as it stands.
    messages.push(sessions::seats_envelope(&session)?);
    outbox::enqueue_many(&txn, &messages).await?;
    txn.commit().await?;
    Ok(Attempt::Decided(outcomes))
}
