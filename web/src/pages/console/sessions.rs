//! The console's sessions: those of the staff member's territory, upcoming, full or
//! cancelled, each with its date, place, facilitator and seats, and the form that cancels one
//! with the reason its registrants are told. A région is asked in one call (the API's
//! `region` filter) and full sessions through its `full` filter, so the pages never merge
//! one list per département.

use super::{ConsolePage, Frame, Scope, layout, staff};
use crate::{
    Web, csrf, format,
    forms::{Choice, FormErrors, Submitted},
    operations::{
        CancelSession, ConsoleSession, ConsoleSessions, cancel_session, console_session,
        console_sessions,
        console_sessions::{RegistrationMode, SessionStatus},
    },
    pages::{api_problem, link, not_found_page, problem, run, stale_form},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/pilotage/sessions", web::get().to(list))
        .route(
            "/pilotage/sessions/{id}/annuler",
            web::get().to(cancel_page),
        )
        .route("/pilotage/sessions/{id}/annuler", web::post().to(cancel));
}

const LIST: &str = "/pilotage/sessions";

/// Which sessions the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Published, not started yet (full ones included).
    Upcoming,
    /// Published, not started, no seat left.
    Full,
    Cancelled,
}

impl View {
    pub const ALL: [View; 3] = [View::Upcoming, View::Full, View::Cancelled];

    fn parse(code: &str) -> Self {
        match code {
            "completes" => View::Full,
            "annulees" => View::Cancelled,
            _ => View::Upcoming,
        }
    }

    /// Its name in the address.
    pub fn code(self) -> &'static str {
        match self {
            View::Upcoming => "a-venir",
            View::Full => "completes",
            View::Cancelled => "annulees",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            View::Upcoming => "À venir",
            View::Full => "Complètes",
            View::Cancelled => "Annulées",
        }
    }

    fn empty(self) -> &'static str {
        match self {
            View::Upcoming => "Aucune session à venir ne correspond dans votre périmètre.",
            View::Full => "Aucune session complète dans votre périmètre.",
            View::Cancelled => "Aucune session annulée ne correspond dans votre périmètre.",
        }
    }
}

/// One session of the list.
pub struct Row {
    pub id: Uuid,
    pub title: String,
    pub when: String,
    pub zone: Option<String>,
    pub place: String,
    /// INSEE code of its département (empty online): what the territory is checked on.
    pub departement: String,
    pub facilitator: String,
    pub seats: String,
    pub full: bool,
    pub status: (&'static str, &'static str),
    pub reason: Option<String>,
    /// Published and not over: staff covering it may cancel it.
    pub cancellable: bool,
}

/// A tab of the list: its link, words and whether it is the one shown.
pub struct Tab {
    pub url: String,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "console_sessions.html")]
pub struct ListPage {
    pub layout: Layout,
    pub frame: Frame,
    pub view: View,
    pub tabs: Vec<Tab>,
    pub rows: Vec<Row>,
    pub total: i64,
    pub next: Option<String>,
    pub first: Option<String>,
    pub departements: Vec<Choice>,
    pub from: String,
    pub to: String,
    pub filtered: bool,
    pub errors: FormErrors,
    pub done: Option<&'static str>,
}

/// The list's filters, as the address carries them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    vue: String,
    departement: String,
    du: String,
    au: String,
    apres: String,
    fait: String,
}

fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "annulee" => {
            "La session est annulée : les personnes inscrites ou en liste d'attente qui ont \
             laissé leur adresse en reçoivent le motif par courriel."
        }
        _ => return None,
    })
}

