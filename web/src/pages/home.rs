//! The home page: "Trouver un Café IA près de chez moi" — a commune or postcode, a date, a
//! format; the cafés nearby soonest first, and free trainings beside them.

use super::run;
use crate::{
    Web, format,
    forms::FormErrors,
    labels,
    operations::{
        SearchOffers,
        search_offers::{self, Format, OfferKind, SearchSort},
    },
    picker::{self, Picked},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/communes", web::get().to(suggestions));
}

/// The search form, as the person filled it (every value kept as typed).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub lieu: String,
    /// The INSEE code picked among homonyms.
    #[serde(default)]
    pub commune: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub rayon: String,
    #[serde(default)]
    pub places: String,
    #[serde(default)]
    pub apres: String,
}

pub struct Candidate {
    pub insee: String,
    pub label: String,
}

pub struct Hit {
    pub url: String,
    pub title: String,
    pub training: bool,
    pub format: &'static str,
    pub when: Option<String>,
    pub place: Option<String>,
    pub distance: Option<String>,
    pub seats: Option<String>,
    pub full: bool,
    pub accessibility: Vec<(&'static str, &'static str)>,
    pub summary: Option<String>,
    /// Why it is recommended ("à 2,4 km", "places disponibles"); empty in a search.
    pub reasons: Vec<String>,
}

pub struct Results {
    pub total: i64,
    pub hits: Vec<Hit>,
    pub trainings: Vec<Hit>,
    pub next: Option<String>,
    pub around: String,
    /// Formats among the results, as tags that filter (label, count, link, chosen).
    pub facets: Vec<(&'static str, i64, String, bool)>,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub layout: Layout,
    pub filters: Filters,
    pub errors: FormErrors,
    pub candidates: Vec<Candidate>,
    pub results: Option<Results>,
    pub radius: i64,
}

const RADII: [i64; 3] = [10, 30, 100];

pub async fn home(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    filters: web::Query<Filters>,
) -> HttpResponse {
    let filters = filters.into_inner();
    let mut errors = FormErrors::default();
    let radius = filters
        .rayon
        .parse::<i64>()
        .ok()
        .filter(|r| RADII.contains(r))
        .unwrap_or(30);
    let searched =
        !filters.lieu.trim().is_empty() || !filters.date.is_empty() || !filters.format.is_empty();
    let from = match filters.date.trim() {
        "" => None,
        text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(day) => chrono_tz::Europe::Paris
                .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
                .earliest()
                .map(|t| t.with_timezone(&Utc)),
            Err(_) => {
                errors.add(
                    "date",
                    "Saisissez une date au format jj/mm/aaaa, par exemple 03/03/2027.",
                );
                None
            }
        },
    };
    let format = match filters.format.as_str() {
        "presentiel" => Some(Format::IN_PERSON),
        "distance" => Some(Format::ONLINE),
        "hybride" => Some(Format::HYBRID),
        "" => None,
        _ => {
            errors.add("format", "Choisissez un format dans la liste.");
            None
        }
    };
    // Where: a commune picked among homonyms, a postcode, or a name to look up.
    let mut candidates = Vec::new();
    let mut around = String::new();
    let (mut insee, mut postcode) = (None, None);
    let place = filters.lieu.trim();
    if !filters.commune.is_empty() {
        insee = Some(filters.commune.clone());
        around = place.to_owned();
    } else if place.len() == 5 && place.bytes().all(|b| b.is_ascii_digit()) {
        postcode = Some(place.to_owned());
        around = place.to_owned();
    } else if !place.is_empty() {
        match picker::pick(&app, &req, &visitor, place).await {
            Ok(Picked::One(only)) => {
                around = format!("{} ({})", only.name, only.departement);
                insee = Some(only.insee);
            }
            Ok(Picked::Unknown) => errors.add(
                "lieu",
                "Aucune commune ne porte ce nom. Vérifiez l'orthographe ou saisissez le code postal.",
            ),
            Ok(Picked::Several(several)) => {
                candidates = several
                    .iter()
                    .map(|c| Candidate {
                        insee: c.insee.clone(),
                        label: c.label(),
                    })
                    .collect();
                errors.add(
                    "lieu",
                    "Plusieurs communes correspondent : choisissez la vôtre ci-dessous.",
                );
            }
            Err(e) => errors
                .general
                .extend(e.iter().map(crate::forms::general_message)),
        }
    }
    let mut results = None;
    if errors.is_empty() && (searched || insee.is_some()) {
        let input = |kind: OfferKind, free: Option<bool>| search_offers::SearchInput {
            q: None,
            kind: Some(kind),
            from,
            to: None,
            format: format.clone(),
            online: None,
            free,
            level: None,
            audience: None,
            language: None,
            accessibility: None,
            topic: None,
            has_seats: (filters.places == "oui").then_some(true),
            commune: insee.clone(),
            postcode: postcode.clone(),
            latitude: None,
            longitude: None,
            radius_km: (insee.is_some() || postcode.is_some()).then_some(radius as f64),
            sort: Some(SearchSort::DATE),
        };
        let sessions = run::<SearchOffers>(
            &app,
            &req,
            &visitor,
            search_offers::Variables {
                input: Some(input(OfferKind::SESSION, None)),
                first: Some(10),
                after: (!filters.apres.is_empty()).then(|| filters.apres.clone()),
            },
        )
        .await;
        match sessions {
            Ok(data) => {
                let trainings = run::<SearchOffers>(
                    &app,
                    &req,
                    &visitor,
                    search_offers::Variables {
                        input: Some(input(OfferKind::TRAINING, Some(true))),
                        first: Some(3),
                        after: None,
                    },
                )
                .await
                .map(|t| t.search.hits.nodes.into_iter().map(hit).collect())
                .unwrap_or_default();
                let next = data
                    .search
                    .hits
                    .page_info
                    .end_cursor
                    .clone()
                    .filter(|_| data.search.hits.page_info.has_next_page)
                    .map(|cursor| next_url(&filters, &cursor));
                let facets = data
                    .search
                    .facets
                    .format
                    .iter()
                    .filter_map(|f| {
                        let wire = labels::wire(&f.value);
                        let key = match wire.as_str() {
                            "IN_PERSON" => "presentiel",
                            "ONLINE" => "distance",
                            "HYBRID" => "hybride",
                            _ => return None,
                        };
                        let chosen = filters.format == key;
                        let link = Filters {
                            format: if chosen {
                                String::new()
                            } else {
                                key.to_owned()
                            },
                            apres: String::new(),
                            ..filters.clone()
                        };
                        Some((labels::format(&wire), f.count, page_url(&link), chosen))
                    })
                    .collect();
                results = Some(Results {
                    facets,
                    total: data.search.hits.total_count,
                    hits: data.search.hits.nodes.into_iter().map(hit).collect(),
                    trainings,
                    next,
                    around,
                });
            }
            Err(e) => {
                let mut api = FormErrors::from_api(&e);
                // The API names its own inputs; the form's fields are named in French.
                if let Some(m) = api.field("commune").or_else(|| api.field("postcode")) {
                    errors.add("lieu", m);
                }
                if let Some(m) = api.field("from") {
                    errors.add("date", m);
                }
                api.keep_only(&[]);
                errors
                    .general
                    .extend(api.general.into_iter().filter(|g| !g.is_empty()));
            }
        }
    }
    let title = if results.is_some() {
        "Cafés IA près de chez vous"
    } else {
        "Trouver un Café IA près de chez moi"
    };
    let status = errors.status();
    render::html(
        status,
        &HomePage {
            layout: Layout::new(&visitor, title, Section::Cafes),
            filters,
            errors,
            candidates,
            results,
            radius,
        },
    )
}

