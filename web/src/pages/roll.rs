//! A session's roll: who holds a seat and who waits, to welcome people at the door, printable
//! and exported as CSV for a spreadsheet.

use super::run;
use crate::{
    Web, format,
    graph::GraphError,
    labels,
    operations::{
        ManagedSession, SessionRoll, managed_session,
        session_roll::{self, RegistrationStatus},
    },
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, http::header, web};
use askama::Template;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The CSV before the page: `{id}` would not take `inscrits.csv`, but the order says so.
    cfg.route(
        "/animateur/sessions/{id}/inscrits.csv",
        web::get().to(export),
    )
    .route("/animateur/sessions/{id}/inscrits", web::get().to(page));
}

/// One line of the roll as the API gives it.
pub type Line = session_roll::SessionRollSessionRollNodes;

/// The most pages of 100 read for one roll (the largest capacity is 5,000 seats).
const MAX_PAGES: usize = 80;

/// Every line of a session's roll, in arrival order.
pub async fn whole_roll(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    session_id: Uuid,
) -> Result<Vec<Line>, Vec<GraphError>> {
    let mut lines = Vec::new();
    let mut after = None;
    for _ in 0..MAX_PAGES {
        let data = run::<SessionRoll>(
            app,
            req,
            visitor,
            session_roll::Variables {
                session_id,
                first: Some(100),
                after: after.take(),
            },
        )
        .await?;
        let roll = data.session_roll;
        lines.extend(roll.nodes);
        match roll.page_info.end_cursor {
            Some(cursor) if roll.page_info.has_next_page => after = Some(cursor),
            _ => break,
        }
    }
    Ok(lines)
}

/// Whether a line holds a seat (or held it, once attendance is reported).
pub fn holds_seat(status: &RegistrationStatus) -> bool {
    matches!(
        status,
        RegistrationStatus::CONFIRMED | RegistrationStatus::ATTENDED | RegistrationStatus::NO_SHOW
    )
}

/// One person of the roll, as the page and the CSV show them.
pub struct Person {
    /// Arrival order among everyone who registered.
    pub number: usize,
    pub name: String,
    pub email: String,
    pub account: bool,
    pub status: &'static str,
    pub position: Option<i64>,
    pub registered_at: String,
}

/// Who the facilitator sees: names given without an account; people registered with one
/// are shown by their arrival number (the API gives no name for them).
pub fn person(number: usize, line: &Line, zone: &str) -> Person {
    let name = match (&line.name, line.signed_in) {
        (Some(name), _) if !name.trim().is_empty() => name.clone(),
        (_, true) => format!("Personne inscrite avec un compte (n° {number})"),
        _ => format!("Sans prénom (n° {number})"),
    };
    Person {
        number,
        name,
        email: line.email.clone().unwrap_or_default(),
        account: line.signed_in,
        status: labels::registration_status(&labels::wire(&line.status)),
        position: line.waitlist_position,
        registered_at: format::local(line.created_at, zone)
            .format("%d/%m/%Y %H:%M")
            .to_string(),
    }
}

/// The roll sorted for the door: seats in arrival order, then the waiting list in its order.
pub struct Roll {
    pub seats: Vec<Person>,
    pub waiting: Vec<Person>,
    /// Cancelled, or never confirmed by mail: not listed.
    pub left_out: usize,
}

fn sort(lines: &[Line], zone: &str) -> Roll {
    let mut roll = Roll {
        seats: Vec::new(),
        waiting: Vec::new(),
        left_out: 0,
    };
    for (i, line) in lines.iter().enumerate() {
        if holds_seat(&line.status) {
            roll.seats.push(person(i + 1, line, zone));
        } else if matches!(line.status, RegistrationStatus::WAITLISTED) {
            roll.waiting.push(person(i + 1, line, zone));
        } else {
            roll.left_out += 1;
        }
    }
    roll.waiting.sort_by_key(|p| p.position.unwrap_or(i64::MAX));
    roll
}

/// The head of the roll and attendance pages.
pub struct Heading {
    pub id: Uuid,
    pub title: String,
    pub when: String,
    pub place: String,
    pub status: &'static str,
    pub capacity: Option<i64>,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub timezone: String,
    /// Wire name of the status.
    pub status_code: String,
}

/// The session a page is about, or the page saying why it cannot be shown.
pub async fn heading(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    id: &str,
    back: &str,
) -> Result<Heading, HttpResponse> {
    if visitor.signed_in.is_none() {
        return Err(render::see_other(&super::link(
            "/connexion",
            &[("retour", back)],
        )));
    }
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(super::not_found_page(visitor));
    };
    let s = match run::<ManagedSession>(app, req, visitor, managed_session::Variables { id }).await
    {
        Ok(data) => data.session.ok_or_else(|| super::not_found_page(visitor))?,
        Err(e) => return Err(super::api_problem(visitor, &e)),
    };
    let code = labels::wire(&s.status);
    Ok(Heading {
        id: s.id,
        when: format::span(s.starts_at, s.ends_at, &s.timezone),
        place: s
            .place
            .map(|p| format!("{}, {}", p.name, p.address))
            .unwrap_or_else(|| "En ligne".into()),
        status: labels::session_status(&code),
        capacity: s.capacity,
        starts_at: s.starts_at,
        timezone: s.timezone,
        status_code: code,
        title: s.title,
    })
}

