//! What outreach learns from the bus, in batches: every message is kept in `history` (whose
//! unique message id makes delivery idempotent), and the derived tables keep the latest
//! attendance report per session (a higher version replaces a lower one, never adds), the
//! latest state of each session and facilitator. `rebuild` replays the history into empty
//! derived tables with the same code.
//!
//! Payloads are read as their producers' contracts declare them (`cafeia-events-api`,
//! `cafeia-facilitators-api`) and stored with their enums (whose wire names are the stored text).
//!
//! The history outlives any person's erasure, so it keeps nothing that identifies one: a
//! facilitator's state is kept as the contract declares it (a field the contract does not
//! declare, such as the name older producers sent, is dropped) and without the account link,
//! which no figure needs ([`kept`]).

use crate::storage::{JsonText, facilitator, history, planned, report};
use cafeia_api::vocabulary::from_wire;
use cafeia_events_api::messages::{
    ATTENDANCE_RECORDED, AttendanceRecorded, SESSION_CANCELLED, SESSION_COMPLETED,
    SESSION_PUBLISHED, SESSION_UPDATED, SessionState,
};
use cafeia_facilitators_api::{
    FacilitatorKind,
    messages::{FACILITATOR_STATES, FacilitatorState},
};
use cafeia_platform::{
    bus::{HandlerError, Subscription},
    envelope::{Envelope, MessageType},
    runtime::Platform,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, OnConflict},
};
use std::{collections::HashMap, sync::Arc};
use uuid::Uuid;

pub const QUEUE: &str = "outreach.metrics";
/// Most messages applied in one transaction.
pub const BATCH: usize = 500;

/// The messages that carry a session's whole state.
const SESSION_STATES: [MessageType; 4] = [
    SESSION_PUBLISHED,
    SESSION_UPDATED,
    SESSION_CANCELLED,
    SESSION_COMPLETED,
];

pub async fn start(
    platform: &Platform,
    figures: Arc<crate::figures::Figures>,
) -> Result<(), cafeia_platform::bus::BusError> {
    let db = platform.db.clone();
    platform
        .consume_batches(
            Subscription::new(
                QUEUE,
                &[
                    "events.attendance.recorded",
                    "events.session.*",
                    "facilitators.facilitator.*",
                ],
            ),
            BATCH,
            move |envelopes| {
                let (db, figures) = (db.clone(), figures.clone());
                async move {
                    ingest(&db, &envelopes).await?;
                    figures.changed();
                    Ok(())
                }
            },
        )
        .await
}

/// Records and applies a batch in one transaction; messages already in the history are
/// skipped. Returns how many were new.
pub async fn ingest(
    db: &DatabaseConnection,
    envelopes: &[Arc<Envelope>],
) -> Result<usize, HandlerError> {
    let txn = cafeia_platform::db::begin(db).await?;
    let mut seen = std::collections::HashSet::new();
    let facilitator_states = FACILITATOR_STATES.map(|t| t.type_name());
    let rows: Vec<history::ActiveModel> = envelopes
        .iter()
        .filter(|e| seen.insert(e.id))
        .map(|e| history::ActiveModel {
            message_id: Set(e.id.to_string()),
            kind: Set(e.event_type.clone()),
            time: Set(e.time),
            data: Set(kept(&facilitator_states, e)),
            ..Default::default()
        })
        .collect();
    let inserted = match history::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(history::Column::MessageId)
                .do_nothing()
                .to_owned(),
        )
        .exec_with_returning(&txn)
        .await
    {
        Ok(rows) => rows,
        Err(DbErr::RecordNotInserted) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let n = inserted.len();
    derive(&txn, &inserted).await?;
    txn.commit().await?;
    Ok(n)
}

