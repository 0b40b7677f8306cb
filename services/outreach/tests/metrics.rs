//! Outreach figures on a known history, on both backend sets: every expected number below is
//! worked out by hand from the messages played to the service.

use crate::support;

use cafeia_events_api::messages::{ATTENDANCE_RECORDED as ATTENDANCE, SESSION_PUBLISHED};
use cafeia_facilitators_api::{
    FacilitatorStatus,
    messages::{FACILITATOR_SUSPENDED, FACILITATOR_VERIFIED},
};
use cafeia_outreach::Outreach;
use cafeia_platform::auth::{Role, Territory};
use cafeia_testkit::{
    Backend, backend_matrix,
    service::{ServiceHarness, field},
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use support::{AS_OF, facilitator, headline, message, planned_session, report, until_reached};
use uuid::Uuid;

async fn known_history(backend: Backend) {
    let h = ServiceHarness::start::<Outreach>(backend, &["outreach.#"]).await;
    let staff = h.token("staff", Role::Staff, None);
    let (f1, f2, f3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let s: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
    let lyon = Some(("69", "84"));
    let s1_v1 = message(
        ATTENDANCE,
        report(
            s[0],
            1,
            f1,
            "2027-03-10",
            lyon,
            "in_person",
            &["general_public"],
            20,
            15,
            json!({"25_39": 8, "60_74": 12}),
        ),
    );
    let s3 = message(
        ATTENDANCE,
        report(
            s[2],
            1,
            f3,
            "2027-02-15",
            Some(("13", "93")),
            "hybrid",
            &["job_seekers"],
            30,
            25,
            json!({}),
        ),
    );
    for m in [
        s1_v1.clone(),
        message(
            ATTENDANCE,
            report(
                s[1],
                1,
                f2,
                "2027-03-20",
                lyon,
                "in_person",
                &["students", "general_public"],
                10,
                8,
                json!({}),
            ),
        ),
        s3.clone(),
        message(
            ATTENDANCE,
            report(
                s[3],
                1,
                f1,
                "2027-03-25",
                None,
                "online",
                &["general_public"],
                50,
                40,
                json!({}),
            ),
        ),
        message(
            ATTENDANCE,
            report(
                s[4],
                1,
                f2,
                "2027-03-05",
                Some(("974", "04")),
                "in_person",
                &["seniors"],
                6,
                4,
                json!({}),
            ),
        ),
        message(
            FACILITATOR_VERIFIED,
            facilitator(f1, FacilitatorStatus::Verified),
        ),
        message(
            FACILITATOR_VERIFIED,
            facilitator(f2, FacilitatorStatus::Verified),
        ),
        message(
            FACILITATOR_SUSPENDED,
            facilitator(f2, FacilitatorStatus::Suspended),
        ),
        // A session planned in Lyon within 30 days of 31 March.
        message(
            SESSION_PUBLISHED,
            planned_session("69", "84", "2027-04-10T16:00:00Z"),
        ),
    ] {
        h.bus.publish(&m).await.expect("published");
    }
    // 15 + 8 + 25 + 40 + 4
    until_reached(&h, &staff, 92).await;

    // The correction replaces version 1 (20/15 → 22/16): 92 − 15 + 16 = 93, not 92 + 16.
    h.bus
        .publish(&message(
            ATTENDANCE,
            report(
                s[0],
                2,
                f1,
                "2027-03-10",
                lyon,
                "in_person",
                &["general_public"],
                22,
                16,
                json!({"25_39": 9, "60_74": 13}),
            ),
        ))
        .await
        .expect("published");
    let head = until_reached(&h, &staff, 93).await;
    // Version 1 arriving late (a new delivery of an older report) and a duplicate delivery of
    // the same message change nothing.
    let mut late = s1_v1.clone();
    late.message_id = Uuid::now_v7().to_string();
    late.body = serde_json::to_vec(&{
        let mut e: Value = serde_json::from_slice(&s1_v1.body).expect("json");
        e["id"] = json!(late.message_id);
        e
    })
    .expect("body");
    h.bus.publish(&late).await.expect("published");
    h.bus.publish(&s3).await.expect("published");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, again) = headline(&h, &staff, AS_OF).await;
    assert_eq!(again, head, "nothing double counted");

    // Headline, by hand. Participations: 22 + 10 + 30 + 50 + 6 = 118; 5 sessions; F1, F2, F3
    // active within 90 days. Run rate: first-timers of sessions after 3 March
    // (16 + 8 + 40 + 4 = 68) over 4 weeks = 17 per week.
    assert_eq!(head["participations"], 118);
    assert_eq!(head["sessions_held"], 5);
    assert_eq!(head["active_facilitators"], 3);
    // One facilitator announced verified, then suspended; another verified.
    assert_eq!(head["verified_facilitators"], 1, "{head}");
    assert_eq!(head["goal"], 2_000_000);
    assert_eq!(head["run_rate_per_week"], 17.0);
    // 2,000,000 − 93 still to reach in 275 days (31 March → 31 December 2027).
    let needed = ((2_000_000.0 - 93.0) * 7.0 / 275.0 * 10.0_f64).round() / 10.0;
    assert_eq!(head["needed_per_week"].as_f64(), Some(needed));
    assert_eq!(head["status"], "at_risk");
    assert!(head["projected_date"].as_str() > Some("2027-12-31"));

    // Breakdowns.
    let breakdown = |by: &str| {
        let h = &h;
        let staff = staff.clone();
        let by = by.to_owned();
        async move {
            let (status, body) = h
                .call(
                    Method::GET,
                    &format!("/v1/outreach/breakdown?by={by}&{AS_OF}"),
                    Some(&staff),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body.as_array()
                .expect("rows")
                .iter()
                .map(|r| {
                    (
                        r["key"].as_str().unwrap_or_default().to_owned(),
                        r["sessions"].as_i64().unwrap_or(-1),
                        r["participations"].as_i64().unwrap_or(-1),
                        r["reached"].as_i64(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let k = |s: &str| s.to_owned();
    assert_eq!(
        breakdown("departement").await,
        vec![
            (k("13"), 1, 30, Some(25)),
            (k("69"), 2, 32, Some(24)),
            (k("974"), 1, 6, Some(4)),
            (k("online"), 1, 50, Some(40))
        ]
    );
    assert_eq!(
        breakdown("region").await,
        vec![
            (k("04"), 1, 6, Some(4)),
            (k("84"), 2, 32, Some(24)),
            (k("93"), 1, 30, Some(25)),
            (k("online"), 1, 50, Some(40))
        ]
    );
    // A session with two audiences counts in both.
    assert_eq!(
        breakdown("audience").await,
        vec![
            (k("general_public"), 3, 82, Some(64)),
            (k("job_seekers"), 1, 30, Some(25)),
            (k("seniors"), 1, 6, Some(4)),
            (k("students"), 1, 10, Some(8))
        ]
    );
    assert_eq!(
        breakdown("age_band").await,
        vec![(k("25_39"), 1, 9, None), (k("60_74"), 1, 13, None)]
    );
    assert_eq!(
        breakdown("format").await,
        vec![
            (k("hybrid"), 1, 30, Some(25)),
            (k("in_person"), 3, 38, Some(28)),
            (k("online"), 1, 50, Some(40))
        ]
    );
    assert_eq!(
        breakdown("month").await,
        vec![
            (k("2027-02"), 1, 30, Some(25)),
            (k("2027-03"), 4, 88, Some(68))
        ]
    );

    // The weekly series: first week 15 February (S3: 25), then 1 March (S5: 4), 8 March
    // (S1: 16), 15 March (S2: 8), 22 March (S4: 40), up to the week of 31 March.
    let (_, weekly) = h
        .call(
            Method::GET,
            &format!("/v1/outreach/weekly?{AS_OF}"),
            Some(&staff),
            None,
        )
        .await;
    let cumulative: Vec<i64> = weekly
        .as_array()
        .expect("weeks")
        .iter()
        .filter_map(|w| w["cumulative"].as_i64())
        .collect();
    assert_eq!(cumulative, vec![25, 25, 29, 45, 53, 93, 93]);
    assert_eq!(weekly[0]["week"], "2027-02-15");
    assert_eq!(weekly[0]["goal_line"], 0);

    // Reach per inhabitant and the gaps: Lyon has a session planned, so it is no gap; the first
    // gap is the most populous département with nobody reached (Nord).
    let (_, reach) = h
        .call(
            Method::GET,
            &format!("/v1/outreach/reach?departement=69&{AS_OF}"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(reach[0]["planned_next_30_days"], 1, "{reach}");
    assert_eq!(reach[0]["reached"], 24);
    let (_, gaps) = h
        .call(
            Method::GET,
            &format!("/v1/outreach/gaps?limit=200&{AS_OF}"),
            Some(&staff),
            None,
        )
        .await;
    let gaps = gaps.as_array().expect("gaps");
    assert!(
        gaps.iter()
            .all(|g| g["planned_next_30_days"] == 0 && g["departement"] != "69")
    );
    assert!(gaps.iter().any(|g| g["departement"] == "13"));
    assert_eq!(gaps[0]["departement"], "59");
    assert_eq!(gaps[0]["reached"], 0);

    // The dashboard: every figure in one call, the same as the separate endpoints give. Its
    // breakdowns cover March only (the hybrid session of 15 February is left out of them),
    // its headline, curve, reach and gaps everything up to 31 March.
    let get = |path: String| {
        let (h, staff) = (&h, staff.clone());
        async move {
            let (status, body) = h.call(Method::GET, &path, Some(&staff), None).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            body
        }
    };
    let march = "from=2027-03-01&to=2027-03-31";
    let dashboard = get(format!("/v1/outreach/dashboard?{AS_OF}&from=2027-03-01")).await;
    assert_eq!(dashboard["headline"], head);
    assert_eq!(dashboard["headline"]["reached"], 93);
    assert_eq!(
        dashboard["weekly"],
        get(format!("/v1/outreach/weekly?{AS_OF}")).await
    );
    assert_eq!(
        dashboard["reach"],
        get(format!("/v1/outreach/reach?{AS_OF}")).await
    );
    assert_eq!(
        dashboard["coverage_gaps"],
        get(format!("/v1/outreach/gaps?{AS_OF}")).await
    );
    assert_eq!(
        dashboard["coverage_gaps"].as_array().map(Vec::len),
        Some(10)
    );
    // France is split by région.
    for (field, by) in [
        ("by_territory", "region"),
        ("by_audience", "audience"),
        ("by_age_band", "age_band"),
        ("by_occupation", "occupation"),
        ("by_format", "format"),
        ("by_topic", "topic"),
    ] {
        assert_eq!(
            dashboard[field],
            get(format!("/v1/outreach/breakdown?by={by}&{march}")).await,
            "{field}"
        );
    }
    let formats: Vec<&str> = dashboard["by_format"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["key"].as_str())
        .collect();
    assert_eq!(formats, ["in_person", "online"]);
    // A région is split by département; the breakdowns end at « as of » unless told.
    let (status, aura) = h
        .call(
            Method::GET,
            "/v1/outreach/dashboard?region=84&as_of=2027-03-15&gaps_limit=3",
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{aura}");
    assert_eq!(
        aura["headline"]["reached"], 16,
        "only the café of 10 March in Lyon"
    );
    assert_eq!(
        aura["by_territory"],
        json!([{"key": "69", "label": "Rhône", "sessions": 1, "participations": 22, "reached": 16}])
    );
    assert_eq!(aura["coverage_gaps"].as_array().map(Vec::len), Some(3));
    assert!(
        aura["reach"]
            .as_array()
            .expect("reach")
            .iter()
            .all(|r| r["region"] == "84"),
        "{aura}"
    );

    // Exports: staff see every cell; the public aggregate hides counts under 11 (La Réunion).
    let (status, staff_json) = h
        .call(
            Method::GET,
            "/v1/outreach/export?format=json&to=2027-12-31",
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let reunion = staff_json
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["departement"] == "974")
        .cloned()
        .expect("974");
    assert_eq!(
        (
            reunion["participations"].as_i64(),
            reunion["reached"].as_i64()
        ),
        (Some(6), Some(4))
    );
    let (status, public) = h
        .call(Method::GET, "/v1/open-data/reach?format=json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let cells = public.as_array().expect("cells");
    let reunion = cells
        .iter()
        .find(|c| c["departement"] == "974")
        .expect("974");
    assert!(
        reunion["participations"].is_null() && reunion["reached"].is_null(),
        "{reunion}"
    );
    let lyon_cell = cells.iter().find(|c| c["departement"] == "69").expect("69");
    assert_eq!(
        (
            lyon_cell["participations"].as_i64(),
            lyon_cell["reached"].as_i64()
        ),
        (Some(32), Some(24))
    );
    let csv = h
        .http
        .get(format!("{}/v1/open-data/reach", h.base))
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    assert!(
        csv.starts_with("departement,month,sessions,participations,reached"),
        "{csv}"
    );
    assert!(csv.contains("974,2027-03,1,,\n"), "{csv}");

    // Rebuilding from the history gives identical figures.
    let before = (
        headline(&h, &staff, AS_OF).await.1,
        breakdown("departement").await,
        breakdown("age_band").await,
    );
    let (status, rebuilt) = h
        .call(Method::POST, "/v1/outreach/rebuild", Some(&staff), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{rebuilt}");
    // Nine first messages, the correction, the late version 1 (the duplicate is not kept).
    assert_eq!(rebuilt["messages_replayed"], 11);
    let after = (
        headline(&h, &staff, AS_OF).await.1,
        breakdown("departement").await,
        breakdown("age_band").await,
    );
    assert_eq!(before, after);
    h.stop().await;
}

async fn scope_and_bad_input(backend: Backend) {
    let h = ServiceHarness::start::<Outreach>(backend, &["outreach.#"]).await;
    let f = Uuid::now_v7();
    for (dep, region, n) in [("69", "84", 12), ("38", "84", 7), ("13", "93", 30)] {
        h.bus
            .publish(&message(
                ATTENDANCE,
                report(
                    Uuid::now_v7(),
                    1,
                    f,
                    "2027-03-10",
                    Some((dep, region)),
                    "in_person",
                    &["general_public"],
                    n,
                    n,
                    json!({}),
                ),
            ))
            .await
            .expect("published");
    }
    let national = h.token("staff", Role::Staff, None);
    until_reached(&h, &national, 49).await;
    // A regional coordinator sees their région, with its share of the goal.
    let aura = h.token(
        "coord-84",
        Role::Staff,
        Some(Territory::Region("84".into())),
    );
    let (status, head) = headline(&h, &aura, AS_OF).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(head["reached"], 19, "12 + 7 in Auvergne-Rhône-Alpes");
    assert!(
        head["goal"].as_i64() < Some(2_000_000) && head["goal"].as_i64() > Some(100_000),
        "{head}"
    );
    let (_, isere) = headline(&h, &aura, &format!("departement=38&{AS_OF}")).await;
    assert_eq!(isere["reached"], 7);
    // Outside their territory: FORBIDDEN; so for a département coordinator asking for the région.
    for (token, query) in [
        (aura.clone(), "departement=13"),
        (aura.clone(), "region=93"),
        (
            h.token(
                "coord-69",
                Role::Staff,
                Some(Territory::Departement("69".into())),
            ),
            "region=84",
        ),
    ] {
        let (status, body) = headline(&h, &token, query).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{query}: {body}");
        assert!(body.get("reached").is_none());
    }
    for path in [
        "/v1/outreach/headline",
        "/v1/outreach/export",
        "/v1/outreach/gaps",
    ] {
        let citizen = h.token("citizen", Role::Citizen, None);
        let (status, _) = h.call(Method::GET, path, Some(&citizen), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        let (status, _) = h.call(Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let (status, _) = h
        .call(Method::POST, "/v1/outreach/rebuild", Some(&aura), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The dashboard holds a coordinator to their territory as every figure does: theirs when
    // they ask for none, refused outside it.
    let (status, mine) = h
        .call(
            Method::GET,
            &format!("/v1/outreach/dashboard?{AS_OF}"),
            Some(&aura),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["headline"], head);
    let split: Vec<&str> = mine["by_territory"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["key"].as_str())
        .collect();
    assert_eq!(split, ["38", "69"], "{mine}");
    assert!(
        mine["reach"]
            .as_array()
            .expect("reach")
            .iter()
            .all(|r| r["region"] == "84")
    );
    for query in ["region=93", "departement=13"] {
        let (status, body) = h
            .call(
                Method::GET,
                &format!("/v1/outreach/dashboard?{query}"),
                Some(&aura),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{query}: {body}");
        assert!(body.get("headline").is_none());
    }
    let citizen = h.token("citizen", Role::Citizen, None);
    let (status, _) = h
        .call(Method::GET, "/v1/outreach/dashboard", Some(&citizen), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (query, expected) in [
        ("gaps_limit=0", "gaps_limit"),
        ("from=2027-04-01&as_of=2027-03-31", "to"),
        ("as_of=1900-01-01", "as_of"),
        ("shoe_size=42", "shoe_size"),
    ] {
        let (status, problem) = h
            .call(
                Method::GET,
                &format!("/v1/outreach/dashboard?{query}"),
                Some(&national),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {problem}");
        assert_eq!(field(&problem), expected, "{query}: {problem}");
    }
    // Bad input: which field, and why.
    for (query, expected) in [
        ("from=2027-04-01&to=2027-03-01", "to"),
        ("departement=999", "departement"),
        ("region=99", "region"),
        ("from=1900-01-01", "from"),
        ("region=84&departement=13", "departement"),
    ] {
        let (status, problem) = headline(&h, &national, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {problem}");
        assert_eq!(field(&problem), expected, "{query}: {problem}");
    }
    // Query strings go through the platform's `Query`: the parameter is named, and a bad
    // dimension is answered with the ones there are.
    let (status, problem) = h
        .call(
            Method::GET,
            "/v1/outreach/breakdown?by=shoe_size",
            Some(&national),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(field(&problem), "by", "{problem}");
    let why = problem["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        why.contains("shoe_size")
            && why.contains("departement")
            && why.contains("facilitator_kind"),
        "{problem}"
    );
    for (path, expected) in [
        ("/v1/outreach/breakdown", "by"),
        ("/v1/outreach/breakdown?by=region&to=someday", "to"),
        ("/v1/outreach/headline?shoe_size=42", "shoe_size"),
        ("/v1/outreach/export?format=xlsx", "format"),
        ("/v1/outreach/gaps?limit=many", "limit"),
    ] {
        let (status, problem) = h.call(Method::GET, path, Some(&national), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {problem}");
        assert_eq!(field(&problem), expected, "{path}: {problem}");
    }
    let (status, _) = h
        .call(
            Method::GET,
            "/v1/outreach/gaps?limit=0",
            Some(&national),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    h.assert_openapi_matches(&cafeia_outreach_api::paths::ALL)
        .await;
    let (_, doc) = h.call(Method::GET, "/openapi.json", None, None).await;
    // The query parameters are still listed (named by `params(...)`, not found by utoipa in
    // actix's `Query`).
    let parameters = |path: &str, method: &str| -> Vec<String> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "query")
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut breakdown = parameters(cafeia_outreach_api::paths::BREAKDOWN, "get");
    breakdown.sort();
    assert_eq!(
        breakdown,
        ["as_of", "by", "departement", "from", "region", "to"],
        "{doc}"
    );
    for (path, expected) in [
        (cafeia_outreach_api::paths::HEADLINE, "as_of"),
        (cafeia_outreach_api::paths::REACH, "departement"),
        (cafeia_outreach_api::paths::WEEKLY, "from"),
        (cafeia_outreach_api::paths::GAPS, "limit"),
        (cafeia_outreach_api::paths::EXPORT, "format"),
        (cafeia_outreach_api::paths::OPEN_DATA_REACH, "format"),
    ] {
        assert!(
            parameters(path, "get").iter().any(|p| p == expected),
            "{path} lacks {expected}"
        );
    }
    h.stop().await;
}

/// 20:00 on Sunday 31 January 2027 in Guadeloupe is 01:00 on Monday 1 February in UTC: the
/// café counts in January and in the week of Monday 25 January, not in February's.
async fn an_evening_cafe_in_guadeloupe_counts_on_its_local_date(backend: Backend) {
    let h = ServiceHarness::start::<Outreach>(backend, &["outreach.#"]).await;
    let staff = h.token("staff", Role::Staff, None);
    let mut evening = report(
        Uuid::now_v7(),
        1,
        Uuid::now_v7(),
        "2027-01-31",
        Some(("971", "01")),
        "in_person",
        &["general_public"],
        14,
        12,
        json!({}),
    );
    // 20:00 in Guadeloupe (UTC−4).
    evening["starts_at"] = json!("2027-02-01T00:00:00Z");
    h.bus
        .publish(&message(ATTENDANCE, evening))
        .await
        .expect("published");
    until_reached(&h, &staff, 12).await;

    let keys = |rows: &Value| -> Vec<(String, i64)> {
        rows.as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r["key"].as_str().unwrap_or_default().to_owned(),
                    r["reached"].as_i64().unwrap_or_default(),
                )
            })
            .collect()
    };
    let (status, months) = h
        .call(
            Method::GET,
            &format!("/v1/outreach/breakdown?by=month&{AS_OF}"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{months}");
    assert_eq!(keys(&months), vec![("2027-01".to_owned(), 12)], "{months}");
    let (_, weeks) = h
        .call(
            Method::GET,
            &format!("/v1/outreach/breakdown?by=week&{AS_OF}"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(
        keys(&weeks),
        vec![("2027-01-25".to_owned(), 12)],
        "the week of Sunday 31 January: {weeks}"
    );
    // A period ending on 31 January holds it; one starting on 1 February does not.
    let (_, january) = headline(&h, &staff, "to=2027-01-31").await;
    assert_eq!(january["reached"], 12, "{january}");
    let (_, february) = headline(&h, &staff, "from=2027-02-01&to=2027-02-28").await;
    assert_eq!(february["reached"], 0, "{february}");
    let (status, cells) = h
        .call(
            Method::GET,
            "/v1/outreach/export?format=json&to=2027-12-31",
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let months: Vec<(&str, &str)> = cells
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| {
            (
                c["departement"].as_str().unwrap_or_default(),
                c["month"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(months, vec![("971", "2027-01")]);
    let (_, series) = h
        .call(
            Method::GET,
            &format!("/v1/outreach/weekly?{AS_OF}"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(series[0]["week"], "2027-01-25", "{series}");
    assert_eq!(series[0]["reached"], 12, "{series}");
    h.stop().await;
}

/// Issue 14, defect 12: an online session has no département, so its report used to count on
/// the Paris date. 23:30 on Sunday 31 January 2027 in Cayenne is 03:30 on 1 February in
/// Paris: with the session's zone in the report, it counts in January and in the week of
/// Monday 25 January. A report sent before the zone travelled still counts on the Paris date.
async fn an_online_session_counts_on_the_date_of_its_own_zone(backend: Backend) {
    let h = ServiceHarness::start::<Outreach>(backend, &["outreach.#"]).await;
    let staff = h.token("staff", Role::Staff, None);
    let online = |first_timers: i32, timezone: Option<&str>| {
        let mut r = report(
            Uuid::now_v7(),
            1,
            Uuid::now_v7(),
            "2027-01-31",
            None,
            "online",
            &["general_public"],
            first_timers,
            first_timers,
            json!({}),
        );
        // 23:30 in Cayenne (UTC−3).
        r["starts_at"] = json!("2027-02-01T02:30:00Z");
        if let Some(zone) = timezone {
            r["timezone"] = json!(zone);
        }
        r
    };
    for r in [online(9, Some("America/Cayenne")), online(4, None)] {
        h.bus
            .publish(&message(ATTENDANCE, r))
            .await
            .expect("published");
    }
    until_reached(&h, &staff, 13).await;
    let by = |rows: &Value| -> Vec<(String, i64)> {
        rows.as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r["key"].as_str().unwrap_or_default().to_owned(),
                    r["reached"].as_i64().unwrap_or_default(),
                )
            })
            .collect()
    };
    let (status, months) = h
        .call(
            Method::GET,
            &format!("/v1/outreach/breakdown?by=month&{AS_OF}"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{months}");
    assert_eq!(
        by(&months),
        vec![("2027-01".to_owned(), 9), ("2027-02".to_owned(), 4)],
        "{months}"
    );
    let (_, weeks) = h
        .call(
            Method::GET,
            &format!("/v1/outreach/breakdown?by=week&{AS_OF}"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(
        by(&weeks),
        vec![("2027-01-25".to_owned(), 9), ("2027-02-01".to_owned(), 4)],
        "{weeks}"
    );
    let (_, january) = headline(&h, &staff, "to=2027-01-31").await;
    assert_eq!(january["reached"], 9, "{january}");
    // A rebuild replays the zone from the history.
    let (status, rebuilt) = h
        .call(Method::POST, "/v1/outreach/rebuild", Some(&staff), None)
        .await;
    assert!(status.is_success(), "{status}: {rebuilt}");
    let (_, january) = headline(&h, &staff, "to=2027-01-31").await;
    assert_eq!(january["reached"], 9, "after a rebuild: {january}");
    h.stop().await;
}

backend_matrix!(
    known_history,
    scope_and_bad_input,
    an_evening_cafe_in_guadeloupe_counts_on_its_local_date,
    an_online_session_counts_on_the_date_of_its_own_zone
);
