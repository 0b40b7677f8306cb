//! Reading and writing programmes with their places and sessions, shared by the API and the
//! LHEO import, and turning them into public views and messages.

use crate::{
    domain::{Place, TrainingDraft, TrainingSession},
    messages::{ProviderRef, TrainingState},
    storage::{Rows, place, provider, session, training, training_edit},
};
use cafeia_catalogue_api::{Editor, FieldChange, TrainingEdit, TrainingField};
use cafeia_platform::{
    envelope::{Envelope, MessageType},
    outbox,
};
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// A programme with everything attached to it.
#[derive(Clone, Debug)]
pub struct Full {
    pub training: training::Model,
    pub places: Vec<place::Model>,
    pub sessions: Vec<session::Model>,
}

impl Full {
    /// The programme's content as a draft, to compare with an incoming one.
    pub fn draft(&self) -> TrainingDraft {
        let t = &self.training;
        let mut places: Vec<Place> = self
            .places
            .iter()
            .map(|p| Place {
                insee: p.insee.clone(),
                departement: p.departement.clone(),
                region: p.region.clone(),
                latitude: p.lat,
                longitude: p.lon,
            })
            .collect();
        places.sort_by(|a, b| a.insee.cmp(&b.insee));
        let mut sessions: Vec<TrainingSession> = self
            .sessions
            .iter()
            .map(|s| TrainingSession {
                lheo_id: s.lheo_id.clone(),
                start_date: s.start_date,
                end_date: s.end_date,
                enrolment: s.enrolment,
                insee: s.insee.clone(),
            })
            .collect();
        sessions.sort_by(|a, b| {
            (a.start_date, &a.lheo_id, a.end_date).cmp(&(b.start_date, &b.lheo_id, b.end_date))
        });
        TrainingDraft {
            title: t.title.clone(),
            summary: t.summary.clone(),
            objectives: t.objectives.clone(),
            content: t.content.clone(),
            level: t.level,
            audiences: t.audiences.0.clone(),
            format: t.format,
            pace: t.pace,
            duration_hours: t.duration_hours,
            is_free: t.is_free,
            price_cents: t.price_cents,
            funding: t.funding.0.clone(),
            certification: t.certification.clone(),
            languages: t.languages.0.clone(),
            accessibility: t.accessibility.0.clone(),
            topics: t.topics.0.clone(),
            online: t.online,
            places,
            sessions,
            enrolment_url: t.enrolment_url.clone(),
            contact_email: t.contact_email.clone(),
        }
    }

    pub fn state(&self, provider: &provider::Model) -> TrainingState {
        state_of_draft(self.training.id, provider, &self.draft())
    }
}

/// The names of the fields that differ between two drafts (for the audit log).
pub fn changed_fields(old: &TrainingDraft, new: &TrainingDraft) -> Vec<&'static str> {
    let mut changed = Vec::new();
    macro_rules! cmp {
        ($($field:ident),*) => { $( if old.$field != new.$field { changed.push(stringify!($field)); } )* };
    }
    cmp!(
        title,
        summary,
        objectives,
        content,
        level,
        audiences,
        format,
        pace,
        duration_hours,
        is_free,
        price_cents,
        funding,
        certification,
        languages,
        accessibility,
        topics,
        online,
        places,
        sessions,
        enrolment_url,
        contact_email
    );
    changed
}

