//! Recommendations for a citizen's profile: a ranked list of sessions and trainings, each with
//! its reasons in plain French.
//!
//! **Hard constraints** (never violated): every accessibility need is met; at least one of the
//! person's languages is spoken; "online only" keeps online and hybrid offers only; otherwise an
//! in-person offer is within the travel radius; cancelled, past and full-without-waiting-list
//! sessions are never offered.
//!
//! **Score** (documented weights, in [`Weights`]): interests matched (+0.3 each, at most 2),
//! level (+0.2), audience (+0.2), closeness (up to +0.5, falling linearly to 0 at the radius),
//! soon (+0.1 within 14 days), availability window matched (+0.2). Goal-aware terms:
//! - seats: free seats (more than 20 % left) +0.3; nearly full −0.1; only the waiting list −0.4;
//! - territory: a bounded boost (at most +0.3) for places whose reach per inhabitant is below
//!   the national mean, proportional to the gap;
//! - pathway: first-timers are steered to discovery cafés (+0.4); people who already came are
//!   steered to the next step, trainings at beginner or intermediate level (+0.4), away from
//!   another discovery café (−0.2).

use crate::{
    State,
    engine::{self, Engine},
    model::{AccessibilityNeed, Item, Masks, OfferKind},
    search::{self, Origin},
};
use actix_web::{HttpRequest, HttpResponse, web};
use cafeia_api::vocabulary::Level;
use cafeia_matching_api::{
    paths,
    recommendations::{DEFAULT_RECOMMENDATIONS, DEFAULT_TRAVEL_RADIUS_KM, MAX_RECOMMENDATIONS},
};
use cafeia_platform::{AppError, errors::AppResult, http::Json, validation::Problems};
use chrono::{DateTime, Datelike, Duration, Timelike, Utc};

// The contract's shapes, where the bench and tests have always found them.
pub use cafeia_matching_api::{AvailabilityWindow, Experience, Profile, Recommendation};

/// The ranking weights, in one place.
pub struct Weights;

impl Weights {
    pub const INTEREST: f64 = 0.3;
    pub const LEVEL: f64 = 0.2;
    pub const AUDIENCE: f64 = 0.2;
    pub const CLOSENESS: f64 = 0.5;
    pub const SOON: f64 = 0.1;
    pub const AVAILABILITY: f64 = 0.2;
    pub const FREE_SEATS: f64 = 0.3;
    pub const NEARLY_FULL: f64 = -0.1;
    pub const WAITLIST_ONLY: f64 = -0.4;
    pub const TERRITORY_MAX: f64 = 0.3;
    pub const PATHWAY: f64 = 0.4;
    pub const REPEAT_DISCOVERY: f64 = -0.2;
}

fn level_fr(level: Level) -> &'static str {
    match level {
        Level::Discovery => "découverte",
        Level::Beginner => "débutant",
        Level::Intermediate => "intermédiaire",
        Level::Advanced => "avancé",
    }
}

fn topic_fr(topic: &str) -> &str {
    match topic {
        "what_is_ai" => "comprendre l'IA",
        "generative_ai" => "IA générative",
        "ai_at_work" => "IA au travail",
        "ai_and_jobs" => "IA et emploi",
        "data_and_privacy" => "données et vie privée",
        "misinformation_deepfakes" => "désinformation et hypertrucages",
        "ai_public_services" => "IA et services publics",
        "programming_ai" => "programmer l'IA",
        "ai_and_education" => "IA et éducation",
        other => other,
    }
}

fn accessibility_fr(need: AccessibilityNeed) -> &'static str {
    match need {
        AccessibilityNeed::Wheelchair => "accessible en fauteuil",
        AccessibilityNeed::Lsf => "interprétation en LSF",
        AccessibilityNeed::HearingLoop => "boucle magnétique",
        AccessibilityNeed::EasyRead => "facile à lire et à comprendre",
    }
}

fn km_fr(d: f64) -> String {
    format!("à {:.1} km", d).replace('.', ",")
}

/// The availability window a session falls in, in its own zone: 19:00 in Pointe-à-Pitre is
/// an evening there, whatever the hour in Paris.
fn window_of(at: DateTime<Utc>, zone: chrono_tz::Tz) -> AvailabilityWindow {
    let local = at.with_timezone(&zone);
    if local.weekday().number_from_monday() >= 6 {
        AvailabilityWindow::Weekend
    } else if local.hour() >= 17 {
        AvailabilityWindow::WeekdayEvening
    } else {
        AvailabilityWindow::WeekdayDaytime
    }
}

