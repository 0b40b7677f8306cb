//! The form a facilitator describes a session with: to create one (or a weekly or monthly
//! series of them, a draft or published at once) and to edit one. Dates and times are the
//! session's local wall-clock time in its zone; every value stays as typed when the API
//! refuses it, its errors next to their fields.

use super::{run, stale_form, trainings};
use crate::{
    Web, csrf, format,
    forms::{Choice, FormErrors, Submitted},
    graph::GraphError,
    labels,
    operations::{
        CreateSeries, CreateSession, ManagedSession, SessionFormChoices, UpdateSession,
        create_series, create_session, managed_session, session_form_choices, update_session,
    },
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/animateur/sessions/nouvelle", web::get().to(new_page))
        .route("/animateur/sessions/nouvelle", web::post().to(create))
        .route(
            "/animateur/sessions/{id}/modifier",
            web::get().to(edit_page),
        )
        .route("/animateur/sessions/{id}/modifier", web::post().to(update));
}

/// The form as the person filled it, every value as typed (enums by their wire names).
#[derive(Debug, Clone, Default)]
pub struct SessionForm {
    /// Unique per rendering of the creation form: a double submit creates once.
    pub cle: String,
    pub titre: String,
    pub description: String,
    pub format: String,
    pub lieu: String,
    pub lien: String,
    pub date: String,
    pub heure: String,
    /// Minutes.
    pub duree: String,
    pub fuseau: String,
    pub capacite: String,
    pub publics: Vec<String>,
    pub niveau: String,
    pub themes: Vec<String>,
    pub modules: Vec<String>,
    pub accessibilite: Vec<String>,
    pub inscription: String,
    pub attente: bool,
    /// Not asked by the form but part of the session: sent back as they were.
    pub langues: Vec<String>,
    pub coanimateurs: Vec<String>,
    /// Empty for one session, `WEEKLY` or `MONTHLY` for a series.
    pub repetition: String,
    pub occurrences: String,
    pub intervalle: String,
    /// `publier` or `brouillon` (the button pressed).
    pub action: String,
}

impl SessionForm {
    /// A new session: a discovery café of 1 h 30 for everyone, in metropolitan France.
    fn blank() -> Self {
        Self {
            cle: csrf::random_token(),
            format: "IN_PERSON".into(),
            duree: "90".into(),
            fuseau: "Europe/Paris".into(),
            publics: vec!["GENERAL_PUBLIC".into()],
            niveau: "DISCOVERY".into(),
            inscription: "OPEN".into(),
            attente: true,
            langues: vec!["fr".into()],
            occurrences: "4".into(),
            intervalle: "1".into(),
            ..Self::default()
        }
    }

    fn read(sent: &Submitted) -> Self {
        Self {
            cle: sent.one("cle"),
            titre: sent.one("titre"),
            description: sent.one("description"),
            format: sent.one("format"),
            lieu: sent.one("lieu"),
            lien: sent.one("lien"),
            date: sent.one("date"),
            heure: sent.one("heure"),
            duree: sent.one("duree"),
            fuseau: sent.one("fuseau"),
            capacite: sent.one("capacite"),
            publics: sent.all("publics"),
            niveau: sent.one("niveau"),
            themes: sent.all("themes"),
            modules: sent.all("modules"),
            accessibilite: sent.all("accessibilite"),
            inscription: sent.one("inscription"),
            attente: sent.one("attente") == "oui",
            langues: sent.all("langues"),
            coanimateurs: sent.all("coanimateurs"),
            repetition: sent.one("repetition"),
            occurrences: sent.one("occurrences"),
            intervalle: sent.one("intervalle"),
            action: sent.one("action"),
        }
    }

    /// An existing session, as its edit form shows it (times in its own zone).
    fn of(s: &managed_session::ManagedSessionSession) -> Self {
        let starts = format::local(s.starts_at, &s.timezone);
        Self {
            titre: s.title.clone(),
            description: s.description.clone(),
            format: labels::wire(&s.format),
            lieu: s
                .place
                .as_ref()
                .map(|p| p.venue_id.to_string())
                .unwrap_or_default(),
            lien: s.online_url.clone().unwrap_or_default(),
            date: starts.format("%Y-%m-%d").to_string(),
            heure: starts.format("%H:%M").to_string(),
            duree: (s.ends_at - s.starts_at).num_minutes().to_string(),
            fuseau: s.timezone.clone(),
            capacite: s.capacity.map(|c| c.to_string()).unwrap_or_default(),
            publics: s.audiences.iter().map(labels::wire).collect(),
            niveau: labels::wire(&s.level),
            themes: s.topics.clone(),
            modules: s.module_ids.iter().map(Uuid::to_string).collect(),
            accessibilite: s.accessibility.iter().map(labels::wire).collect(),
            inscription: labels::wire(&s.registration_mode),
            attente: s.waitlist_enabled,
            langues: s.languages.clone(),
            coanimateurs: s.co_facilitator_ids.iter().map(Uuid::to_string).collect(),
            ..Self::default()
        }
    }
}