/// Midnight of `day` in metropolitan France, as the instant the API filters on (the
/// territory's overseas sessions differ by a few hours at most, which a day's filter absorbs).
fn paris_midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    chrono_tz::Europe::Paris
        .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The instants a period of whole days runs between (`None`: the API's default, now; or no
/// end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Period {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

/// The period asked: from the first day's start to the last day's end, or what is wrong with
/// it, next to its field.
fn period(from: &str, to: &str) -> Result<Period, FormErrors> {
    let mut errors = FormErrors::default();
    let mut day = |text: &str, field: &str| {
        if text.trim().is_empty() {
            return None;
        }
        let found = crate::format::typed_day(text);
        if found.is_none() {
            errors.add(
                field,
                "Saisissez une date au format jj/mm/aaaa, par exemple 18/03/2027.",
            );
        }
        found
    };
    let (first, last) = (day(from, "du"), day(to, "au"));
    if let (Some(a), Some(b)) = (first, last)
        && b < a
    {
        errors.add(
            "au",
            "La fin de la période doit être le même jour que son début ou après.",
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Period {
        from: first.and_then(paris_midnight),
        to: last
            .and_then(|d| d.checked_add_days(Days::new(1)))
            .and_then(paris_midnight),
    })
}

fn seats(s: &console_sessions::ConsoleSessionsSessionsNodes) -> String {
    if matches!(s.registration_mode, RegistrationMode::ON_SITE_ONLY) {
        return "Sans inscription : on vient directement".into();
    }
    let taken = match s.capacity {
        Some(c) => format!(
            "{} inscrit·es sur {} places",
            format::number(s.confirmed),
            format::number(c)
        ),
        None => format!(
            "{} inscrit·es, sans limite de places",
            format::number(s.confirmed)
        ),
    };
    match s.waitlisted {
        0 => taken,
        n => format!("{taken}, {} en liste d'attente", format::number(n)),
    }
}

fn row(s: console_sessions::ConsoleSessionsSessionsNodes) -> Row {
    let now = Utc::now();
    let status = match s.status {
        SessionStatus::PUBLISHED => ("Publiée", "fr-badge--success"),
        SessionStatus::CANCELLED => ("Annulée", "fr-badge--error"),
        SessionStatus::COMPLETED => ("Terminée", "fr-badge--info"),
        _ => ("Brouillon", "fr-badge--new"),
    };
    let full = s.seats_left == Some(0);
    Row {
        id: s.id,
        seats: seats(&s),
        when: format::span(s.starts_at, s.ends_at, &s.timezone),
        zone: format::zone_note(&s.timezone),
        departement: s
            .place
            .as_ref()
            .map(|p| p.departement.clone())
            .unwrap_or_default(),
        place: s
            .place
            .map(|p| format!("{}, {}", p.name, p.address))
            .unwrap_or_else(|| "En ligne".into()),
        facilitator: s
            .facilitator
            .display_name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "Animateur·rice non nommé·e".into()),
        full,
        cancellable: matches!(s.status, SessionStatus::PUBLISHED) && s.ends_at > now,
        reason: s
            .status_reason
            .filter(|r| matches!(s.status, SessionStatus::CANCELLED) && !r.trim().is_empty()),
        status,
        title: s.title,
    }
}

fn outside(visitor: &Visitor, scope: &Scope, what: &str) -> HttpResponse {
    problem(
        visitor,
        StatusCode::FORBIDDEN,
        "Hors de votre périmètre",
        &format!(
            "{what} n'est pas dans votre périmètre ({}) : la console ne montre que les \
             sessions de votre territoire et vous ne pouvez agir que sur elles.",
            scope.label()
        ),
    )
}

async fn list(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    let scope = match staff(&app, &req, &visitor, LIST).await {
        Ok(scope) => scope,
        Err(page) => return page,
    };
    let q = query.into_inner();
    let view = View::parse(&q.vue);
    let departement = q.departement.trim().to_uppercase();
    if !departement.is_empty() && !scope.departements().contains(&departement) {
        return outside(&visitor, &scope, "Ce département");
    }
    let filters = [
        ("departement", departement.as_str()),
        ("du", q.du.as_str()),
        ("au", q.au.as_str()),
    ];
    let tabs = View::ALL
        .iter()
        .map(|v| {
            let mut pairs = vec![("vue", v.code())];
            pairs.extend(filters);
            Tab {
                url: link(LIST, &pairs),
                label: v.label(),
                current: *v == view,
            }
        })
        .collect();
    let mut page = ListPage {
        layout: layout(&visitor, "Sessions du territoire"),
        view,
        tabs,
        rows: Vec::new(),
        total: 0,
        next: None,
        first: None,
        departements: super::departement_filter(&scope, &departement),
        from: q.du.clone(),
        to: q.au.clone(),
        filtered: filters.iter().any(|(_, v)| !v.is_empty()),
        errors: FormErrors::default(),
        done: done_message(&q.fait),
        frame: Frame {
            scope,
            page: ConsolePage::Sessions,
        },
    };
    let Period { from, to } = match period(&q.du, &q.au) {
        Ok(period) => period,
        Err(errors) => {
            page.errors = errors;
            return render::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let scope = &page.frame.scope;
    let variables = console_sessions::Variables {
        departement: (!departement.is_empty())
            .then(|| departement.clone())
            .or_else(|| scope.departement().map(str::to_owned)),
        region: scope.region().map(str::to_owned),
        status: Some(match view {
            View::Cancelled => SessionStatus::CANCELLED,
            _ => SessionStatus::PUBLISHED,
        }),
        full: (view == View::Full).then_some(true),
        from,
        to,
        after: (!q.apres.is_empty()).then(|| q.apres.clone()),
    };
    let data = match run::<ConsoleSessions>(&app, &req, &visitor, variables).await {
        Ok(data) => data,
        Err(e) => return api_problem(&visitor, &e),
    };
    let info = &data.sessions.page_info;
    let mut pairs = vec![("vue", view.code())];
    pairs.extend(filters);
    page.first = (!q.apres.is_empty()).then(|| link(LIST, &pairs));
    page.next = info
        .end_cursor
        .as_deref()
        .filter(|_| info.has_next_page)
        .map(|c| {
            pairs.push(("apres", c));
            link(LIST, &pairs)
        });
    page.total = data.sessions.total_count;
    page.rows = data.sessions.nodes.into_iter().map(row).collect();
    render::ok(&page)
}

/// The session about to be cancelled.
pub struct Summary {
    pub id: Uuid,
    pub title: String,
    pub when: String,
    pub place: String,
    pub facilitator: String,
    pub registered: i64,
}

#[derive(Template)]
#[template(path = "console_sessions_cancel.html")]
pub struct CancelPage {
    pub layout: Layout,
    pub frame: Frame,
    pub session: Summary,
    pub reason: String,
    pub errors: FormErrors,
}

/// The session `id` if staff with `scope` may cancel it now, else the page that says why.
async fn cancellable(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    scope: &Scope,
    id: &str,
) -> Result<Summary, HttpResponse> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(not_found_page(visitor));
    };
    let s = match run::<ConsoleSession>(app, req, visitor, console_session::Variables { id }).await
    {
        Ok(data) => data.session.ok_or_else(|| not_found_page(visitor))?,
        Err(e) => return Err(api_problem(visitor, &e)),
    };
    // As the API decides: a placed session by its département, an online one nationally.
    let covered = match &s.place {
        Some(p) => scope.covers(&p.departement),
        None => scope.is_national(),
    };
    if !covered {
        return Err(outside(visitor, scope, "Cette session"));
    }
    use console_session::SessionStatus as Status;
    if !matches!(s.status, Status::PUBLISHED) || s.ends_at <= Utc::now() {
        let why = match s.status {
            Status::CANCELLED => "Elle est déjà annulée.",
            Status::COMPLETED => "Elle a déjà eu lieu.",
            _ if s.ends_at <= Utc::now() => "Elle est terminée.",
            _ => "Elle n'est pas publiée : seul·e son animateur·rice la voit.",
        };
        return Err(problem(
            visitor,
            StatusCode::CONFLICT,
            "Cette session ne peut pas être annulée",
            &format!("« {} » ne peut pas être annulée. {why}", s.title),
        ));
    }
    Ok(Summary {
        id: s.id,
        when: format::span(s.starts_at, s.ends_at, &s.timezone),
        place: s
            .place
            .map(|p| format!("{}, {}", p.name, p.address))
            .unwrap_or_else(|| "En ligne".into()),
        facilitator: s.facilitator.display_name.unwrap_or_default(),
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
    let back = format!("{LIST}/{id}/annuler");
    let scope = match staff(&app, &req, &visitor, &back).await {
        Ok(scope) => scope,
        Err(page) => return page,
    };
    match cancellable(&app, &req, &visitor, &scope, &id).await {
        Ok(session) => render::ok(&CancelPage {
            layout: layout(&visitor, "Annuler une session"),
            frame: Frame {
                scope,
                page: ConsolePage::Sessions,
            },
            session,
            reason: String::new(),
            errors: FormErrors::default(),
        }),
        Err(page) => page,
    }
}

/// The most characters a cancellation's reason may have (the API's limit).
const REASON_MAX: usize = 500;

/// What is wrong with a cancellation's reason as typed, next to its field.
fn reason_errors(reason: &str) -> FormErrors {
    let mut errors = FormErrors::default();
    let length = reason.trim().chars().count();
    if length == 0 {
        errors.add(
            "motif",
            "Indiquez le motif de l'annulation : il est envoyé aux personnes inscrites.",
        );
    } else if length > REASON_MAX {
        errors.add(
            "motif",
            format!(
                "Le motif fait {length} caractères : raccourcissez-le à {REASON_MAX} caractères au plus."
            ),
        );
    }
    errors
}

async fn cancel(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let back = format!("{LIST}/{id}/annuler");
    let scope = match staff(&app, &req, &visitor, &back).await {
        Ok(scope) => scope,
        Err(page) => return page,
    };
    let sent = Submitted::parse(&body);
    if !csrf::valid(&visitor.session, &sent.one("csrf")) {
        return stale_form(&visitor);
    }
    let session = match cancellable(&app, &req, &visitor, &scope, &id).await {
        Ok(session) => session,
        Err(page) => return page,
    };
    let reason = sent.one("motif");
    let mut errors = reason_errors(&reason);
    if errors.is_empty() {
        let answer = run::<CancelSession>(
            &app,
            &req,
            &visitor,
            cancel_session::Variables {
                id: session.id,
                reason: reason.trim().to_owned(),
            },
        )
        .await;
        match answer {
            Ok(_) => {
                return render::see_other(&link(
                    LIST,
                    &[("vue", View::Cancelled.code()), ("fait", "annulee")],
                ));
            }
            Err(e) if e.iter().any(|e| e.is("FORBIDDEN")) => {
                return outside(&visitor, &scope, "Cette session");
            }
            Err(e) => errors = FormErrors::from_api_renamed(&e, &[("reason", "motif")]),
        }
    }
    render::html(
        errors.status(),
        &CancelPage {
            layout: layout(&visitor, "Annuler une session"),
            frame: Frame {
                scope,
                page: ConsolePage::Sessions,
            },
            session,
            reason,
            errors,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_whole_days_in_paris() {
        let Period { from, to } = period("2027-03-18", "18/03/2027").expect("valid");
        assert_eq!(
            from.map(|t| t.to_rfc3339()).as_deref(),
            Some("2027-03-17T23:00:00+00:00")
        );
        assert_eq!(
            to.map(|t| t.to_rfc3339()).as_deref(),
            Some("2027-03-18T23:00:00+00:00")
        );
        assert_eq!(
            period("", "").expect("valid"),
            Period {
                from: None,
                to: None
            }
        );
        let wrong = period("18 mars", "2027-03-01").expect_err("not a date");
        assert!(wrong.field("du").is_some() && wrong.field("au").is_none());
        let reversed = period("2027-03-18", "2027-03-01").expect_err("backwards");
        assert!(reversed.field("au").is_some());
    }

    #[test]
    fn a_cancellation_says_why_in_500_characters() {
        assert!(reason_errors("  ").field("motif").is_some());
        assert!(reason_errors(&"a".repeat(501)).field("motif").is_some());
        assert!(reason_errors("Salle indisponible").is_empty());
    }

    #[test]
    fn views_read_from_the_address() {
        for view in View::ALL {
            assert_eq!(View::parse(view.code()), view);
        }
        assert_eq!(View::parse("n'importe quoi"), View::Upcoming);
    }
}