/// Checks the hard constraints (`needs` is [`Masks::of`] the profile's needs and languages).
pub fn allowed(
    item: &Item,
    p: &Profile,
    needs: Masks,
    distance: Option<f64>,
    now: DateTime<Utc>,
) -> bool {
    if !item.offerable(now) {
        return false;
    }
    if item.masks.accessibility & needs.accessibility != needs.accessibility {
        return false;
    }
    if needs.languages != 0 && item.masks.languages & needs.languages == 0 {
        return false;
    }
    if p.online_only {
        return item.online();
    }
    item.online() || distance.is_some()
}

/// Where reasons go: nowhere while ranking every candidate (no text is built), into a list
/// for the few that are returned.
pub struct Reasons(Option<Vec<String>>);

impl Reasons {
    pub fn none() -> Self {
        Self(None)
    }

    pub fn collect() -> Self {
        Self(Some(Vec::new()))
    }

    fn add(&mut self, reason: impl FnOnce() -> String) {
        if let Some(list) = &mut self.0 {
            list.push(reason());
        }
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0.unwrap_or_default()
    }
}

pub fn score(
    item: &Item,
    p: &Profile,
    distance: Option<f64>,
    radius_km: f64,
    territory: Option<f64>,
    now: DateTime<Utc>,
    reasons: &mut Reasons,
) -> f64 {
    let mut score = 1.0;
    if let Some(d) = distance {
        score += Weights::CLOSENESS * (1.0 - d / radius_km).max(0.0);
        reasons.add(|| km_fr(d));
    } else if item.online() {
        reasons.add(|| "en ligne".into());
    }
    match (item.kind, item.capacity, item.seats_left) {
        (OfferKind::Session, Some(capacity), Some(left)) if left > 0 => {
            if f64::from(left) > 0.2 * f64::from(capacity) {
                score += Weights::FREE_SEATS;
                reasons.add(|| "places disponibles".into());
            } else {
                score += Weights::NEARLY_FULL;
                reasons.add(|| format!("plus que {left} place{}", if left > 1 { "s" } else { "" }));
            }
        }
        (OfferKind::Session, Some(_), Some(_)) => {
            score += Weights::WAITLIST_ONLY;
            reasons.add(|| "complet : inscription en liste d'attente".into());
        }
        (OfferKind::Session, _, _) => reasons.add(|| "places disponibles".into()),
        (OfferKind::Training, _, _) => {
            if item.free {
                reasons.add(|| "gratuite".into());
            }
        }
    }
    let mut matched = 0;
    for topic in &item.topics {
        if p.interests.contains(topic) && matched < 2 {
            matched += 1;
            score += Weights::INTEREST;
            reasons.add(|| format!("thème : {}", topic_fr(topic)));
        }
    }
    if p.level == Some(item.level) {
        score += Weights::LEVEL;
        reasons.add(|| format!("niveau {}", level_fr(item.level)));
    }
    if let Some(a) = p.audience
        && item.audiences.contains(&a)
    {
        score += Weights::AUDIENCE;
        reasons.add(|| "pensé pour votre situation".into());
    }
    for need in &p.accessibility {
        reasons.add(|| accessibility_fr(*need).to_owned());
    }
    if let Some(at) = item.starts_at {
        if at - now <= Duration::days(14) {
            score += Weights::SOON;
            reasons.add(|| "bientôt".into());
        }
        let window = window_of(at, item.zone());
        if p.availability.contains(&window) {
            score += Weights::AVAILABILITY;
            reasons.add(|| {
                match window {
                    AvailabilityWindow::WeekdayEvening => "en soirée, en semaine",
                    AvailabilityWindow::WeekdayDaytime => "en journée, en semaine",
                    AvailabilityWindow::Weekend => "le week-end",
                }
                .into()
            });
        }
    }
    if let Some(boost) = territory
        && boost > 0.0
    {
        score += boost;
        reasons.add(|| "dans un territoire encore peu touché".into());
    }
    match (p.experience.unwrap_or_default(), item.kind, item.level) {
        (Experience::FirstTime, OfferKind::Session, Level::Discovery) => {
            score += Weights::PATHWAY;
            reasons.add(|| "idéal pour découvrir l'IA".into());
        }
        (Experience::Returning, OfferKind::Training, Level::Beginner | Level::Intermediate) => {
            score += Weights::PATHWAY;
            reasons.add(|| {
                format!(
                    "prochaine étape : une formation niveau {}",
                    level_fr(item.level)
                )
            });
        }
        (Experience::Returning, OfferKind::Session, Level::Discovery) => {
            score += Weights::REPEAT_DISCOVERY
        }
        _ => {}
    }
    (score * 1000.0).round() / 1000.0
}