/// The form read as the API takes it. Enums stay wire names here: each operation has its
/// own generated types, which [`input!`] builds.
struct Checked {
    title: String,
    description: String,
    modules: Vec<Uuid>,
    topics: Vec<String>,
    co_facilitators: Vec<Uuid>,
    format: String,
    venue_id: Option<Uuid>,
    online_url: Option<String>,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    timezone: String,
    capacity: Option<i64>,
    audiences: Vec<String>,
    level: String,
    languages: Vec<String>,
    accessibility: Vec<String>,
    registration_mode: String,
    waitlist: bool,
}

/// How a series repeats, as read from the form.
struct Repeat {
    frequency: String,
    count: i64,
    interval: i64,
}

const MODES: [&str; 2] = ["OPEN", "ON_SITE_ONLY"];
/// Durations offered, in minutes (the API allows up to 12 hours).
const DURATIONS: [i64; 10] = [30, 45, 60, 90, 120, 150, 180, 240, 360, 480];

fn known(values: &[String], among: &[&str]) -> Vec<String> {
    values
        .iter()
        .filter(|v| among.contains(&v.as_str()))
        .cloned()
        .collect()
}

fn ids(values: &[String]) -> Vec<Uuid> {
    values.iter().filter_map(|v| v.parse().ok()).collect()
}

/// Reads what only the form can check (a date that is a date, a number that is a number);
/// what the values mean is the API's to judge.
fn check(form: &SessionForm, series: bool) -> Result<(Checked, Option<Repeat>), FormErrors> {
    let mut errors = FormErrors::default();
    if !trainings::FORMATS.contains(&form.format.as_str()) {
        errors.add("format", "Choisissez un format.");
    }
    let in_person = form.format != "ONLINE";
    let online = form.format != "IN_PERSON";
    let venue_id = match (in_person, form.lieu.trim()) {
        (false, _) | (true, "") => None,
        (true, id) => match id.parse::<Uuid>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("lieu", "Choisissez un lieu dans la liste.");
                None
            }
        },
    };
    let day = match form.date.trim() {
        "" => {
            errors.add("date", "Saisissez la date du café, au format jj/mm/aaaa.");
            None
        }
        text => NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().or_else(|| {
            errors.add(
                "date",
                "Cette date n'est pas valide : saisissez-la au format jj/mm/aaaa, par exemple 03/03/2027.",
            );
            None
        }),
    };
    let time = NaiveTime::parse_from_str(form.heure.trim(), "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(form.heure.trim(), "%H:%M:%S"))
        .ok();
    if time.is_none() {
        errors.add(
            "heure",
            "Saisissez l'heure de début au format hh:mm, par exemple 18:00.",
        );
    }
    let minutes = form
        .duree
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|m| (1..=24 * 60).contains(m));
    if minutes.is_none() {
        errors.add("duree", "Choisissez une durée dans la liste.");
    }
    let capacity = match form.capacite.trim() {
        "" => None,
        text => text.parse::<i64>().ok().or_else(|| {
            errors.add(
                "capacite",
                "Saisissez un nombre de places en chiffres, par exemple 20.",
            );
            None
        }),
    };
    if !trainings::LEVELS.contains(&form.niveau.as_str()) {
        errors.add("niveau", "Choisissez un niveau dans la liste.");
    }
    if !MODES.contains(&form.inscription.as_str()) {
        errors.add(
            "inscription",
            "Choisissez comment les personnes s'inscrivent.",
        );
    }
    let repeat = if series && !form.repetition.is_empty() {
        if !["WEEKLY", "MONTHLY"].contains(&form.repetition.as_str()) {
            errors.add("repetition", "Choisissez une fréquence dans la liste.");
        }
        let count = form.occurrences.trim().parse::<i64>().ok();
        if count.is_none() {
            errors.add(
                "occurrences",
                "Saisissez le nombre de séances en chiffres, entre 2 et 52.",
            );
        }
        let interval = form.intervalle.trim().parse::<i64>().ok();
        if interval.is_none() {
            errors.add(
                "intervalle",
                "Saisissez un nombre en chiffres, entre 1 et 12.",
            );
        }
        Some(Repeat {
            frequency: form.repetition.clone(),
            count: count.unwrap_or_default(),
            interval: interval.unwrap_or(1),
        })
    } else {
        None
    };
    let (Some(day), Some(time), Some(minutes)) = (day, time, minutes) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let starts_at = day.and_time(time);
    let checked = Checked {
        title: form.titre.clone(),
        description: form.description.clone(),
        modules: ids(&form.modules),
        topics: known(&form.themes, &labels::TOPICS.map(|t| t.0)),
        co_facilitators: ids(&form.coanimateurs),
        format: form.format.clone(),
        venue_id,
        online_url: (online && !form.lien.trim().is_empty()).then(|| form.lien.trim().to_owned()),
        starts_at,
        ends_at: starts_at + Duration::minutes(minutes),
        timezone: form.fuseau.clone(),
        capacity,
        audiences: known(&form.publics, &trainings::AUDIENCES),
        level: form.niveau.clone(),
        languages: form.langues.clone(),
        accessibility: known(&form.accessibilite, &labels::SESSION_ACCESS),
        registration_mode: form.inscription.clone(),
        waitlist: form.attente,
    };
    Ok((checked, repeat))
}

