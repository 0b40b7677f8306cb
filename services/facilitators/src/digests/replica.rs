//! The sessions as the events service announces them, kept for the digests: their public
//! state from `events.session.*` and their seat counters from `events.seats.changed`. Once per
//! message (the inbox); an older revision than the one held changes nothing, so retries and
//! redeliveries out of order leave the newest state.

use crate::storage::digests::session;
use cafeia_events_api::messages::{
    SEATS_CHANGED, SESSION_CANCELLED, SESSION_COMPLETED, SESSION_PUBLISHED, SESSION_UPDATED,
    SeatsChanged, SessionState,
};
use cafeia_platform::{
    bus::{BusError, HandlerError, Message, Subscription},
    envelope::Envelope,
    inbox,
    runtime::Platform,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use std::sync::Arc;

pub const QUEUE: &str = "facilitators.digests";

pub async fn start(platform: &Platform) -> Result<(), BusError> {
    let db = platform.db.clone();
    platform
        .consume(
            Subscription::new(QUEUE, &["events.session.*", "events.seats.changed"]),
            move |envelope: Arc<Envelope>, message: Message| {
                let db = db.clone();
                async move {
                    inbox::handle_once(&db, QUEUE, &message.message_id, |txn| {
                        Box::pin(apply(txn, envelope))
                    })
                    .await?;
                    Ok(())
                }
            },
        )
        .await
}

/// The venue as a digest names it: `Médiathèque Lumière, 12 rue …`.
fn place(state: &SessionState) -> Option<String> {
    state.place.as_ref().map(|p| {
        if p.address.trim().is_empty() {
            p.name.clone()
        } else {
            format!("{}, {}", p.name, p.address)
        }
    })
}

pub async fn apply(txn: &DatabaseTransaction, envelope: Arc<Envelope>) -> Result<(), HandlerError> {
    let is = |types: &[cafeia_api::MessageType]| {
        types.iter().any(|t| envelope.event_type == t.type_name())
    };
    if is(&[
        SESSION_PUBLISHED,
        SESSION_UPDATED,
        SESSION_CANCELLED,
        SESSION_COMPLETED,
    ]) {
        let state: SessionState = serde_json::from_value(envelope.data.clone())?;
        let held = session::Entity::find_by_id(state.id).one(txn).await?;
        if held.as_ref().is_some_and(|h| h.revision > state.revision) {
            return Ok(());
        }
        // Counters heard at this revision or later are newer than the state's seats left.
        let floor = SeatsChanged::revision_floor(state.revision);
        let (confirmed, waitlisted, seats_revision) = match &held {
            Some(h) if h.seats_revision >= floor => (h.confirmed, h.waitlisted, h.seats_revision),
            _ => {
                let from_state = state
                    .capacity
                    .zip(state.seats_left)
                    .map(|(capacity, left)| (capacity - left).max(0));
                let held_confirmed = held.as_ref().map_or(0, |h| h.confirmed);
                (
                    from_state.unwrap_or(held_confirmed),
                    held.as_ref().map_or(0, |h| h.waitlisted),
                    floor,
                )
            }
        };
        let row = session::ActiveModel {
            facilitator_id: Set(state.facilitator_id),
            revision: Set(state.revision),
            status: Set(state.status),
            title: Set(state.title.clone()),
            starts_at: Set(state.starts_at),
            timezone: Set(state.timezone.clone()),
            place: Set(place(&state)),
            capacity: Set(state.capacity),
            confirmed: Set(confirmed),
            waitlisted: Set(waitlisted),
            seats_revision: Set(seats_revision),
            ..Default::default()
        };
        if held.is_some() {
            // Never `digest_at` (the sweep's), and only over an older revision: a replica
            // that applied a newer one meanwhile keeps it.
            session::Entity::update_many()
                .set(row)
                .filter(session::Column::SessionId.eq(state.id))
                .filter(session::Column::Revision.lte(state.revision))
                .exec(txn)
                .await?;
        } else {
            session::ActiveModel {
                session_id: Set(state.id),
                digest_at: Set(None),
                ..row
            }
            .insert(txn)
            .await?;
        }
    } else if is(&[SEATS_CHANGED]) {
        let seats: SeatsChanged = serde_json::from_value(envelope.data.clone())?;
        // Counters of a session not heard of yet change nothing: its state, when it comes,
        // carries its seats left. Older counters than those held change nothing either,
        // checked in the update itself so replicas applying two at once keep the newer.
        let mut update = session::Entity::update_many()
            .col_expr(session::Column::Capacity, Expr::value(seats.capacity))
            .col_expr(session::Column::Confirmed, Expr::value(seats.confirmed))
            .col_expr(session::Column::Waitlisted, Expr::value(seats.waitlisted))
            .filter(session::Column::SessionId.eq(seats.session_id));
        // Counters without a revision (sent before revisions) are taken as they come.
        if seats.revision != 0 {
            update = update
                .col_expr(session::Column::SeatsRevision, Expr::value(seats.revision))
                .filter(session::Column::SeatsRevision.lte(seats.revision));
        }
        update.exec(txn).await?;
    }
    Ok(())
}
