//! Matching end to end: the demo's sessions and trainings reach the matching read model through
//! the bus, and citizens search and get recommendations through the gateway.

use cafeia_e2e::TestStack;
use cafeia_platform::auth::Role;
use cafeia_testkit::Backend;
use serde_json::json;
use std::time::Duration;

async fn search_and_recommend(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let mut results = json!(null);
    for _ in 0..300 {
        results = stack
            .graphql(
                "{ search(input: {q: \"intelligence artificielle\", limit: 50}) { total items { kind title } facets } }",
                json!({}),
                None,
            )
            .await;
        let items = &results["data"]["search"]["items"];
        if items
            .as_array()
            .is_some_and(|i| i.iter().any(|x| x["kind"] == "SESSION"))
            && items
                .as_array()
                .is_some_and(|i| i.iter().any(|x| x["kind"] == "TRAINING"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let items = results["data"]["search"]["items"]
        .as_array()
        .expect("items")
        .clone();
    assert!(items.iter().any(|x| x["kind"] == "SESSION"), "{results}");
    assert!(items.iter().any(|x| x["kind"] == "TRAINING"), "{results}");
    assert!(
        results["data"]["search"]["facets"]["kind"].is_object(),
        "{results}"
    );
    // A citizen near Lyon, in a wheelchair, first time.
    let citizen = stack.token("citizen-m", &[Role::Citizen], None);
    let list = stack
        .graphql(
            "query($p: ProfileInput!) { recommendations(profile: $p) { kind title distanceKm reasons } }",
            json!({"p": {"postcode": "69007", "radiusKm": 30, "accessibility": ["wheelchair"], "experience": "FIRST_TIME"}}),
            Some(&citizen),
        )
        .await;
    let recs = list["data"]["recommendations"]
        .as_array()
        .expect("list")
        .clone();
    assert!(!recs.is_empty(), "{list}");
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
    }
    // Bad input: a clear error naming the field.
    let bad = stack
        .graphql(
            "{ recommendations(profile: {postcode: \"00000\"}) { title } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{bad}"
    );
    assert_eq!(bad["errors"][0]["extensions"]["field"], "postcode", "{bad}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_and_recommend_embedded() {
    search_and_recommend(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_and_recommend_real() {
    search_and_recommend(Backend::Real).await;
}
