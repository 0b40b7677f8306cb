//! Attendance, filled in at the door on a phone: who of the registered came, people who came
//! without registering, first-timers, and the anonymous counts by age band and occupation.
//! Reported once the session has started, corrected until the API's window closes (it says
//! when; its refusal is shown as it gives it).

use super::{
    roll::{self, Heading},
    run, stale_form,
};
use crate::{
    Web, csrf, format,
    forms::{FormErrors, Submitted},
    graph::GraphError,
    labels,
    operations::{
        AttendanceReport, ReportAttendance, attendance_report, report_attendance,
        session_roll::RegistrationStatus,
    },
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/animateur/sessions/{id}/presences", web::get().to(page))
        .route("/animateur/sessions/{id}/presences", web::post().to(submit));
}

/// A registered person to tick when they arrive.
pub struct Registrant {
    pub id: Uuid,
    pub name: String,
    pub detail: String,
    pub present: bool,
}

/// One anonymous count of the form (an age band, an occupation), as typed.
pub struct Count {
    /// The field's name and id (`age_25_39`).
    pub field: String,
    pub code: &'static str,
    pub label: &'static str,
    pub value: String,
}

/// The report as the API holds it now.
pub struct Reported {
    pub version: i64,
    pub attended: i64,
    pub walk_ins: i64,
    pub no_shows: i64,
    pub reported_at: String,
    pub correctable_until: String,
}

#[derive(Template)]
#[template(path = "attendance.html")]
pub struct AttendancePage {
    pub layout: Layout,
    pub session: Heading,
    /// Why there is nothing to report, when there is not (not started, cancelled, a draft).
    pub closed: Option<String>,
    pub registrants: Vec<Registrant>,
    pub waiting: usize,
    pub walk_ins: String,
    pub first_timers: String,
    pub ages: Vec<Count>,
    pub occupations: Vec<Count>,
    pub report: Option<Reported>,
    pub saved: bool,
    pub errors: FormErrors,
}

/// What the form holds, as typed.
struct Typed {
    present: Vec<String>,
    walk_ins: String,
    first_timers: String,
    ages: Vec<Count>,
    occupations: Vec<Count>,
}

fn counts(
    prefix: &str,
    known: &[(&'static str, &'static str)],
    value: impl Fn(&str) -> String,
) -> Vec<Count> {
    known
        .iter()
        .map(|(code, label)| {
            let field = format!("{prefix}_{code}");
            Count {
                value: value(&field),
                field,
                code,
                label,
            }
        })
        .collect()
}

impl Typed {
    fn read(sent: &Submitted) -> Self {
        Self {
            present: sent.all("presents"),
            walk_ins: sent.one("sans_inscription"),
            first_timers: sent.one("primo"),
            ages: counts("age", &labels::AGE_BANDS, |f| sent.one(f)),
            occupations: counts("situation", &labels::OCCUPATIONS, |f| sent.one(f)),
        }
    }

    /// What the last report said, to correct it; empty before the first.
    fn of(
        report: Option<&attendance_report::AttendanceReportAttendance>,
        roll: &[roll::Line],
    ) -> Self {
        let number = |map: Option<&crate::operations::JSONObject>, code: &str| {
            map.and_then(|m| m.get(code))
                .and_then(serde_json::Value::as_i64)
                .filter(|n| *n > 0)
                .map(|n| n.to_string())
                .unwrap_or_default()
        };
        let ages = report.map(|r| &r.age_bands);
        let jobs = report.map(|r| &r.occupations);
        Self {
            present: roll
                .iter()
                .filter(|l| matches!(l.status, RegistrationStatus::ATTENDED))
                .map(|l| l.id.to_string())
                .collect(),
            walk_ins: report.map(|r| r.walk_ins.to_string()).unwrap_or_default(),
            first_timers: report
                .map(|r| r.first_timers.to_string())
                .unwrap_or_default(),
            ages: counts("age", &labels::AGE_BANDS, |f| {
                number(ages, f.trim_start_matches("age_"))
            }),
            occupations: counts("situation", &labels::OCCUPATIONS, |f| {
                number(jobs, f.trim_start_matches("situation_"))
            }),
        }
    }
}

/// A count as typed: empty is none; anything else must be a whole number.
fn number(typed: &str, field: &str, errors: &mut FormErrors) -> i64 {
    match typed.trim() {
        "" => 0,
        text => text.parse().unwrap_or_else(|_| {
            errors.add(field, "Saisissez un nombre en chiffres, ou laissez vide.");
            0
        }),
    }
}

/// The API's errors on the form's fields: `ageBands.25_39` on its own band's field (the API
/// names a band in camelCase: `ageBands.2539`, `occupations.jobSeeker`).
fn api_errors(errors: &[GraphError]) -> FormErrors {
    let plain = |s: &str| s.replace('_', "").to_lowercase();
    let renamed: Vec<GraphError> = errors
        .iter()
        .map(|e| {
            let field = e.field.as_deref().map(|f| {
                let (group, key) = f.split_once('.').unwrap_or((f, ""));
                let group = group.split('[').next().unwrap_or(group);
                let (prefix, known) = match group {
                    "ageBands" => ("age", &labels::AGE_BANDS[..]),
                    "occupations" => ("situation", &labels::OCCUPATIONS[..]),
                    _ => return group.to_owned(),
                };
                match known.iter().find(|(code, _)| plain(code) == plain(key)) {
                    Some((code, _)) => format!("{prefix}_{code}"),
                    None => group.to_owned(),
                }
            });
            GraphError { field, ..e.clone() }
        })
        .collect();
    let mut names: Vec<(String, String)> = vec![
        ("walkIns".into(), "sans_inscription".into()),
        ("firstTimers".into(), "primo".into()),
        ("ageBands".into(), "ages".into()),
        ("occupations".into(), "situations".into()),
        ("registrations".into(), "presents".into()),
    ];
    for (code, _) in labels::AGE_BANDS {
        names.push((format!("age_{code}"), format!("age_{code}")));
    }
    for (code, _) in labels::OCCUPATIONS {
        names.push((format!("situation_{code}"), format!("situation_{code}")));
    }
    let names: Vec<(&str, &str)> = names
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    FormErrors::from_api_renamed(&renamed, &names)
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    fait: String,
}