/// What changed between two drafts, each field with its value before and after in the REST
/// view's shape (for [`record_edit`]); the same fields as [`changed_fields`].
pub fn changes(old: &TrainingDraft, new: &TrainingDraft) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    let mut compare = |field: TrainingField, before: Value, after: Value| {
        if before != after {
            let some = |v: Value| (!v.is_null()).then_some(v);
            changes.push(FieldChange {
                field,
                before: some(before),
                after: some(after),
            });
        }
    };
    // Values that always serialise (strings, numbers, enums with serde names, lists of them).
    fn json<T: serde::Serialize>(value: &T) -> Value {
        serde_json::to_value(value).unwrap_or(Value::Null)
    }
    let euros = |d: &TrainingDraft| json(&d.price_cents.map(|c| c as f64 / 100.0));
    let places = |d: &TrainingDraft| json(&d.places.iter().map(|p| &p.insee).collect::<Vec<_>>());
    macro_rules! fields {
        ($($field:ident => $name:ident),*) => {
            $( compare(TrainingField::$name, json(&old.$field), json(&new.$field)); )*
        };
    }
    fields!(
        title => Title,
        summary => Summary,
        objectives => Objectives,
        content => Content,
        level => Level,
        audiences => Audiences,
        format => Format,
        pace => Pace,
        duration_hours => DurationHours,
        is_free => Free
    );
    compare(TrainingField::PriceEur, euros(old), euros(new));
    fields!(
        funding => Funding,
        certification => Certification,
        languages => Languages,
        accessibility => Accessibility,
        topics => Topics,
        online => Online
    );
    compare(TrainingField::Places, places(old), places(new));
    fields!(
        sessions => Sessions,
        enrolment_url => EnrolmentUrl,
        contact_email => ContactEmail
    );
    changes
}

