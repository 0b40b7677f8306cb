//! Search over sessions and trainings: French full text, filters, distance from a point, a
//! postcode or a commune, facet counts, cursor pages. Answers are cached (Redis in production)
//! under the engine's generation, so any change published anywhere makes a fresh answer.

use crate::{
    State,
    engine::{self, Engine},
    model::{Item, Kind},
};
use actix_web::{HttpResponse, web};
use cafeia_platform::{
    AppError,
    errors::AppResult,
    paging,
    territory::{Gazetteer, in_france},
    validation::Problems,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Largest radius accepted, in km.
pub const MAX_RADIUS_KM: f64 = 200.0;

/// A place to search around, checked.
#[derive(Clone, Debug)]
pub struct Origin {
    pub lat: f64,
    pub lon: f64,
    pub departement: Option<String>,
    pub insee: Option<String>,
}

/// Reads a location from a commune (INSEE), a postcode or coordinates; `None` when none given.
pub fn origin(
    commune: Option<&str>,
    postcode: Option<&str>,
    lat: Option<f64>,
    lon: Option<f64>,
    p: &mut Problems,
) -> Option<Origin> {
    let g = Gazetteer::get();
    if let Some(code) = commune {
        match g.commune(code.trim()) {
            Some(c) => {
                return Some(Origin {
                    lat: c.lat,
                    lon: c.lon,
                    departement: Some(c.departement.clone()),
                    insee: Some(c.insee.clone()),
                });
            }
            None => p.add(
                "commune",
                format!("commune inconnue (code INSEE) : {code:?}"),
            ),
        }
    } else if let Some(code) = postcode {
        // A postcode serves several communes: take the most populous (the one it is named for).
        match g
            .by_postcode(code.trim())
            .into_iter()
            .max_by_key(|c| c.population)
        {
            Some(c) => {
                return Some(Origin {
                    lat: c.lat,
                    lon: c.lon,
                    departement: Some(c.departement.clone()),
                    insee: Some(c.insee.clone()),
                });
            }
            None => p.add("postcode", format!("code postal inconnu : {code:?}")),
        }
    } else {
        match (lat, lon) {
            (Some(lat), Some(lon)) if lat.is_finite() && lon.is_finite() && in_france(lat, lon) => {
                return Some(Origin {
                    lat,
                    lon,
                    departement: None,
                    insee: None,
                });
            }
            (Some(_), Some(_)) => p.add("latitude", "coordonnées hors de France"),
            (Some(_), None) => p.add("longitude", "obligatoire avec la latitude"),
            (None, Some(_)) => p.add("latitude", "obligatoire avec la longitude"),
            (None, None) => {}
        }
    }
    None
}

pub fn radius(value: Option<f64>, default: f64, p: &mut Problems) -> f64 {
    match value {
        None => default,
        Some(r) if r.is_finite() && r > 0.0 && r <= MAX_RADIUS_KM => r,
        Some(_) => {
            p.add("radius_km", format!("entre 0 et {MAX_RADIUS_KM} km"));
            default
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Relevance,
    Distance,
    Date,
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words, in French (accents and case do not matter; "IA" finds "intelligence artificielle").
    pub q: Option<String>,
    pub kind: Option<Kind>,
    /// Sessions starting from (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// `in_person`, `online` or `hybrid`.
    pub format: Option<String>,
    /// Only what can be followed online.
    pub online: Option<bool>,
    pub free: Option<bool>,
    pub level: Option<String>,
    pub audience: Option<String>,
    pub language: Option<String>,
    /// `wheelchair`, `lsf`, `hearing_loop` or `easy_read`.
    pub accessibility: Option<String>,
    pub topic: Option<String>,
    pub has_seats: Option<bool>,
    pub commune: Option<String>,
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Default 30 km around the place given.
    pub radius_km: Option<f64>,
    #[serde(default)]
    pub sort: Sort,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Hit {
    pub id: Uuid,
    pub kind: Kind,
    pub title: String,
    pub format: String,
    pub level: String,
    pub topics: Vec<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub seats_left: Option<i32>,
    pub departement: Option<String>,
    pub distance_km: Option<f64>,
    pub score: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Results {
    pub total: usize,
    pub items: Vec<Hit>,
    /// Counts over every result (before paging), per facet and value.
    pub facets: BTreeMap<String, BTreeMap<String, usize>>,
    pub next_cursor: Option<String>,
}

const ACCESSIBILITY: [&str; 4] = ["wheelchair", "lsf", "hearing_loop", "easy_read"];

fn check(q: &SearchQuery, p: &mut Problems) {
    if let Some(text) = &q.q {
        p.check(text.chars().count() <= 200, "q", "200 caractères au plus");
    }
    if let Some(f) = &q.format {
        p.check(
            ["in_person", "online", "hybrid"].contains(&f.as_str()),
            "format",
            "in_person, online ou hybrid",
        );
    }
    if let Some(a) = &q.accessibility {
        p.check(
            ACCESSIBILITY.contains(&a.as_str()),
            "accessibility",
            "wheelchair, lsf, hearing_loop ou easy_read",
        );
    }
    if let Some(t) = &q.topic {
        cafeia_platform::vocabulary::topics(std::slice::from_ref(t), "topic", p);
    }
    if let (Some(from), Some(to)) = (q.from, q.to) {
        p.check(from <= to, "to", "doit être après from");
    }
}

fn keeps(item: &Item, q: &SearchQuery) -> bool {
    let kind_ok = q.kind.is_none_or(|k| k == item.kind);
    let date_ok = match item.kind {
        Kind::Session => {
            q.from
                .is_none_or(|f| item.starts_at.is_some_and(|s| s >= f))
                && q.to.is_none_or(|t| item.starts_at.is_some_and(|s| s <= t))
        }
        Kind::Training => true,
    };
    kind_ok
        && date_ok
        && q.format.as_ref().is_none_or(|f| &item.format == f)
        && q.online.is_none_or(|o| item.online() == o)
        && q.free.is_none_or(|f| item.free == f)
        && q.level.as_ref().is_none_or(|l| &item.level == l)
        && q.audience
            .as_ref()
            .is_none_or(|a| item.audiences.contains(a))
        && q.language
            .as_ref()
            .is_none_or(|l| item.languages.contains(l))
        && q.accessibility
            .as_ref()
            .is_none_or(|a| item.accessibility.contains(a))
        && q.topic.as_ref().is_none_or(|t| item.topics.contains(t))
        && q.has_seats.is_none_or(|h| item.has_seats() == h)
}

/// The search itself, over the engine's state (also used by the bench, in process).
pub fn run(
    engine: &Engine,
    q: &SearchQuery,
    origin: Option<&Origin>,
    radius_km: f64,
    now: DateTime<Utc>,
) -> AppResult<Results> {
    let limit = paging::limit(q.limit)?;
    let offset: usize = match &q.cursor {
        None => 0,
        Some(c) => c
            .parse()
            .map_err(|_| AppError::invalid("cursor", "curseur invalide"))?,
    };
    let text_hits: Option<HashMap<Uuid, f32>> =
        q.q.as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| engine.text_search(t, 50_000).into_iter().collect());
    engine.read(|state| {
        let near = origin.map(|o| engine::near(state, o.lat, o.lon, radius_km));
        let mut hits: Vec<Hit> = Vec::new();
        let mut consider = |item: &Item, score: f32, distance: Option<f64>| {
            if !item.offerable(now) || !keeps(item, q) {
                return;
            }
            hits.push(Hit {
                id: item.id,
                kind: item.kind,
                title: item.title.clone(),
                format: item.format.clone(),
                level: item.level.clone(),
                topics: item.topics.clone(),
                starts_at: item.starts_at,
                seats_left: item.seats_left,
                departement: item.places.first().map(|p| p.departement.clone()),
                distance_km: distance.map(|d| (d * 10.0).round() / 10.0),
                score,
            });
        };
        match (&text_hits, &near) {
            (Some(text), Some(near)) => {
                for (id, d) in near {
                    if let (Some(score), Some(item)) = (text.get(id), state.items.get(id)) {
                        consider(item, *score, Some(*d));
                    }
                }
            }
            (Some(text), None) => {
                for (id, score) in text {
                    if let Some(item) = state.items.get(id) {
                        consider(item, *score, None);
                    }
                }
            }
            (None, Some(near)) => {
                for (id, d) in near {
                    if let Some(item) = state.items.get(id) {
                        consider(item, 0.0, Some(*d));
                    }
                }
            }
            (None, None) => {
                for item in state.items.values() {
                    consider(item, 0.0, None);
                }
            }
        }
        let mut facets: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for h in &hits {
            let mut count = |facet: &str, value: &str| {
                *facets
                    .entry(facet.to_owned())
                    .or_default()
                    .entry(value.to_owned())
                    .or_default() += 1;
            };
            count(
                "kind",
                if h.kind == Kind::Session {
                    "session"
                } else {
                    "training"
                },
            );
            count("format", &h.format);
            count("level", &h.level);
            count(
                "has_seats",
                if h.seats_left.is_none_or(|n| n > 0) {
                    "true"
                } else {
                    "false"
                },
            );
            for t in &h.topics {
                count("topic", t);
            }
        }
        let by_date = |h: &Hit| h.starts_at.unwrap_or(DateTime::<Utc>::MAX_UTC);
        match q.sort {
            Sort::Relevance => hits.sort_by(|a, b| {
                b.score
                    .total_cmp(&a.score)
                    .then_with(|| by_date(a).cmp(&by_date(b)))
                    .then_with(|| a.id.cmp(&b.id))
            }),
            Sort::Distance => hits.sort_by(|a, b| {
                a.distance_km
                    .unwrap_or(f64::MAX)
                    .total_cmp(&b.distance_km.unwrap_or(f64::MAX))
                    .then_with(|| a.id.cmp(&b.id))
            }),
            Sort::Date => {
                hits.sort_by(|a, b| by_date(a).cmp(&by_date(b)).then_with(|| a.id.cmp(&b.id)))
            }
        }
        let total = hits.len();
        let page: Vec<Hit> = hits
            .into_iter()
            .skip(offset)
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        let end = offset + page.len();
        Ok(Results {
            total,
            items: page,
            facets,
            next_cursor: (end < total).then(|| end.to_string()),
        })
    })
}

/// GET /v1/search
#[utoipa::path(get, path = "/v1/search", tag = "matching", params(SearchQuery), responses((status = 200, body = Results), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn search(
    state: web::Data<State>,
    query: web::Query<SearchQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let mut p = Problems::default();
    check(&q, &mut p);
    let origin = origin(
        q.commune.as_deref(),
        q.postcode.as_deref(),
        q.latitude,
        q.longitude,
        &mut p,
    );
    if q.radius_km.is_some() && origin.is_none() && p.0.is_empty() {
        p.add(
            "radius_km",
            "indiquez aussi une commune, un code postal ou des coordonnées",
        );
    }
    let radius_km = radius(q.radius_km, 30.0, &mut p);
    if q.sort == Sort::Distance && origin.is_none() && p.0.is_empty() {
        p.add("sort", "le tri par distance demande un lieu");
    }
    p.into_result()?;
    state.engine.refresh(&state.platform.db).await?;
    let key = crate::cache::key("search", &q, &state.engine);
    if let Some(hit) = crate::cache::get::<Results>(&state.platform, &key).await {
        return Ok(HttpResponse::Ok().json(hit));
    }
    let results = run(&state.engine, &q, origin.as_ref(), radius_km, Utc::now())?;
    if results.total == 0
        && let Some(o) = &origin
    {
        crate::demand::record(&state.platform, o);
    }
    crate::cache::put(&state.platform, &key, &results).await;
    Ok(HttpResponse::Ok().json(results))
}