/// The part of an online offer's score that does not depend on the profile's place, interests,
/// level, audience or availability: seats and the pathway for `experience`. The rest adds at
/// most what [`online_bound`] adds.
pub fn static_score(item: &Item, experience: Experience) -> f64 {
    let mut score = 1.0;
    if let (OfferKind::Session, Some(capacity), Some(left)) =
        (item.kind, item.capacity, item.seats_left)
    {
        score += if left == 0 {
            Weights::WAITLIST_ONLY
        } else if f64::from(left) > 0.2 * f64::from(capacity) {
            Weights::FREE_SEATS
        } else {
            Weights::NEARLY_FULL
        };
    }
    score += match (experience, item.kind, item.level) {
        (Experience::FirstTime, OfferKind::Session, Level::Discovery) => Weights::PATHWAY,
        (Experience::Returning, OfferKind::Training, Level::Beginner | Level::Intermediate) => {
            Weights::PATHWAY
        }
        (Experience::Returning, OfferKind::Session, Level::Discovery) => Weights::REPEAT_DISCOVERY,
        _ => 0.0,
    };
    score
}

/// The best score `item` can reach online, whoever asks: its static score plus every
/// profile-dependent term it could earn (interests up to its own topics, level, audience;
/// date terms for sessions; territory only with a place). Ranking walks online offers in
/// this order and stops once the next cannot beat the current top.
pub fn online_bound(item: &Item, experience: Experience) -> f64 {
    let mut bound = static_score(item, experience) + Weights::LEVEL + Weights::AUDIENCE;
    bound += Weights::INTEREST * item.topics.len().min(2) as f64;
    if item.starts_at.is_some() {
        bound += Weights::SOON + Weights::AVAILABILITY;
    }
    if !item.places.is_empty() {
        bound += Weights::TERRITORY_MAX;
    }
    bound
}

/// The bounded territory boost for an item's place: proportional to how far its département's
/// reach per inhabitant is below the national mean.
fn territory_boost(state: &engine::State, item: &Item) -> Option<f64> {
    let dep = item.places.first()?.departement.as_str();
    let mean = state.national_reach_per_10000;
    if mean <= 0.0 {
        return None;
    }
    let here = state.reach_per_10000.get(dep).copied().unwrap_or(0.0);
    Some((Weights::TERRITORY_MAX * (1.0 - here / mean)).clamp(0.0, Weights::TERRITORY_MAX))
}

pub fn check(p: &Profile) -> AppResult<(Option<Origin>, f64, usize)> {
    let mut problems = Problems::default();
    let origin = search::origin(
        p.commune.as_deref(),
        p.postcode.as_deref(),
        p.latitude,
        p.longitude,
        &mut problems,
    );
    let radius = search::radius(p.radius_km, DEFAULT_TRAVEL_RADIUS_KM, &mut problems);
    if origin.is_none() && !p.online_only && problems.0.is_empty() {
        problems.add(
            "commune",
            "indiquez une commune, un code postal, des coordonnées, ou « en ligne uniquement »",
        );
    }
    cafeia_platform::vocabulary::topics(&p.interests, "interests", &mut problems);
    cafeia_platform::vocabulary::languages(&p.languages, &mut problems);
    let limit = p.limit.unwrap_or(DEFAULT_RECOMMENDATIONS);
    problems.check(
        (1..=MAX_RECOMMENDATIONS).contains(&limit),
        "limit",
        &format!("entre 1 et {MAX_RECOMMENDATIONS}"),
    );
    problems.into_result()?;
    Ok((origin, radius, limit as usize))
}

