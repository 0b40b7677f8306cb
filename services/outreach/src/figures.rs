//! The figures in memory: every session's latest report, planned sessions and facilitators,
//! loaded from the derived tables and kept fresh by sequence number (each replica reloads what
//! changed since its last look, at most once a second, or at once after its own consumer wrote).
//! Queries scan these rows (held in a vector, their text values interned as [`Key`]s when
//! loaded): a national dataset of 100,000 sessions is a few milliseconds, and the dashboard
//! computes all its figures in one such pass ([`crate::aggregates::dashboard`]).
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

/// A value figures are grouped or filtered by (département, région, format, facilitator kind,
/// audience, topic, age band, occupation), interned: a row holds its number, so summing
/// 100,000 rows indexes small arrays instead of comparing or hashing text. The vocabulary is
/// a few hundred values, kept until a rebuild.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Key(u32);

impl Key {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Every [`Key`] handed out, and its text.
#[derive(Default)]
pub struct Keys {
    names: Vec<String>,
    ids: HashMap<String, Key>,
}

impl Keys {
    pub fn intern(&mut self, text: &str) -> Key {
        if let Some(k) = self.ids.get(text) {
            return *k;
        }
        let k = Key(u32::try_from(self.names.len()).unwrap_or(u32::MAX));
        self.names.push(text.to_owned());
        self.ids.insert(text.to_owned(), k);
        k
    }

    /// The key of `text` if some row holds it.
    pub fn get(&self, text: &str) -> Option<Key> {
        self.ids.get(text).copied()
    }

    pub fn name(&self, k: Key) -> &str {
        self.name_at(k.index())
    }

    /// The text of the key at `index` of an array indexed by keys.
    pub fn name_at(&self, index: usize) -> &str {
        self.names.get(index).map_or("", String::as_str)
    }

    /// How many keys there are: the length of an array indexed by them.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
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
    /// Monday of its week ([`week_of`] of `day`), worked out once rather than per query.
    pub week: NaiveDate,
    pub facilitator_id: Uuid,
    /// The facilitator's number among those who reported ([`State::facilitator_count`]), to
    /// count distinct ones in an array rather than a hash set.
    pub facilitator: u32,
    pub facilitator_kind: Option<Key>,
    pub format: Key,
    pub departement: Option<Key>,
    pub region: Option<Key>,
    pub topics: Vec<Key>,
    pub audiences: Vec<Key>,
    pub age_bands: Vec<(Key, i64)>,
    pub occupations: Vec<(Key, i64)>,
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
    /// Every session's latest report, in a vector: a query reads them one after the other.
    pub reports: Vec<Row>,
    /// Session id → its place in `reports` (a correction replaces the row in place).
    report_at: HashMap<Uuid, usize>,
    pub planned: HashMap<Uuid, Planned>,
    /// Facilitator id → status.
    pub facilitators: HashMap<Uuid, FacilitatorStatus>,
    pub keys: Keys,
    /// Facilitator id → [`Row::facilitator`].
    reporters: HashMap<Uuid, u32>,
    marks: [i64; 3],
}

impl State {
    /// How many distinct facilitators the rows name: the length of an array indexed by
    /// [`Row::facilitator`].
    pub fn facilitator_count(&self) -> usize {
        self.reporters.len()
    }

    fn put(&mut self, session_id: Uuid, report: Report) {
        let row = self.row(report);
        match self.report_at.get(&session_id).copied() {
            Some(at) if at < self.reports.len() => self.reports[at] = row,
            _ => {
                self.report_at.insert(session_id, self.reports.len());
                self.reports.push(row);
            }
        }
    }

    fn row(&mut self, Report { m, day }: Report) -> Row {
        let next = u32::try_from(self.reporters.len()).unwrap_or(u32::MAX);
        let facilitator = *self.reporters.entry(m.facilitator_id).or_insert(next);
        let keys = &mut self.keys;
        let pairs = |keys: &mut Keys, counts: std::collections::BTreeMap<String, i32>| {
            counts
                .into_iter()
                .map(|(k, n)| (keys.intern(&k), i64::from(n)))
                .collect()
        };
        Row {
            day,
            week: week_of(day),
            starts_at: m.starts_at,
            facilitator_id: m.facilitator_id,
            facilitator,
            facilitator_kind: m.facilitator_kind.map(|k| keys.intern(&wire_name(&k))),
            format: keys.intern(&wire_name(&m.format)),
            departement: m.departement.as_deref().map(|d| keys.intern(d)),
            region: m.region.as_deref().map(|r| keys.intern(r)),
            topics: m.topics.0.iter().map(|t| keys.intern(t)).collect(),
            audiences: m
                .audiences
                .0
                .iter()
                .map(|a| keys.intern(&wire_name(a)))
                .collect(),
            age_bands: pairs(keys, m.age_bands.0),
            occupations: pairs(keys, m.occupations.0),
            attended: i64::from(m.attended),
            first_timers: i64::from(m.first_timers),
        }
    }
}

pub struct Figures {
    state: RwLock<State>,
    changed: AtomicBool,
    refreshed: tokio::sync::Mutex<Option<Instant>>,
}

/// A stored report whose local date is known: what is left to do with it (interning its keys)
/// cannot fail, so a refresh applies all of a read or nothing.
struct Report {
    m: report::Model,
    day: NaiveDate,
}

/// A stored report, checked; a stored zone the time-zone database does not know fails it (its
/// local date would be another day's).
fn checked(m: report::Model) -> AppResult<Report> {
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
    let day = crate::domain::local_day(m.starts_at, zone, m.departement.as_deref());
    Ok(Report { m, day })
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
                .map(|m| Ok((m.seq, m.session_id, checked(m)?)))
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
        for (seq, session_id, report) in reports {
            state.marks[0] = state.marks[0].max(seq);
            state.put(session_id, report);
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
