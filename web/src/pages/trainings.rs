//! The catalogue of free training programmes: search with filters, and a programme's page.

use super::run;
use crate::{
    Web, labels,
    operations::{
        TrainingPage, Trainings, training_page,
        trainings::{self, Audience, Format, Level, TrainingAccessibility},
    },
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/formations", web::get().to(list))
        .route("/formations/{id}", web::get().to(page));
}

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub niveau: String,
    #[serde(default)]
    pub public: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub gratuit: String,
    #[serde(default)]
    pub accessibilite: String,
    #[serde(default)]
    pub apres: String,
}

/// One choice of a filter: its value in the URL, its words, whether chosen.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn choices(codes: &[&'static str], label: fn(&str) -> &'static str, chosen: &str) -> Vec<Choice> {
    codes
        .iter()
        .map(|c| Choice {
            value: c,
            label: label(c),
            selected: *c == chosen,
        })
        .collect()
}

pub struct Item {
    pub url: String,
    pub title: String,
    pub summary: String,
    pub facts: Vec<String>,
}

#[derive(Template)]
#[template(path = "trainings.html")]
pub struct ListPage {
    pub layout: Layout,
    pub filters: Filters,
    pub levels: Vec<Choice>,
    pub audiences: Vec<Choice>,
    pub formats: Vec<Choice>,
    pub access: Vec<Choice>,
    pub items: Vec<Item>,
    pub total: i64,
    pub next: Option<String>,
    pub error: Option<String>,
}

pub(crate) const LEVELS: [&str; 4] = ["DISCOVERY", "BEGINNER", "INTERMEDIATE", "ADVANCED"];
pub(crate) const AUDIENCES: [&str; 8] = [
    "GENERAL_PUBLIC",
    "STUDENTS",
    "EMPLOYEES",
    "JOB_SEEKERS",
    "SENIORS",
    "PROFESSIONALS",
    "TEACHERS",
    "PUBLIC_AGENTS",
];
pub(crate) const FORMATS: [&str; 3] = ["IN_PERSON", "ONLINE", "HYBRID"];
const ACCESS: [&str; 3] = ["DISABLED_ACCESS", "RGAA_COMPLIANT", "SIGN_LANGUAGE"];

/// A filter's value as the API's enum, through its wire name; an unknown value is no filter.
fn parse<T: serde::de::DeserializeOwned>(known: &[&str], value: &str) -> Option<T> {
    known
        .contains(&value)
        .then(|| serde_json::from_value(serde_json::Value::String(value.to_owned())).ok())
        .flatten()
}

async fn list(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    filters: web::Query<Filters>,
) -> HttpResponse {
    let filters = filters.into_inner();
    let filter = trainings::TrainingFilter {
        level: parse::<Level>(&LEVELS, &filters.niveau),
        audience: parse::<Audience>(&AUDIENCES, &filters.public),
        format: parse::<Format>(&FORMATS, &filters.format),
        free_only: Some(filters.gratuit != "non"),
        topic: None,
        departement: None,
        region: None,
        online: None,
        accessibility: parse::<TrainingAccessibility>(&ACCESS, &filters.accessibilite),
        language: None,
        has_open_session: None,
    };
    let variables = trainings::Variables {
        filter: Some(filter),
        first: Some(20),
        after: (!filters.apres.is_empty()).then(|| filters.apres.clone()),
    };
    let (items, total, next, error) = match run::<Trainings>(&app, &req, &visitor, variables).await
    {
        Ok(data) => {
            let page = data.trainings;
            let next = page
                .page_info
                .end_cursor
                .filter(|_| page.page_info.has_next_page)
                .map(|c| next_url(&filters, &c));
            let items = page
                .nodes
                .into_iter()
                .map(|t| Item {
                    url: format!("/formations/{}", t.id),
                    title: t.title,
                    summary: t.summary,
                    facts: vec![
                        labels::level(&labels::wire(&t.level)).to_owned(),
                        labels::format(&labels::wire(&t.format)).to_owned(),
                        format!("{} h", t.duration_hours),
                        if t.free {
                            "Gratuite".into()
                        } else {
                            "Payante".into()
                        },
                        t.provider.name,
                    ],
                })
                .collect();
            (items, page.total_count, next, None)
        }
        Err(e) => (
            Vec::new(),
            0,
            None,
            e.first().map(crate::forms::general_message),
        ),
    };
    render::ok(&ListPage {
        layout: Layout::new(
            &visitor,
            "Formations gratuites à l'intelligence artificielle",
            Section::Trainings,
        ),
        levels: choices(&LEVELS, labels::level, &filters.niveau),
        audiences: choices(&AUDIENCES, labels::audience, &filters.public),
        formats: choices(&FORMATS, labels::format, &filters.format),
        access: choices(&ACCESS, labels::training_access, &filters.accessibilite),
        filters,
        items,
        total,
        next,
        error,
    })
}

