//! Outreach end to end: the demo's past sessions (reported by the events service) reach the
//! outreach figures through the bus, and the gateway serves them to staff only.

use cafeia_e2e::TestStack;
use cafeia_platform::auth::{Role, Territory};
use cafeia_testkit::Backend;
use serde_json::json;
use std::time::Duration;

async fn demo_reach(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let staff = stack.token("staff", &[Role::Staff], None);
    let mut head = json!(null);
    for _ in 0..300 {
        head = stack
            .graphql(
                "{ outreachHeadline { goal reached participations sessionsHeld status } }",
                json!({}),
                Some(&staff),
            )
            .await;
        if head["data"]["outreachHeadline"]["sessionsHeld"].as_i64() >= Some(10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let h = &head["data"]["outreachHeadline"];
    assert_eq!(h["goal"], 2_000_000, "{head}");
    assert!(h["sessionsHeld"].as_i64() >= Some(10), "{head}");
    assert!(
        h["reached"].as_i64() > Some(0) && h["participations"].as_i64() >= h["reached"].as_i64()
    );
    let by_dep = stack
        .graphql(
            "{ outreachBreakdown(by: DEPARTEMENT) { key label reached } }",
            json!({}),
            Some(&staff),
        )
        .await;
    let rows = by_dep["data"]["outreachBreakdown"]
        .as_array()
        .expect("rows")
        .clone();
    let total: i64 = rows.iter().filter_map(|r| r["reached"].as_i64()).sum();
    assert_eq!(
        Some(total),
        h["reached"].as_i64(),
        "the breakdown adds up to the headline"
    );
    // The other staff figures, each through its query string.
    let more = stack
        .graphql(
            "{ outreachReach(region: \"84\") { departement region reachedPer10000 } \
               coverageGaps(limit: 3) { departement plannedNext30Days } \
               outreachWeekly { week cumulative goalLine } \
               outreachExport(from: \"2020-01-01\") { departement month reached } }",
            json!({}),
            Some(&staff),
        )
        .await;
    let d = &more["data"];
    let reach = d["outreachReach"].as_array().expect("reach");
    assert!(
        !reach.is_empty() && reach.iter().all(|r| r["region"] == "84"),
        "{more}"
    );
    let gaps = d["coverageGaps"].as_array().expect("gaps");
    assert!(
        gaps.len() <= 3 && gaps.iter().all(|g| g["plannedNext30Days"] == 0),
        "{more}"
    );
    assert!(d["outreachWeekly"].as_array().is_some(), "{more}");
    let exported: i64 = d["outreachExport"]
        .as_array()
        .expect("export")
        .iter()
        .filter_map(|c| c["reached"].as_i64())
        .sum();
    assert!(
        exported > 0 && Some(exported) <= h["reached"].as_i64(),
        "{more}"
    );
    // The dashboard's one call gives the same figures as the separate queries.
    let dashboard = stack
        .graphql(
            "{ outreachDashboard(gapsLimit: 3) { headline { reached sessionsHeld } \
                 byTerritory { key reached } byFormat { reached } weekly { cumulative } \
                 reach { departement } coverageGaps { departement } } }",
            json!({}),
            Some(&staff),
        )
        .await;
    let board = &dashboard["data"]["outreachDashboard"];
    assert_eq!(board["headline"]["reached"], h["reached"], "{dashboard}");
    assert_eq!(
        board["headline"]["sessionsHeld"], h["sessionsHeld"],
        "{dashboard}"
    );
    for rows in ["byTerritory", "byFormat"] {
        let sum: i64 = board[rows]
            .as_array()
            .unwrap_or_else(|| panic!("{rows}: {dashboard}"))
            .iter()
            .filter_map(|r| r["reached"].as_i64())
            .sum();
        assert_eq!(
            Some(sum),
            h["reached"].as_i64(),
            "{rows} adds up: {dashboard}"
        );
    }
    assert!(
        board["coverageGaps"]
            .as_array()
            .is_some_and(|g| g.len() <= 3),
        "{dashboard}"
    );
    // Citizens and coordinators outside their territory are refused.
    let citizen = stack.token("citizen", &[Role::Citizen], None);
    let refused = stack
        .graphql(
            "{ outreachHeadline { reached } }",
            json!({}),
            Some(&citizen),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let coordinator = stack.token(
        "coord",
        &[Role::Staff],
        Some(Territory::Departement("69".into())),
    );
    let outside = stack
        .graphql(
            "{ outreachHeadline(departement: \"13\") { reached } }",
            json!({}),
            Some(&coordinator),
        )
        .await;
    assert_eq!(
        outside["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{outside}"
    );
    let outside = stack
        .graphql(
            "{ outreachDashboard(departement: \"13\") { headline { reached } } }",
            json!({}),
            Some(&coordinator),
        )
        .await;
    assert_eq!(
        outside["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{outside}"
    );
    let own = stack
        .graphql(
            "{ outreachDashboard { reach { departement } } }",
            json!({}),
            Some(&coordinator),
        )
        .await;
    let places = own["data"]["outreachDashboard"]["reach"]
        .as_array()
        .unwrap_or_else(|| panic!("{own}"));
    assert!(
        !places.is_empty() && places.iter().all(|p| p["departement"] == "69"),
        "a coordinator's dashboard is their département's: {own}"
    );
    // Open data needs no account.
    let open = stack
        .graphql(
            "{ openDataReach { departement month participations } }",
            json!({}),
            None,
        )
        .await;
    assert!(
        open["data"]["openDataReach"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{open}"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_reach_embedded() {
    demo_reach(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_reach_real() {
    demo_reach(Backend::Real).await;
}
