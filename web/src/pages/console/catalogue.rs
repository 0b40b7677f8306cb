//! « Catalogue » (`/pilotage/catalogue`): what providers submitted and waits for national
//! staff, programmes and educational modules, the longest waiting first, each with its whole
//! content; publish, or refuse with a reason (required, said next to its field, what was typed
//! kept). A programme corrected after a refusal shows what each edit changed, field by field
//! before and after. The catalogue is national: a coordinator reads that it is not theirs to
//! review, and is offered nothing the API would refuse.

mod diff;

use super::{ConsolePage, Frame, layout, staff};
use crate::{
    Web, csrf, format,
    forms::{FormErrors, Submitted},
    graph::GraphError,
    labels,
    operations::{
        ReviewModule, ReviewProgramme, ReviewQueue, review_module, review_programme, review_queue,
    },
    pages::{api_problem, link, not_found_page, run, stale_form},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

pub use diff::Change;

const PATH: &str = "/pilotage/catalogue";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(PATH, web::get().to(page)).route(
        "/pilotage/catalogue/{kind}/{id}/{decision}",
        web::post().to(decide),
    );
}

/// What is reviewed: the path's `{kind}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Programme,
    Module,
}

impl Kind {
    fn parse(segment: &str) -> Option<Self> {
        match segment {
            "formations" => Some(Self::Programme),
            "modules" => Some(Self::Module),
            _ => None,
        }
    }
}

/// What staff decide: the path's `{decision}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Publish,
    Reject,
}

impl Decision {
    fn parse(segment: &str) -> Option<Self> {
        match segment {
            "publier" => Some(Self::Publish),
            "refuser" => Some(Self::Reject),
            _ => None,
        }
    }
}

/// One edit of a programme as the page says it.
pub struct Edit {
    pub when: String,
    pub by: &'static str,
    pub changes: Vec<Change>,
}

/// A submitted programme with everything a reviewer reads.
pub struct Programme {
    pub id: Uuid,
    pub title: String,
    pub provider: String,
    pub waiting_since: String,
    pub summary: String,
    pub objectives: String,
    pub content: String,
    pub facts: Vec<(&'static str, String)>,
    pub sessions: Vec<String>,
    pub edits: Vec<Edit>,
    /// The refusal's reason as typed, and why it was refused, when it was.
    pub reason: String,
    pub error: Option<String>,
}

impl Programme {
    /// The id of its refusal's reason field.
    pub fn motif_id(&self) -> String {
        format!("motif-{}", self.id)
    }
}

/// A submitted educational module.
pub struct Module {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    pub facts: Vec<(&'static str, String)>,
    pub resources: Vec<String>,
    pub reason: String,
    pub error: Option<String>,
}

impl Module {
    pub fn motif_id(&self) -> String {
        format!("motif-{}", self.id)
    }
}

#[derive(Template)]
#[template(path = "console_catalogue.html")]
pub struct CataloguePage {
    pub layout: Layout,
    pub frame: Frame,
    pub national: bool,
    pub programmes: Vec<Programme>,
    pub programmes_total: i64,
    pub programmes_next: Option<String>,
    pub modules: Vec<Module>,
    pub modules_total: i64,
    pub modules_next: Option<String>,
    pub done: Option<&'static str>,
    pub errors: Vec<String>,
    /// The queues' page cursors, sent back with a decision to come back to the same page.
    pub apres: String,
    pub modules_apres: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Query {
    #[serde(default)]
    fait: String,
    /// Where the programmes' page starts.
    #[serde(default)]
    apres: String,
    /// Where the modules' page starts.
    #[serde(default)]
    modules_apres: String,
}

fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "formation-publiee" => "La formation est publiée : elle apparaît dans le catalogue.",
        "formation-refusee" => "La formation est refusée ; l'organisme lit le motif.",
        "module-publie" => "Le module est publié : les animateurs peuvent l'utiliser.",
        "module-refuse" => "Le module est refusé ; son auteur lit le motif.",
        _ => return None,
    })
}

