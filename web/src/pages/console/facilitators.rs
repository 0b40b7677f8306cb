//! The console's facilitators: the verification queue (pending, oldest first, with what each
//! declared), the directory with its filters, and one facilitator with staff's decisions
//! (verify, suspend with a reason, reinstate) and the trail of who decided what. The API
//! scopes every call to the staff member's territory; the pages ask within it too, offer no
//! filter outside it and show no action the API would refuse.

use super::{ConsolePage, Frame, Scope, layout, staff};
use crate::{
    Web, csrf, format,
    forms::{Choice, FormErrors, Submitted, general_message},
    graph::GraphError,
    labels,
    operations::{
        ConsoleFacilitator, ConsoleFacilitators, FacilitatorOrganisation, ReinstateFacilitator,
        SuspendFacilitator, VerifyFacilitator, console_facilitator, console_facilitators,
        facilitator_organisation, reinstate_facilitator, suspend_facilitator, verify_facilitator,
    },
    pages::{facilitator::Standing, link, not_found_page, problem, run, stale_form},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use cafeia_platform::territory::Gazetteer;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/pilotage/animateurs", web::get().to(list))
        .route("/pilotage/animateurs/{id}", web::get().to(show))
        .route("/pilotage/animateurs/{id}/verifier", web::post().to(verify))
        .route(
            "/pilotage/animateurs/{id}/suspendre",
            web::post().to(suspend),
        )
        .route(
            "/pilotage/animateurs/{id}/reintegrer",
            web::post().to(reinstate),
        );
}

const LIST: &str = "/pilotage/animateurs";

/// The words and DSFR badge of where a facilitator stands.
pub fn badge(standing: Standing) -> (String, &'static str) {
    let (code, class) = match standing {
        Standing::Pending => ("PENDING", "fr-badge--new"),
        Standing::Verified => ("VERIFIED", "fr-badge--success"),
        Standing::Suspended => ("SUSPENDED", "fr-badge--error"),
    };
    (labels::among(&labels::FACILITATOR_STATUSES, code), class)
}

fn standing(wire: &str) -> Standing {
    match wire {
        "VERIFIED" => Standing::Verified,
        "SUSPENDED" => Standing::Suspended,
        _ => Standing::Pending,
    }
}

/// A served area by its name: a commune with its département, or a whole département.
fn area_name(code: &str) -> String {
    let places = Gazetteer::get();
    if let Some(c) = places.commune(code) {
        format!("{} ({})", c.name, c.departement)
    } else if let Some(d) = places.departement(code) {
        format!("{} ({code}), tout le département", d.name)
    } else {
        code.to_owned()
    }
}

/// The most areas named one by one; beyond, a count (a profile may serve 200).
const NAMED_AREAS: usize = 12;

fn area_names(codes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = codes
        .iter()
        .take(NAMED_AREAS)
        .map(|c| area_name(c))
        .collect();
    if codes.len() > NAMED_AREAS {
        out.push(format!("et {} autres", codes.len() - NAMED_AREAS));
    }
    out
}

fn departement_names(codes: &[String]) -> String {
    let places = Gazetteer::get();
    codes
        .iter()
        .map(|c| match places.departement(c) {
            Some(d) => format!("{} ({c})", d.name),
            None => c.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn topic_names(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|t| labels::among(&labels::TOPICS, t))
        .collect()
}

fn language_names(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|l| labels::among(&labels::LANGUAGES, l))
        .collect()
}

fn day(d: chrono::DateTime<chrono::Utc>) -> String {
    format::day(&format::local(d, "Europe/Paris"))
}

fn training(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| format::day(&d))
}

/// The structure a facilitator declared, with the number that identifies it.
pub struct Structure {
    pub name: String,
    /// « SIRET 213 690 084 00015 », « RNA W691234567 », or that none was given.
    pub number: String,
    pub commune: String,
}

async fn structure(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    id: Option<Uuid>,
) -> Option<Structure> {
    let id = id?;
    let found = run::<FacilitatorOrganisation>(
        app,
        req,
        visitor,
        facilitator_organisation::Variables { id },
    )
    .await
    .ok()?
    .organisation?;
    let number = match (found.siret, found.rna) {
        (Some(siret), _) => format!("SIRET {}", crate::format::siret(&siret)),
        (None, Some(rna)) => format!("RNA {rna}"),
        (None, None) => "Ni SIRET ni RNA indiqué".into(),
    };
    Some(Structure {
        name: found.name,
        number,
        commune: found.commune,
    })
}

