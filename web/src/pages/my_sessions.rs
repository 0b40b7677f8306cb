//! "Mes sessions": a facilitator's sessions to come, drafts and past ones with their status
//! and seats; publishing a draft, and cancelling a session with the reason its registrants
//! are told.

use super::{run, stale_form};
use crate::{
    Web, csrf, format,
    forms::{FormErrors, Submitted},
    labels,
    operations::{
        CancelSession, ManagedSession, MySessions, PublishSession, cancel_session, managed_session,
        my_sessions,
        my_sessions::{RegistrationMode, SessionStatus},
        publish_session,
    },
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/animateur/sessions", web::get().to(list))
        .route("/animateur/sessions/{id}/publier", web::post().to(publish))
        .route(
            "/animateur/sessions/{id}/annuler",
            web::get().to(cancel_page),
        )
        .route("/animateur/sessions/{id}/annuler", web::post().to(cancel));
}

/// One session of the list, as its facilitator reads it.
pub struct Line {
    pub id: Uuid,
    pub title: String,
    pub when: String,
    pub place: String,
    /// The status tag: its words and DSFR badge modifier.
    pub status: (&'static str, &'static str),
    pub reason: Option<String>,
    pub seats: String,
    pub series: bool,
    pub draft: bool,
    /// Not started and not cancelled: may still be edited or cancelled.
    pub changeable: bool,
    /// Started, not cancelled: attendance may be recorded.
    pub started: bool,
}

#[derive(Template)]
#[template(path = "my_sessions.html")]
pub struct ListPage {
    pub layout: Layout,
    pub upcoming: Vec<Line>,
    pub drafts: Vec<Line>,
    pub past: Vec<Line>,
    pub total: i64,
    pub next: Option<String>,
    /// What the last action did, said above the list.
    pub done: Option<&'static str>,
    pub errors: Vec<String>,
    /// Signed in as a facilitator with no profile yet.
    pub not_registered: bool,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    fait: String,
    #[serde(default)]
    apres: String,
}

fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "publiee" => "La session est créée et publiée : elle apparaît dans la recherche.",
        "brouillon" => "Le brouillon est enregistré. Publiez-le quand il est prêt.",
        "serie" => "Les séances de la série sont enregistrées en brouillon.",
        "serie-publiee" => "Les séances de la série sont créées et publiées.",
        "modifiee" => "La session est modifiée ; les personnes inscrites gardent leur place.",
        "mise-en-ligne" => "La session est publiée : elle apparaît dans la recherche.",
        "annulee" => "La session est annulée ; les personnes inscrites sont prévenues.",
        _ => return None,
    })
}

fn seats(s: &my_sessions::MySessionsMySessionsNodes) -> String {
    if matches!(s.registration_mode, RegistrationMode::ON_SITE_ONLY) {
        return "Sans inscription".into();
    }
    let taken = match s.capacity {
        Some(c) => format!(
            "{} inscrit·es sur {} places",
            s.confirmed,
            format::number(c)
        ),
        None => format!("{} inscrit·es", s.confirmed),
    };
    match s.waitlisted {
        0 => taken,
        n => format!("{taken}, {n} en liste d'attente"),
    }
}

fn line(s: my_sessions::MySessionsMySessionsNodes) -> Line {
    let now = Utc::now();
    let status = match s.status {
        SessionStatus::DRAFT => ("DRAFT", "fr-badge--new"),
        SessionStatus::PUBLISHED => ("PUBLISHED", "fr-badge--success"),
        SessionStatus::CANCELLED => ("CANCELLED", "fr-badge--error"),
        SessionStatus::COMPLETED => ("COMPLETED", "fr-badge--info"),
        _ => ("", ""),
    };
    let live = matches!(s.status, SessionStatus::DRAFT | SessionStatus::PUBLISHED);
    Line {
        id: s.id,
        seats: seats(&s),
        title: s.title,
        when: format::span(s.starts_at, s.ends_at, &s.timezone),
        place: s.place.map(|p| p.name).unwrap_or_else(|| "En ligne".into()),
        status: (labels::session_status(status.0), status.1),
        reason: s
            .status_reason
            .filter(|_| matches!(s.status, SessionStatus::CANCELLED)),
        series: s.series_id.is_some(),
        draft: matches!(s.status, SessionStatus::DRAFT),
        changeable: live && s.starts_at > now,
        started: s.starts_at <= now
            && matches!(
                s.status,
                SessionStatus::PUBLISHED | SessionStatus::COMPLETED
            ),
    }
}

async fn list(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    show_list(
        &app,
        &req,
        &visitor,
        &query.apres,
        done_message(&query.fait),
        Vec::new(),
    )
    .await
}

