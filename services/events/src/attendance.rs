//! Attendance reports: after the session starts, its facilitators say who came (per
//! registration), how many walked in, how many were first-timers, and anonymous aggregates.
//! A report may be corrected for 7 days after the session; each correction is a new version
//! that replaces the previous one wherever it is counted.

use crate::{
    State,
    domain::{self, AttendanceInput, RegistrationStatus, SessionAction},
    messages::{self, AttendanceRecorded},
    registrations::HELD,
    sessions,
    storage::{JsonText, Rows, attendance, registration, session},
};
use actix_web::{HttpResponse, web};
use cafeia_events_api::{AttendanceView, paths};
use cafeia_platform::{
    AppError, auth::Caller, envelope::Envelope, errors::AppResult, http::Json, outbox,
    validation::Problems,
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter,
};
use std::collections::HashMap;
use uuid::Uuid;

fn view(model: &attendance::Model, session: &session::Model) -> AttendanceView {
    AttendanceView {
        session_id: model.session_id,
        version: model.version,
        registered: model.attended - model.walk_ins + model.no_shows,
        attended: model.attended,
        no_shows: model.no_shows,
        walk_ins: model.walk_ins,
        first_timers: model.first_timers,
        age_bands: model.age_bands.0.clone(),
        occupations: model.occupations.0.clone(),
        reported_at: model.reported_at,
        correctable_until: domain::correctable_until(session.ends_at),
    }
}

/// The aggregates as they go on the bus and into the metrics.
pub fn recorded(
    report: &attendance::Model,
    session: &session::Model,
    facilitator_kind: Option<String>,
) -> AttendanceRecorded {
    AttendanceRecorded {
        session_id: session.id,
        version: report.version,
        facilitator_id: session.facilitator_id,
        facilitator_kind,
        starts_at: session.starts_at,
        timezone: Some(session.timezone.name().to_owned()),
        format: session.format,
        insee: session.insee.clone(),
        departement: session.departement.clone(),
        region: session.region.clone(),
        topics: session.topics.0.clone(),
        audiences: session.audiences.0.clone(),
        level: session.level,
        registered: report.attended - report.walk_ins + report.no_shows,
        attended: report.attended,
        no_shows: report.no_shows,
        walk_ins: report.walk_ins,
        first_timers: report.first_timers,
        age_bands: report.age_bands.0.clone(),
        occupations: report.occupations.0.clone(),
    }
}

/// PUT /v1/sessions/{id}/attendance — the report, or its correction (replaces it).
#[utoipa::path(put, path = paths::SESSION_ATTENDANCE, params(("id" = Uuid, Path, description = "The session.")), tag = "attendance", request_body = AttendanceInput, responses((status = 200, body = AttendanceView), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn report(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Json<AttendanceInput>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let me = sessions::acting(db, &caller).await?;
    let input = input.0;
    let txn = cafeia_platform::db::begin(db).await?;
    let session = sessions::lock(&txn, *id).await?;
    if !sessions::runs(&session, &me) {
        return Err(AppError::forbidden(
            "seul·es les animateur·rices de la session déclarent la présence",
        ));
    }
    let now = Utc::now();
    sessions::transition(&session, SessionAction::ReportAttendance, now)?;
    // The people who held a seat: confirmed, or marked at a previous report.
    let roll = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(session.id))
        .filter(registration::Column::Status.is_in(HELD))
        .rows(&txn)
        .await?;
    let mut p = Problems::default();
    let mut came: HashMap<Uuid, bool> = HashMap::new();
    for (i, entry) in input.registrations.iter().enumerate() {
        let field = format!("registrations[{i}].registration_id");
        if !roll.iter().any(|r| r.id == entry.registration_id) {
            p.add(&field, "pas une inscription confirmée de cette session");
        } else if came.insert(entry.registration_id, entry.attended).is_some() {
            p.add(&field, "inscription listée deux fois");
        }
    }
    let registered_came = i32::try_from(came.values().filter(|c| **c).count()).unwrap_or(0);
    let attended = registered_came.saturating_add(input.walk_ins.max(0));
    let (age_bands, occupations) = domain::check_aggregates(&input, attended, &mut p);
    p.into_result()?;
    let no_shows = i32::try_from(roll.len()).unwrap_or(0) - registered_came;
    for reg in roll {
        let status = if came.get(&reg.id).copied().unwrap_or(false) {
            RegistrationStatus::Attended
        } else {
            RegistrationStatus::NoShow
        };
        if reg.status != status {
            let mut model = reg.into_active_model();
            model.status = Set(status);
            model.updated_at = Set(now);
            model.update(&txn).await?;
        }
    }
    let previous = attendance::Entity::find_by_id(session.id).row(&txn).await?;
    let fields = |model: &mut attendance::ActiveModel| {
        model.attended = Set(attended);
        model.no_shows = Set(no_shows);
        model.walk_ins = Set(input.walk_ins);
        model.first_timers = Set(input.first_timers);
        model.age_bands = Set(JsonText(age_bands.clone()));
        model.occupations = Set(JsonText(occupations.clone()));
        model.reported_at = Set(now);
    };
    let report = match previous {
        Some(prev) => {
            let version = prev.version + 1;
            let mut model = prev.into_active_model();
            fields(&mut model);
            model.version = Set(version);
            model.update(&txn).await?
        }
        None => {
            let mut model = attendance::ActiveModel {
                session_id: Set(session.id),
                version: Set(1),
                first_reported_at: Set(now),
                ..Default::default()
            };
            fields(&mut model);
            model.insert(&txn).await?
        }
    };
    let session = sessions::mark_completed(&txn, session).await?;
    announce(&txn, &report, &session).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(&report, &session)))
}

pub async fn announce<C: ConnectionTrait>(
    conn: &C,
    report: &attendance::Model,
    session: &session::Model,
) -> AppResult<()> {
    let kind = sessions::facilitator_kind(conn, session).await?;
    let message = messages::ATTENDANCE_RECORDED;
    let envelope = Envelope::new(
        message,
        format!("session/{}", session.id),
        recorded(report, session, kind),
    );
    outbox::enqueue(conn, message, &envelope).await?;
    Ok(())
}

/// GET /v1/sessions/{id}/attendance — for its facilitators and staff covering it.
#[utoipa::path(get, path = paths::SESSION_ATTENDANCE, params(("id" = Uuid, Path, description = "The session.")), tag = "attendance", responses((status = 200, body = AttendanceView), (status = 403, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn get(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let session = sessions::find(db, *id).await?;
    // Its team only: a registrant who is also a facilitator elsewhere is not of it, and a
    // suspended facilitator is refused like any action of theirs.
    if !sessions::on_team(db, &caller, &session).await? {
        return Err(AppError::forbidden(
            "le rapport de présence est réservé aux animateur·rices de la session et à l'équipe",
        ));
    }
    let report = attendance::Entity::find_by_id(session.id)
        .row(db)
        .await?
        .ok_or_else(|| AppError::not_found("pas encore de rapport de présence"))?;
    Ok(HttpResponse::Ok().json(view(&report, &session)))
}