/// What the history keeps of a message's payload: a facilitator's state as its contract
/// declares it, without the account link; any other payload as it came. A payload that does
/// not read is kept as it came: applying it fails, and the batch with it.
fn kept(facilitator_states: &[String], envelope: &Envelope) -> String {
    if facilitator_states.contains(&envelope.event_type)
        && let Ok(state) = serde_json::from_value::<FacilitatorState>(envelope.data.clone())
        && let Ok(text) = serde_json::to_string(&anonymous(state))
    {
        return text;
    }
    envelope.data.to_string()
}

/// A facilitator's state with nothing that leads to the person: figures count by id, kind and
/// status only.
fn anonymous(state: FacilitatorState) -> FacilitatorState {
    FacilitatorState {
        account: String::new(),
        ..state
    }
}

/// Applies history rows (in `seq` order) to the derived tables.
async fn derive<C: ConnectionTrait>(conn: &C, rows: &[history::Model]) -> Result<(), HandlerError> {
    let mut reports: HashMap<Uuid, (i32, report::ActiveModel)> = HashMap::new();
    let mut sessions: HashMap<Uuid, (i32, planned::ActiveModel)> = HashMap::new();
    let mut people: HashMap<Uuid, facilitator::ActiveModel> = HashMap::new();
    let attendance = ATTENDANCE_RECORDED.type_name();
    let session_states = SESSION_STATES.map(|t| t.type_name());
    let facilitator_states = FACILITATOR_STATES.map(|t| t.type_name());
    for row in rows {
        let kind = &row.kind;
        if *kind == attendance {
            let a: AttendanceRecorded = payload(row)?;
            let facilitator_kind = a.facilitator_kind.as_deref().map(known_kind).transpose()?;
            if let Some(zone) = a.timezone.as_deref() {
                known_zone(zone)?;
            }
            // Within a batch, the highest version of a session's report wins.
            if reports
                .get(&a.session_id)
                .is_some_and(|(version, _)| *version >= a.version)
            {
                continue;
            }
            reports.insert(
                a.session_id,
                (
                    a.version,
                    report::ActiveModel {
                        session_id: Set(a.session_id),
                        version: Set(a.version),
                        facilitator_id: Set(a.facilitator_id),
                        facilitator_kind: Set(facilitator_kind),
                        starts_at: Set(a.starts_at),
                        format: Set(a.format),
                        departement: Set(a.departement),
                        region: Set(a.region),
                        timezone: Set(a.timezone),
                        topics: Set(JsonText(a.topics)),
                        audiences: Set(JsonText(a.audiences)),
                        age_bands: Set(JsonText(a.age_bands)),
                        occupations: Set(JsonText(a.occupations)),
                        attended: Set(a.attended),
                        first_timers: Set(a.first_timers),
                        walk_ins: Set(a.walk_ins),
                        no_shows: Set(a.no_shows),
                        seq: Set(row.seq),
                    },
                ),
            );
        } else if session_states.contains(kind) {
            let s: SessionState = payload(row)?;
            if sessions
                .get(&s.id)
                .is_some_and(|(revision, _)| *revision > s.revision)
            {
                continue;
            }
            sessions.insert(
                s.id,
                (
                    s.revision,
                    planned::ActiveModel {
                        session_id: Set(s.id),
                        revision: Set(s.revision),
                        status: Set(s.status),
                        departement: Set(s.place.map(|p| p.departement)),
                        starts_at: Set(s.starts_at),
                        seq: Set(row.seq),
                    },
                ),
            );
        } else if facilitator_states.contains(kind) {
            // `erased` carries no state: the anonymous record keeps counting as it was.
            let f: FacilitatorState = payload(row)?;
            people.insert(
                f.id,
                facilitator::ActiveModel {
                    id: Set(f.id),
                    status: Set(f.status),
                    kind: Set(f.kind),
                    as_of: Set(row.time),
                    seq: Set(row.seq),
                },
            );
        }
    }
    let newer = |table: &str, column: &str| {
        Expr::col((Alias::new(table), Alias::new(column)))
            .lt(Expr::col((Alias::new("excluded"), Alias::new(column))))
    };
    if !reports.is_empty() {
        report::Entity::insert_many(reports.into_values().map(|(_, m)| m))
            .on_conflict(
                OnConflict::column(report::Column::SessionId)
                    .update_columns([
                        report::Column::Version,
                        report::Column::FacilitatorId,
                        report::Column::FacilitatorKind,
                        report::Column::StartsAt,
                        report::Column::Format,
                        report::Column::Departement,
                        report::Column::Region,
                        report::Column::Timezone,
                        report::Column::Topics,
                        report::Column::Audiences,
                        report::Column::AgeBands,
                        report::Column::Occupations,
                        report::Column::Attended,
                        report::Column::FirstTimers,
                        report::Column::WalkIns,
                        report::Column::NoShows,
                        report::Column::Seq,
                    ])
                    // A correction replaces; an older or repeated version changes nothing.
                    .action_and_where(newer("report", "version"))
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    if !sessions.is_empty() {
        planned::Entity::insert_many(sessions.into_values().map(|(_, m)| m))
            .on_conflict(
                OnConflict::column(planned::Column::SessionId)
                    .update_columns([
                        planned::Column::Revision,
                        planned::Column::Status,
                        planned::Column::Departement,
                        planned::Column::StartsAt,
                        planned::Column::Seq,
                    ])
                    .action_and_where(
                        Expr::col((Alias::new("planned_session"), Alias::new("revision")))
                            .lte(Expr::col((Alias::new("excluded"), Alias::new("revision")))),
                    )
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    if !people.is_empty() {
        facilitator::Entity::insert_many(people.into_values())
            .on_conflict(
                OnConflict::column(facilitator::Column::Id)
                    .update_columns([
                        facilitator::Column::Status,
                        facilitator::Column::Kind,
                        facilitator::Column::AsOf,
                        facilitator::Column::Seq,
                    ])
                    .action_and_where(newer("facilitator", "as_of"))
                    .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// A history row's payload as its producer's contract declares it. One that does not read is
/// malformed (dead-lettered when consumed; a rebuild stops, changing nothing), named by its row.
fn payload<T: serde::de::DeserializeOwned>(row: &history::Model) -> Result<T, HandlerError> {
    serde_json::from_str(&row.data).map_err(|e| {
        HandlerError::Permanent(format!(
            "malformed message in history row {} ({}): {e}",
            row.seq, row.kind
        ))
    })
}

/// The facilitator kind an attendance report names: events passes the facilitators' wire name
/// on as text, so an unknown one makes the message malformed (as an unknown format would).
fn known_kind(name: &str) -> Result<FacilitatorKind, HandlerError> {
    from_wire(name).ok_or_else(|| {
        HandlerError::Permanent(format!(
            "malformed message: unknown facilitator_kind `{name}`"
        ))
    })
}

/// The time zone an attendance report names: one the time-zone database does not know makes
/// the message malformed (its local date could not be told).
fn known_zone(name: &str) -> Result<chrono_tz::Tz, HandlerError> {
    name.parse().map_err(|_| {
        HandlerError::Permanent(format!("malformed message: unknown timezone `{name}`"))
    })
}

/// Empties the derived tables and replays the whole history into them, in one transaction.
/// Returns the number of messages replayed.
pub async fn rebuild(db: &DatabaseConnection) -> Result<u64, HandlerError> {
    let txn = cafeia_platform::db::begin(db).await?;
    report::Entity::delete_many().exec(&txn).await?;
    planned::Entity::delete_many().exec(&txn).await?;
    facilitator::Entity::delete_many().exec(&txn).await?;
    let mut after = 0i64;
    let mut replayed = 0u64;
    loop {
        let rows = history::Entity::find()
            .filter(history::Column::Seq.gt(after))
            .order_by_asc(history::Column::Seq)
            .limit(2_000)
            .all(&txn)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        replayed += rows.len() as u64;
        derive(&txn, &rows).await?;
    }
    txn.commit().await?;
    Ok(replayed)
}