#[derive(Template)]
#[template(path = "roll.html")]
pub struct RollPage {
    pub layout: Layout,
    pub session: Heading,
    pub roll: Roll,
}

async fn page(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
) -> HttpResponse {
    let back = format!("/animateur/sessions/{id}/inscrits");
    let session = match heading(&app, &req, &visitor, &id, &back).await {
        Ok(session) => session,
        Err(page) => return page,
    };
    let lines = match whole_roll(&app, &req, &visitor, session.id).await {
        Ok(lines) => lines,
        Err(e) => return super::api_problem(&visitor, &e),
    };
    render::ok(&RollPage {
        layout: Layout::new(
            &visitor,
            format!("Inscrits — {}", session.title),
            Section::Facilitators,
        ),
        roll: sort(&lines, &session.timezone),
        session,
    })
}

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a tab or a return
/// first) is prefixed with an apostrophe: a registrant's name must never run as one.
fn cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

const HEADERS: [&str; 7] = [
    "N° d'arrivée",
    "Nom",
    "Adresse électronique",
    "Inscription avec un compte",
    "Statut",
    "Position en liste d'attente",
    "Inscrit·e le",
];

/// The roll as CSV for a spreadsheet: UTF-8 with a byte-order mark (Excel reads accents
/// right only then) and `;` between cells (the list separator of French spreadsheets, where
/// the comma is the decimal mark).
pub fn csv_of(roll: &Roll) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer("\u{feff}".as_bytes().to_vec());
    out.write_record(HEADERS)?;
    for p in roll.seats.iter().chain(&roll.waiting) {
        out.write_record([
            p.number.to_string(),
            cell(&p.name),
            cell(&p.email),
            if p.account { "oui" } else { "non" }.to_owned(),
            p.status.to_owned(),
            p.position.map(|n| n.to_string()).unwrap_or_default(),
            p.registered_at.clone(),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// `inscrits-2027-03-03-cafe-ia-l-ia-au-bureau.csv`: the date and the title, in ASCII.
fn file_name(session: &Heading) -> String {
    let day = format::local(session.starts_at, &session.timezone).format("%Y-%m-%d");
    let mut slug = String::new();
    for ch in cafeia_platform::territory::fold(&session.title).chars() {
        if ch.is_ascii_alphanumeric() {
            slug.push(ch.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(60).collect();
    format!("inscrits-{day}-{}.csv", slug.trim_end_matches('-'))
}

async fn export(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
) -> HttpResponse {
    let back = format!("/animateur/sessions/{id}/inscrits");
    let session = match heading(&app, &req, &visitor, &id, &back).await {
        Ok(session) => session,
        Err(page) => return page,
    };
    let lines = match whole_roll(&app, &req, &visitor, session.id).await {
        Ok(lines) => lines,
        Err(e) => return super::api_problem(&visitor, &e),
    };
    match csv_of(&sort(&lines, &session.timezone)) {
        Ok(body) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            // Personal data: never kept by a cache.
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header(("x-content-type-options", "nosniff"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file_name(&session)),
            ))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "roll CSV failed");
            super::problem(
                &visitor,
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Export impossible",
                "La liste n'a pas pu être exportée. Réessayez dans quelques minutes.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, status: RegistrationStatus) -> Line {
        Line {
            id: Uuid::now_v7(),
            status,
            waitlist_position: None,
            name: Some(name.into()),
            email: Some("lea@example.fr".into()),
            signed_in: false,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_csv_opens_in_a_french_spreadsheet_and_runs_no_formula() {
        let lines = [
            line("Léa; \"la\" grande", RegistrationStatus::CONFIRMED),
            line("=1+1", RegistrationStatus::CONFIRMED),
            line("Parti", RegistrationStatus::CANCELLED),
        ];
        let roll = sort(&lines, "Europe/Paris");
        assert_eq!(roll.left_out, 1);
        let bytes = csv_of(&roll).expect("csv");
        assert!(bytes.starts_with("\u{feff}".as_bytes()), "a BOM first");
        let text = String::from_utf8(bytes).expect("UTF-8");
        let mut rows = text.trim_start_matches('\u{feff}').lines();
        assert_eq!(rows.next().unwrap().split(';').nth(1), Some("Nom"));
        assert!(
            text.contains("\"Léa; \"\"la\"\" grande\""),
            "quoted as CSV: {text}"
        );
        assert!(text.contains(";'=1+1;"), "a formula defused: {text}");
        assert!(!text.contains("Parti"));
    }
}