/// The list, with what the last action did or why it was refused.
async fn show_list(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    after: &str,
    done: Option<&'static str>,
    errors: Vec<String>,
) -> HttpResponse {
    if visitor.signed_in.is_none() {
        return render::see_other("/connexion?retour=/animateur/sessions");
    }
    let answer = run::<MySessions>(
        app,
        req,
        visitor,
        my_sessions::Variables {
            first: Some(100),
            after: (!after.is_empty()).then(|| after.to_owned()),
        },
    )
    .await;
    let mut page = ListPage {
        layout: Layout::new(visitor, "Mes sessions", Section::Facilitators),
        upcoming: Vec::new(),
        drafts: Vec::new(),
        past: Vec::new(),
        total: 0,
        next: None,
        done,
        errors,
        not_registered: false,
    };
    match answer {
        Ok(data) => {
            let now = Utc::now();
            page.total = data.my_sessions.total_count;
            page.next = data
                .my_sessions
                .page_info
                .end_cursor
                .filter(|_| data.my_sessions.page_info.has_next_page)
                .map(|c| super::link("/animateur/sessions", &[("apres", &c)]));
            for s in data.my_sessions.nodes {
                if matches!(s.status, SessionStatus::DRAFT) {
                    page.drafts.push(line(s));
                } else if s.ends_at > now {
                    page.upcoming.push(line(s));
                } else {
                    page.past.push(line(s));
                }
            }
            // The most recent past sessions first: the one whose attendance is due.
            page.past.reverse();
        }
        // No facilitator profile for this account yet.
        Err(e) if e.iter().any(|e| e.is("NOT_FOUND")) => page.not_registered = true,
        Err(e) => return super::api_problem(visitor, &e),
    }
    let status = if page.errors.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    render::html(status, &page)
}

async fn publish(
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
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::not_found_page(&visitor);
    };
    match run::<PublishSession>(&app, &req, &visitor, publish_session::Variables { id }).await {
        Ok(_) => render::see_other("/animateur/sessions?fait=mise-en-ligne"),
        Err(e) => {
            let errors = FormErrors::from_api_renamed(&e, &[]).general;
            show_list(&app, &req, &visitor, "", None, errors).await
        }
    }
}

pub struct Summary {
    pub id: Uuid,
    pub title: String,
    pub when: String,
    pub place: String,
    pub registered: i64,
}

#[derive(Template)]
#[template(path = "my_sessions_cancel.html")]
pub struct CancelPage {
    pub layout: Layout,
    pub session: Summary,
    pub reason: String,
    pub errors: FormErrors,
}

async fn summary(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    id: &str,
) -> Result<Summary, HttpResponse> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(super::not_found_page(visitor));
    };
    let s = match run::<ManagedSession>(app, req, visitor, managed_session::Variables { id }).await
    {
        Ok(data) => data.session.ok_or_else(|| super::not_found_page(visitor))?,
        Err(e) => return Err(super::api_problem(visitor, &e)),
    };
    Ok(Summary {
        id: s.id,
        when: format::span(s.starts_at, s.ends_at, &s.timezone),
        place: s
            .place
            .map(|p| format!("{}, {}", p.name, p.address))
            .unwrap_or_else(|| "En ligne".into()),
        registered: s.confirmed + s.waitlisted,
        title: s.title,
    })
}

async fn cancel_page(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
) -> HttpResponse {
    if visitor.signed_in.is_none() {
        return render::see_other(&super::link(
            "/connexion",
            &[("retour", &format!("/animateur/sessions/{id}/annuler"))],
        ));
    }
    match summary(&app, &req, &visitor, &id).await {
        Ok(session) => render::ok(&CancelPage {
            layout: Layout::new(&visitor, "Annuler une session", Section::Facilitators),
            session,
            reason: String::new(),
            errors: FormErrors::default(),
        }),
        Err(page) => page,
    }
}

async fn cancel(
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
    let session = match summary(&app, &req, &visitor, &id).await {
        Ok(session) => session,
        Err(page) => return page,
    };
    let reason = sent.one("motif");
    let answer = run::<CancelSession>(
        &app,
        &req,
        &visitor,
        cancel_session::Variables {
            id: session.id,
            reason: reason.clone(),
        },
    )
    .await;
    match answer {
        Ok(_) => render::see_other("/animateur/sessions?fait=annulee"),
        Err(e) => render::html(
            crate::forms::status_of(&e),
            &CancelPage {
                layout: Layout::new(&visitor, "Annuler une session", Section::Facilitators),
                session,
                reason,
                errors: FormErrors::from_api_renamed(&e, &[("reason", "motif")]),
            },
        ),
    }
}