/// A pending facilitator as the queue shows them: everything they declared.
pub struct QueueEntry {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub kind: String,
    pub organisation: Option<Structure>,
    pub areas: Vec<String>,
    pub training: Option<String>,
    pub topics: Vec<String>,
    pub languages: Vec<String>,
    pub since: String,
}

/// A line of the directory.
pub struct DirectoryRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub status: (String, &'static str),
    pub departements: String,
    pub since: String,
}

#[derive(Template)]
#[template(path = "console_facilitators.html")]
pub struct ListPage {
    pub layout: Layout,
    pub frame: Frame,
    pub queue: Vec<QueueEntry>,
    pub queue_total: i64,
    pub queue_next: Option<String>,
    /// Back to the queue's first page, when on a later one.
    pub queue_first: Option<String>,
    pub rows: Vec<DirectoryRow>,
    pub total: i64,
    pub next: Option<String>,
    pub first: Option<String>,
    pub statuses: Vec<Choice>,
    pub kinds: Vec<Choice>,
    /// The départements of the scope to filter on (none when it is only one).
    pub departements: Vec<Choice>,
    pub filtered: bool,
    /// None today: every filter is a list of what is offered.
    pub errors: FormErrors,
}

/// The directory's filters and both lists' cursors, as the address carries them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    statut: String,
    #[serde(rename = "type")]
    kind: String,
    departement: String,
    apres: String,
    file: String,
}

impl ListQuery {
    /// The filters kept by the directory's pages (not its cursor).
    fn pairs(&self) -> [(&'static str, &str); 3] {
        [
            ("statut", self.statut.as_str()),
            ("type", self.kind.as_str()),
            ("departement", self.departement.as_str()),
        ]
    }
}

/// A filter of the directory the API would refuse: a département outside the scope.
fn outside(visitor: &Visitor, scope: &Scope) -> HttpResponse {
    problem(
        visitor,
        StatusCode::FORBIDDEN,
        "Hors de votre périmètre",
        &format!(
            "Ce département n'est pas dans votre périmètre ({}) : la console ne montre que \
             les animateurs et animatrices de votre territoire.",
            scope.label()
        ),
    )
}

fn known<'a>(list: &[(&'a str, &str)], value: &str) -> Option<&'a str> {
    list.iter().find(|(c, _)| *c == value).map(|(c, _)| *c)
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
    let departement = q.departement.trim().to_uppercase();
    if !departement.is_empty() && !scope.departements().contains(&departement) {
        return outside(&visitor, &scope);
    }
    let status = known(&labels::FACILITATOR_STATUSES, &q.statut);
    let kind = known(&labels::FACILITATOR_KINDS, &q.kind);
    let region = scope.region().map(str::to_owned);
    let own_departement = scope.departement().map(str::to_owned);
    let cursor = |c: &str| (!c.is_empty()).then(|| c.to_owned());
    let variables = console_facilitators::Variables {
        queue: console_facilitators::FacilitatorFilter {
            departement: own_departement.clone(),
            region: region.clone(),
            status: Some(console_facilitators::FacilitatorStatus::PENDING),
            kind: None,
            near: None,
            radius_km: None,
        },
        queue_after: cursor(&q.file),
        directory: console_facilitators::FacilitatorFilter {
            departement: (!departement.is_empty())
                .then(|| departement.clone())
                .or(own_departement),
            region,
            status: status.and_then(labels::from_wire),
            kind: kind.and_then(labels::from_wire),
            near: None,
            radius_km: None,
        },
        after: cursor(&q.apres),
    };
    let data = match run::<ConsoleFacilitators>(&app, &req, &visitor, variables).await {
        Ok(data) => data,
        Err(e) => return crate::pages::api_problem(&visitor, &e),
    };
    let mut queue = Vec::new();
    for p in data.queue.nodes {
        queue.push(QueueEntry {
            organisation: structure(&app, &req, &visitor, p.organisation_id).await,
            id: p.id,
            name: p.display_name,
            email: p.email.unwrap_or_default(),
            kind: labels::among(&labels::FACILITATOR_KINDS, &labels::wire(&p.kind)),
            areas: area_names(&p.territories),
            training: training(p.training_completed_on),
            topics: topic_names(&p.topics),
            languages: language_names(&p.languages),
            since: day(p.created_at),
        });
    }
    let rows = data
        .directory
        .nodes
        .into_iter()
        .map(|f| DirectoryRow {
            id: f.id,
            name: f.display_name,
            kind: labels::among(&labels::FACILITATOR_KINDS, &labels::wire(&f.kind)),
            status: badge(standing(&labels::wire(&f.status))),
            departements: departement_names(&f.departements),
            since: day(f.created_at),
        })
        .collect();
    let filters = q.pairs();
    let next_page = |info: &console_facilitators::ConsoleFacilitatorsDirectoryPageInfo| {
        info.end_cursor
            .as_deref()
            .filter(|_| info.has_next_page)
            .map(|c| {
                let mut pairs = filters.to_vec();
                pairs.push(("apres", c));
                pairs.push(("file", &q.file));
                link(LIST, &pairs)
            })
    };
    let queue_next = data
        .queue
        .page_info
        .end_cursor
        .as_deref()
        .filter(|_| data.queue.page_info.has_next_page)
        .map(|c| {
            let mut pairs = filters.to_vec();
            pairs.push(("apres", &q.apres));
            pairs.push(("file", c));
            format!("{}#file", link(LIST, &pairs))
        });
    let first_of = |keep: (&'static str, &str), anchor: &str| {
        let mut pairs = filters.to_vec();
        pairs.push(keep);
        format!("{}#{anchor}", link(LIST, &pairs))
    };
    render::ok(&ListPage {
        layout: layout(&visitor, "Animateurs et animatrices"),
        queue,
        queue_total: data.queue.total_count,
        queue_next,
        queue_first: (!q.file.is_empty()).then(|| first_of(("apres", &q.apres), "file")),
        rows,
        total: data.directory.total_count,
        next: next_page(&data.directory.page_info).map(|l| format!("{l}#annuaire")),
        first: (!q.apres.is_empty()).then(|| first_of(("file", &q.file), "annuaire")),
        statuses: Choice::list(
            labels::FACILITATOR_STATUSES,
            std::slice::from_ref(&q.statut),
        ),
        kinds: Choice::list(labels::FACILITATOR_KINDS, std::slice::from_ref(&q.kind)),
        departements: super::departement_filter(&scope, &departement),
        filtered: status.is_some() || kind.is_some() || !departement.is_empty(),
        errors: FormErrors::default(),
        frame: Frame {
            scope,
            page: ConsolePage::Facilitators,
        },
    })
}