/// Everything the page shows but the form's own values.
struct Context {
    session: Heading,
    roll: Vec<roll::Line>,
    report: Option<attendance_report::AttendanceReportAttendance>,
}

async fn context(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    id: &str,
) -> Result<Context, HttpResponse> {
    let back = format!("/animateur/sessions/{id}/presences");
    let session = roll::heading(app, req, visitor, id, &back).await?;
    let lines = roll::whole_roll(app, req, visitor, session.id)
        .await
        .map_err(|e| super::api_problem(visitor, &e))?;
    let report = run::<AttendanceReport>(
        app,
        req,
        visitor,
        attendance_report::Variables {
            session_id: session.id,
        },
    )
    .await
    .map_err(|e| super::api_problem(visitor, &e))?
    .attendance;
    Ok(Context {
        session,
        roll: lines,
        report,
    })
}

fn render(
    visitor: &Visitor,
    ctx: Context,
    typed: Typed,
    saved: bool,
    errors: FormErrors,
) -> HttpResponse {
    let Context {
        session,
        roll,
        report,
    } = ctx;
    let closed = if session.status_code == "CANCELLED" {
        Some("Cette session est annulée : il n'y a pas de présence à déclarer.".to_owned())
    } else if session.status_code == "DRAFT" {
        Some("Cette session est un brouillon : publiez-la d'abord.".to_owned())
    } else if session.starts_at > chrono::Utc::now() {
        // The API takes a report from the start on; before it, the form would only be refused.
        Some(format!(
            "La feuille de présence s'ouvre au début du café, le {}. Revenez à ce moment-là.",
            format::when(session.starts_at, &session.timezone)
        ))
    } else {
        None
    };
    let zone = session.timezone.clone();
    let registrants = roll
        .iter()
        .enumerate()
        .filter(|(_, l)| roll::holds_seat(&l.status))
        .map(|(i, l)| {
            let p = roll::person(i + 1, l, &zone);
            Registrant {
                id: l.id,
                present: typed.present.contains(&l.id.to_string()),
                detail: if p.account {
                    "Inscription avec un compte".into()
                } else {
                    p.email
                },
                name: p.name,
            }
        })
        .collect();
    let waiting = roll
        .iter()
        .filter(|l| matches!(l.status, RegistrationStatus::WAITLISTED))
        .count();
    let status = errors.status();
    render::html(
        status,
        &AttendancePage {
            layout: Layout::new(
                visitor,
                format!("Présences — {}", session.title),
                Section::Facilitators,
            ),
            report: report.map(|r| Reported {
                version: r.version,
                attended: r.attended,
                walk_ins: r.walk_ins,
                no_shows: r.no_shows,
                reported_at: format::when(r.reported_at, &zone),
                correctable_until: format::when(r.correctable_until, &zone),
            }),
            closed,
            registrants,
            waiting,
            walk_ins: typed.walk_ins,
            first_timers: typed.first_timers,
            ages: typed.ages,
            occupations: typed.occupations,
            saved,
            errors,
            session,
        },
    )
}

async fn page(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
    done: web::Query<Done>,
) -> HttpResponse {
    let ctx = match context(&app, &req, &visitor, &id).await {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let typed = Typed::of(ctx.report.as_ref(), &ctx.roll);
    render(
        &visitor,
        ctx,
        typed,
        done.fait == "enregistre",
        FormErrors::default(),
    )
}

async fn submit(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let sent = Submitted::parse(&body);
    if !csrf::valid(&visitor.session, &sent.one("csrf")) {
        return stale_form(&visitor);
    }
    let ctx = match context(&app, &req, &visitor, &id).await {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let typed = Typed::read(&sent);
    let mut errors = FormErrors::default();
    let walk_ins = number(&typed.walk_ins, "sans_inscription", &mut errors);
    let first_timers = number(&typed.first_timers, "primo", &mut errors);
    let mut map = |list: &[Count]| {
        let mut out = crate::operations::JSONObject::new();
        for c in list {
            let n = number(&c.value, &c.field, &mut errors);
            if n != 0 {
                out.insert(c.code.to_owned(), n.into());
            }
        }
        out
    };
    let age_bands = map(&typed.ages);
    let occupations = map(&typed.occupations);
    if !errors.is_empty() {
        return render(&visitor, ctx, typed, false, errors);
    }
    // Everyone holding a seat is listed, came or not: only people on this roll.
    let registrations = ctx
        .roll
        .iter()
        .filter(|l| roll::holds_seat(&l.status))
        .map(|l| report_attendance::RollCallInput {
            registration_id: l.id,
            attended: typed.present.contains(&l.id.to_string()),
        })
        .collect();
    let answer = run::<ReportAttendance>(
        &app,
        &req,
        &visitor,
        report_attendance::Variables {
            session_id: ctx.session.id,
            input: report_attendance::AttendanceInput {
                registrations,
                walk_ins,
                first_timers,
                age_bands,
                occupations,
            },
        },
    )
    .await;
    match answer {
        Ok(_) => render::see_other(&super::link(
            &format!("/animateur/sessions/{}/presences", ctx.session.id),
            &[("fait", "enregistre")],
        )),
        Err(e) => render(&visitor, ctx, typed, false, api_errors(&e)),
    }
}
