//! Keeps the read model from the bus: sessions and their seats (events), trainings (catalogue),
//! attendance figures (reach per territory). Once per message (inbox); a late message (older
//! revision) changes nothing. Each write is stamped with the next sequence number so every
//! replica's index reloads it.

use crate::{
    model::Item,
    storage::{Unreadable, counter, item, reached},
};
use cafeia_catalogue_api::messages::{
    TRAINING_PUBLISHED, TRAINING_UPDATED, TRAINING_WITHDRAWN, TrainingState, Withdrawn,
};
use cafeia_events_api::messages::{
    ATTENDANCE_RECORDED, AttendanceRecorded, SEATS_CHANGED, SESSION_CANCELLED, SESSION_COMPLETED,
    SESSION_PUBLISHED, SESSION_UPDATED, SeatsChanged, SessionState,
};
use cafeia_platform::{
    bus::{HandlerError, Message, Subscription},
    envelope::Envelope,
    inbox,
    runtime::Platform,
};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    sea_query::OnConflict,
};
use std::sync::Arc;
use uuid::Uuid;

pub const QUEUE: &str = "matching.read-model";

pub async fn start(
    platform: &Platform,
    on_change: Arc<dyn Fn() + Send + Sync>,
) -> Result<(), cafeia_platform::bus::BusError> {
    let db = platform.db.clone();
    platform
        .consume(
            Subscription::new(
                QUEUE,
                &[
                    "events.session.*",
                    "events.seats.changed",
                    "events.attendance.recorded",
                    "catalogue.training.*",
                ],
            ),
            move |envelope: Arc<Envelope>, message: Message| {
                let (db, on_change) = (db.clone(), on_change.clone());
                async move {
                    let outcome = inbox::handle_once(&db, QUEUE, &message.message_id, |txn| {
                        Box::pin(apply(txn, envelope))
                    })
                    .await?;
                    if outcome == inbox::Outcome::Applied {
                        on_change();
                    }
                    Ok(())
                }
            },
        )
        .await
}