/// A staff decision about a facilitator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Verify,
    Suspend,
    Reinstate,
}

impl Decision {
    /// The form field of its reason.
    fn field(self) -> &'static str {
        match self {
            Decision::Verify => "motif_verification",
            Decision::Suspend => "motif_suspension",
            Decision::Reinstate => "motif_reintegration",
        }
    }

    /// What the address says was done, for the notice after the redirect.
    fn done(self) -> &'static str {
        match self {
            Decision::Verify => "verifie",
            Decision::Suspend => "suspendu",
            Decision::Reinstate => "reintegre",
        }
    }
}

fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "verifie" => {
            "Inscription vérifiée : cette personne peut maintenant publier ses cafés. Son espace \
             animateur affiche le changement."
        }
        "suspendu" => {
            "Inscription suspendue : ses cafés à venir ne sont plus publiés et elle ne peut plus \
             en publier. Le motif est visible dans son espace animateur."
        }
        "reintegre" => {
            "Suspension levée : cette personne est de nouveau vérifiée et peut publier ses cafés."
        }
        _ => return None,
    })
}

/// The most characters a decision's reason may have (the API's limit).
const REASON_MAX: usize = 1000;

/// Why a decision's reason cannot be sent as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ReasonProblem {
    /// A suspension says why (the API's `BAD_USER_INPUT` on `reason`).
    Missing,
    /// Longer than [`REASON_MAX`] characters.
    TooLong(usize),
}

impl ReasonProblem {
    fn message(&self) -> String {
        match self {
            ReasonProblem::Missing => "Indiquez le motif de la suspension : il est gardé avec la \
                                       décision et la personne le voit dans son espace."
                .into(),
            ReasonProblem::TooLong(n) => format!(
                "Le motif fait {} caractères : raccourcissez-le à {} caractères au plus.",
                format::number(*n as i64),
                format::number(REASON_MAX as i64)
            ),
        }
    }
}

