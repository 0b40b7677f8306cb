//! The local replica of what the facilitators service announces: who may publish (status,
//! account key) and where sessions can take place (venues). Kept from the bus, once per message
//! (inbox), never by calling the facilitators service. Names are not announced: views ask for
//! them when they show one ([`crate::names`]). A suspension unpublishes the facilitator's
//! future sessions; a venue change is copied into its future sessions (a published one whose
//! place now reads differently is announced again and its registrants are mailed).
//!
//! A venue's removal is final. The facilitators service deletes the venue and never gives its
//! id to another (new venues, imported ones included, get a fresh `now_v7` id), so any state of
//! a removed id is from before the removal, whatever its `time` says (clocks of its replicas
//! may differ): the row stays as a tombstone (`removed`, `as_of` the removal's time), and an
//! upsert of that id changes nothing, late or not. A removal arriving before the venue's first
//! state leaves a tombstone too, so that state, arriving next, is ignored.

use crate::{
    config::EventsConfig,
    domain::{SessionAction, SessionStatus},
    mail, messages, sessions,
    storage::{JsonText, Rows, facilitator, session, venue},
};
use cafeia_facilitators_api::{
    FacilitatorStatus,
    messages::{
        FACILITATOR_ERASED, FACILITATOR_STATES, FacilitatorErased, FacilitatorState, VENUE_REMOVED,
        VENUE_UPSERTED, VenueRemoved, VenueState,
    },
};
use cafeia_platform::{
    bus::{HandlerError, Message, Subscription},
    envelope::{Envelope, MessageType},
    inbox,
    runtime::Platform,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, sea_query::OnConflict,
};
use std::sync::Arc;
use uuid::Uuid;

pub const QUEUE: &str = "events.facilitators";

fn is(envelope: &Envelope, kind: MessageType) -> bool {
    envelope.event_type == kind.type_name()
}

pub async fn start(
    platform: &Platform,
    settings: EventsConfig,
    mail: mail::Waker,
) -> Result<(), cafeia_platform::bus::BusError> {
    let db = platform.db.clone();
    let waker = platform.outbox.clone();
    let settings = Arc::new(settings);
    platform
        .consume(
            Subscription::new(
                QUEUE,
                &["facilitators.facilitator.*", "facilitators.venue.*"],
            ),
            move |envelope: Arc<Envelope>, message: Message| {
                let (db, waker, mail, settings) =
                    (db.clone(), waker.clone(), mail.clone(), settings.clone());
                async move {
                    let outcome = inbox::handle_once(&db, QUEUE, &message.message_id, |txn| {
                        Box::pin(apply(txn, envelope, settings))
                    })
                    .await?;
                    if outcome == inbox::Outcome::Applied {
                        waker.wake();
                        mail.wake();
                    }
                    Ok(())
                }
            },
        )
        .await
}

/// Applies one message to the replica (inside the inbox transaction).
pub async fn apply(
    txn: &DatabaseTransaction,
    envelope: Arc<Envelope>,
    settings: Arc<EventsConfig>,
) -> Result<(), HandlerError> {
    let at = envelope.time;
    if FACILITATOR_STATES.iter().any(|kind| is(&envelope, *kind)) {
        let state: FacilitatorState = serde_json::from_value(envelope.data.clone())?;
        upsert_facilitator(txn, state, at).await?;
    } else if is(&envelope, FACILITATOR_ERASED) {
        let erased: FacilitatorErased = serde_json::from_value(envelope.data.clone())?;
        if let Some(f) = facilitator::Entity::find_by_id(erased.id).row(txn).await? {
            let mut model = f.into_active_model();
            model.account = Set(String::new());
            model.as_of = Set(at);
            model.update(txn).await?;
        }
    } else if is(&envelope, VENUE_UPSERTED) {
        let state: VenueState = serde_json::from_value(envelope.data.clone())?;
        upsert_venue(txn, state, at, &settings).await?;
    } else if is(&envelope, VENUE_REMOVED) {
        let removed: VenueRemoved = serde_json::from_value(envelope.data.clone())?;
        remove_venue(txn, removed.id, at).await?;
    }
    // Other facilitators messages are not this service's business.
    Ok(())
}