/// Who edited, as the page says it.
fn editor(code: &str) -> &'static str {
    match code {
        "PROVIDER" => "l'organisme",
        "STAFF" => "l'équipe nationale",
        "IMPORT" => "un import LHEO",
        _ => "une personne inconnue",
    }
}

fn programme(t: review_queue::ReviewQueueTrainingReviewQueueNodes) -> Programme {
    let joined = |items: Vec<String>| {
        if items.is_empty() {
            "aucun".to_owned()
        } else {
            items.join(", ")
        }
    };
    let mut facts = vec![
        ("Niveau", labels::level(&labels::wire(&t.level)).to_owned()),
        (
            "Publics",
            joined(
                t.audiences
                    .iter()
                    .map(|a| labels::audience(&labels::wire(a)).to_owned())
                    .collect(),
            ),
        ),
        (
            "Format",
            labels::format(&labels::wire(&t.format)).to_owned(),
        ),
        ("Rythme", diff::pace(&labels::wire(&t.pace)).to_owned()),
        (
            "Durée",
            diff::value("DURATION_HOURS", Some(&t.duration_hours.into())),
        ),
        (
            "Prix",
            match (t.free, t.price_eur) {
                (true, _) => "gratuite".into(),
                (false, Some(euros)) => diff::value("PRICE_EUR", Some(&euros.into())),
                (false, None) => "payante, prix non indiqué".into(),
            },
        ),
    ];
    if !t.free {
        facts.push((
            "Financements",
            joined(
                t.funding
                    .iter()
                    .map(|f| diff::funding(&labels::wire(f)).to_owned())
                    .collect(),
            ),
        ));
    }
    facts.extend([
        (
            "Certification",
            t.certification.clone().unwrap_or_else(|| "aucune".into()),
        ),
        (
            "Langues",
            joined(
                t.languages
                    .iter()
                    .map(|l| labels::among(&labels::LANGUAGES, l))
                    .collect(),
            ),
        ),
        (
            "Accessibilité",
            joined(
                t.accessibility
                    .iter()
                    .map(|a| labels::training_access(&labels::wire(a)).to_owned())
                    .collect(),
            ),
        ),
        (
            "Thèmes",
            joined(
                t.topics
                    .iter()
                    .map(|c| labels::among(&labels::TOPICS, c))
                    .collect(),
            ),
        ),
        (
            "Lieux",
            if t.online && t.places.is_empty() {
                "en ligne, pour toute la France".into()
            } else {
                let mut places: Vec<String> = t
                    .places
                    .iter()
                    .map(|p| format!("{} ({})", p.commune, p.insee))
                    .collect();
                if t.online {
                    places.push("et en ligne pour toute la France".into());
                }
                joined(places)
            },
        ),
        (
            "Inscription",
            t.enrolment_url
                .clone()
                .unwrap_or_else(|| "non précisée".into()),
        ),
        (
            "Contact",
            t.contact_email
                .clone()
                .unwrap_or_else(|| "non précisé".into()),
        ),
    ]);
    let sessions = t
        .sessions
        .iter()
        .map(|s| {
            let (start, end) = (
                s.start_date.format("%d/%m/%Y").to_string(),
                s.end_date.format("%d/%m/%Y").to_string(),
            );
            let when = if start == end {
                format!("Le {start}")
            } else {
                format!("Du {start} au {end}")
            };
            format!("{when}, {}", diff::enrolment(&labels::wire(&s.enrolment)))
        })
        .collect();
    let edits = t
        .edits
        .into_iter()
        .map(|e| Edit {
            when: format::when(e.at, "Europe/Paris"),
            by: editor(&labels::wire(&e.by)),
            changes: e
                .changes
                .iter()
                .map(|c| diff::change(&labels::wire(&c.field), c.before.as_ref(), c.after.as_ref()))
                .collect(),
        })
        .collect();
    Programme {
        id: t.id,
        provider: format!(
            "{} (SIRET {})",
            t.provider.name,
            crate::format::siret(&t.provider.siret)
        ),
        waiting_since: format::when(t.updated_at, "Europe/Paris"),
        summary: t.summary,
        objectives: t.objectives,
        content: t.content,
        facts,
        sessions,
        edits,
        title: t.title,
        reason: String::new(),
        error: None,
    }
}