fn next_url(f: &Filters, cursor: &str) -> String {
    super::link(
        "/formations",
        &[
            ("niveau", &f.niveau),
            ("public", &f.public),
            ("format", &f.format),
            ("gratuit", &f.gratuit),
            ("accessibilite", &f.accessibilite),
            ("apres", cursor),
        ],
    )
}

pub struct Training {
    pub title: String,
    pub summary: String,
    pub objectives: String,
    pub content: String,
    pub facts: Vec<(&'static str, String)>,
    pub places: Vec<String>,
    pub dates: Vec<String>,
    pub enrolment_url: Option<String>,
    pub contact: Option<String>,
    pub provider: String,
    pub website: Option<String>,
}

#[derive(Template)]
#[template(path = "training.html")]
pub struct Page {
    pub layout: Layout,
    pub training: Training,
}

async fn page(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
) -> HttpResponse {
    let Ok(id) = Uuid::parse_str(&id) else {
        return super::not_found_page(&visitor);
    };
    let data =
        match run::<TrainingPage>(&app, &req, &visitor, training_page::Variables { id }).await {
            Ok(data) => data,
            Err(e) => return super::api_problem(&visitor, &e),
        };
    let Some(t) = data.training else {
        return super::not_found_page(&visitor);
    };
    let price = match (t.free, t.price_eur) {
        (true, _) => "Gratuite".to_owned(),
        (false, Some(p)) => format!("{} €", format!("{p:.2}").replace('.', ",")),
        (false, None) => "Payante".to_owned(),
    };
    let mut facts = vec![
        ("Niveau", labels::level(&labels::wire(&t.level)).to_owned()),
        (
            "Format",
            labels::format(&labels::wire(&t.format)).to_owned(),
        ),
        ("Rythme", labels::pace(&labels::wire(&t.pace)).to_owned()),
        ("Durée", format!("{} heures", t.duration_hours)),
        ("Prix", price),
        (
            "Pour qui",
            t.audiences
                .iter()
                .map(|a| labels::audience(&labels::wire(a)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ];
    if !t.accessibility.is_empty() {
        facts.push((
            "Accessibilité",
            t.accessibility
                .iter()
                .map(|a| labels::training_access(&labels::wire(a)))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if let Some(c) = &t.certification {
        facts.push(("Certification", c.clone()));
    }
    let training = Training {
        title: t.title,
        summary: t.summary,
        objectives: t.objectives,
        content: t.content,
        facts,
        places: t
            .places
            .iter()
            .map(|p| format!("{} ({})", p.commune, p.departement))
            .collect(),
        dates: t
            .sessions
            .iter()
            .map(|s| {
                format!(
                    "du {} au {}",
                    crate::format::day(&s.start_date),
                    crate::format::day(&s.end_date)
                )
            })
            .collect(),
        enrolment_url: t.enrolment_url,
        contact: t.contact_email,
        provider: t.provider.name,
        website: t.provider.website,
    };
    render::ok(&Page {
        layout: Layout::new(&visitor, training.title.clone(), Section::Trainings),
        training,
    })
}
