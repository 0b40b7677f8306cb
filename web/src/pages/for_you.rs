//! "Pour vous": a person says where they are and what they look for (no account needed); the
//! cafés and free trainings that fit best, each with the reasons the matching service gives
//! in plain French.

use super::{home::Hit, run};
use crate::{
    Web, format,
    forms::{Choice, FormErrors, Submitted},
    labels,
    operations::{
        ForYou,
        for_you::{self, OfferKind},
    },
    picker::{self, Picked},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/pour-vous", web::get().to(page));
}

const RADII: [(&str, &str); 4] = [
    ("10", "À moins de 10 km"),
    ("20", "À moins de 20 km"),
    ("50", "À moins de 50 km"),
    ("100", "À moins de 100 km"),
];

/// The form as the person filled it (a GET form: the answer is a page one may bookmark).
#[derive(Debug, Default, Clone)]
pub struct Asked {
    pub sent: bool,
    pub lieu: String,
    pub commune: String,
    pub rayon: String,
    pub distance_only: bool,
    pub niveau: String,
    pub situation: String,
    pub interets: Vec<String>,
    pub besoins: Vec<String>,
    pub moments: Vec<String>,
    pub deja_venu: bool,
}

impl Asked {
    fn read(query: &str) -> Self {
        let form = Submitted::parse(query.as_bytes());
        Self {
            sent: !query.is_empty(),
            lieu: form.one("lieu"),
            commune: form.one("commune"),
            rayon: form.one("rayon"),
            distance_only: form.one("distance") == "oui",
            niveau: form.one("niveau"),
            situation: form.one("situation"),
            interets: form.all("interets"),
            besoins: form.all("besoins"),
            moments: form.all("moments"),
            deja_venu: form.one("deja") == "oui",
        }
    }
}

#[derive(Template)]
#[template(path = "for_you.html")]
pub struct ForYouPage {
    pub layout: Layout,
    pub asked: Asked,
    pub errors: FormErrors,
    pub homonyms: Vec<Choice>,
    pub radii: Vec<Choice>,
    pub levels: Vec<Choice>,
    pub audiences: Vec<Choice>,
    pub topics: Vec<Choice>,
    pub needs: Vec<Choice>,
    pub moments: Vec<Choice>,
    /// None until the form is sent without errors.
    pub offers: Option<Vec<Hit>>,
}

async fn page(app: web::Data<Web>, req: HttpRequest, visitor: Visitor) -> HttpResponse {
    let asked = Asked::read(req.query_string());
    let mut errors = FormErrors::default();
    let mut homonyms = Vec::new();
    let mut offers = None;
    if asked.sent {
        let mut insee = None;
        if !asked.lieu.trim().is_empty() || !asked.commune.is_empty() {
            match picker::resolve(&app, &req, &visitor, &asked.lieu, &asked.commune).await {
                Ok(Picked::One(c)) => insee = Some(c.insee),
                Ok(Picked::Several(found)) => {
                    homonyms = found
                        .iter()
                        .enumerate()
                        .map(|(i, c)| Choice {
                            value: c.insee.clone(),
                            label: c.label(),
                            selected: i == 0,
                        })
                        .collect();
                    errors.add(
                        "lieu",
                        "Plusieurs communes correspondent : choisissez la vôtre ci-dessous.",
                    );
                }
                Ok(Picked::Unknown) => errors.add(
                    "lieu",
                    "Aucune commune ne porte ce nom. Vérifiez l'orthographe ou saisissez le code postal.",
                ),
                Err(e) => errors.merge(FormErrors::from_api(&e)),
            }
        } else if !asked.distance_only {
            errors.add(
                "lieu",
                "Indiquez votre commune ou votre code postal, ou cochez « seulement à distance ».",
            );
        }
        if errors.is_empty() {
            match recommend(&app, &req, &visitor, &asked, insee).await {
                Ok(found) => offers = Some(found),
                Err(e) => errors.merge(FormErrors::from_api_renamed(
                    &e,
                    &[
                        ("commune", "lieu"),
                        ("radiusKm", "rayon"),
                        ("level", "niveau"),
                        ("audience", "situation"),
                        ("interests", "interets"),
                    ],
                )),
            }
        }
    }
    let status = errors.status();
    let one = |value: &str| vec![value.to_owned()];
    render::html(
        status,
        &ForYouPage {
            layout: Layout::new(
                &visitor,
                "Des cafés et des formations pour vous",
                Section::ForYou,
            ),
            homonyms,
            radii: Choice::list(
                RADII,
                &one(if asked.rayon.is_empty() {
                    "20"
                } else {
                    &asked.rayon
                }),
            ),
            levels: Choice::list(LEVELS.map(|c| (c, labels::level(c))), &one(&asked.niveau)),
            audiences: Choice::list(
                AUDIENCES.map(|c| (c, labels::audience(c))),
                &one(&asked.situation),
            ),
            topics: Choice::list(labels::TOPICS, &asked.interets),
            needs: Choice::list(
                NEEDS.map(|c| (c, labels::session_access(c).1)),
                &asked.besoins,
            ),
            moments: Choice::list(labels::AVAILABILITY, &asked.moments),
            errors,
            offers,
            asked,
        },
    )
}