/// The `SessionInput` of operation module `$m` from a [`Checked`] form (`None` when an enum
/// does not read, which the form's own checks rule out).
macro_rules! input {
    ($m:ident, $c:expr) => {{
        let c: &Checked = $c;
        (|| {
            Some($m::SessionInput {
                title: c.title.clone(),
                description: c.description.clone(),
                modules: c.modules.clone(),
                topics: c.topics.clone(),
                co_facilitators: c.co_facilitators.clone(),
                format: labels::from_wire(&c.format)?,
                venue_id: c.venue_id,
                online_url: c.online_url.clone(),
                starts_at: c.starts_at,
                ends_at: c.ends_at,
                timezone: c.timezone.clone(),
                capacity: c.capacity,
                audiences: c
                    .audiences
                    .iter()
                    .map(|a| labels::from_wire(a))
                    .collect::<Option<_>>()?,
                level: labels::from_wire(&c.level)?,
                languages: c.languages.clone(),
                accessibility: c
                    .accessibility
                    .iter()
                    .map(|a| labels::from_wire(a))
                    .collect::<Option<_>>()?,
                registration_mode: labels::from_wire(&c.registration_mode)?,
                waitlist: c.waitlist,
            })
        })()
    }};
}

/// The API's input names and the form fields that show their errors.
const FIELDS: [(&str, &str); 18] = [
    ("title", "titre"),
    ("description", "description"),
    ("format", "format"),
    ("venueId", "lieu"),
    ("onlineUrl", "lien"),
    ("startsAt", "debut"),
    ("endsAt", "duree"),
    ("timezone", "fuseau"),
    ("capacity", "capacite"),
    ("audiences", "publics"),
    ("level", "niveau"),
    ("topics", "themes"),
    ("modules", "modules"),
    ("accessibility", "accessibilite"),
    ("registrationMode", "inscription"),
    ("waitlist", "attente"),
    ("count", "occurrences"),
    ("interval", "intervalle"),
];

/// The API's errors on the form's fields; a series' error about a date names its session
/// (`occurrences[3].startsAt`: the fourth, which a daylight-saving change may hit alone).
fn api_errors(errors: &[GraphError]) -> FormErrors {
    let named: Vec<GraphError> = errors
        .iter()
        .map(|e| {
            let occurrence = e
                .field
                .as_deref()
                .filter(|f| f.ends_with(".startsAt") || f.ends_with(".endsAt"))
                .and_then(|f| f.strip_prefix("occurrences["))
                .and_then(|rest| rest.split(']').next())
                .and_then(|n| n.parse::<usize>().ok());
            match occurrence {
                Some(i) => GraphError {
                    message: format!("séance {} : {}", i + 1, e.message),
                    ..e.clone()
                },
                None => e.clone(),
            }
        })
        .collect();
    FormErrors::from_api_renamed(&named, &FIELDS)
}

pub struct Editing {
    pub id: Uuid,
    pub title: String,
}

#[derive(Template)]
#[template(path = "my_sessions_form.html")]
pub struct FormPage {
    pub layout: Layout,
    /// The session edited; none for a new one.
    pub editing: Option<Editing>,
    pub form: SessionForm,
    pub errors: FormErrors,
    pub formats: Vec<Choice>,
    pub venues: Vec<Choice>,
    pub no_venue: bool,
    pub durations: Vec<Choice>,
    pub zones: Vec<Choice>,
    pub audiences: Vec<Choice>,
    pub levels: Vec<Choice>,
    pub topics: Vec<Choice>,
    pub modules: Vec<Choice>,
    pub accessibility: Vec<Choice>,
    pub modes: Vec<Choice>,
    pub frequencies: Vec<Choice>,
}