/// The next sequence number (in the caller's transaction).
pub async fn next_seq<C: ConnectionTrait>(conn: &C) -> Result<i64, sea_orm::DbErr> {
    counter::Entity::insert(counter::ActiveModel {
        name: Set(counter::Name::Changes),
        value: Set(1),
    })
    .on_conflict(
        OnConflict::column(counter::Column::Name)
            .value(
                counter::Column::Value,
                sea_orm::sea_query::Expr::cust("counter.value + 1"),
            )
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    // Just written in this transaction: a missing row is a fault, not the first number.
    counter::Entity::find_by_id(counter::Name::Changes)
        .one(conn)
        .await?
        .map(|c| c.value)
        .ok_or_else(|| DbErr::RecordNotFound("counter changes after its upsert".into()))
}

pub async fn save<C: ConnectionTrait>(conn: &C, doc: Item) -> Result<(), HandlerError> {
    let seq = next_seq(conn).await?;
    item::Entity::insert(item::ActiveModel {
        id: Set(doc.id),
        kind: Set(doc.kind),
        doc: Set(doc),
        seq: Set(seq),
    })
    .on_conflict(
        OnConflict::column(item::Column::Id)
            .update_columns([item::Column::Kind, item::Column::Doc, item::Column::Seq])
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The stored offer. One that does not read is dead-lettered at once (retrying reads it
/// again); the table is named in the error.
async fn load(txn: &DatabaseTransaction, id: Uuid) -> Result<Option<Item>, HandlerError> {
    match item::Entity::find_by_id(id).one(txn).await {
        Ok(row) => Ok(row.map(|r| r.doc)),
        Err(e) => Err(match Unreadable::classify("item", e) {
            Ok(unreadable) => HandlerError::Permanent(unreadable.to_string()),
            Err(e) => e.into(),
        }),
    }
}

/// Whether a catalogue message sent at `at` is newer than the state `old` holds. Trainings
/// carry no revision: the message's time orders them (the catalogue writes a programme's
/// changes one after the other, each message stamped as it is written). A state stored
/// before times were kept is replaced.
fn newer_training(old: &Item, at: chrono::DateTime<chrono::Utc>) -> bool {
    old.as_of.is_none_or(|held| at >= held)
}

/// The stored offer, for a message that replaces it whole: one that does not read is
/// replaced (the message mends it) rather than dead-lettering the message.
async fn load_replaceable(
    txn: &DatabaseTransaction,
    id: Uuid,
) -> Result<Option<Item>, HandlerError> {
    match load(txn, id).await {
        Err(HandlerError::Permanent(unreadable)) => {
            tracing::warn!(%id, error = %unreadable, "unreadable offer replaced by its announcement");
            Ok(None)
        }
        other => other,
    }
}

pub async fn apply(txn: &DatabaseTransaction, envelope: Arc<Envelope>) -> Result<(), HandlerError> {
    let is = |types: &[cafeia_api::MessageType]| {
        types.iter().any(|t| envelope.event_type == t.type_name())
    };
    let data = envelope.data.clone();
    if is(&[
        SESSION_PUBLISHED,
        SESSION_UPDATED,
        SESSION_CANCELLED,
        SESSION_COMPLETED,
    ]) {
        let message: SessionState = serde_json::from_value(data)?;
        let mut doc = Item::from(message);
        if let Some(old) = load(txn, doc.id).await? {
            if old.revision > doc.revision {
                return Ok(());
            }
            // Counts heard at this revision or later are newer than the ones in the state.
            if old.seats_revision >= doc.seats_revision {
                doc.capacity = old.capacity;
                doc.seats_left = old.seats_left;
                doc.seats_revision = old.seats_revision;
            }
        }
        save(txn, doc).await?;
    } else if is(&[SEATS_CHANGED]) {
        let seats: SeatsChanged = serde_json::from_value(data)?;
        if let Some(mut doc) = load(txn, seats.session_id).await?
            && doc.capacity.is_some()
            // Older counts than those held (a retry or redelivery overtaken): nothing to do.
            // Counts without a revision (sent before revisions) are taken as they come.
            && (seats.revision == 0 || seats.revision >= doc.seats_revision)
        {
            doc.capacity = seats.capacity;
            doc.seats_left = seats.seats_left;
            doc.seats_revision = doc.seats_revision.max(seats.revision);
            save(txn, doc).await?;
        }
    } else if is(&[ATTENDANCE_RECORDED]) {
        let a: AttendanceRecorded = serde_json::from_value(data)?;
        let seq = next_seq(txn).await?;
        reached::Entity::insert(reached::ActiveModel {
            session_id: Set(a.session_id),
            version: Set(a.version),
            departement: Set(a.departement),
            first_timers: Set(a.first_timers),
            seq: Set(seq),
        })
        .on_conflict(
            OnConflict::column(reached::Column::SessionId)
                .update_columns([
                    reached::Column::Version,
                    reached::Column::Departement,
                    reached::Column::FirstTimers,
                    reached::Column::Seq,
                ])
                .action_and_where(sea_orm::sea_query::Expr::cust(
                    "reached.version < excluded.version",
                ))
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    } else if is(&[TRAINING_WITHDRAWN]) {
        let w: Withdrawn = serde_json::from_value(data)?;
        let at = envelope.time;
        match load_replaceable(txn, w.id).await? {
            Some(old) if newer_training(&old, at) => {
                let mut doc = old;
                doc.active = false;
                doc.as_of = Some(at);
                save(txn, doc).await?;
            }
            Some(_) => {}
            // Withdrawn before its announcement arrived: remember it, so that announcement
            // (older) does not bring it back when it does.
            None => save(txn, Item::withdrawn_training(w.id, at)).await?,
        }
    } else if is(&[TRAINING_PUBLISHED, TRAINING_UPDATED]) {
        let message: TrainingState = serde_json::from_value(data)?;
        let at = envelope.time;
        if load_replaceable(txn, message.id)
            .await?
            .is_none_or(|old| newer_training(&old, at))
        {
            let mut doc = Item::from(message);
            doc.as_of = Some(at);
            save(txn, doc).await?;
        }
    }
    Ok(())
}