/// The reason to send with `decision`: trimmed, `None` when left empty where it may be.
fn reason_for(decision: Decision, typed: &str) -> Result<Option<String>, ReasonProblem> {
    let reason = typed.trim();
    let length = reason.chars().count();
    if length > REASON_MAX {
        return Err(ReasonProblem::TooLong(length));
    }
    match (decision, reason.is_empty()) {
        (Decision::Suspend, true) => Err(ReasonProblem::Missing),
        (_, true) => Ok(None),
        (_, false) => Ok(Some(reason.to_owned())),
    }
}

/// How the API refused a decision, as the page says it.
#[derive(Debug, Clone, PartialEq)]
enum Refusal {
    /// `INVALID_TRANSITION`: someone decided already (another tab, a colleague).
    Transition(String),
    /// `FORBIDDEN`: the facilitator is outside the staff member's territory.
    OutOfScope,
    /// `NOT_FOUND`: no such facilitator (or erased).
    Unknown,
    /// `BAD_USER_INPUT` about the training date: a pending person without it.
    NotTrained,
    /// `BAD_USER_INPUT` about the reason.
    Reason(String),
    /// Anything else (the service down, rate limits…).
    Other(String),
}

impl Refusal {
    fn of(errors: &[GraphError]) -> Self {
        let Some(e) = errors.first() else {
            return Refusal::Other(String::new());
        };
        let field = e.field.as_deref().unwrap_or_default();
        match e.code.as_str() {
            "INVALID_TRANSITION" => Refusal::Transition(e.message.clone()),
            "FORBIDDEN" => Refusal::OutOfScope,
            "NOT_FOUND" => Refusal::Unknown,
            "BAD_USER_INPUT" if field.ends_with("reason") => Refusal::Reason(e.message.clone()),
            "BAD_USER_INPUT" if field.contains("training") => Refusal::NotTrained,
            _ => Refusal::Other(general_message(e)),
        }
    }

