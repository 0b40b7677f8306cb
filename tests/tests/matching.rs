//! Matching end to end: the demo's sessions and trainings reach the matching read model through
//! the bus, and citizens search and get recommendations through the gateway; staff see the
//! unmet demand.

use cafeia_e2e::TestStack;
use cafeia_platform::auth::{Role, Territory};
use cafeia_testkit::Backend;
use serde_json::{Value, json};
use std::time::Duration;

const SEARCH: &str = "query($input: SearchInput, $first: Int, $after: String) {
    search(input: $input, first: $first, after: $after) {
        hits {
            totalCount
            edges { cursor node { id kind title format level startsAt seatsLeft distanceKm } }
            pageInfo { hasNextPage hasPreviousPage endCursor }
        }
        facets {
            kind { value count }
            format { value count }
            level { value count }
            hasSeats { value count }
            topic { value count }
        }
    }
}";

async fn search(stack: &TestStack, input: Value, first: Option<i32>, after: Option<&str>) -> Value {
    stack
        .graphql(
            SEARCH,
            json!({"input": input, "first": first, "after": after}),
            None,
        )
        .await
}

fn nodes(answer: &Value) -> Vec<Value> {
    answer["data"]["search"]["hits"]["edges"]
        .as_array()
        .map(|edges| edges.iter().map(|e| e["node"].clone()).collect())
        .unwrap_or_default()
}

fn total(answer: &Value) -> Option<u64> {
    answer["data"]["search"]["hits"]["totalCount"].as_u64()
}

/// An RFC 3339 instant in UTC (zero offset: `Z` or `+00:00`, as the scalar writes it).
fn utc(instant: &str) -> bool {
    instant.len() >= 20 && (instant.ends_with('Z') || instant.ends_with("+00:00"))
}

/// The first error's code and field.
fn refusal(answer: &Value) -> (&str, &str) {
    let ext = &answer["errors"][0]["extensions"];
    (
        ext["code"].as_str().unwrap_or("<none>"),
        ext["field"].as_str().unwrap_or("<none>"),
    )
}