/// The form page, with what the person typed and the errors (none on first view).
async fn show(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    editing: Option<Editing>,
    form: SessionForm,
    errors: FormErrors,
) -> HttpResponse {
    let choices = match run::<SessionFormChoices>(
        app,
        req,
        visitor,
        session_form_choices::Variables {},
    )
    .await
    {
        Ok(data) => data,
        Err(e) => return super::api_problem(visitor, &e),
    };
    let one = |value: &str| vec![value.to_owned()];
    let mut durations: Vec<i64> = DURATIONS.to_vec();
    // An edited session keeps a duration the list does not offer.
    if let Ok(current) = form.duree.parse::<i64>()
        && current > 0
        && !durations.contains(&current)
    {
        durations.push(current);
        durations.sort_unstable();
    }
    let title = match &editing {
        Some(e) => format!("Modifier « {} »", e.title),
        None => "Nouvelle session".to_owned(),
    };
    let page = FormPage {
        layout: Layout::new(visitor, title, Section::Facilitators),
        formats: Choice::list(
            trainings::FORMATS.map(|f| (f, labels::format(f))),
            &one(&form.format),
        ),
        no_venue: choices.my_venues.nodes.is_empty(),
        venues: Choice::list(
            choices.my_venues.nodes.iter().map(|v| {
                (
                    v.id.to_string(),
                    format!("{} — {}, {} {}", v.name, v.address, v.postcode, v.commune),
                )
            }),
            &one(&form.lieu),
        ),
        durations: Choice::list(
            durations
                .iter()
                .map(|m| (m.to_string(), format::minutes(*m))),
            &one(&form.duree),
        ),
        zones: Choice::list(labels::ZONES, &one(&form.fuseau)),
        audiences: Choice::list(
            trainings::AUDIENCES.map(|a| (a, labels::audience(a))),
            &form.publics,
        ),
        levels: Choice::list(
            trainings::LEVELS.map(|l| (l, labels::level(l))),
            &one(&form.niveau),
        ),
        topics: Choice::list(labels::TOPICS, &form.themes),
        modules: Choice::list(
            choices.educational_modules.nodes.iter().map(|m| {
                (
                    m.id.to_string(),
                    format!("{} ({})", m.title, format::minutes(m.duration_minutes)),
                )
            }),
            &form.modules,
        ),
        accessibility: Choice::list(
            labels::SESSION_ACCESS.map(|a| (a, labels::session_access(a).1)),
            &form.accessibilite,
        ),
        modes: Choice::list(
            MODES.map(|m| (m, labels::registration_mode(m))),
            &one(&form.inscription),
        ),
        frequencies: Choice::list(
            [
                ("", "Une seule fois"),
                ("WEEKLY", "Chaque semaine, le même jour"),
                ("MONTHLY", "Chaque mois, à la même date"),
            ],
            &one(&form.repetition),
        ),
        editing,
        form,
        errors,
    };
    let status = page.errors.status();
    render::html(status, &page)
}

/// Signed-out visitors are sent to sign in, then back to `path`.
fn sign_in_first(visitor: &Visitor, path: &str) -> Option<HttpResponse> {
    visitor
        .signed_in
        .is_none()
        .then(|| render::see_other(&super::link("/connexion", &[("retour", path)])))
}

async fn new_page(app: web::Data<Web>, req: HttpRequest, visitor: Visitor) -> HttpResponse {
    if let Some(go) = sign_in_first(&visitor, "/animateur/sessions/nouvelle") {
        return go;
    }
    show(
        &app,
        &req,
        &visitor,
        None,
        SessionForm::blank(),
        FormErrors::default(),
    )
    .await
}

/// The keys of the creation forms already sent in this browser (the cookie stays small).
const SENT: &str = "sessions_created";
const KEPT: usize = 5;

fn sent_keys(visitor: &Visitor) -> Vec<String> {
    visitor.session.get(SENT).ok().flatten().unwrap_or_default()
}