const LEVELS: [&str; 4] = ["DISCOVERY", "BEGINNER", "INTERMEDIATE", "ADVANCED"];
const AUDIENCES: [&str; 8] = [
    "GENERAL_PUBLIC",
    "STUDENTS",
    "EMPLOYEES",
    "JOB_SEEKERS",
    "SENIORS",
    "PROFESSIONALS",
    "TEACHERS",
    "PUBLIC_AGENTS",
];
const NEEDS: [&str; 4] = ["WHEELCHAIR", "LSF", "HEARING_LOOP", "EASY_READ"];

async fn recommend(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    asked: &Asked,
    commune: Option<String>,
) -> Result<Vec<Hit>, Vec<crate::graph::GraphError>> {
    let profile = for_you::ProfileInput {
        radius_km: commune
            .as_ref()
            .and_then(|_| asked.rayon.parse::<f64>().ok()),
        commune,
        postcode: None,
        latitude: None,
        longitude: None,
        online_only: asked.distance_only,
        interests: asked.interets.clone(),
        level: known(&LEVELS, &asked.niveau),
        audience: known(&AUDIENCES, &asked.situation),
        languages: Vec::new(),
        accessibility: codes(&NEEDS, &asked.besoins),
        availability: codes(&labels::AVAILABILITY.map(|(code, _)| code), &asked.moments),
        experience: Some(if asked.deja_venu {
            for_you::Experience::RETURNING
        } else {
            for_you::Experience::FIRST_TIME
        }),
        limit: Some(12),
    };
    let data = run::<ForYou>(app, req, visitor, for_you::Variables { profile }).await?;
    Ok(data.recommendations.into_iter().map(offer).collect())
}

/// `value` as the API's enum if it is one of the form's `codes` (the generated enums would
/// take any text, and a hand-edited address may carry anything).
fn known<T: serde::de::DeserializeOwned>(codes: &[&str], value: &str) -> Option<T> {
    codes
        .contains(&value)
        .then(|| labels::from_wire(value))
        .flatten()
}

/// The values among `values` that are among the form's `codes`, as the API's enum.
fn codes<T: serde::de::DeserializeOwned>(codes: &[&str], values: &[String]) -> Vec<T> {
    values.iter().filter_map(|v| known(codes, v)).collect()
}

fn offer(r: for_you::ForYouRecommendations) -> Hit {
    let training = matches!(r.kind, OfferKind::TRAINING);
    let zone = r
        .session
        .as_ref()
        .map(|s| s.timezone.clone())
        .unwrap_or_else(|| "Europe/Paris".into());
    Hit {
        url: if training {
            format!("/formations/{}", r.id)
        } else {
            format!("/sessions/{}", r.id)
        },
        title: r.title,
        training,
        format: labels::format(&labels::wire(&r.format)),
        when: r.starts_at.map(|t| format::when(t, &zone)),
        place: r
            .session
            .as_ref()
            .and_then(|s| s.place.as_ref())
            .map(|p| format!("{}, {}", p.name, p.address)),
        distance: r.distance_km.map(format::km),
        seats: (!training).then(|| format::seats(r.seats_left)),
        full: r.seats_left == Some(0),
        accessibility: Vec::new(),
        summary: r.training.as_ref().map(|t| {
            let price = if t.free { "gratuite" } else { "payante" };
            format!("Formation {price}, par {}", t.provider.name)
        }),
        reasons: r.reasons,
    }
}