async fn upsert_facilitator(
    txn: &DatabaseTransaction,
    state: FacilitatorState,
    at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    let previous = facilitator::Entity::find_by_id(state.id).row(txn).await?;
    if previous.as_ref().is_some_and(|p| p.as_of > at) {
        // A newer state is already here: this one arrived late.
        return Ok(());
    }
    let suspended_now = state.status == FacilitatorStatus::Suspended
        && previous
            .as_ref()
            .is_none_or(|p| p.status != FacilitatorStatus::Suspended);
    facilitator::Entity::insert(facilitator::ActiveModel {
        id: Set(state.id),
        account: Set(state.account),
        kind: Set(state.kind),
        status: Set(state.status),
        as_of: Set(at),
    })
    .on_conflict(
        OnConflict::column(facilitator::Column::Id)
            .update_columns([
                facilitator::Column::Account,
                facilitator::Column::Kind,
                facilitator::Column::Status,
                facilitator::Column::AsOf,
            ])
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if suspended_now {
        unpublish_future(txn, state.id).await?;
    }
    Ok(())
}

/// A suspended facilitator's published sessions still to come go back to draft; their
/// registrations stay, so a reinstated facilitator can publish them again.
async fn unpublish_future<C: ConnectionTrait>(
    conn: &C,
    facilitator_id: Uuid,
) -> Result<(), HandlerError> {
    let future = session::Entity::find()
        .filter(session::Column::FacilitatorId.eq(facilitator_id))
        .filter(session::Column::Status.eq(SessionStatus::Published))
        .filter(session::Column::StartsAt.gt(Utc::now()))
        .rows(conn)
        .await?;
    for s in future {
        let locked = sessions::lock(conn, s.id).await?;
        // Started (or changed) since it was listed: it stays as it is.
        let Ok(status) = sessions::transition(&locked, SessionAction::Unpublish, Utc::now()) else {
            continue;
        };
        let revision = locked.revision + 1;
        let mut model = locked.into_active_model();
        model.status = Set(status);
        model.status_reason = Set(Some("animateur·rice suspendu·e".into()));
        model.revision = Set(revision);
        model.updated_at = Set(Utc::now());
        let model = model.update(conn).await?;
        sessions::announce(conn, messages::SESSION_UPDATED, &model).await?;
    }
    Ok(())
}

/// Marks the venue removed for good, as of `at` (the later of the two when it already was),
/// keeping its row: sessions held there still point at it, and it is the tombstone that makes
/// every later upsert of the id a no-op.
async fn remove_venue(
    txn: &DatabaseTransaction,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), HandlerError> {
    match venue::Entity::find_by_id(id).row(txn).await? {
        Some(previous) => {
            let as_of = previous.as_of.max(at);
            let mut model = previous.into_active_model();
            model.removed = Set(true);
            model.as_of = Set(as_of);
            model.update(txn).await?;
        }
        None => {
            // Never seen: a row with nothing of the venue but its id and its end.
            venue::Entity::insert(
                venue::Model {
                    id,
                    name: String::new(),
                    address: String::new(),
                    postcode: String::new(),
                    insee: String::new(),
                    departement: String::new(),
                    region: String::new(),
                    lat: 0.0,
                    lon: 0.0,
                    accessibility: JsonText(Vec::new()),
                    capacity: None,
                    removed: true,
                    as_of: at,
                }
                .into_active_model(),
            )
            // Another delivery's insert may have won between the read and here.
            .on_conflict(
                OnConflict::column(venue::Column::Id)
                    .update_column(venue::Column::Removed)
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
        }
    }
    Ok(())
}

async fn upsert_venue(
    txn: &DatabaseTransaction,
    state: VenueState,
    at: DateTime<Utc>,
    settings: &EventsConfig,
) -> Result<(), HandlerError> {
    let previous = venue::Entity::find_by_id(state.id).row(txn).await?;
    // Removed (see the module's note): nothing brings it back. Otherwise a newer state is
    // already here when this one is older: it arrived late.
    if previous.as_ref().is_some_and(|p| p.removed || p.as_of > at) {
        return Ok(());
    }
    let model = venue::Model {
        id: state.id,
        name: state.name,
        address: state.address,
        postcode: state.postcode,
        insee: state.insee,
        departement: state.departement,
        region: state.region,
        lat: state.latitude,
        lon: state.longitude,
        accessibility: JsonText(state.accessibility),
        capacity: state.capacity,
        removed: false,
        as_of: at,
    };
    venue::Entity::insert(model.clone().into_active_model())
        .on_conflict(
            OnConflict::column(venue::Column::Id)
                .update_columns([
                    venue::Column::Name,
                    venue::Column::Address,
                    venue::Column::Postcode,
                    venue::Column::Insee,
                    venue::Column::Departement,
                    venue::Column::Region,
                    venue::Column::Lat,
                    venue::Column::Lon,
                    venue::Column::Accessibility,
                    venue::Column::Capacity,
                    venue::Column::Removed,
                    venue::Column::AsOf,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    if previous.is_some() {
        relocate_future(txn, &model, settings).await?;
    }
    Ok(())
}

/// Future sessions at `venue` show where it now is. A published one whose place reads
/// differently gets a new revision, is announced again, and its registrants are mailed (the
/// same coalesced « changed » mail as a facilitator's edit, with the updated `.ics`).
async fn relocate_future(
    txn: &DatabaseTransaction,
    venue: &venue::Model,
    settings: &EventsConfig,
) -> Result<(), HandlerError> {
    let now = Utc::now();
    let future = session::Entity::find()
        .filter(session::Column::VenueId.eq(venue.id))
        .filter(session::Column::StartsAt.gt(now))
        .rows(txn)
        .await?;
    for s in future {
        let before = sessions::lock(txn, s.id).await?;
        let published = before.status == SessionStatus::Published;
        let mut model = before.clone().into_active_model();
        model.place_name = Set(Some(venue.name.clone()));
        model.address = Set(Some(format!("{}, {}", venue.address, venue.postcode)));
        model.insee = Set(Some(venue.insee.clone()));
        model.departement = Set(Some(venue.departement.clone()));
        model.region = Set(Some(venue.region.clone()));
        model.lat = Set(Some(venue.lat));
        model.lon = Set(Some(venue.lon));
        let mut after = model.update(txn).await?;
        if published && crate::notify::changed(&before, &after) {
            let mut bumped = after.into_active_model();
            bumped.revision = Set(before.revision + 1);
            bumped.updated_at = Set(now);
            after = bumped.update(txn).await?;
            sessions::announce(txn, messages::SESSION_UPDATED, &after).await?;
            crate::notify::session_changed(txn, settings, &after, now)
                .await
                .map_err(|e| HandlerError::Transient(e.to_string()))?;
        }
    }
    Ok(())
}