    /// The refusal on the facilitator's page: next to the reason, or above the forms.
    fn into_errors(self, decision: Decision) -> FormErrors {
        let mut errors = FormErrors::default();
        match self {
            Refusal::Transition(why) => errors.general.push(format!(
                "Cette décision n'a pas été prise : l'inscription a changé entre-temps ({why}). \
                 La fiche ci-dessous montre où elle en est maintenant."
            )),
            Refusal::NotTrained => errors.general.push(
                "La vérification attend la date de la formation des animateurs Café IA : \
                 cette personne doit l'indiquer dans son espace animateur."
                    .into(),
            ),
            Refusal::Reason(why) => errors.add(decision.field(), capitalised(&why)),
            Refusal::Other(why) => errors.general.push(why),
            Refusal::OutOfScope | Refusal::Unknown => {}
        }
        errors
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn out_of_scope(visitor: &Visitor, scope: &Scope) -> HttpResponse {
    problem(
        visitor,
        StatusCode::FORBIDDEN,
        "Hors de votre périmètre",
        &format!(
            "Cette personne n'anime dans aucun lieu de votre périmètre ({}) : vous ne pouvez \
             ni voir sa fiche ni décider de son inscription. L'équipe de son territoire ou \
             l'équipe nationale s'en charge.",
            scope.label()
        ),
    )
}

/// One line of the audit trail.
pub struct AuditLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub reason: Option<String>,
}

/// The facilitator as the console's page shows them, with what staff may decide now.
pub struct Person {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub kind: String,
    pub standing: Standing,
    pub status: (String, &'static str),
    pub reason: Option<String>,
    pub organisation: Option<Structure>,
    pub areas: Vec<String>,
    pub training: Option<String>,
    pub topics: Vec<String>,
    pub languages: Vec<String>,
    pub since: String,
    pub changed: String,
    /// Pending with the training done: the API verifies.
    pub can_verify: bool,
    pub can_suspend: bool,
    pub can_reinstate: bool,
}

#[derive(Template)]
#[template(path = "console_facilitators_detail.html")]
pub struct DetailPage {
    pub layout: Layout,
    pub frame: Frame,
    pub person: Person,
    pub trail: Vec<AuditLine>,
    pub done: Option<&'static str>,
    pub errors: FormErrors,
    /// The reasons as typed, kept when a decision is refused.
    pub suspend_reason: String,
    pub reinstate_reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DetailQuery {
    fait: String,
}

/// What the page shows around a decision: its notice, or its errors and what was typed.
#[derive(Default)]
struct Outcome {
    done: Option<&'static str>,
    errors: FormErrors,
    suspend_reason: String,
    reinstate_reason: String,
}

async fn detail(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    scope: Scope,
    id: Uuid,
    outcome: Outcome,
    status: StatusCode,
) -> HttpResponse {
    let data =
        match run::<ConsoleFacilitator>(app, req, visitor, console_facilitator::Variables { id })
            .await
        {
            Ok(data) => data,
            Err(e) => {
                return match Refusal::of(&e) {
                    Refusal::OutOfScope => out_of_scope(visitor, &scope),
                    Refusal::Unknown => not_found_page(visitor),
                    _ => crate::pages::api_problem(visitor, &e),
                };
            }
        };
    let Some(f) = data.facilitator else {
        return not_found_page(visitor);
    };
    let standing = standing(&labels::wire(&f.status));
    let trail = data
        .facilitator_audit
        .into_iter()
        .map(|e| AuditLine {
            at: format::when(e.at, "Europe/Paris"),
            actor: e.actor,
            action: labels::facilitator_action(&e.action),
            reason: e.reason.filter(|r| !r.trim().is_empty()),
        })
        .collect();
    let person = Person {
        organisation: structure(app, req, visitor, f.organisation_id).await,
        id: f.id,
        email: f.email.unwrap_or_default(),
        kind: labels::among(&labels::FACILITATOR_KINDS, &labels::wire(&f.kind)),
        status: badge(standing),
        reason: f
            .status_reason
            .filter(|r| standing == Standing::Suspended && !r.trim().is_empty()),
        areas: area_names(&f.territories),
        can_verify: standing == Standing::Pending && f.training_completed_on.is_some(),
        can_suspend: standing != Standing::Suspended,
        can_reinstate: standing == Standing::Suspended,
        training: training(f.training_completed_on),
        topics: topic_names(&f.topics),
        languages: language_names(&f.languages),
        since: day(f.created_at),
        changed: format::when(f.updated_at, "Europe/Paris"),
        standing,
        name: f.display_name,
    };
    let title = if person.name.trim().is_empty() {
        "Animateur·rice".to_owned()
    } else {
        person.name.clone()
    };
    render::html(
        status,
        &DetailPage {
            layout: layout(visitor, &title),
            frame: Frame {
                scope,
                page: ConsolePage::Facilitators,
            },
            person,
            trail,
            done: outcome.done,
            errors: outcome.errors,
            suspend_reason: outcome.suspend_reason,
            reinstate_reason: outcome.reinstate_reason,
        },
    )
}

async fn show(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
    query: web::Query<DetailQuery>,
) -> HttpResponse {
    let back = format!("{LIST}/{id}");
    let scope = match staff(&app, &req, &visitor, &back).await {
        Ok(scope) => scope,
        Err(page) => return page,
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found_page(&visitor);
    };
    let outcome = Outcome {
        done: done_message(&query.fait),
        ..Outcome::default()
    };
    detail(&app, &req, &visitor, scope, id, outcome, StatusCode::OK).await
}

async fn verify(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    decide(&app, &req, &visitor, &id, &body, Decision::Verify).await
}

async fn suspend(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    decide(&app, &req, &visitor, &id, &body, Decision::Suspend).await
}

async fn reinstate(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    decide(&app, &req, &visitor, &id, &body, Decision::Reinstate).await
}

/// Takes `decision` about the facilitator `id`, then back to their page with a notice; a
/// refusal shows their page again with the reason typed and why, in plain French.
async fn decide(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    id: &str,
    body: &[u8],
    decision: Decision,
) -> HttpResponse {
    let back = format!("{LIST}/{id}");
    let scope = match staff(app, req, visitor, &back).await {
        Ok(scope) => scope,
        Err(page) => return page,
    };
    let sent = Submitted::parse(body);
    if !csrf::valid(&visitor.session, &sent.one("csrf")) {
        return stale_form(visitor);
    }
    let Ok(id) = Uuid::parse_str(id) else {
        return not_found_page(visitor);
    };
    let typed = sent.one(decision.field());
    let mut outcome = Outcome::default();
    match decision {
        Decision::Suspend => outcome.suspend_reason = typed.clone(),
        Decision::Reinstate => outcome.reinstate_reason = typed.clone(),
        Decision::Verify => {}
    }
    let reason = match reason_for(decision, &typed) {
        Ok(reason) => reason,
        Err(problem) => {
            outcome.errors.add(decision.field(), problem.message());
            return detail(
                app,
                req,
                visitor,
                scope,
                id,
                outcome,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let answer = match decision {
        Decision::Verify => {
            run::<VerifyFacilitator>(app, req, visitor, verify_facilitator::Variables { id })
                .await
                .map(|_| ())
        }
        Decision::Suspend => run::<SuspendFacilitator>(
            app,
            req,
            visitor,
            suspend_facilitator::Variables {
                id,
                reason: reason.unwrap_or_default(),
            },
        )
        .await
        .map(|_| ()),
        Decision::Reinstate => run::<ReinstateFacilitator>(
            app,
            req,
            visitor,
            reinstate_facilitator::Variables { id, reason },
        )
        .await
        .map(|_| ()),
    };
    match answer {
        Ok(()) => render::see_other(&link(&format!("{LIST}/{id}"), &[("fait", decision.done())])),
        Err(e) => match Refusal::of(&e) {
            Refusal::OutOfScope => out_of_scope(visitor, &scope),
            Refusal::Unknown => not_found_page(visitor),
            refusal => {
                let status = match refusal {
                    Refusal::Transition(_) => StatusCode::CONFLICT,
                    // The service down or too many requests: said with their own status.
                    _ => crate::forms::status_of(&e),
                };
                outcome.errors = refusal.into_errors(decision);
                detail(app, req, visitor, scope, id, outcome, status).await
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspension_says_why_within_a_thousand_characters() {
        assert_eq!(
            reason_for(Decision::Suspend, "  "),
            Err(ReasonProblem::Missing)
        );
        assert_eq!(reason_for(Decision::Reinstate, " "), Ok(None));
        assert_eq!(
            reason_for(Decision::Suspend, " Signalement "),
            Ok(Some("Signalement".into()))
        );
        let long = "é".repeat(1001);
        assert_eq!(
            reason_for(Decision::Reinstate, &long),
            Err(ReasonProblem::TooLong(1001))
        );
        assert!(reason_for(Decision::Suspend, &"é".repeat(1000)).is_ok());
        assert!(
            ReasonProblem::TooLong(1001)
                .message()
                .contains("1\u{202f}001")
        );
    }

    #[test]
    fn the_apis_refusals_read_in_plain_french() {
        let error = |code: &str, field: Option<&str>, message: &str| GraphError {
            code: code.into(),
            field: field.map(str::to_owned),
            message: message.into(),
        };
        let refusal = Refusal::of(&[error("INVALID_TRANSITION", None, "déjà suspendu·e")]);
        assert_eq!(refusal, Refusal::Transition("déjà suspendu·e".into()));
        let errors = refusal.into_errors(Decision::Suspend);
        assert!(errors.general[0].contains("déjà suspendu·e"), "{errors:?}");
        let errors = Refusal::of(&[error(
            "BAD_USER_INPUT",
            Some("reason"),
            "une suspension doit être motivée",
        )])
        .into_errors(Decision::Suspend);
        assert_eq!(
            errors.field("motif_suspension").as_deref(),
            Some("Une suspension doit être motivée")
        );
        assert_eq!(
            Refusal::of(&[error("FORBIDDEN", None, "hors territoire")]),
            Refusal::OutOfScope
        );
        assert_eq!(
            Refusal::of(&[error(
                "BAD_USER_INPUT",
                Some("training_completed_on"),
                "formation"
            )]),
            Refusal::NotTrained
        );
    }

    #[test]
    fn areas_and_numbers_read_as_people_say_them() {
        assert_eq!(area_name("69266"), "Villeurbanne (69)");
        assert_eq!(area_name("69"), "Rhône (69), tout le département");
        assert_eq!(crate::format::siret("21369008400015"), "213 690 084 00015");
        let ara = Scope::Region("84".into());
        let offered = super::super::departement_filter(&ara, "69");
        assert_eq!(offered.len(), 12);
        assert!(offered.iter().all(|c| ara.covers(&c.value)));
        assert!(offered.iter().any(|c| c.value == "69" && c.selected));
        assert!(super::super::departement_filter(&Scope::Departement("69".into()), "").is_empty());
    }
}