async fn create(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    body: web::Bytes,
) -> HttpResponse {
    let sent = Submitted::parse(&body);
    if !csrf::valid(&visitor.session, &sent.one("csrf")) {
        return stale_form(&visitor);
    }
    if let Some(go) = sign_in_first(&visitor, "/animateur/sessions/nouvelle") {
        return go;
    }
    let form = SessionForm::read(&sent);
    let key: String = form
        .cle
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(64)
        .collect();
    if key.len() == 64 && sent_keys(&visitor).contains(&key) {
        return render::see_other("/animateur/sessions");
    }
    let (checked, repeat) = match check(&form, true) {
        Ok(checked) => checked,
        Err(errors) => return show(&app, &req, &visitor, None, form, errors).await,
    };
    let publish = form.action == "publier";
    let done: Result<&str, Vec<GraphError>> = match repeat {
        None => match input!(create_session, &checked) {
            Some(input) => run::<CreateSession>(
                &app,
                &req,
                &visitor,
                create_session::Variables { input, publish },
            )
            .await
            .map(|_| if publish { "publiee" } else { "brouillon" }),
            None => Err(vec![GraphError::unavailable("valeur inconnue")]),
        },
        Some(repeat) => {
            let recurrence = labels::from_wire(&repeat.frequency).map(|frequency| {
                create_series::RecurrenceInput {
                    frequency,
                    count: repeat.count,
                    interval: repeat.interval,
                }
            });
            match (input!(create_series, &checked), recurrence) {
                (Some(session), Some(recurrence)) => run::<CreateSeries>(
                    &app,
                    &req,
                    &visitor,
                    create_series::Variables {
                        session,
                        recurrence,
                        publish,
                    },
                )
                .await
                .map(|_| if publish { "serie-publiee" } else { "serie" }),
                _ => Err(vec![GraphError::unavailable("valeur inconnue")]),
            }
        }
    };
    match done {
        Ok(done) => {
            let mut keys = sent_keys(&visitor);
            keys.push(key);
            if keys.len() > KEPT {
                keys.remove(0);
            }
            let _ = visitor.session.insert(SENT, keys);
            render::see_other(&super::link("/animateur/sessions", &[("fait", done)]))
        }
        Err(e) if e.iter().any(|e| e.is("UNAUTHENTICATED")) => {
            render::see_other("/connexion?retour=/animateur/sessions/nouvelle")
        }
        Err(e) => show(&app, &req, &visitor, None, form, api_errors(&e)).await,
    }
}

/// The session to edit, or the page saying why not.
async fn managed(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    id: &str,
) -> Result<managed_session::ManagedSessionSession, HttpResponse> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(super::not_found_page(visitor));
    };
    match run::<ManagedSession>(app, req, visitor, managed_session::Variables { id }).await {
        Ok(data) => data.session.ok_or_else(|| super::not_found_page(visitor)),
        Err(e) => Err(super::api_problem(visitor, &e)),
    }
}

async fn edit_page(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
) -> HttpResponse {
    if let Some(go) = sign_in_first(&visitor, &format!("/animateur/sessions/{id}/modifier")) {
        return go;
    }
    let session = match managed(&app, &req, &visitor, &id).await {
        Ok(session) => session,
        Err(page) => return page,
    };
    let editing = Editing {
        id: session.id,
        title: session.title.clone(),
    };
    let form = SessionForm::of(&session);
    show(
        &app,
        &req,
        &visitor,
        Some(editing),
        form,
        FormErrors::default(),
    )
    .await
}

async fn update(
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
    let back = format!("/animateur/sessions/{id}/modifier");
    if let Some(go) = sign_in_first(&visitor, &back) {
        return go;
    }
    let Ok(session_id) = Uuid::parse_str(&id) else {
        return super::not_found_page(&visitor);
    };
    let form = SessionForm::read(&sent);
    let editing = Editing {
        id: session_id,
        title: sent.one("titre_actuel"),
    };
    let checked = match check(&form, false) {
        Ok((checked, _)) => checked,
        Err(errors) => return show(&app, &req, &visitor, Some(editing), form, errors).await,
    };
    let answer = match input!(update_session, &checked) {
        Some(input) => {
            run::<UpdateSession>(
                &app,
                &req,
                &visitor,
                update_session::Variables {
                    id: session_id,
                    input,
                },
            )
            .await
        }
        None => Err(vec![GraphError::unavailable("valeur inconnue")]),
    };
    match answer {
        Ok(_) => render::see_other(&super::link("/animateur/sessions", &[("fait", "modifiee")])),
        Err(e) if e.iter().any(|e| e.is("UNAUTHENTICATED")) => {
            render::see_other(&super::link("/connexion", &[("retour", &back)]))
        }
        Err(e) => show(&app, &req, &visitor, Some(editing), form, api_errors(&e)).await,
    }
}
