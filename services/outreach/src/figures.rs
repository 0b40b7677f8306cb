//! The figures in memory: every session's latest report, planned sessions and facilitators,
//! loaded from the derived tables and kept fresh by sequence number (each replica reloads what
//! changed since its last look, at most once a second, or at once after its own consumer wrote).
//! Queries scan these rows: a national dataset of 100,000 sessions is a few milliseconds.
//!
//! A stored value the code cannot read (an unknown enum text, a list that is not JSON) fails the
//! refresh with an internal error naming the table: figures are never computed over a default.

use crate::storage::{facilitator, planned, report};
use cafeia_api::vocabulary::wire_name;
use cafeia_events_api::SessionStatus;
use cafeia_facilitators_api::FacilitatorStatus;
use cafeia_platform::{AppError, errors::AppResult};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use std::{
    collections::HashMap,
    sync::{
        RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};
use uuid::Uuid;

/// A short code kept inline (département, région, format, facilitator kind), so scanning
/// 100,000 rows reads no heap memory for the keys most queries group or filter by.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code {
    len: u8,
    bytes: [u8; 23],
}

impl Code {
    pub fn new(text: &str) -> Self {
        let mut end = text.len().min(23);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; 23];
        bytes[..end].copy_from_slice(&text.as_bytes()[..end]);
        Self {
            len: end as u8,
            bytes,
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

/// One session's latest report, ready to aggregate: the keys it is grouped by are the wire
/// names of its (typed, stored) values, which are also what a breakdown answers.
#[derive(Clone, Debug)]
pub struct Row {
    pub starts_at: DateTime<Utc>,
    /// The session's local date ([`crate::domain::local_day`]): what days, weeks and months
    /// count it on.
    pub day: NaiveDate,
    pub facilitator_id: Uuid,
    pub facilitator_kind: Option<Code>,
    pub format: Code,
    pub departement: Option<Code>,
    pub region: Option<Code>,
    pub topics: Vec<String>,
    pub audiences: Vec<String>,
    pub age_bands: Vec<(String, i64)>,
    pub occupations: Vec<(String, i64)>,
    pub attended: i64,
    pub first_timers: i64,
}

#[derive(Clone, Debug)]
pub struct Planned {
    pub status: SessionStatus,
    pub departement: Option<String>,
    pub starts_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct State {
    pub reports: HashMap<Uuid, Row>,
    pub planned: HashMap<Uuid, Planned>,
    /// Facilitator id → status.
    pub facilitators: HashMap<Uuid, FacilitatorStatus>,
    marks: [i64; 3],
}

pub struct Figures {
    state: RwLock<State>,
    changed: AtomicBool,
    refreshed: tokio::sync::Mutex<Option<Instant>>,
}

fn pairs(counts: std::collections::BTreeMap<String, i32>) -> Vec<(String, i64)> {
    counts.into_iter().map(|(k, n)| (k, i64::from(n))).collect()
}

/// The row of a report; a stored zone the time-zone database does not know fails it (its
/// local date would be another day's).
fn row(m: report::Model) -> AppResult<Row> {
    let zone = match m.timezone.as_deref() {
        None => None,
        Some(name) => Some(name.parse::<chrono_tz::Tz>().map_err(|_| {
            cafeia_platform::stored::corrupt(
                "report",
                m.session_id,
                format!("unknown IANA time zone {name:?}"),
            )
        })?),
    };
    Ok(Row {
        day: crate::domain::local_day(m.starts_at, zone, m.departement.as_deref()),
        starts_at: m.starts_at,
        facilitator_id: m.facilitator_id,
        facilitator_kind: m.facilitator_kind.map(|k| Code::new(&wire_name(&k))),
        format: Code::new(&wire_name(&m.format)),
        departement: m.departement.as_deref().map(Code::new),
        region: m.region.as_deref().map(Code::new),
        topics: m.topics.0,
        audiences: m.audiences.0.iter().map(wire_name).collect(),
        age_bands: pairs(m.age_bands.0),
        occupations: pairs(m.occupations.0),
        attended: i64::from(m.attended),
        first_timers: i64::from(m.first_timers),
    })
}

/// A failed read of `table`: a stored value the code does not know is an internal error
/// naming the table (sea-orm's message names the enum or column and the value), logged when
/// answered; the database being away stays what it is.
fn unreadable(table: &'static str) -> impl Fn(DbErr) -> AppError {
    move |e| cafeia_platform::stored::in_table(table, e).into()
}

impl Default for Figures {
    fn default() -> Self {
        Self {
            state: RwLock::new(State::default()),
            changed: AtomicBool::new(true),
            refreshed: tokio::sync::Mutex::new(None),
        }
    }
}

impl Figures {
    /// This replica's consumer wrote: reload before the next answer.
    pub fn changed(&self) {
        self.changed.store(true, Ordering::Release);
    }

    /// Forgets everything (after a rebuild); the next read reloads all.
    pub fn reset(&self) {
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = State::default();
        self.changed();
    }

    /// Reloads what changed, if it may have. On failure nothing is applied and the next call
    /// tries again.
    pub async fn refresh(&self, db: &DatabaseConnection) -> AppResult<()> {
        let mut last = self.refreshed.lock().await;
        let stale = last.is_none_or(|t| t.elapsed().as_millis() >= 1_000);
        if !stale && !self.changed.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        self.changed.store(false, Ordering::Release);
        let marks = self.state.read().unwrap_or_else(|e| e.into_inner()).marks;
        // Each table has its own mark: a batch committing between two reads is picked up
        // whole next time, never half-skipped.
        let read = async {
            let reports = report::Entity::find()
                .filter(report::Column::Seq.gt(marks[0]))
                .all(db)
                .await
                .map_err(unreadable("report"))?
                .into_iter()
                .map(|m| Ok((m.seq, m.session_id, row(m)?)))
                .collect::<AppResult<Vec<_>>>()?;
            let planned_rows = planned::Entity::find()
                .filter(planned::Column::Seq.gt(marks[1]))
                .all(db)
                .await
                .map_err(unreadable("planned_session"))?;
            let people = facilitator::Entity::find()
                .filter(facilitator::Column::Seq.gt(marks[2]))
                .all(db)
                .await
                .map_err(unreadable("facilitator"))?;
            AppResult::Ok((reports, planned_rows, people))
        };
        let (reports, planned_rows, people) = read.await.inspect_err(|_| self.changed())?;
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        for (seq, session_id, row) in reports {
            state.marks[0] = state.marks[0].max(seq);
            state.reports.insert(session_id, row);
        }
        for m in planned_rows {
            state.marks[1] = state.marks[1].max(m.seq);
            state.planned.insert(
                m.session_id,
                Planned {
                    status: m.status,
                    departement: m.departement,
                    starts_at: m.starts_at,
                },
            );
        }
        for m in people {
            state.marks[2] = state.marks[2].max(m.seq);
            state.facilitators.insert(m.id, m.status);
        }
        *last = Some(Instant::now());
        Ok(())
    }

    /// Runs `f` on the figures as they stand (under a read lock: no copy).
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.read().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Monday of the ISO week of `day`.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

pub fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}
