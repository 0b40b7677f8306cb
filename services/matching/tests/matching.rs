//! Matching through its REST API, on both backend sets, fed by the same messages the events
//! and catalogue services publish.

use cafeia_matching::{
    Matching,
    engine::{Engine, RefreshError},
    model::{Item, OfferKind, Place},
    storage::Migrator,
};
use cafeia_platform::{
    auth::{Role, Territory},
    bus::Message,
    envelope::{Envelope, MessageType},
};
use cafeia_testkit::{
    Backend, TestEnv, backend_matrix,
    service::{ServiceHarness, field},
};
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement, sea_query::Query};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use std::time::Duration as StdDuration;
use uuid::Uuid;

const SESSION: MessageType = MessageType::new("events", "session", "published", 1);
const SEATS: MessageType = MessageType::new("events", "seats", "changed", 1);
const TRAINING: MessageType = MessageType::new("catalogue", "training", "published", 1);
const ATTENDANCE: MessageType = MessageType::new("events", "attendance", "recorded", 1);

/// (departement, insee, lat, lon)
const LYON: (&str, &str, f64, f64) = ("69", "69387", 45.745, 4.842);
const VILLEURBANNE: (&str, &str, f64, f64) = ("69", "69266", 45.766, 4.879);
const MARSEILLE: (&str, &str, f64, f64) = ("13", "13201", 43.30, 5.37);

struct S<'a> {
    title: &'a str,
    description: &'a str,
    place: Option<(&'a str, &'a str, f64, f64)>,
    days: i64,
    capacity: i32,
    seats_left: i32,
    level: &'a str,
    topics: &'a [&'a str],
    accessibility: &'a [&'a str],
    languages: &'a [&'a str],
    waitlist: bool,
}

impl Default for S<'_> {
    fn default() -> Self {
        S {
            title: "Café IA",
            description: "Découvrir l'intelligence artificielle ensemble.",
            place: Some(LYON),
            days: 5,
            capacity: 20,
            seats_left: 20,
            level: "discovery",
            topics: &["what_is_ai"],
            accessibility: &[],
            languages: &["fr"],
            waitlist: true,
        }
    }
}

fn session(id: Uuid, s: &S) -> Value {
    json!({
        "id": id, "series_id": null, "revision": 1, "title": s.title, "description": s.description,
        "status": "published", "status_reason": null, "facilitator_id": Uuid::now_v7(),
        "facilitator_kind": null, "co_facilitators": [], "modules": [], "topics": s.topics,
        "format": if s.place.is_some() { "in_person" } else { "online" },
        "place": s.place.map(|(dep, insee, lat, lon)| json!({"venue_id": Uuid::now_v7(), "name": "Lieu", "address": "1 rue", "insee": insee, "departement": dep, "region": "84", "latitude": lat, "longitude": lon})),
        "starts_at": (Utc::now() + Duration::days(s.days)).to_rfc3339(),
        "ends_at": (Utc::now() + Duration::days(s.days) + Duration::hours(2)).to_rfc3339(),
        "timezone": "Europe/Paris", "capacity": s.capacity, "seats_left": s.seats_left,
        "waitlist_enabled": s.waitlist, "audiences": ["general_public"], "level": s.level,
        "languages": s.languages, "accessibility": s.accessibility, "registration_mode": "open",
    })
}

fn training(id: Uuid, title: &str, level: &str, place: (&str, &str, f64, f64)) -> Value {
    json!({
        "id": id, "provider": {"id": Uuid::now_v7(), "name": "Org", "siret": "73282932000074"},
        "title": title, "summary": "Se former à l'intelligence artificielle générative.",
        "objectives": "Utiliser les outils au quotidien.", "level": level,
        "audiences": ["general_public"], "format": "in_person", "pace": "scheduled",
        "duration_hours": 14, "free": true, "price_cents": null, "funding": [],
        "certification": null, "languages": ["fr"], "accessibility": ["disabled_access"],
        "topics": ["generative_ai"], "online": false,
        "places": [{"insee": place.1, "departement": place.0, "region": "84", "latitude": place.2, "longitude": place.3}],
        "sessions": [], "enrolment_url": null,
    })
}

/// An attendance report in a département (`events.attendance.recorded`, in full).
fn attendance(departement: &str, first_timers: i32) -> Value {
    json!({
        "session_id": Uuid::now_v7(), "version": 1, "facilitator_id": Uuid::now_v7(),
        "facilitator_kind": null, "starts_at": (Utc::now() - Duration::days(1)).to_rfc3339(),
        "format": "in_person", "insee": null, "departement": departement, "region": null,
        "topics": ["what_is_ai"], "audiences": ["general_public"], "level": "discovery",
        "registered": first_timers, "attended": first_timers, "no_shows": 0, "walk_ins": 0,
        "first_timers": first_timers, "age_bands": {}, "occupations": {},
    })
}

async fn publish(h: &ServiceHarness, kind: MessageType, data: Value) -> Message {
    let m =
        Message::event(kind.routing_key(), &Envelope::new(kind, "test", data)).expect("message");
    h.bus.publish(&m).await.expect("published");
    m
}

async fn search(h: &ServiceHarness, query: &str) -> (StatusCode, Value) {
    h.call(Method::GET, &format!("/v1/search?{query}"), None, None)
        .await
}

/// Polls until `query` returns `expected` results.
async fn until_total(h: &ServiceHarness, query: &str, expected: u64) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let (_, body) = search(h, query).await;
        if body["total"] == expected {
            return body;
        }
        last = body;
        tokio::time::sleep(StdDuration::from_millis(25)).await;
    }
    panic!("{query}: total never became {expected}: {last}");
}