fn next_url(filters: &Filters, cursor: &str) -> String {
    page_url(&Filters {
        apres: cursor.to_owned(),
        ..filters.clone()
    })
}

fn page_url(filters: &Filters) -> String {
    super::link(
        "/",
        &[
            ("lieu", &filters.lieu),
            ("commune", &filters.commune),
            ("date", &filters.date),
            ("format", &filters.format),
            ("rayon", &filters.rayon),
            ("places", &filters.places),
            ("apres", &filters.apres),
        ],
    )
}

fn hit(node: search_offers::SearchOffersSearchHitsNodes) -> Hit {
    let training = matches!(node.kind, OfferKind::TRAINING);
    let zone = node
        .session
        .as_ref()
        .map(|s| s.timezone.clone())
        .unwrap_or_else(|| "Europe/Paris".into());
    let accessibility = node
        .session
        .as_ref()
        .map(|s| {
            s.accessibility
                .iter()
                .map(|a| labels::session_access(&labels::wire(a)))
                .collect()
        })
        .unwrap_or_default();
    Hit {
        url: if training {
            format!("/formations/{}", node.id)
        } else {
            format!("/sessions/{}", node.id)
        },
        title: node.title,
        training,
        format: labels::format(&labels::wire(&node.format)),
        when: node.starts_at.map(|t| format::when(t, &zone)),
        place: node
            .session
            .as_ref()
            .and_then(|s| s.place.as_ref())
            .map(|p| format!("{}, {}", p.name, p.address)),
        distance: node.distance_km.map(format::km),
        seats: (!training).then(|| format::seats(node.seats_left)),
        full: node.seats_left == Some(0),
        accessibility,
        summary: node.training.as_ref().map(|t| {
            let who = &t.provider.name;
            let price = if t.free { "gratuite" } else { "payante" };
            format!("{} h, {price}, par {who}", t.duration_hours)
        }),
        reasons: Vec::new(),
    }
}

#[derive(Deserialize)]
pub struct Typed {
    #[serde(default)]
    q: String,
}

/// Suggestions for the commune field while a person types (JSON for the script; without
/// scripts the form itself offers the homonyms after sending).
async fn suggestions(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    typed: web::Query<Typed>,
) -> HttpResponse {
    let q = typed.q.trim();
    if q.chars().count() < 2 {
        return HttpResponse::Ok().json(serde_json::json!([]));
    }
    let found = picker::suggestions(&app, &req, &visitor, q)
        .await
        .unwrap_or_default();
    let list: Vec<_> = found
        .into_iter()
        .map(|c| {
            serde_json::json!({
                "insee": c.insee,
                "label": format!("{} ({})", c.name, c.departement),
                "postcodes": c.postcodes,
            })
        })
        .collect();
    HttpResponse::Ok().json(list)
}
