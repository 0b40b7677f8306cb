//! A session's page: what, when (in the session's own zone), where, who runs it, its modules,
//! the seats left (live with scripts), the register form and "add to my calendar".

use super::run;
use crate::{
    Web, format,
    forms::FormErrors,
    labels,
    operations::{
        SessionPage,
        session_page::{self, RegistrationMode, SessionStatus},
    },
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/sessions/{id}", web::get().to(page));
}

/// What the register form holds, as the person typed it.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub nom: String,
    #[serde(default)]
    pub consentement: String,
    /// Unique per rendering of the form: a double submit registers once.
    #[serde(default)]
    pub cle: String,
}

pub struct Person {
    pub name: String,
    pub detail: String,
}

pub struct Module {
    pub title: String,
    pub summary: String,
    pub minutes: i64,
}

pub struct View {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub when: String,
    pub zone_note: Option<String>,
    pub format: &'static str,
    pub place: Option<(String, String)>,
    pub commune: Option<String>,
    pub opening_hours: Option<String>,
    pub accessibility: Vec<(&'static str, &'static str)>,
    pub facilitators: Vec<Person>,
    pub modules: Vec<Module>,
    pub seats: String,
    pub seats_left: Option<i64>,
    pub full: bool,
    pub waitlist: bool,
    pub open: bool,
    pub on_site_only: bool,
    pub cancelled: Option<String>,
    pub over: bool,
    pub ical_url: String,
    pub level: String,
    /// Its schema.org `Event`, ready to sit in a `<script type="application/ld+json">`.
    pub json_ld: Option<String>,
}

#[derive(Template)]
#[template(path = "session.html")]
pub struct Page {
    pub layout: Layout,
    pub session: View,
    pub form: RegisterForm,
    pub errors: FormErrors,
    pub signed_in: bool,
}

pub async fn page(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
) -> HttpResponse {
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::not_found_page(&visitor);
    };
    let form = RegisterForm {
        cle: crate::csrf::random_token(),
        ..Default::default()
    };
    show(&app, &req, &visitor, id, form, FormErrors::default()).await
}

/// The page, with the register form as given and its errors (`errors` empty on first view).
pub async fn show(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    id: Uuid,
    form: RegisterForm,
    errors: FormErrors,
) -> HttpResponse {
    let data = match run::<SessionPage>(app, req, visitor, session_page::Variables { id }).await {
        Ok(data) => data,
        Err(e) => return super::api_problem(visitor, &e),
    };
    let Some(s) = data.session else {
        return super::not_found_page(visitor);
    };
    let view = view(s);
    let status = errors.status();
    render::html(
        status,
        &Page {
            layout: Layout::new(visitor, view.title.clone(), Section::Cafes),
            session: view,
            form,
            errors,
            signed_in: visitor.signed_in.is_some(),
        },
    )
}

fn view(s: session_page::SessionPageSession) -> View {
    let zone = s.timezone.clone();
    let (place, commune, opening_hours, venue_access) = match (&s.venue, &s.place) {
        (Some(v), _) => (
            Some((
                v.name.clone(),
                format!("{}, {} {}", v.address, v.postcode, v.commune),
            )),
            Some(v.commune.clone()),
            v.opening_hours.clone(),
            v.accessibility.clone(),
        ),
        (None, Some(p)) => (
            Some((p.name.clone(), p.address.clone())),
            None,
            None,
            Vec::new(),
        ),
        (None, None) => (None, None, None, Vec::new()),
    };
    let _ = venue_access;
    View {
        id: s.id,
        title: s.title,
        description: s.description,
        when: format::span(s.starts_at, s.ends_at, &zone),
        zone_note: format::zone_note(&zone),
        format: labels::format(&labels::wire(&s.format)),
        place,
        commune,
        opening_hours,
        accessibility: s
            .accessibility
            .iter()
            .map(|a| labels::session_access(&labels::wire(a)))
            .collect(),
        facilitators: s
            .facilitators
            .iter()
            .map(|f| Person {
                name: f.display_name.clone(),
                detail: f.organisation_name.clone().unwrap_or_default(),
            })
            .collect(),
        modules: s
            .modules
            .iter()
            .map(|m| Module {
                title: m.title.clone(),
                summary: m.summary.clone(),
                minutes: m.duration_minutes,
            })
            .collect(),
        seats: format::seats(s.seats_left),
        seats_left: s.seats_left,
        full: s.seats_left == Some(0),
        waitlist: s.waitlist_enabled,
        open: s.registration_open,
        on_site_only: matches!(s.registration_mode, RegistrationMode::ON_SITE_ONLY),
        cancelled: matches!(s.status, SessionStatus::CANCELLED)
            .then(|| s.status_reason.clone().unwrap_or_default()),
        over: matches!(s.status, SessionStatus::COMPLETED) || s.ends_at < chrono::Utc::now(),
        ical_url: s.ical_url,
        level: labels::level(&labels::wire(&s.level)).into(),
        json_ld: s.json_ld.as_ref().map(format::script_json),
    }
}
