//! One graph over five services: the fields that cross services (`Session.venue`,
//! `Session.facilitators`, `Session.modules`, `Venue.upcomingSessions`,
//! `Facilitator.sessions`, `SearchHit.session`) are resolved through per-request DataLoaders,
//! so a page costs one service call per kind of entity, not one per item. The services'
//! own request counters (`/metrics`) are the witness.

use cafeia_e2e::TestStack;
use cafeia_platform::auth::Role;
use cafeia_testkit::{Backend, backend_matrix};
use serde_json::{Value, json};
use std::{collections::HashMap, time::Duration};

fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .map(|edges| edges.iter().map(|e| e["node"].clone()).collect())
        .unwrap_or_default()
}

/// Venues of the demo network that hold demo sessions, once the demo is seeded.
async fn demo_venues(stack: &TestStack) -> Vec<String> {
    for _ in 0..200 {
        let page = stack
            .graphql(
                "{ sessions(first: 100) { edges { node { place { venueId } } } } }",
                json!({}),
                None,
            )
            .await;
        let mut venues: Vec<String> = nodes(&page["data"]["sessions"])
            .iter()
            .filter_map(|s| s["place"]["venueId"].as_str().map(str::to_owned))
            .collect();
        venues.sort();
        venues.dedup();
        if venues.len() >= 5 {
            return venues;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no demo sessions");
}

fn delta(
    before: &HashMap<&'static str, u64>,
    after: &HashMap<&'static str, u64>,
) -> HashMap<&'static str, u64> {
    after
        .iter()
        .map(|(service, n)| (*service, n - before.get(service).copied().unwrap_or(0)))
        .collect()
}

const PAGE: &str = "query($from: DateTime!, $to: DateTime!) {
  sessions(from: $from, to: $to, first: 20) {
    totalCount
    edges { node {
      id title icalUrl jsonLdUrl
      venue { id name upcomingSessions { id } }
      facilitators { id displayName sessions { id } }
      modules { id title }
    } }
  }
}";

async fn twenty_sessions_cost_one_call_per_kind(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let venues = demo_venues(&stack).await;
    let modules = stack
        .graphql(
            "{ educationalModules(first: 3) { edges { node { id } } } }",
            json!({}),
            None,
        )
        .await;
    let modules: Vec<String> = nodes(&modules["data"]["educationalModules"])
        .iter()
        .filter_map(|m| m["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(modules.len(), 3, "three demo modules");

    // Twenty sessions in a month no demo session reaches, each at one of the demo venues and
    // with one to three modules.
    let facilitator = stack.token("demo-animatrice", &[Role::Facilitator], None);
    for i in 0..20 {
        let day = i + 1;
        let created = stack
            .graphql(
                "mutation($input: SessionInput!) { createSession(input: $input, publish: true) { id } }",
                json!({"input": {
                    "title": format!("Café IA du graphe n° {i}"),
                    "format": "IN_PERSON",
                    "venueId": venues[i % venues.len()],
                    "startsAt": format!("2027-05-{day:02}T18:00:00"),
                    "endsAt": format!("2027-05-{day:02}T19:30:00"),
                    "capacity": 12,
                    "modules": modules[..=(i % 3)],
                }}),
                Some(&facilitator),
            )
            .await;
        assert!(
            created["data"]["createSession"]["id"].is_string(),
            "{created}"
        );
    }

    let variables = json!({"from": "2027-05-01T00:00:00Z", "to": "2027-06-01T00:00:00Z"});
    let before = stack.service_calls().await;
    let page = stack.graphql(PAGE, variables, None).await;
    let after = stack.service_calls().await;
    assert!(page["errors"].is_null(), "{page}");
    let sessions = nodes(&page["data"]["sessions"]);
    assert_eq!(sessions.len(), 20, "{page}");
    assert_eq!(page["data"]["sessions"]["totalCount"], 20);
    for (i, s) in sessions.iter().enumerate() {
        assert!(s["venue"]["name"].is_string(), "venue of {s}");
        assert!(
            s["venue"]["upcomingSessions"]
                .as_array()
                .is_some_and(|l| !l.is_empty()),
            "{s}"
        );
        let facilitators = s["facilitators"].as_array().expect("facilitators");
        assert_eq!(facilitators.len(), 1, "{s}");
        assert!(facilitators[0]["displayName"].is_string(), "{s}");
        let module_count = s["modules"].as_array().map_or(0, Vec::len);
        assert!((1..=3).contains(&module_count), "{i}: {s}");
        assert!(s["modules"][0]["title"].is_string(), "{s}");
        let id = s["id"].as_str().expect("id");
        assert_eq!(s["icalUrl"], format!("/calendars/sessions/{id}.ics"));
        assert_eq!(s["jsonLdUrl"], format!("/jsonld/sessions/{id}"));
    }

    // One call for the page, then one per kind of entity: venues, facilitator profiles,
    // modules, the venues' sessions, the facilitators' sessions — 6, plus the names events
    // looks up per view, whatever the page size (one per item would be 1 + 20 × 5 = 101).
    let calls = delta(&before, &after);
    assert_eq!(
        calls["events"], 3,
        "page + by venue + by facilitator: {calls:?}"
    );
    // Venues + profiles, and each events view asks for the names it shows once for all its
    // rows (names are not copied to events: #14's erasure).
    assert_eq!(
        calls["facilitators"],
        2 + calls["events"],
        "venues + profiles + one name look-up per events view: {calls:?}"
    );
    assert_eq!(calls["catalogue"], 1, "modules: {calls:?}");
    assert_eq!(calls["matching"] + calls["outreach"], 0, "{calls:?}");

    // A search hit leads to its session, batched the same way (once matching has indexed
    // the new sessions from the bus).
    let search = "{ search(input: {q: \"graphe\", kind: SESSION}, first: 20) { hits { totalCount edges { node { id session { id title } training { id } } } } } }";
    for _ in 0..100 {
        let found = stack.graphql(search, json!({}), None).await;
        if found["data"]["search"]["hits"]["totalCount"].as_u64() >= Some(20) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = stack.service_calls().await;
    let found = stack.graphql(search, json!({}), None).await;
    let after = stack.service_calls().await;
    let hits = nodes(&found["data"]["search"]["hits"]);
    assert_eq!(hits.len(), 20, "{found}");
    for hit in &hits {
        assert_eq!(hit["session"]["id"], hit["id"], "{hit}");
        assert!(hit["training"].is_null(), "{hit}");
    }
    let calls = delta(&before, &after);
    assert_eq!(calls["matching"], 1, "{calls:?}");
    assert_eq!(
        calls["events"], 1,
        "the hits' sessions in one batch: {calls:?}"
    );
    stack.stop().await;
}

backend_matrix!(twenty_sessions_cost_one_call_per_kind);