/// Keeps what an edit changed, in the edit's transaction (nothing when nothing did).
pub async fn record_edit<C: ConnectionTrait>(
    conn: &C,
    training_id: Uuid,
    by: Editor,
    changes: Vec<FieldChange>,
) -> Result<(), DbErr> {
    if changes.is_empty() {
        return Ok(());
    }
    training_edit::Entity::insert(training_edit::ActiveModel {
        id: Set(Uuid::now_v7()),
        training_id: Set(training_id),
        at: Set(Utc::now()),
        edited_by: Set(by),
        changes: Set(changes.into()),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// What each edit of a programme changed, oldest first.
pub async fn edits<C: ConnectionTrait>(
    conn: &C,
    training_id: Uuid,
) -> Result<Vec<TrainingEdit>, DbErr> {
    Ok(training_edit::Entity::find()
        .filter(training_edit::Column::TrainingId.eq(training_id))
        .order_by_asc(training_edit::Column::Id)
        .rows(conn)
        .await?
        .into_iter()
        .map(|e| TrainingEdit {
            at: e.at,
            by: e.edited_by,
            changes: e.changes.0,
        })
        .collect())
}

pub async fn load<C: ConnectionTrait>(conn: &C, model: training::Model) -> Result<Full, DbErr> {
    let places = place::Entity::find()
        .filter(place::Column::TrainingId.eq(model.id))
        .rows(conn)
        .await?;
    let sessions = session::Entity::find()
        .filter(session::Column::TrainingId.eq(model.id))
        .order_by_asc(session::Column::StartDate)
        .rows(conn)
        .await?;
    Ok(Full {
        training: model,
        places,
        sessions,
    })
}

/// Loads many programmes' places and sessions, two queries per thousand programmes (bound
/// parameters are limited on both databases).
pub async fn load_many<C: ConnectionTrait>(
    conn: &C,
    models: Vec<training::Model>,
) -> Result<Vec<Full>, DbErr> {
    let mut places: HashMap<Uuid, Vec<place::Model>> = HashMap::new();
    let mut sessions: HashMap<Uuid, Vec<session::Model>> = HashMap::new();
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    for chunk in ids.chunks(1000) {
        for p in place::Entity::find()
            .filter(place::Column::TrainingId.is_in(chunk.to_vec()))
            .rows(conn)
            .await?
        {
            places.entry(p.training_id).or_default().push(p);
        }
        for s in session::Entity::find()
            .filter(session::Column::TrainingId.is_in(chunk.to_vec()))
            .order_by_asc(session::Column::StartDate)
            .rows(conn)
            .await?
        {
            sessions.entry(s.training_id).or_default().push(s);
        }
    }
    Ok(models
        .into_iter()
        .map(|m| Full {
            places: places.remove(&m.id).unwrap_or_default(),
            sessions: sessions.remove(&m.id).unwrap_or_default(),
            training: m,
        })
        .collect())
}

/// Fills a training row from a draft (status and ownership are the caller's business).
pub fn apply(model: &mut training::ActiveModel, d: &TrainingDraft) {
    model.title = Set(d.title.clone());
    model.summary = Set(d.summary.clone());
    model.objectives = Set(d.objectives.clone());
    model.content = Set(d.content.clone());
    model.level = Set(d.level);
    model.audiences = Set(d.audiences.clone().into());
    model.format = Set(d.format);
    model.pace = Set(d.pace);
    model.duration_hours = Set(d.duration_hours);
    model.is_free = Set(d.is_free);
    model.price_cents = Set(d.price_cents);
    model.funding = Set(d.funding.clone().into());
    model.certification = Set(d.certification.clone());
    model.languages = Set(d.languages.clone().into());
    model.accessibility = Set(d.accessibility.clone().into());
    model.topics = Set(d.topics.clone().into());
    model.online = Set(d.online);
    model.enrolment_url = Set(d.enrolment_url.clone());
    model.contact_email = Set(d.contact_email.clone());
    model.updated_at = Set(Utc::now());
}

/// Rows of a programme's places and sessions, from a draft.
pub fn children(
    id: Uuid,
    d: &TrainingDraft,
) -> (Vec<place::ActiveModel>, Vec<session::ActiveModel>) {
    let places = d
        .places
        .iter()
        .map(|p| place::ActiveModel {
            training_id: Set(id),
            insee: Set(p.insee.clone()),
            departement: Set(p.departement.clone()),
            region: Set(p.region.clone()),
            lat: Set(p.latitude),
            lon: Set(p.longitude),
        })
        .collect();
    let sessions = d
        .sessions
        .iter()
        .map(|s| session::ActiveModel {
            id: Set(Uuid::now_v7()),
            training_id: Set(id),
            lheo_id: Set(s.lheo_id.clone()),
            start_date: Set(s.start_date),
            end_date: Set(s.end_date),
            enrolment: Set(s.enrolment),
            insee: Set(s.insee.clone()),
        })
        .collect();
    (places, sessions)
}

/// Inserts places and sessions in as few statements as the databases allow (places first:
/// sessions reference them).
pub async fn insert_children<C: ConnectionTrait>(
    conn: &C,
    places: Vec<place::ActiveModel>,
    sessions: Vec<session::ActiveModel>,
) -> Result<(), DbErr> {
    // Stay well under SQLite's and PostgreSQL's bound-parameter limits.
    for chunk in places.chunks(2000) {
        place::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    for chunk in sessions.chunks(2000) {
        session::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Replaces a programme's places and sessions with the draft's.
pub async fn replace_children<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    d: &TrainingDraft,
) -> Result<(), DbErr> {
    // Sessions first: a session references its place (`fk_session_place`).
    session::Entity::delete_many()
        .filter(session::Column::TrainingId.eq(id))
        .exec(conn)
        .await?;
    place::Entity::delete_many()
        .filter(place::Column::TrainingId.eq(id))
        .exec(conn)
        .await?;
    let (places, sessions) = children(id, d);
    insert_children(conn, places, sessions).await
}

/// The message state of a programme written from `d` (no need to read it back).
pub fn state_of_draft(id: Uuid, provider: &provider::Model, d: &TrainingDraft) -> TrainingState {
    TrainingState {
        id,
        provider: ProviderRef {
            id: provider.id,
            name: provider.name.clone(),
            siret: provider.siret.clone(),
        },
        title: d.title.clone(),
        summary: d.summary.clone(),
        objectives: d.objectives.clone(),
        level: d.level,
        audiences: d.audiences.clone(),
        format: d.format,
        pace: d.pace,
        duration_hours: d.duration_hours,
        free: d.is_free,
        price_cents: d.price_cents,
        funding: d.funding.clone(),
        certification: d.certification.clone(),
        languages: d.languages.clone(),
        accessibility: d.accessibility.clone(),
        topics: d.topics.clone(),
        online: d.online,
        places: d.places.clone(),
        sessions: d.sessions.clone(),
        enrolment_url: d.enrolment_url.clone(),
    }
}

pub async fn announce<C: ConnectionTrait, T: serde::Serialize>(
    conn: &C,
    kind: MessageType,
    id: Uuid,
    data: T,
) -> Result<(), DbErr> {
    let envelope = Envelope::new(kind, format!("training/{id}"), data);
    outbox::enqueue(conn, kind, &envelope).await
}