/// Ranks every offer for `p` (used by the handler and the bench).
pub fn rank(
    engine: &Engine,
    p: &Profile,
    origin: Option<&Origin>,
    radius_km: f64,
    limit: usize,
    now: DateTime<Utc>,
) -> Vec<Recommendation> {
    engine.read(|state| {
        let near = origin
            .filter(|_| !p.online_only)
            .map(|o| engine::near_items(state, o.lat, o.lon, radius_km))
            .unwrap_or_default();
        // Rank every candidate by score alone, then build the answer for the best `limit`.
        let needs = Masks::of(&p.accessibility, &p.languages);
        let eval = |item: &Item, distance: Option<f64>| -> Option<f64> {
            allowed(item, p, needs, distance, now).then(|| {
                let boost = territory_boost(state, item);
                score(
                    item,
                    p,
                    distance,
                    radius_km,
                    boost,
                    now,
                    &mut Reasons::none(),
                )
            })
        };
        let mut ranked: Vec<(f64, &Item, Option<f64>)> = Vec::new();
        // Nearby offers from the spatial index, then online ones (the same item once).
        let mut hybrid_near = std::collections::HashSet::new();
        for (item, d) in &near {
            if item.online() {
                hybrid_near.insert(item.id);
            }
            if let Some(s) = eval(item, Some(*d)) {
                ranked.push((s, item, Some(*d)));
            }
        }
        // Online offers, best static score first: stop once none left can enter the top.
        let mut best: std::collections::BinaryHeap<std::cmp::Reverse<Score>> = ranked
            .iter()
            .map(|(s, _, _)| std::cmp::Reverse(Score(*s)))
            .collect();
        while best.len() > limit {
            best.pop();
        }
        let lists = &state.online[match p.experience.unwrap_or_default() {
            Experience::FirstTime => 0,
            Experience::Returning => 1,
        }];
        let interested = |item: &Item| item.topics.iter().any(|t| p.interests.contains(t));
        let mut walked = std::collections::HashSet::new();
        // First the offers on the person's interests (full bound), then every other one with the
        // bound of an offer matching no interest; each walk stops once nothing left can enter.
        let mut walks: Vec<(&engine::Bounded, bool)> = p
            .interests
            .iter()
            .filter_map(|t| lists.by_topic.get(t))
            .map(|l| (l, true))
            .collect();
        walks.push((&lists.without_interest, false));
        // Terms no offer can earn from this profile lower every bound alike (order unchanged).
        let slack = if p.audience.is_none() {
            Weights::AUDIENCE
        } else {
            0.0
        } + if p.level.is_none() {
            Weights::LEVEL
        } else {
            0.0
        };
        for (list, on_interest) in walks {
            for (bound, item) in list {
                if best.len() >= limit && best.peek().is_some_and(|w| *bound - slack < w.0.0) {
                    break;
                }
                if !on_interest && interested(item) {
                    continue;
                }
                if on_interest && p.interests.len() > 1 && !walked.insert(item.id) {
                    continue;
                }
                let seen = !item.places.is_empty() && hybrid_near.contains(&item.id);
                if !seen && let Some(s) = eval(item, None) {
                    ranked.push((s, item, None));
                    best.push(std::cmp::Reverse(Score(s)));
                    if best.len() > limit {
                        best.pop();
                    }
                }
            }
        }
        let by_score = |a: &(f64, &Item, Option<f64>), b: &(f64, &Item, Option<f64>)| {
            b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id))
        };
        if ranked.len() > limit {
            ranked.select_nth_unstable_by(limit - 1, by_score);
            ranked.truncate(limit);
        }
        ranked.sort_by(by_score);
        ranked
            .into_iter()
            .map(|(_, item, distance)| {
                let mut reasons = Reasons::collect();
                let boost = territory_boost(state, item);
                let score = score(item, p, distance, radius_km, boost, now, &mut reasons);
                Recommendation {
                    id: item.id,
                    kind: item.kind,
                    title: item.title.clone(),
                    format: item.format,
                    level: item.level,
                    starts_at: item.starts_at,
                    seats_left: item.seats_left,
                    distance_km: distance.map(|d| (d * 10.0).round() / 10.0),
                    score,
                    reasons: reasons.into_vec(),
                }
            })
            .collect()
    })
}

/// A score ordered totally (for the heap of the best ones).
#[derive(Clone, Copy, PartialEq)]
struct Score(f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// POST /v1/recommendations
#[utoipa::path(post, path = paths::RECOMMENDATIONS, tag = "matching", request_body = Profile, responses((status = 200, body = Vec<Recommendation>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn recommend(
    state: web::Data<State>,
    profile: Json<Profile>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let p = profile.0;
    let (origin, radius_km, limit) = check(&p)?;
    state.engine.refresh(&state.platform.db).await?;
    let key = crate::cache::key("recommend", &p, &state.engine);
    let list = match crate::cache::get::<Vec<Recommendation>>(&state.platform, &key).await {
        Some(hit) => hit,
        None => {
            let list = rank(
                &state.engine,
                &p,
                origin.as_ref(),
                radius_km,
                limit,
                Utc::now(),
            );
            crate::cache::put(&state.platform, &key, &list).await;
            list
        }
    };
    // Counted from cached answers too: each person asking counts, not each computation.
    if let Some(o) = &origin
        && !list.iter().any(|r| r.distance_km.is_some())
        && let Some(caller) = crate::demand::caller_of(&state, &req).await
    {
        state.demand.record(o, caller);
    }
    Ok(HttpResponse::Ok().json(list))
}

/// POST /v1/matching/rebuild — national staff: rebuilds the index from the read model.
#[utoipa::path(post, path = paths::REBUILD, tag = "matching", responses((status = 204), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn rebuild(
    state: web::Data<State>,
    caller: cafeia_platform::auth::Caller,
) -> AppResult<HttpResponse> {
    if !caller.is_national_staff() {
        return Err(AppError::forbidden("réservé à l'équipe nationale"));
    }
    state
        .engine
        .reset()
        .map_err(|e| AppError::internal(e.to_string()))?;
    state.engine.refresh(&state.platform.db).await?;
    Ok(HttpResponse::NoContent().finish())
}
