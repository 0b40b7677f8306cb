//! Search over sessions and trainings: French full text, filters, distance from a point, a
//! postcode or a commune, facet counts, cursor pages. Answers are cached (Redis in production)
//! under the engine's generation, so any change published anywhere makes a fresh answer.

use crate::{
    State,
    engine::{self, Engine},
    model::{Item, OfferKind},
};
use actix_web::{HttpRequest, HttpResponse, web};
use cafeia_api::Page;
use cafeia_matching_api::{
    FacetCount, Facets, SearchHit, SearchQuery, SearchResults, SearchSort, paths,
    search::{DEFAULT_SEARCH_RADIUS_KM, FacetValue, MAX_RADIUS_KM, cursor_at, cursor_offset},
};
use cafeia_platform::{
    AppError,
    errors::AppResult,
    http::Query,
    paging,
    territory::{Gazetteer, in_france},
    validation::Problems,
    vocabulary,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::{collections::HashMap, hash::Hash};
use uuid::Uuid;

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

fn check(q: &mut SearchQuery, p: &mut Problems) {
    if let Some(text) = &q.q {
        p.check(text.chars().count() <= 200, "q", "200 caractères au plus");
    }
    if let Some(t) = &q.topic {
        vocabulary::topic(t, "topic", p);
    }
    // Read as the vocabulary writes it (`FR` is `fr`), so that the filter finds it.
    q.language = q
        .language
        .take()
        .and_then(|l| vocabulary::language(&l, "language", p));
    if let (Some(from), Some(to)) = (q.from, q.to) {
        p.check(from <= to, "to", "doit être après from");
    }
}

fn keeps(item: &Item, q: &SearchQuery) -> bool {
    let kind_ok = q.kind.is_none_or(|k| k == item.kind);
    let date_ok = match item.kind {
        OfferKind::Session => {
            q.from
                .is_none_or(|f| item.starts_at.is_some_and(|s| s >= f))
                && q.to.is_none_or(|t| item.starts_at.is_some_and(|s| s <= t))
        }
        OfferKind::Training => true,
    };
    kind_ok
        && date_ok
        && q.format.is_none_or(|f| item.format == f)
        && q.online.is_none_or(|o| item.online() == o)
        && q.free.is_none_or(|f| item.free == f)
        && q.level.is_none_or(|l| item.level == l)
        && q.audience.is_none_or(|a| item.audiences.contains(&a))
        && q.language
            .as_ref()
            .is_none_or(|l| item.languages.contains(l))
        && q.accessibility
            .is_none_or(|a| item.accessibility.contains(&a))
        && q.topic.as_ref().is_none_or(|t| item.topics.contains(t))
        && q.has_seats.is_none_or(|h| item.has_seats() == h)
}

/// Counts per facet and value over every hit, each facet's values most frequent first (ties
/// in the order of their wire text, so the answer is stable).
fn facets(hits: &[SearchHit]) -> Facets {
    fn count<K: Hash + Eq>(counts: &mut HashMap<K, u64>, key: K) {
        *counts.entry(key).or_default() += 1;
    }
    fn listed<K: Serialize, T: FacetValue>(
        counts: HashMap<K, u64>,
        value: impl Fn(K) -> T,
    ) -> Vec<FacetCount<T>> {
        let mut counts: Vec<(String, K, u64)> = counts
            .into_iter()
            .map(|(k, n)| (serde_json::to_string(&k).unwrap_or_default(), k, n))
            .collect();
        counts.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        counts
            .into_iter()
            .map(|(_, k, count)| FacetCount {
                value: value(k),
                count,
            })
            .collect()
    }
    let (mut kind, mut format, mut level, mut seats) = (
        HashMap::new(),
        HashMap::new(),
        HashMap::new(),
        HashMap::new(),
    );
    let mut topic: HashMap<&str, u64> = HashMap::new();
    for h in hits {
        count(&mut kind, h.kind);
        count(&mut format, h.format);
        count(&mut level, h.level);
        count(&mut seats, h.seats_left.is_none_or(|n| n > 0));
        for t in &h.topics {
            count(&mut topic, t.as_str());
        }
    }
    Facets {
        kind: listed(kind, |k| k),
        format: listed(format, |f| f),
        level: listed(level, |l| l),
        has_seats: listed(seats, |b| b),
        topic: listed(topic, str::to_owned),
    }
}

/// The search itself, over the engine's state (also used by the bench, in process).
pub fn run(
    engine: &Engine,
    q: &SearchQuery,
    origin: Option<&Origin>,
    radius_km: f64,
    now: DateTime<Utc>,
) -> AppResult<SearchResults> {
    let limit = paging::limit(q.limit)?;
    let offset: usize = match &q.cursor {
        None => 0,
        Some(c) => {
            cursor_offset(c).ok_or_else(|| AppError::invalid("cursor", "curseur invalide"))?
        }
    };
    let text_hits: Option<HashMap<Uuid, f32>> =
        q.q.as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| engine.text_search(t, 50_000).into_iter().collect());
    engine.read(|state| {
        let near = origin.map(|o| engine::near(state, o.lat, o.lon, radius_km));
        let mut hits: Vec<SearchHit> = Vec::new();
        let mut consider = |item: &Item, score: f32, distance: Option<f64>| {
            if !item.offerable(now) || !keeps(item, q) {
                return;
            }
            hits.push(SearchHit {
                id: item.id,
                kind: item.kind,
                title: item.title.clone(),
                format: item.format,
                level: item.level,
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
        let facets = facets(&hits);
        let by_date = |h: &SearchHit| h.starts_at.unwrap_or(DateTime::<Utc>::MAX_UTC);
        match q.sort.unwrap_or_default() {
            SearchSort::Relevance => hits.sort_by(|a, b| {
                b.score
                    .total_cmp(&a.score)
                    .then_with(|| by_date(a).cmp(&by_date(b)))
                    .then_with(|| a.id.cmp(&b.id))
            }),
            SearchSort::Distance => hits.sort_by(|a, b| {
                a.distance_km
                    .unwrap_or(f64::MAX)
                    .total_cmp(&b.distance_km.unwrap_or(f64::MAX))
                    .then_with(|| a.id.cmp(&b.id))
            }),
            SearchSort::Date => {
                hits.sort_by(|a, b| by_date(a).cmp(&by_date(b)).then_with(|| a.id.cmp(&b.id)))
            }
        }
        let total = hits.len();
        let page: Vec<SearchHit> = hits
            .into_iter()
            .skip(offset)
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        let end = offset + page.len();
        Ok(SearchResults {
            page: Page {
                items: page,
                next_cursor: (end < total).then(|| cursor_at(end)),
                total: Some(total as u64),
            },
            facets,
        })
    })
}

/// GET /v1/search
#[utoipa::path(get, path = paths::SEARCH, tag = "matching", params(SearchQuery), responses((status = 200, body = SearchResults), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn search(
    state: web::Data<State>,
    query: Query<SearchQuery>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let mut q = query.into_inner();
    let mut p = Problems::default();
    check(&mut q, &mut p);
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
    let radius_km = radius(q.radius_km, DEFAULT_SEARCH_RADIUS_KM, &mut p);
    if q.sort == Some(SearchSort::Distance) && origin.is_none() && p.0.is_empty() {
        p.add("sort", "le tri par distance demande un lieu");
    }
    p.into_result()?;
    state.engine.refresh(&state.platform.db).await?;
    let key = crate::cache::key("search", &q, &state.engine);
    let results = match crate::cache::get::<SearchResults>(&state.platform, &key).await {
        Some(hit) => hit,
        None => {
            let results = run(&state.engine, &q, origin.as_ref(), radius_km, Utc::now())?;
            crate::cache::put(&state.platform, &key, &results).await;
            results
        }
    };
    // Counted from cached answers too: each person asking counts, not each computation.
    if results.page.total == Some(0)
        && let Some(o) = &origin
        && let Some(caller) = crate::demand::caller_of(&state, &req).await
    {
        state.demand.record(o, caller);
    }
    Ok(HttpResponse::Ok().json(results))
}