async fn search_and_recommend(backend: Backend) {
    let stack = TestStack::start(backend).await;
    // The demo's sessions and trainings arrive through the bus; wait until both kinds are
    // found and the count has settled (two answers in a row alike).
    let text = json!({"q": "intelligence artificielle"});
    let mut results = json!(null);
    for _ in 0..300 {
        let previous = total(&results);
        results = search(&stack, text.clone(), Some(100), None).await;
        let kinds: Vec<Value> = nodes(&results).iter().map(|n| n["kind"].clone()).collect();
        if kinds.contains(&json!("SESSION"))
            && kinds.contains(&json!("TRAINING"))
            && total(&results) == previous
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let hits = nodes(&results);
    assert!(hits.iter().any(|x| x["kind"] == "SESSION"), "{results}");
    assert!(hits.iter().any(|x| x["kind"] == "TRAINING"), "{results}");
    // Instants are UTC; trainings have no start.
    for h in &hits {
        match h["kind"].as_str() {
            Some("SESSION") => assert!(h["startsAt"].as_str().is_some_and(utc), "{h}"),
            _ => assert!(h["startsAt"].is_null(), "{h}"),
        }
    }
    // Facets count every result, with the values as the filters take them.
    let found = total(&results).expect("totalCount");
    let facets = &results["data"]["search"]["facets"];
    let counted: u64 = facets["kind"]
        .as_array()
        .expect("kind facet")
        .iter()
        .filter_map(|v| v["count"].as_u64())
        .sum();
    assert_eq!(counted, found, "{results}");
    let sessions = facets["kind"]
        .as_array()
        .and_then(|values| values.iter().find(|v| v["value"] == "SESSION"))
        .and_then(|v| v["count"].as_u64())
        .expect("sessions counted");
    let only_sessions = search(
        &stack,
        json!({"q": "intelligence artificielle", "kind": "SESSION"}),
        Some(1),
        None,
    )
    .await;
    assert_eq!(total(&only_sessions), Some(sessions), "{only_sessions}");
    // Vocabulary filters and answers are GraphQL enums, facets too.
    let online = search(
        &stack,
        json!({"format": "ONLINE", "level": "DISCOVERY"}),
        Some(50),
        None,
    )
    .await;
    let hits = nodes(&online);
    assert!(!hits.is_empty(), "{online}");
    assert!(
        hits.iter()
            .all(|h| h["format"] == "ONLINE" && h["level"] == "DISCOVERY"),
        "{online}"
    );
    assert_eq!(
        online["data"]["search"]["facets"]["format"],
        json!([{"value": "ONLINE", "count": total(&online)}]),
        "{online}"
    );
    // Pages: `first` / `after`; every edge's cursor resumes right after it. (Demo data may
    // still arrive: the three pages are read again until they saw the same list.)
    let by_date = json!({"sort": "DATE"});
    let ids =
        |answer: &Value| -> Vec<Value> { nodes(answer).iter().map(|n| n["id"].clone()).collect() };
    let mut pages = None;
    for _ in 0..50 {
        let p1 = search(&stack, by_date.clone(), Some(3), None).await;
        let info = &p1["data"]["search"]["hits"]["pageInfo"];
        let end = info["endCursor"].as_str().expect("endCursor").to_owned();
        let p2 = search(&stack, by_date.clone(), Some(3), Some(&end)).await;
        let after_first = p1["data"]["search"]["hits"]["edges"][0]["cursor"]
            .as_str()
            .expect("cursor")
            .to_owned();
        let resumed = search(&stack, by_date.clone(), Some(2), Some(&after_first)).await;
        if total(&p1) == total(&p2) && total(&p2) == total(&resumed) {
            pages = Some((p1, p2, resumed));
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (p1, p2, resumed) = pages.expect("a settled list");
    assert!(total(&p1).is_some_and(|n| n > 6), "{p1}");
    let info = &p1["data"]["search"]["hits"]["pageInfo"];
    assert_eq!(info["hasNextPage"], true, "{p1}");
    assert_eq!(info["hasPreviousPage"], false, "{p1}");
    assert_eq!(
        p2["data"]["search"]["hits"]["pageInfo"]["hasPreviousPage"], true,
        "{p2}"
    );
    let (first_ids, second_ids) = (ids(&p1), ids(&p2));
    assert_eq!((first_ids.len(), second_ids.len()), (3, 3), "{p1} {p2}");
    assert!(
        second_ids.iter().all(|id| !first_ids.contains(id)),
        "{p1} {p2}"
    );
    assert_eq!(ids(&resumed), first_ids[1..3], "{resumed}");
    // The last page says so.
    let all = total(&p1)
        .and_then(|n| i32::try_from(n).ok())
        .expect("total");
    let last = search(&stack, by_date, Some(all.min(100)), None).await;
    if all <= 100 && total(&last) == total(&p1) {
        assert_eq!(
            last["data"]["search"]["hits"]["pageInfo"]["hasNextPage"], false,
            "{last}"
        );
    }
    // Refusals name the argument or the input field at fault.
    for (answer, expected) in [
        (search(&stack, json!({}), Some(0), None).await, "first"),
        (search(&stack, json!({}), Some(1000), None).await, "first"),
        (
            search(&stack, json!({}), None, Some("nowhere")).await,
            "after",
        ),
        (
            search(&stack, json!({"postcode": "00000"}), None, None).await,
            "postcode",
        ),
        (
            search(&stack, json!({"sort": "DISTANCE"}), None, None).await,
            "sort",
        ),
        (
            search(&stack, json!({"topic": "astrology"}), None, None).await,
            "topic",
        ),
    ] {
        assert_eq!(refusal(&answer), ("BAD_USER_INPUT", expected), "{answer}");
    }
    // A citizen near Lyon, in a wheelchair, first time.
    let citizen = stack.token("citizen-m", &[Role::Citizen], None);
    let list = stack
        .graphql(
            "query($p: ProfileInput!) { recommendations(profile: $p) { id kind title startsAt distanceKm score reasons } }",
            json!({"p": {"postcode": "69007", "radiusKm": 30, "accessibility": ["WHEELCHAIR"], "experience": "FIRST_TIME", "limit": 5}}),
            Some(&citizen),
        )
        .await;
    let recs = list["data"]["recommendations"]
        .as_array()
        .expect("list")
        .clone();
    assert!(!recs.is_empty() && recs.len() <= 5, "{list}");
    let scores: Vec<f64> = recs.iter().filter_map(|r| r["score"].as_f64()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {list}"
    );
    for r in &recs {
        let reasons = r["reasons"].to_string();
        assert!(reasons.contains("accessible en fauteuil"), "{r}");
        if let Some(d) = r["distanceKm"].as_f64() {
            assert!(d <= 30.0);
            assert!(
                reasons.contains(&format!("à {d:.1} km").replace('.', ",")),
                "{r}"
            );
        }
        if r["kind"] == "SESSION" {
            assert!(r["startsAt"].as_str().is_some_and(utc), "{r}");
        }
    }
    // Bad input: a clear error naming the field.
    let bad = stack
        .graphql(
            "{ recommendations(profile: {postcode: \"00000\"}) { title } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(refusal(&bad), ("BAD_USER_INPUT", "postcode"), "{bad}");
    let too_many = stack
        .graphql(
            "{ recommendations(profile: {onlineOnly: true, limit: 1000}) { title } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        refusal(&too_many),
        ("BAD_USER_INPUT", "limit"),
        "{too_many}"
    );
    stack.stop().await;
}

const DEMAND: &str = "query($d: String!) {
    unmetDemand(departement: $d) { departement unmet sessionsNext30Days communes { insee name unmet } }
}";

async fn unmet_demand(backend: Backend) {
    let stack = TestStack::start(backend).await;
    // A search near Guéret (Creuse) that finds nothing is unmet demand there.
    let nothing = search(
        &stack,
        json!({"q": "zyxwvutsrq", "postcode": "23000", "radiusKm": 10}),
        None,
        None,
    )
    .await;
    assert_eq!(total(&nothing), Some(0), "{nothing}");
    let staff = stack.token("staff-national", &[Role::Staff], None);
    let mut demand = json!(null);
    for _ in 0..100 {
        demand = stack
            .graphql(DEMAND, json!({"d": "23"}), Some(&staff))
            .await;
        if demand["data"]["unmetDemand"]["unmet"].as_u64() > Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let view = &demand["data"]["unmetDemand"];
    assert_eq!(view["departement"], "23", "{demand}");
    assert_eq!(view["unmet"], 1, "{demand}");
    assert_eq!(
        view["communes"],
        json!([{"insee": "23096", "name": "Guéret", "unmet": 1}]),
        "{demand}"
    );
    assert!(view["sessionsNext30Days"].is_u64(), "{demand}");
    // A coordinator of the Creuse sees it; one of the Rhône, a citizen, nobody do not.
    let creuse = stack.token(
        "staff-23",
        &[Role::Staff],
        Some(Territory::Departement("23".into())),
    );
    let theirs = stack
        .graphql(DEMAND, json!({"d": "23"}), Some(&creuse))
        .await;
    assert_eq!(theirs["data"]["unmetDemand"]["unmet"], 1, "{theirs}");
    let rhone = stack.token(
        "staff-69",
        &[Role::Staff],
        Some(Territory::Departement("69".into())),
    );
    let citizen = stack.token("citizen", &[Role::Citizen], None);
    for (token, code) in [
        (Some(&rhone), "FORBIDDEN"),
        (Some(&citizen), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let refused = stack
            .graphql(DEMAND, json!({"d": "23"}), token.map(String::as_str))
            .await;
        assert_eq!(refusal(&refused).0, code, "{refused}");
        assert!(refused["data"].is_null(), "{refused}");
    }
    let unknown = stack
        .graphql(DEMAND, json!({"d": "00"}), Some(&staff))
        .await;
    assert_eq!(
        refusal(&unknown),
        ("BAD_USER_INPUT", "departement"),
        "{unknown}"
    );
    stack.stop().await;
}

/// An anonymous search through the gateway by the client at `from`: the connection leaves from
/// that loopback address, so the gateway sees that client.
async fn search_from(stack: &TestStack, from: &str, input: Value) -> Value {
    let address: std::net::IpAddr = from.parse().expect("an address");
    reqwest::Client::builder()
        .local_address(address)
        .build()
        .expect("client")
        .post(format!("{}/graphql", stack.base))
        .json(&json!({"query": SEARCH, "variables": {"input": input}}))
        .send()
        .await
        .expect("gateway answers")
        .json()
        .await
        .expect("JSON body")
}

/// The unmet demand staff see in commune `insee` of the Creuse.
async fn unmet_in_creuse(stack: &TestStack, staff: &str, insee: &str) -> u64 {
    let demand = stack.graphql(DEMAND, json!({"d": "23"}), Some(staff)).await;
    demand["data"]["unmetDemand"]["communes"]
        .as_array()
        .unwrap_or_else(|| panic!("{demand}"))
        .iter()
        .find(|c| c["insee"] == insee)
        .and_then(|c| c["unmet"].as_u64())
        .unwrap_or(0)
}

/// Issue 14, defect 2, through the gateway: every anonymous search reached matching from the
/// gateway's address, so distinct people counted as one caller. The gateway now forwards the
/// client's address, sealed with the key it shares with matching: two clients count twice,
/// one client asking twice once.
async fn unmet_demand_counts_each_anonymous_client_behind_the_gateway(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let staff = stack.token("staff-national", &[Role::Staff], None);
    let nothing = |commune: &str, q: &str| json!({"q": q, "commune": commune});
    // One client, twice, near Guéret.
    for q in ["zyxwvutsrq", "qrstuvwxyz"] {
        let answer = search_from(&stack, "127.0.0.2", nothing("23096", q)).await;
        assert_eq!(total(&answer), Some(0), "{answer}");
    }
    // Two clients near Aubusson.
    for from in ["127.0.0.3", "127.0.0.4"] {
        let answer = search_from(&stack, from, nothing("23008", "zyxwvutsrq")).await;
        assert_eq!(total(&answer), Some(0), "{answer}");
    }
    // The recorder takes requests in order: once Aubusson's are counted, Guéret's were too.
    let mut aubusson = 0;
    for _ in 0..200 {
        aubusson = unmet_in_creuse(&stack, &staff, "23008").await;
        if aubusson == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(aubusson, 2, "two clients near Aubusson");
    assert_eq!(
        unmet_in_creuse(&stack, &staff, "23096").await,
        1,
        "one client near Guéret"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmet_demand_counts_each_anonymous_client_behind_the_gateway_embedded() {
    unmet_demand_counts_each_anonymous_client_behind_the_gateway(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmet_demand_counts_each_anonymous_client_behind_the_gateway_real() {
    unmet_demand_counts_each_anonymous_client_behind_the_gateway(Backend::Real).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_and_recommend_embedded() {
    search_and_recommend(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_and_recommend_real() {
    search_and_recommend(Backend::Real).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmet_demand_embedded() {
    unmet_demand(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmet_demand_real() {
    unmet_demand(Backend::Real).await;
}