fn module(m: review_queue::ReviewQueueEducationalModuleReviewQueueNodes) -> Module {
    let minutes = m.duration_minutes;
    Module {
        id: m.id,
        facts: vec![
            ("Version", m.version),
            ("Durée d'une séance", format::minutes(minutes)),
            ("Niveau", labels::level(&labels::wire(&m.level)).to_owned()),
            (
                "Publics",
                m.audiences
                    .iter()
                    .map(|a| labels::audience(&labels::wire(a)))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "Thèmes",
                m.topics
                    .iter()
                    .map(|c| labels::among(&labels::TOPICS, c))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("Licence", m.licence),
        ],
        resources: m.resources,
        summary: m.summary,
        title: m.title,
        reason: String::new(),
        error: None,
    }
}

/// A refusal sent without its reason, or refused by the API: shown on its item.
struct Refused {
    kind: Kind,
    id: Uuid,
    reason: String,
    error: String,
}

async fn page(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<Query>,
) -> HttpResponse {
    show(&app, &req, &visitor, &query, None, FormErrors::default()).await
}

/// The page: the queues for national staff, the notice for a coordinator; a refusal without
/// its reason on its item, the API's other errors above the queues.
async fn show(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    query: &Query,
    refused: Option<Refused>,
    errors: FormErrors,
) -> HttpResponse {
    let back = link(PATH, &[("apres", &query.apres)]);
    let scope = match staff(app, req, visitor, &back).await {
        Ok(scope) => scope,
        Err(page) => return page,
    };
    let mut page = CataloguePage {
        layout: layout(visitor, "Revue du catalogue"),
        national: scope.is_national(),
        frame: Frame {
            scope,
            page: ConsolePage::Catalogue,
        },
        programmes: Vec::new(),
        programmes_total: 0,
        programmes_next: None,
        modules: Vec::new(),
        modules_total: 0,
        modules_next: None,
        done: done_message(&query.fait),
        errors: errors.general.clone(),
        apres: query.apres.clone(),
        modules_apres: query.modules_apres.clone(),
    };
    if page.national {
        let cursor = |c: &str| (!c.is_empty()).then(|| c.to_owned());
        let data = match run::<ReviewQueue>(
            app,
            req,
            visitor,
            review_queue::Variables {
                first: Some(20),
                after: cursor(&query.apres),
                modules_after: cursor(&query.modules_apres),
            },
        )
        .await
        {
            Ok(data) => data,
            Err(e) => return api_problem(visitor, &e),
        };
        let trainings = data.training_review_queue;
        page.programmes_total = trainings.total_count;
        page.programmes_next = trainings
            .page_info
            .end_cursor
            .filter(|_| trainings.page_info.has_next_page)
            .map(|c| {
                link(
                    PATH,
                    &[("apres", &c), ("modules_apres", &query.modules_apres)],
                )
            });
        page.programmes = trainings.nodes.into_iter().map(programme).collect();
        let modules = data.educational_module_review_queue;
        page.modules_total = modules.total_count;
        page.modules_next = modules
            .page_info
            .end_cursor
            .filter(|_| modules.page_info.has_next_page)
            .map(|c| link(PATH, &[("apres", &query.apres), ("modules_apres", &c)]));
        page.modules = modules.nodes.into_iter().map(module).collect();
    }
    let status = match refused {
        Some(r) => {
            let item = match r.kind {
                Kind::Programme => page
                    .programmes
                    .iter_mut()
                    .find(|p| p.id == r.id)
                    .map(|p| (&mut p.reason, &mut p.error)),
                Kind::Module => page
                    .modules
                    .iter_mut()
                    .find(|m| m.id == r.id)
                    .map(|m| (&mut m.reason, &mut m.error)),
            };
            match item {
                Some((reason, error)) => {
                    *reason = r.reason;
                    *error = Some(r.error);
                }
                // Decided meanwhile, or on another page of the queue: say it above the
                // queues rather than lose it.
                None => page.errors.push(r.error),
            }
            StatusCode::UNPROCESSABLE_ENTITY
        }
        None => errors.status(),
    };
    render::html(status, &page)
}

async fn decide(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let sent = Submitted::parse(&body);
    if !csrf::valid(&visitor.session, &sent.one("csrf")) {
        return stale_form(&visitor);
    }
    let scope = match staff(&app, &req, &visitor, PATH).await {
        Ok(scope) => scope,
        Err(page) => return page,
    };
    if !scope.is_national() {
        // The page itself says who reviews the catalogue.
        return render::see_other(PATH);
    }
    let (kind, id, decision) = path.into_inner();
    let (Some(kind), Ok(id), Some(decision)) = (
        Kind::parse(&kind),
        Uuid::parse_str(&id),
        Decision::parse(&decision),
    ) else {
        return not_found_page(&visitor);
    };
    // The queue's page the form came from, to come back to it.
    let query = Query {
        apres: sent.one("apres"),
        modules_apres: sent.one("modules_apres"),
        ..Query::default()
    };
    let reason = sent.one("motif");
    if decision == Decision::Reject && reason.trim().is_empty() {
        let refused = Refused {
            kind,
            id,
            reason,
            error: "Indiquez le motif du refus : l'organisme le lira pour corriger sa proposition."
                .into(),
        };
        return show(
            &app,
            &req,
            &visitor,
            &query,
            Some(refused),
            FormErrors::default(),
        )
        .await;
    }
    let reason_sent = (decision == Decision::Reject).then(|| reason.clone());
    let answer: Result<(), Vec<GraphError>> = match kind {
        Kind::Programme => run::<ReviewProgramme>(
            &app,
            &req,
            &visitor,
            review_programme::Variables {
                id,
                decision: match decision {
                    Decision::Publish => review_programme::ReviewDecision::PUBLISH,
                    Decision::Reject => review_programme::ReviewDecision::REJECT,
                },
                reason: reason_sent,
            },
        )
        .await
        .map(|_| ()),
        Kind::Module => run::<ReviewModule>(
            &app,
            &req,
            &visitor,
            review_module::Variables {
                id,
                decision: match decision {
                    Decision::Publish => review_module::ReviewDecision::PUBLISH,
                    Decision::Reject => review_module::ReviewDecision::REJECT,
                },
                reason: reason_sent,
            },
        )
        .await
        .map(|_| ()),
    };
    let done = match (kind, decision) {
        (Kind::Programme, Decision::Publish) => "formation-publiee",
        (Kind::Programme, Decision::Reject) => "formation-refusee",
        (Kind::Module, Decision::Publish) => "module-publie",
        (Kind::Module, Decision::Reject) => "module-refuse",
    };
    match answer {
        Ok(()) => render::see_other(&link(
            PATH,
            &[
                ("fait", done),
                ("apres", &query.apres),
                ("modules_apres", &query.modules_apres),
            ],
        )),
        Err(e) if e.iter().any(|e| e.is("UNAUTHENTICATED")) => api_problem(&visitor, &e),
        Err(e) => {
            let mut errors = FormErrors::from_api_renamed(&e, &[("reason", "motif")]);
            match errors.field("motif") {
                Some(error) => {
                    let refused = Refused {
                        kind,
                        id,
                        reason,
                        error,
                    };
                    show(&app, &req, &visitor, &query, Some(refused), errors).await
                }
                None => {
                    errors.keep_only(&[]);
                    show(&app, &req, &visitor, &query, None, errors).await
                }
            }
        }
    }
}