fn ids(body: &Value, key: &str) -> Vec<String> {
    body[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn search_text_geo_and_freshness(backend: Backend) {
    let h = ServiceHarness::start::<Matching>(backend, &["matching.#"]).await;
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    publish(
        &h,
        SESSION,
        session(
            a,
            &S {
                title: "Café IA : l'IA générative au travail",
                topics: &["generative_ai"],
                ..S::default()
            },
        ),
    )
    .await;
    publish(
        &h,
        SESSION,
        session(
            b,
            &S {
                title: "Démêler le vrai du faux",
                description: "Hypertrucages et intelligence artificielle.",
                place: Some(MARSEILLE),
                ..S::default()
            },
        ),
    )
    .await;
    let first = publish(
        &h,
        TRAINING,
        training(
            c,
            "Formation aux outils génératifs",
            "beginner",
            VILLEURBANNE,
        ),
    )
    .await;
    until_total(&h, "q=", 3).await;
    // French text: accents and case folded, stems, "IA" ≈ "intelligence artificielle", a typo.
    for (q, expected) in [
        ("GENERATIVE", vec![a.to_string(), c.to_string()]),
        (
            "intelligence%20artificielle",
            vec![a.to_string(), b.to_string(), c.to_string()],
        ),
        ("ia", vec![a.to_string(), b.to_string(), c.to_string()]),
        ("hypertrucage", vec![b.to_string()]),
        ("hypertrucgae", vec![b.to_string()]),
    ] {
        let (status, body) = search(&h, &format!("q={q}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut found = ids(&body, "items");
        found.sort();
        let mut expected = expected;
        expected.sort();
        assert_eq!(found, expected, "q={q}: {body}");
    }
    // Search-syntax characters are words, not syntax.
    let (status, _) = search(&h, "q=IA%20AND%20(OR%20%22*%5B").await;
    assert_eq!(status, StatusCode::OK);
    // Geo: around Lyon's 7th (postcode), 10 km: the Lyon session and the Villeurbanne training,
    // nearest first; Marseille is out of range.
    let (_, near) = search(&h, "postcode=69007&radius_km=10&sort=distance").await;
    assert_eq!(
        ids(&near, "items"),
        vec![a.to_string(), c.to_string()],
        "{near}"
    );
    assert!(near["items"][0]["distance_km"].as_f64() < near["items"][1]["distance_km"].as_f64());
    // Facets: every value with its count, most frequent first.
    assert_eq!(
        near["facets"]["kind"],
        json!([{"value": "session", "count": 1}, {"value": "training", "count": 1}]),
        "{near}"
    );
    assert_eq!(
        near["facets"]["has_seats"],
        json!([{"value": true, "count": 2}]),
        "{near}"
    );
    assert_eq!(
        near["facets"]["topic"][0]["value"], "generative_ai",
        "{near}"
    );
    assert_eq!(near["facets"]["topic"][0]["count"], 2, "{near}");
    // Filters.
    let (_, trainings) = search(&h, "kind=training&level=beginner").await;
    assert_eq!(ids(&trainings, "items"), vec![c.to_string()]);
    // Freshness and seats: a new session shows up; a full session without a waiting list
    // disappears; a redelivered message changes nothing.
    let d = Uuid::now_v7();
    publish(
        &h,
        SESSION,
        session(
            d,
            &S {
                title: "Nouveau café",
                place: Some(LYON),
                capacity: 2,
                seats_left: 2,
                waitlist: false,
                ..S::default()
            },
        ),
    )
    .await;
    until_total(&h, "q=nouveau", 1).await;
    publish(
        &h,
        SEATS,
        json!({"session_id": d, "capacity": 2, "confirmed": 2, "waitlisted": 0, "seats_left": 0}),
    )
    .await;
    until_total(&h, "q=nouveau", 0).await;
    let (_, before) = search(&h, "q=&sort=date").await;
    h.bus.publish(&first).await.expect("redelivered");
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    let (_, after) = search(&h, "q=&sort=date").await;
    assert_eq!(before, after);
    // Paging: stable cursor pages cover everything once.
    let (_, p1) = search(&h, "sort=date&limit=2").await;
    let cursor = p1["next_cursor"].as_str().expect("cursor").to_owned();
    let (_, p2) = search(&h, &format!("sort=date&limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&p1, "items").len() + ids(&p2, "items").len(), 3);
    assert_eq!(
        (p1["total"].as_u64(), p2["total"].as_u64()),
        (Some(3), Some(3))
    );
    assert!(p2["next_cursor"].is_null(), "{p2}");
    // Bad input.
    for (query, expected) in [
        ("postcode=00000", "postcode"),
        ("commune=99999", "commune"),
        ("latitude=51.5&longitude=-0.12", "latitude"),
        ("latitude=45.7", "longitude"),
        ("postcode=69007&radius_km=0", "radius_km"),
        ("postcode=69007&radius_km=5000", "radius_km"),
        ("limit=100000", "limit"),
        ("sort=distance", "sort"),
        ("topic=astrology", "topic"),
        ("language=null", "language"),
        ("cursor=x", "cursor"),
        // Query-string errors name the parameter (and say what it takes).
        ("format=bad", "format"),
        ("limit=x", "limit"),
        ("lmit=1", "lmit"),
        ("from=yesterday", "from"),
    ] {
        let (status, problem) = search(&h, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {problem}");
        assert_eq!(problem["code"], "BAD_USER_INPUT", "{query}: {problem}");
        assert_eq!(field(&problem), expected, "{query}: {problem}");
    }
    let (_, problem) = search(&h, "format=bad").await;
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        ["in_person", "online", "hybrid"]
            .iter()
            .all(|v| detail.contains(v)),
        "the allowed values are listed: {problem}"
    );
    // Rebuilding the index from the read model gives identical results.
    let (_, before) = search(&h, "q=ia&sort=relevance").await;
    let staff = h.token("staff", Role::Staff, None);
    let (status, _) = h
        .call(Method::POST, "/v1/matching/rebuild", Some(&staff), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, after) = search(&h, "q=ia&sort=relevance").await;
    assert_eq!(before, after);
    h.assert_openapi_matches(&cafeia_matching_api::paths::ALL)
        .await;
    h.stop().await;
}

async fn recommend(h: &ServiceHarness, profile: Value) -> (StatusCode, Value) {
    h.call(Method::POST, "/v1/recommendations", None, Some(profile))
        .await
}

async fn hard_constraints_reasons_and_ranking(backend: Backend) {
    let h = ServiceHarness::start::<Matching>(backend, &["matching.#"]).await;
    // A generated population of offers around Lyon, online, and in Marseille.
    let access: [&[&str]; 4] = [
        &[],
        &["wheelchair"],
        &["wheelchair", "lsf"],
        &["hearing_loop"],
    ];
    let langs: [&[&str]; 3] = [&["fr"], &["fr", "en"], &["ar"]];
    let places = [Some(LYON), Some(VILLEURBANNE), None, Some(MARSEILLE)];
    for i in 0..36 {
        let s = S {
            place: places[i % 4],
            accessibility: access[i % 4],
            languages: langs[i % 3],
            capacity: 10,
            seats_left: (i % 5) as i32 * 3 - 2,
            waitlist: i % 2 == 0,
            days: 1 + (i % 20) as i64,
            level: if i % 3 == 0 { "beginner" } else { "discovery" },
            ..S::default()
        };
        let mut s = s;
        s.seats_left = s.seats_left.max(0);
        publish(&h, SESSION, session(Uuid::now_v7(), &s)).await;
    }
    for i in 0..6 {
        let place = if i % 2 == 0 { LYON } else { MARSEILLE };
        publish(
            &h,
            TRAINING,
            training(
                Uuid::now_v7(),
                &format!("Formation {i}"),
                if i < 3 { "beginner" } else { "advanced" },
                place,
            ),
        )
        .await;
    }
    // 4 of the 36 sessions are full without a waiting list (i = 5, 15, 25, 35).
    until_total(&h, "limit=1", 32 + 6).await;
    // Profiles: every combination of needs, languages, radius and online-only.
    let mut checked = 0;
    for (pi, needs) in access.iter().enumerate() {
        for languages in [vec!["fr"], vec!["ar"], vec![]] {
            for (online_only, radius) in [(false, 5.0), (false, 40.0), (true, 20.0)] {
                let profile = json!({
                    "postcode": "69007", "radius_km": radius, "online_only": online_only,
                    "accessibility": needs, "languages": languages, "limit": 50,
                    "experience": if pi % 2 == 0 { "first_time" } else { "returning" },
                });
                let (status, list) = recommend(&h, profile.clone()).await;
                assert_eq!(status, StatusCode::OK, "{list}");
                // Online offers exist for everyone without needs: they must be found.
                if online_only && needs.is_empty() {
                    assert!(
                        !list.as_array().is_none_or(Vec::is_empty),
                        "{profile}: nothing online"
                    );
                }
                for r in list.as_array().expect("list") {
                    checked += 1;
                    let reasons: Vec<&str> = r["reasons"]
                        .as_array()
                        .expect("reasons")
                        .iter()
                        .filter_map(Value::as_str)
                        .collect();
                    // Hard constraints, checked against the search view of the same item.
                    let (_, found) = search(&h, "q=&limit=100").await;
                    let item = found["items"]
                        .as_array()
                        .expect("items")
                        .iter()
                        .find(|i| i["id"] == r["id"])
                        .cloned();
                    assert!(
                        item.is_some(),
                        "recommended an item search does not offer: {r}"
                    );
                    if online_only {
                        assert_ne!(r["format"], "in_person", "{profile} → {r}");
                    }
                    match r["distance_km"].as_f64() {
                        Some(d) => {
                            assert!(d <= radius, "{profile} → {r}");
                            let expected = format!("à {d:.1} km").replace('.', ",");
                            assert!(reasons.contains(&expected.as_str()), "{reasons:?} vs {d}");
                        }
                        None => assert_ne!(r["format"], "in_person", "{r}"),
                    }
                    for need in needs.iter() {
                        let label = match *need {
                            "wheelchair" => "accessible en fauteuil",
                            "lsf" => "interprétation en LSF",
                            _ => "boucle magnétique",
                        };
                        assert!(reasons.contains(&label), "{reasons:?}");
                    }
                    if reasons.contains(&"places disponibles") {
                        assert!(
                            r["seats_left"].is_null() || r["seats_left"].as_i64() > Some(0),
                            "{r}"
                        );
                    }
                    if r["kind"] == "session" && r["seats_left"] == 0 {
                        assert!(reasons.iter().any(|x| x.contains("liste d'attente")), "{r}");
                    }
                }
            }
        }
    }
    assert!(
        checked > 100,
        "the population exercised the constraints ({checked})"
    );
    h.stop().await;
}

async fn goal_aware_ranking(backend: Backend) {
    let h = ServiceHarness::start::<Matching>(backend, &["matching.#"]).await;
    // Twins at the same place, differing in one thing each.
    let free = Uuid::now_v7();
    let nearly_full = Uuid::now_v7();
    publish(
        &h,
        SESSION,
        session(
            free,
            &S {
                title: "Jumeau A",
                capacity: 20,
                seats_left: 15,
                ..S::default()
            },
        ),
    )
    .await;
    publish(
        &h,
        SESSION,
        session(
            nearly_full,
            &S {
                title: "Jumeau B",
                capacity: 20,
                seats_left: 1,
                ..S::default()
            },
        ),
    )
    .await;
    let discovery = Uuid::now_v7();
    let next_step = Uuid::now_v7();
    publish(
        &h,
        SESSION,
        session(
            discovery,
            &S {
                title: "Découverte",
                place: Some(VILLEURBANNE),
                days: 30,
                ..S::default()
            },
        ),
    )
    .await;
    publish(
        &h,
        TRAINING,
        training(next_step, "Formation suite", "beginner", VILLEURBANNE),
    )
    .await;
    until_total(&h, "limit=1", 4).await;
    let rank_of = |list: &Value, id: Uuid| {
        list.as_array()
            .expect("list")
            .iter()
            .position(|r| r["id"] == id.to_string())
            .expect("present")
    };
    let (_, list) = recommend(
        &h,
        json!({"postcode": "69007", "radius_km": 15, "limit": 10}),
    )
    .await;
    assert!(
        rank_of(&list, free) < rank_of(&list, nearly_full),
        "free seats first: {list}"
    );
    // Pathway: a first-timer is steered to the discovery café, a returning person to training.
    let (_, first) = recommend(
        &h,
        json!({"postcode": "69007", "radius_km": 15, "experience": "first_time"}),
    )
    .await;
    assert!(
        rank_of(&first, discovery) < rank_of(&first, next_step),
        "{first}"
    );
    let (_, returning) = recommend(
        &h,
        json!({"postcode": "69007", "radius_km": 15, "experience": "returning"}),
    )
    .await;
    assert!(
        rank_of(&returning, next_step) < rank_of(&returning, discovery),
        "{returning}"
    );
    let reasons = returning[rank_of(&returning, next_step)]["reasons"].to_string();
    assert!(reasons.contains("prochaine étape"), "{reasons}");
    // Territory: reach elsewhere makes the Rhône the low-reach territory; its offers gain.
    let score = |list: &Value, id: Uuid| list[rank_of(list, id)]["score"].as_f64().expect("score");
    let before = score(&list, free);
    publish(&h, ATTENDANCE, attendance("13", 500)).await;
    let mut after = before;
    for _ in 0..100 {
        let (_, l) = recommend(
            &h,
            json!({"postcode": "69007", "radius_km": 15, "limit": 10}),
        )
        .await;
        after = score(&l, free);
        if after != before {
            assert!(
                l[rank_of(&l, free)]["reasons"]
                    .to_string()
                    .contains("territoire")
            );
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert!(
        after > before && after <= before + 0.3 + 1e-9,
        "bounded boost: {before} → {after}"
    );
    // Bad profiles.
    for (profile, expected) in [
        (json!({}), "commune"),
        (json!({"postcode": "99999"}), "postcode"),
        (json!({"latitude": 40.4, "longitude": -3.7}), "latitude"),
        (json!({"postcode": "69007", "radius_km": -1}), "radius_km"),
        (json!({"online_only": true, "limit": 1000}), "limit"),
        (
            json!({"online_only": true, "accessibility": ["jetpack"]}),
            "accessibility[0]",
        ),
    ] {
        let (status, problem) = recommend(&h, profile.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{profile}: {problem}");
        assert_eq!(field(&problem), expected, "{profile}: {problem}");
    }
    // Unmet demand near Guéret reaches the staff view.
    let (_, none) = recommend(&h, json!({"postcode": "23000", "radius_km": 10})).await;
    assert_eq!(none.as_array().map(Vec::len), Some(0));
    let staff = h.token(
        "staff-23",
        Role::Staff,
        Some(Territory::Departement("23".into())),
    );
    let mut unmet = 0;
    for _ in 0..50 {
        let (status, demand) = h
            .call(
                Method::GET,
                "/v1/matching/demand?departement=23",
                Some(&staff),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{demand}");
        unmet = demand["unmet"].as_u64().unwrap_or(0);
        if unmet > 0 {
            assert_eq!(demand["communes"][0]["name"], "Guéret", "{demand}");
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(unmet, 1);
    // Refusals: outside the coordinator's territory, not staff, no token, a bad département.
    let citizen = h.token("c", Role::Citizen, None);
    for (query, token, status, code, named) in [
        (
            "departement=69",
            Some(&staff),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            None,
        ),
        (
            "departement=23",
            Some(&citizen),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            None,
        ),
        (
            "departement=23",
            None,
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            None,
        ),
        (
            "departement=00",
            Some(&staff),
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            Some("departement"),
        ),
        (
            "",
            Some(&staff),
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            Some("departement"),
        ),
        (
            "departement=23&commune=23096",
            Some(&staff),
            StatusCode::BAD_REQUEST,
            "BAD_USER_INPUT",
            Some("commune"),
        ),
    ] {
        let (got, problem) = h
            .call(
                Method::GET,
                &format!("/v1/matching/demand?{query}"),
                token.map(String::as_str),
                None,
            )
            .await;
        assert_eq!(got, status, "{query}: {problem}");
        assert_eq!(problem["code"], code, "{query}: {problem}");
        if let Some(named) = named {
            assert_eq!(field(&problem), named, "{query}: {problem}");
        }
    }
    h.stop().await;
}

/// The contract's typed client against the service: enums, instants and numbers encoded in
/// the query string and the body as the service reads them, answers read back typed.
async fn typed_client(backend: Backend) {
    use cafeia_api::{
        client::{Call, Http},
        vocabulary::{Audience, Format, Level},
    };
    use cafeia_matching_api::{
        AccessibilityNeed, AvailabilityWindow, DemandQuery, Experience, FacetCount, MatchingClient,
        OfferKind, Profile, SearchQuery, SearchSort,
    };
    let h = ServiceHarness::start::<Matching>(backend, &["matching.#"]).await;
    let (a, c) = (Uuid::now_v7(), Uuid::now_v7());
    publish(
        &h,
        SESSION,
        session(
            a,
            &S {
                accessibility: &["wheelchair"],
                ..S::default()
            },
        ),
    )
    .await;
    publish(
        &h,
        TRAINING,
        training(c, "Formation", "beginner", VILLEURBANNE),
    )
    .await;
    until_total(&h, "q=", 2).await;
    let client = MatchingClient::new(Http::new(Http::pool().expect("pool"), &h.base));
    let anonymous = Call::default();
    let found = client
        .search(
            &anonymous,
            &SearchQuery {
                q: Some("intelligence artificielle".into()),
                kind: Some(OfferKind::Session),
                from: Some(Utc::now()),
                format: Some(Format::InPerson),
                level: Some(Level::Discovery),
                audience: Some(Audience::GeneralPublic),
                accessibility: Some(AccessibilityNeed::Wheelchair),
                postcode: Some("69007".into()),
                radius_km: Some(10.5),
                sort: Some(SearchSort::Distance),
                limit: Some(5),
                ..SearchQuery::default()
            },
        )
        .await
        .expect("search");
    assert_eq!(found.page.total, Some(1), "{found:?}");
    assert_eq!(found.page.items[0].id, a);
    assert_eq!(found.page.items[0].format, Format::InPerson);
    assert_eq!(
        found.facets.level,
        [FacetCount {
            value: Level::Discovery,
            count: 1
        }],
        "{found:?}"
    );
    let list = client
        .recommendations(
            &anonymous,
            &Profile {
                postcode: Some("69007".into()),
                radius_km: Some(15.0),
                accessibility: vec![AccessibilityNeed::Wheelchair],
                availability: vec![AvailabilityWindow::Weekend],
                experience: Some(Experience::Returning),
                level: Some(Level::Beginner),
                ..Profile::default()
            },
        )
        .await
        .expect("recommendations");
    let kinds: Vec<(Uuid, OfferKind)> = list.iter().map(|r| (r.id, r.kind)).collect();
    assert_eq!(kinds, [(c, OfferKind::Training), (a, OfferKind::Session)]);
    assert!(
        list[0]
            .reasons
            .iter()
            .any(|r| r.contains("prochaine étape")),
        "{list:?}"
    );
    let staff = Call {
        token: Some(h.token("staff", Role::Staff, None).into()),
        ..Call::default()
    };
    let demand = client
        .demand(
            &staff,
            &DemandQuery {
                departement: "69".into(),
            },
        )
        .await
        .expect("demand");
    assert_eq!(demand.sessions_next_30_days, 1);
    client.rebuild(&staff).await.expect("rebuild");
    let refused = client
        .rebuild(&anonymous)
        .await
        .expect_err("anonymous rebuild");
    assert_eq!(refused.code(), cafeia_api::ErrorCode::Unauthenticated);
    // Only national staff rebuild: a regional coordinator is refused.
    let coordinator = Call {
        token: Some(
            h.token(
                "staff-84",
                Role::Staff,
                Some(Territory::Region("84".into())),
            )
            .into(),
        ),
        ..Call::default()
    };
    let refused = client
        .rebuild(&coordinator)
        .await
        .expect_err("regional rebuild");
    assert_eq!(refused.code(), cafeia_api::ErrorCode::Forbidden);
    h.stop().await;
}

async fn sql(db: &DatabaseConnection, statement: &str) -> Result<(), sea_orm::DbErr> {
    db.execute_unprepared(statement).await.map(|_| ())
}

async fn text(db: &DatabaseConnection, query: &str) -> String {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), query))
        .await
        .expect("query")
        .expect("row")
        .try_get_by_index::<String>(0)
        .expect("text")
}

/// The read model's columns read as their types: an unknown offer kind or a document that is
/// not an offer fails the read (500 `INTERNAL`, the table named in the log), never skipped; the
/// service runs on, starts again over the bad row, reads the other rows, and moves on once a
/// message rewrites it.
async fn stored_values_are_typed(backend: Backend) {
    let mut h = ServiceHarness::start::<Matching>(backend, &["matching.#"]).await;
    let (a, c) = (Uuid::now_v7(), Uuid::now_v7());
    publish(&h, SESSION, session(a, &S::default())).await;
    let course = training(c, "Formation", "beginner", VILLEURBANNE);
    publish(&h, TRAINING, course.clone()).await;
    until_total(&h, "q=", 2).await;
    let db = cafeia_platform::db::connect(&h.env.database_url(), 2)
        .await
        .expect("database");
    // Kinds are stored as their wire names (one row of each: the training is `c`), the
    // document as JSON text (PostgreSQL: `json`, which spaces it as `jsonb` does).
    let (cast, colon) = match backend {
        Backend::Real => ("::text", ": "),
        Backend::Embedded => ("", ":"),
    };
    let stored = text(
        &db,
        &format!("SELECT doc{cast} FROM item WHERE kind = 'training'"),
    )
    .await;
    assert!(
        stored.contains(&format!(r#""id"{colon}"{c}""#))
            && stored.contains(&format!(r#""level"{colon}"beginner""#)),
        "{stored}"
    );
    let session_doc = text(
        &db,
        &format!("SELECT doc{cast} FROM item WHERE kind = 'session'"),
    )
    .await;
    assert!(session_doc.contains(&a.to_string()), "{session_doc}");
    let mut cases = vec![
        ("kind = 'workshop'".to_owned(), "OfferKind"),
        (r#"doc = '{"id": 7}'"#.to_owned(), "\"doc\""),
        // An unknown value inside the document.
        (
            format!(
                "doc = replace(doc{cast}, '\"level\"{colon}\"beginner\"', '\"level\"{colon}\"expert\"'){}",
                if backend == Backend::Real {
                    "::json"
                } else {
                    ""
                }
            ),
            "expert",
        ),
    ];
    if backend == Backend::Real {
        // The database itself refuses a document that is no JSON.
        sql(
            &db,
            "UPDATE item SET doc = 'no json' WHERE kind = 'training'",
        )
        .await
        .expect_err("text that is no JSON refused");
    } else {
        cases.push(("doc = 'no json'".to_owned(), "\"doc\""));
    }
    let staff = h.token("staff", Role::Staff, None);
    for (i, (value, named)) in cases.into_iter().enumerate() {
        // Stamped with the next change number, so the engine reloads the row.
        sql(
            &db,
            "UPDATE counter SET value = value + 1 WHERE name = 'changes'",
        )
        .await
        .expect("counter");
        sql(
            &db,
            &format!(
                "UPDATE item SET {value}, seq = (SELECT value FROM counter WHERE name = 'changes') \
                 WHERE kind = 'training'"
            ),
        )
        .await
        .expect("bad value written");
        // What is logged names the table, and the enum or the column (or the bad value).
        let error = Engine::new()
            .expect("engine")
            .refresh(&db)
            .await
            .expect_err("the bad row fails the read");
        assert!(
            matches!(error, RefreshError::Unreadable(_)),
            "{value}: {error}"
        );
        let cause = error.to_string();
        assert!(
            cause.contains("table item") && cause.contains(named),
            "{value}: {cause}"
        );
        let mut answer = (StatusCode::OK, Value::Null);
        for _ in 0..100 {
            answer = search(&h, "q=").await;
            if answer.0 != StatusCode::OK {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(25)).await;
        }
        let (status, problem) = answer;
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{value}: {problem}"
        );
        assert_eq!(problem["code"], "INTERNAL", "{value}: {problem}");
        // The cause is logged, not answered.
        assert!(!problem.to_string().contains("item"), "{value}: {problem}");
        // Every answer over the read model fails, again and again (no answer without the row).
        let (status, _) = search(&h, "q=").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{value}");
        let (status, problem) = recommend(&h, json!({"postcode": "69007"})).await;
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{value}: {problem}"
        );
        let (status, problem) = h
            .call(
                Method::GET,
                "/v1/matching/demand?departement=69",
                Some(&staff),
                None,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{value}: {problem}"
        );
        // The service still runs.
        let (status, _) = h.call(Method::GET, "/livez", None, None).await;
        assert_eq!(status, StatusCode::OK);
        if i == 0 {
            // It also starts over the bad row (and answers the same).
            let replica = h.replica::<Matching>().await;
            let answer = h
                .http
                .get(format!("{replica}/v1/search?q="))
                .send()
                .await
                .expect("replica");
            assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
        }
        // The other rows still read: the seats of the session are kept up to date.
        let seats_left = 10 + i32::try_from(i).expect("small");
        publish(
            &h,
            SEATS,
            json!({"session_id": a, "capacity": 20, "confirmed": 20 - seats_left, "waitlisted": 0, "seats_left": seats_left}),
        )
        .await;
        // A new announcement of the training rewrites its row: the engine moves on.
        publish(&h, TRAINING, course.clone()).await;
        let mut found = Value::Null;
        for _ in 0..200 {
            let (status, body) = search(&h, "kind=session").await;
            if status == StatusCode::OK && body["items"][0]["seats_left"] == seats_left {
                found = body;
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(25)).await;
        }
        assert_eq!(found["items"][0]["id"], a.to_string(), "{value}: {found}");
        until_total(&h, "q=", 2).await;
        Engine::new()
            .expect("engine")
            .refresh(&db)
            .await
            .expect("mended");
    }
    h.stop().await;
}

/// The migration to a typed document keeps every stored row readable as it was written (kind
/// as text, document as JSON text); on PostgreSQL a stored document that is no JSON stops it.
async fn migration_keeps_stored_rows(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let db = cafeia_platform::db::connect(&env.database_url(), 2)
        .await
        .expect("database");
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261203_000302_matching_typed_document")
        .expect("the typed-document migration");
    Migrator::up(&db, Some(u32::try_from(before).expect("few")))
        .await
        .expect("before");
    let item = Item {
        id: Uuid::now_v7(),
        kind: OfferKind::Training,
        active: true,
        title: "Formation « IA » d'avant".into(),
        text: "Écrite avant la migration.".into(),
        topics: vec!["generative_ai".into()],
        level: cafeia_api::vocabulary::Level::Beginner,
        audiences: vec![cafeia_api::vocabulary::Audience::Seniors],
        languages: vec!["fr".into()],
        accessibility: vec![cafeia_matching_api::AccessibilityNeed::Wheelchair],
        format: cafeia_api::vocabulary::Format::InPerson,
        free: true,
        places: vec![Place {
            insee: LYON.1.into(),
            departement: LYON.0.into(),
            latitude: LYON.2,
            longitude: LYON.3,
        }],
        starts_at: None,
        dates: vec![chrono::NaiveDate::from_ymd_opt(2027, 3, 1).expect("date")],
        capacity: None,
        seats_left: None,
        waitlist_enabled: false,
        revision: 0,
        seats_revision: 0,
        as_of: None,
        timezone: None,
        masks: Default::default(),
    };
    // As the code before the migration wrote it: the kind and the document as text.
    let old_row = |id: Uuid, kind: &str, doc: String, seq: i64| {
        let insert = Query::insert()
            .into_table("item")
            .columns(["id", "kind", "doc", "seq"])
            .values_panic([id.into(), kind.into(), doc.into(), seq.into()])
            .to_owned();
        db.get_database_backend().build(&insert)
    };
    let doc = serde_json::to_string(&item).expect("json");
    db.execute_raw(old_row(item.id, "training", doc, 1))
        .await
        .expect("old row");
    if backend == Backend::Real {
        db.execute_raw(old_row(Uuid::now_v7(), "session", "no json".into(), 2))
            .await
            .expect("corrupt old row");
        Migrator::up(&db, None)
            .await
            .expect_err("a stored document that is no JSON stops the migration");
        sql(&db, "DELETE FROM item WHERE seq = 2")
            .await
            .expect("removed");
    }
    Migrator::up(&db, None).await.expect("migrated");
    let engine = Engine::new().expect("engine");
    engine.refresh(&db).await.expect("read");
    let loaded = engine.read(|s| s.items.get(&item.id).map(|i| (**i).clone()));
    assert_eq!(loaded, Some(item.clone().indexed()));
    let row = cafeia_matching::storage::item::Entity::find_by_id(item.id)
        .one(&db)
        .await
        .expect("read")
        .expect("row");
    assert_eq!((row.kind, row.doc), (OfferKind::Training, item));
}

/// Waits until the read model's consumer has handled `message` (its inbox row), so what a
/// test asserts next follows from it, however late it came.
async fn until_processed(db: &DatabaseConnection, message: &Message) {
    use cafeia_platform::inbox::entity;
    use sea_orm::{ColumnTrait, QueryFilter};
    for _ in 0..400 {
        let seen = entity::Entity::find()
            .filter(entity::Column::MessageId.eq(message.message_id.as_str()))
            .one(db)
            .await
            .expect("inbox");
        if seen.is_some() {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(25)).await;
    }
    panic!("message {} never handled", message.message_id);
}

/// Publishes `kind` with `data` as sent at `time` (a message retried or redelivered keeps
/// the time it was written at).
async fn publish_at(
    h: &ServiceHarness,
    kind: MessageType,
    data: Value,
    time: chrono::DateTime<Utc>,
) -> Message {
    let mut envelope = Envelope::new(kind, "test", data);
    envelope.time = time;
    let m = Message::event(kind.routing_key(), &envelope).expect("message");
    h.bus.publish(&m).await.expect("published");
    m
}

async fn database(h: &ServiceHarness) -> DatabaseConnection {
    cafeia_platform::db::connect(&h.env.database_url(), 2)
        .await
        .expect("database")
}

/// A programme updated, then withdrawn: the `updated` message retried after the withdrawal
/// (older, delivered last) leaves it withdrawn. Also when the withdrawal overtakes the
/// programme's very announcement.
async fn late_training_updated_after_withdrawn_does_not_resurrect(backend: Backend) {
    const UPDATED: MessageType = MessageType::new("catalogue", "training", "updated", 1);
    const WITHDRAWN: MessageType = MessageType::new("catalogue", "training", "withdrawn", 1);
    let h = ServiceHarness::start::<Matching>(backend, &["matching.#"]).await;
    let db = database(&h).await;
    let t0 = Utc::now() - Duration::minutes(10);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    publish_at(
        &h,
        TRAINING,
        training(a, "Formation IA", "beginner", LYON),
        t0,
    )
    .await;
    until_total(&h, "kind=training", 1).await;
    let withdrawn = publish_at(&h, WITHDRAWN, json!({"id": a}), t0 + Duration::minutes(2)).await;
    until_processed(&db, &withdrawn).await;
    until_total(&h, "kind=training", 0).await;
    let late = publish_at(
        &h,
        UPDATED,
        training(a, "Formation IA (modifiée)", "beginner", LYON),
        t0 + Duration::minutes(1),
    )
    .await;
    until_processed(&db, &late).await;
    let (_, body) = search(&h, "kind=training").await;
    assert_eq!(body["total"], 0, "withdrawn programme back: {body}");

    // The withdrawal of `b` arrives before its announcement.
    let first = publish_at(&h, WITHDRAWN, json!({"id": b}), t0 + Duration::minutes(5)).await;
    until_processed(&db, &first).await;
    let late = publish_at(
        &h,
        TRAINING,
        training(b, "Autre formation", "beginner", LYON),
        t0,
    )
    .await;
    until_processed(&db, &late).await;
    let (_, body) = search(&h, "kind=training").await;
    assert_eq!(
        body["total"], 0,
        "withdrawn programme announced late: {body}"
    );
    // A later announcement (republished) is taken.
    publish_at(
        &h,
        TRAINING,
        training(b, "Autre formation", "beginner", LYON),
        t0 + Duration::minutes(6),
    )
    .await;
    until_total(&h, "kind=training", 1).await;
    h.stop().await;
}

/// Counts of one session delivered out of order: the older, arriving last, changes nothing;
/// nor does the session's state (older than the counts) delivered again.
async fn older_seats_changed_after_newer_keeps_newer_count(backend: Backend) {
    use cafeia_events_api::messages::SeatsChanged;
    let h = ServiceHarness::start::<Matching>(backend, &["matching.#"]).await;
    let db = database(&h).await;
    let id = Uuid::now_v7();
    let state = session(id, &S::default());
    publish(&h, SESSION, state.clone()).await;
    until_total(&h, "kind=session", 1).await;
    let seats = |arrivals: i64, confirmed: i32| {
        json!({
            "session_id": id, "capacity": 20, "confirmed": confirmed, "waitlisted": 0,
            "seats_left": 20 - confirmed,
            "revision": SeatsChanged::revision_of(1, arrivals, confirmed, 0),
        })
    };
    let newer = publish(&h, SEATS, seats(5, 5)).await;
    until_processed(&db, &newer).await;
    let older = publish(&h, SEATS, seats(2, 2)).await;
    until_processed(&db, &older).await;
    let again = publish(&h, SESSION, state).await;
    until_processed(&db, &again).await;
    let (_, body) = search(&h, "kind=session").await;
    assert_eq!(
        body["items"][0]["seats_left"], 15,
        "older count won: {body}"
    );
    // Newer counts still replace them.
    let newest = publish(&h, SEATS, seats(6, 6)).await;
    until_processed(&db, &newest).await;
    let (_, body) = search(&h, "kind=session").await;
    assert_eq!(body["items"][0]["seats_left"], 14, "{body}");
    h.stop().await;
}

/// The unmet-demand figure of one commune for staff of its département.
async fn unmet_in(h: &ServiceHarness, departement: &str, insee: &str) -> u64 {
    let staff = h.token(
        "staff",
        Role::Staff,
        Some(Territory::Departement(departement.into())),
    );
    let (status, demand) = h
        .call(
            Method::GET,
            &format!("/v1/matching/demand?departement={departement}"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{demand}");
    demand["communes"]
        .as_array()
        .expect("communes")
        .iter()
        .find(|c| c["insee"] == insee)
        .and_then(|c| c["unmet"].as_u64())
        .unwrap_or(0)
}

/// Polls until commune `insee` shows `expected` (the recorder works off the answers' path).
async fn until_unmet(h: &ServiceHarness, departement: &str, insee: &str, expected: u64) {
    let mut last = 0;
    for _ in 0..400 {
        last = unmet_in(h, departement, insee).await;
        if last == expected {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(25)).await;
    }
    panic!("{insee}: unmet never became {expected} (last {last})");
}

const GUERET: &str = "23096";
const AUBUSSON: &str = "23008";

/// The same person searching near Guéret 50 times (each query different, so none is answered
/// from the cache) counts once.
async fn repeated_unmet_search_from_one_caller_counts_once(backend: Backend) {
    let h = ServiceHarness::start::<Matching>(backend, &["matching.#"]).await;
    for i in 0..50 {
        let (status, body) = search(&h, &format!("commune={GUERET}&q=atelier{i}")).await;
        assert_eq!(
            (status, &body["total"]),
            (StatusCode::OK, &json!(0)),
            "{body}"
        );
    }
    // The recorder takes requests in order: once a later one is counted, these were too.
    let later = h.token("someone-else", Role::Citizen, None);
    let (status, _) = h
        .call(
            Method::GET,
            &format!("/v1/search?commune={AUBUSSON}"),
            Some(&later),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    until_unmet(&h, "23", AUBUSSON, 1).await;
    assert_eq!(unmet_in(&h, "23", GUERET).await, 1);
    // Signed in, a person is one caller: five recommendations near Guéret count once…
    let token = h.token("citizen-1", Role::Citizen, None);
    for i in 0..5 {
        let (status, _) = h
            .call(
                Method::POST,
                "/v1/recommendations",
                Some(&token),
                Some(json!({"commune": GUERET, "radius_km": 5 + i})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    until_unmet(&h, "23", GUERET, 2).await;
    let (status, _) = h
        .call(
            Method::GET,
            &format!("/v1/search?commune={AUBUSSON}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    until_unmet(&h, "23", AUBUSSON, 2).await;
    assert_eq!(unmet_in(&h, "23", GUERET).await, 2);
    // …and nothing stored names them: no address, no subject.
    let db = database(&h).await;
    let rows = cafeia_matching::storage::demand::Entity::find()
        .all(&db)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 4);
    for r in &rows {
        let stored = format!("{r:?}");
        for secret in ["127.0.0.1", "citizen-1", "someone-else"] {
            assert!(!stored.contains(secret), "{stored}");
        }
    }
    h.stop().await;
}

/// N people asking the same (answered from the cache after the first) count N.
async fn distinct_unmet_callers_each_count(backend: Backend) {
    let h = ServiceHarness::start::<Matching>(backend, &["matching.#"]).await;
    for n in 0..7 {
        let token = h.token(&format!("person-{n}"), Role::Citizen, None);
        for _ in 0..2 {
            let (status, body) = h
                .call(
                    Method::GET,
                    &format!("/v1/search?commune={GUERET}"),
                    Some(&token),
                    None,
                )
                .await;
            assert_eq!(
                (status, &body["total"]),
                (StatusCode::OK, &json!(0)),
                "{body}"
            );
        }
    }
    until_unmet(&h, "23", GUERET, 7).await;
    h.stop().await;
}

/// The client address the gateway forwards, sealed with the key matching shares with it
/// (`client_address.key`), tells anonymous people apart; a header matching cannot open
/// (sealed with another key, or not sealed) is ignored, so whoever reaches matching directly
/// cannot pass for many people. Near Guéret: A, B, A again (sealed), C (another key) and D
/// (plain) from this test's one connecting address count three: A, B and that address.
async fn forwarded_client_addresses_count_only_when_sealed_with_the_key(backend: Backend) {
    use cafeia_matching_api::client_address::{AddressSeal, HEADER};
    use cafeia_platform::runtime::{self, Launch, Shared};
    const KEY: &str = "the key the gateway and matching share";
    let env = TestEnv::new(backend).await;
    let mut config = env.config.clone();
    config.sources = config.sources.clone().with("client_address.key", KEY);
    let running = runtime::start::<Matching>(Launch {
        config,
        shared: Shared::default(),
        listener: runtime::bind("127.0.0.1", 0).expect("bind"),
        demo_data: false,
        workers: 1,
    })
    .await
    .expect("matching starts");
    for queue in running.platform.queues() {
        env.adopt_queue(queue);
    }
    let base = format!("http://127.0.0.1:{}", running.port());
    let http = reqwest::Client::new();
    let ours = AddressSeal::new(KEY.as_bytes()).expect("key");
    let foreign = AddressSeal::new(b"a key matching does not hold, 32+").expect("key");
    let ip = |text: &str| text.parse::<std::net::IpAddr>().expect("ip");
    let headers = [
        ours.seal(ip("203.0.113.1")),
        ours.seal(ip("2001:db8::2")),
        ours.seal(ip("203.0.113.1")),
        foreign.seal(ip("203.0.113.3")),
        "203.0.113.4".to_owned(),
    ];
    for (i, header) in headers.iter().enumerate() {
        let resp = http
            .get(format!("{base}/v1/search?commune={GUERET}&q=atelier{i}"))
            .header(HEADER, header)
            .send()
            .await
            .expect("search");
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let issuer =
        cafeia_platform::auth::DevIssuer::load_or_create(&env.config.data_dir, &env.config.auth)
            .expect("issuer");
    let staff = issuer
        .issue(
            "staff",
            &[Role::Staff],
            Some(&Territory::Departement("23".into())),
            StdDuration::from_secs(600),
        )
        .expect("token");
    // The recorder takes requests in order: once a later one is counted, these were too.
    let later = http
        .get(format!("{base}/v1/search?commune={AUBUSSON}"))
        .header(HEADER, ours.seal(ip("203.0.113.9")))
        .send()
        .await
        .expect("search");
    assert_eq!(later.status(), StatusCode::OK);
    let unmet = |insee: &'static str| {
        let (http, base, staff) = (http.clone(), base.clone(), staff.clone());
        async move {
            let demand: Value = http
                .get(format!("{base}/v1/matching/demand?departement=23"))
                .bearer_auth(&staff)
                .send()
                .await
                .expect("demand")
                .json()
                .await
                .expect("JSON");
            demand["communes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["insee"] == insee)
                .and_then(|c| c["unmet"].as_u64())
                .unwrap_or(0)
        }
    };
    for _ in 0..400 {
        if unmet(AUBUSSON).await == 1 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(25)).await;
    }
    assert_eq!(unmet(AUBUSSON).await, 1, "the later search was counted");
    assert_eq!(unmet(GUERET).await, 3, "A, B and the connecting address");
    running.stop().await;
}

/// Rows older than the retention are deleted by the sweep (each replica sweeps as it
/// starts, then hourly), with the salts of days over; recent rows stay.
async fn unmet_demand_older_than_retention_is_purged(backend: Backend) {
    use cafeia_matching::storage::{demand, demand_salt};
    use sea_orm::ActiveValue::Set;
    let mut h = ServiceHarness::start::<Matching>(backend, &["matching.#"]).await;
    let db = database(&h).await;
    let today = Utc::now().date_naive();
    let retention = cafeia_matching::demand::RETENTION_DAYS;
    for (digest, days_ago) in [("old", retention + 1), ("limit", retention), ("recent", 3)] {
        demand::Entity::insert(demand::ActiveModel {
            digest: Set(digest.into()),
            departement: Set("23".into()),
            insee: Set(Some(GUERET.into())),
            day: Set(today - Duration::days(days_ago)),
        })
        .exec_without_returning(&db)
        .await
        .expect("row");
    }
    demand_salt::Entity::insert(demand_salt::ActiveModel {
        day: Set(today - Duration::days(5)),
        salt: Set("spent".into()),
    })
    .exec_without_returning(&db)
    .await
    .expect("salt");
    h.replica::<Matching>().await;
    // The sweep deletes the rows, then the spent salts: wait for both.
    let (mut left, mut salt_kept) = (Vec::new(), true);
    for _ in 0..400 {
        left = demand::Entity::find()
            .all(&db)
            .await
            .expect("rows")
            .into_iter()
            .map(|r| r.digest)
            .collect::<Vec<_>>();
        salt_kept = demand_salt::Entity::find_by_id(today - Duration::days(5))
            .one(&db)
            .await
            .expect("salt")
            .is_some();
        if left.len() == 1 && !salt_kept {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(25)).await;
    }
    assert_eq!(left, vec!["recent".to_owned()]);
    assert!(!salt_kept, "the spent salt is deleted with the rows");
    assert_eq!(unmet_in(&h, "23", GUERET).await, 1);
    h.stop().await;
}

/// Unmet searches leave no task behind: the platform's list of background tasks (kept until
/// stop) does not grow with them.
async fn unmet_searches_keep_no_task_per_request(backend: Backend) {
    use cafeia_platform::runtime::{self, Launch, Shared};
    let env = TestEnv::new(backend).await;
    let running = runtime::start::<Matching>(Launch {
        config: env.config.clone(),
        shared: Shared::default(),
        listener: runtime::bind("127.0.0.1", 0).expect("bind"),
        demo_data: false,
        workers: 1,
    })
    .await
    .expect("matching starts");
    for queue in running.platform.queues() {
        env.adopt_queue(queue);
    }
    let base = format!("http://127.0.0.1:{}", running.port());
    let before = running.platform.background_tasks();
    let http = reqwest::Client::new();
    for i in 0..100 {
        let answer = http
            .get(format!("{base}/v1/search?commune={GUERET}&q=atelier{i}"))
            .send()
            .await
            .expect("search");
        assert_eq!(answer.status(), StatusCode::OK);
    }
    assert_eq!(running.platform.background_tasks(), before);
    running.stop().await;
}

/// A session at 19:00 on a Friday in Guadeloupe (01:00 or 00:00 on Saturday in Paris) is a
/// weekday evening: windows are read in the session's own zone.
async fn evening_window_uses_the_sessions_own_zone(backend: Backend) {
    use chrono::{Datelike, TimeZone, Weekday};
    let h = ServiceHarness::start::<Matching>(backend, &["matching.#"]).await;
    let zone = chrono_tz::America::Guadeloupe;
    let mut day = Utc::now().with_timezone(&zone).date_naive() + Duration::days(2);
    while day.weekday() != Weekday::Fri {
        day += Duration::days(1);
    }
    let starts = zone
        .from_local_datetime(&day.and_hms_opt(19, 0, 0).expect("time"))
        .single()
        .expect("no DST in Guadeloupe")
        .with_timezone(&Utc);
    assert_eq!(
        starts.with_timezone(&chrono_tz::Europe::Paris).weekday(),
        Weekday::Sat
    );
    let id = Uuid::now_v7();
    let mut state = session(
        id,
        &S {
            place: None,
            ..S::default()
        },
    );
    state["timezone"] = json!("America/Guadeloupe");
    state["starts_at"] = json!(starts.to_rfc3339());
    state["ends_at"] = json!((starts + Duration::hours(2)).to_rfc3339());
    publish(&h, SESSION, state).await;
    until_total(&h, "kind=session", 1).await;
    let reasons = |body: &Value| -> Vec<String> {
        body[0]["reasons"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (status, body) = recommend(
        &h,
        json!({"online_only": true, "availability": ["weekday_evening"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0]["id"], id.to_string(), "{body}");
    assert!(
        reasons(&body).iter().any(|r| r == "en soirée, en semaine"),
        "{body}"
    );
    let (_, body) = recommend(
        &h,
        json!({"online_only": true, "availability": ["weekend"]}),
    )
    .await;
    assert_eq!(body[0]["id"], id.to_string(), "{body}");
    assert!(!reasons(&body).iter().any(|r| r == "le week-end"), "{body}");
    h.stop().await;
}

/// Unmet demand counted per request before it was counted per caller: the migration keeps
/// each place and day those rows name once (their callers cannot be told apart).
async fn migration_keeps_old_unmet_demand_once_per_place_and_day(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let db = cafeia_platform::db::connect(&env.database_url(), 2)
        .await
        .expect("database");
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261210_000303_matching_demand_per_caller")
        .expect("the demand-per-caller migration");
    Migrator::up(&db, Some(u32::try_from(before).expect("few")))
        .await
        .expect("before");
    let today = Utc::now();
    for (insee, at) in [
        (Some(GUERET), today),
        (Some(GUERET), today),
        (Some(GUERET), today - Duration::minutes(1)),
        (Some(GUERET), today - Duration::days(2)),
        (Some(AUBUSSON), today),
        (None, today),
        (None, today),
    ] {
        let insert = Query::insert()
            .into_table("unmet_demand")
            .columns(["id", "departement", "insee", "at"])
            .values_panic([
                Uuid::now_v7().into(),
                "23".into(),
                insee.map(str::to_owned).into(),
                at.into(),
            ])
            .to_owned();
        db.execute_raw(db.get_database_backend().build(&insert))
            .await
            .expect("old row");
    }
    Migrator::up(&db, None).await.expect("migrated");
    let mut rows: Vec<(Option<String>, chrono::NaiveDate)> =
        cafeia_matching::storage::demand::Entity::find()
            .all(&db)
            .await
            .expect("rows")
            .into_iter()
            .map(|r| (r.insee, r.day))
            .collect();
    rows.sort();
    // A request a minute ago may have been yesterday (UTC): count the days the rows name.
    let mut expected: Vec<(Option<String>, chrono::NaiveDate)> = [
        (Some(GUERET), today),
        (Some(GUERET), today - Duration::minutes(1)),
        (Some(GUERET), today - Duration::days(2)),
        (Some(AUBUSSON), today),
        (None, today),
    ]
    .into_iter()
    .map(|(insee, at)| (insee.map(str::to_owned), at.date_naive()))
    .collect();
    expected.sort();
    expected.dedup();
    assert_eq!(rows, expected);
}

backend_matrix!(
    migration_keeps_old_unmet_demand_once_per_place_and_day,
    late_training_updated_after_withdrawn_does_not_resurrect,
    older_seats_changed_after_newer_keeps_newer_count,
    repeated_unmet_search_from_one_caller_counts_once,
    distinct_unmet_callers_each_count,
    forwarded_client_addresses_count_only_when_sealed_with_the_key,
    unmet_demand_older_than_retention_is_purged,
    unmet_searches_keep_no_task_per_request,
    evening_window_uses_the_sessions_own_zone,
    search_text_geo_and_freshness,
    hard_constraints_reasons_and_ranking,
    goal_aware_ranking,
    typed_client,
    stored_values_are_typed,
    migration_keeps_stored_rows,
);
