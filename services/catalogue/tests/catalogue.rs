//! The catalogue through its REST API, on both backend sets.

use cafeia_catalogue::Catalogue;
use cafeia_platform::auth::Role;
use cafeia_testkit::{
    Backend, backend_matrix,
    service::{ServiceHarness, field},
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SIRET_A: &str = "73282932000074";
const SIRET_B: &str = "35600000000048";

/// The error code of a problem document.
fn code(problem: &Value) -> &str {
    problem["code"].as_str().unwrap_or("<none>")
}

/// The ids of a list page or a batch answer, in order.
fn ids_of(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["id"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn start(backend: Backend) -> ServiceHarness {
    ServiceHarness::start::<Catalogue>(backend, &["catalogue.#"]).await
}

async fn provider(h: &ServiceHarness, siret: &str, name: &str) -> String {
    let token = h.provider_token(&format!("org-{siret}"), siret);
    let (status, body) = h
        .call(
            Method::POST,
            "/v1/providers",
            Some(&token),
            Some(json!({"siret": siret, "name": name, "kind": "association"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    token
}

fn programme(siret: &str, title: &str) -> Value {
    json!({
        "provider_siret": siret,
        "title": title,
        "summary": "Découvrir ce qu'est l'intelligence artificielle, sans prérequis.",
        "objectives": "Comprendre les notions de base de l'IA et ses usages quotidiens.",
        "level": "discovery",
        "audiences": ["general_public", "seniors"],
        "format": "in_person",
        "pace": "scheduled",
        "duration_hours": 3,
        "free": true,
        "languages": ["fr"],
        "accessibility": ["disabled_access"],
        "topics": ["what_is_ai"],
        "places": ["69123"],
        "sessions": [{"start_date": "2027-01-12", "end_date": "2027-01-12", "enrolment": "open"}],
        "enrolment_url": "https://exemple.fr/inscription",
    })
}

async fn published(h: &mut ServiceHarness, body: Value) -> String {
    let staff = h.token("staff", Role::Staff, None);
    let (status, created) = h
        .call(Method::POST, "/v1/trainings", Some(&staff), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/trainings/{id}/publish"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.next_message().await.0, "catalogue.training.published");
    id
}

async fn lifecycle_and_authorization(backend: Backend) {
    let mut h = start(backend).await;
    let a = provider(&h, SIRET_A, "Association IA pour tous").await;
    let b = provider(&h, SIRET_B, "La Poste — formations").await;
    let staff = h.token("cnnum", Role::Staff, None);
    let citizen = h.token("c", Role::Citizen, None);
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/providers",
            Some(&staff),
            Some(json!({"siret": "732 829 320 00074", "name": "Doublon", "kind": "company"})),
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "ALREADY_EXISTS"),
        "one provider per SIRET: {problem}"
    );

    let (status, _) = h
        .call(
            Method::POST,
            "/v1/trainings",
            None,
            Some(programme(SIRET_A, "IA")),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/trainings",
            Some(&citizen),
            Some(programme(SIRET_A, "IA")),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a citizen cannot write");
    assert_eq!(code(&problem), "FORBIDDEN");
    let (status, _) = h
        .call(
            Method::POST,
            "/v1/trainings",
            Some(&b),
            Some(programme(SIRET_A, "IA")),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a provider cannot submit for another"
    );

    let (status, created) = h
        .call(
            Method::POST,
            "/v1/trainings",
            Some(&a),
            Some(programme(SIRET_A, "L'IA, c'est quoi ?")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "submitted");
    let id = created["id"].as_str().expect("id").to_owned();
    let (status, _) = h
        .call(Method::GET, &format!("/v1/trainings/{id}"), None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not public before review");
    let (status, _) = h
        .call(Method::GET, &format!("/v1/trainings/{id}"), Some(&b), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The batch look-up shows the same: a submitted programme to its provider and staff only.
    let unknown = uuid::Uuid::now_v7();
    let batch = format!("/v1/trainings/batch?ids={id},{unknown}");
    for (token, expected) in [
        (None, vec![]),
        (Some(&b), vec![]),
        (Some(&citizen), vec![]),
        (Some(&a), vec![id.clone()]),
        (Some(&staff), vec![id.clone()]),
    ] {
        let (status, found) = h
            .call(Method::GET, &batch, token.map(String::as_str), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(ids_of(&found), expected, "{token:?}");
    }
    let (status, problem) = h
        .call(
            Method::POST,
            &format!("/v1/trainings/{id}/publish"),
            Some(&a),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::FORBIDDEN, "FORBIDDEN"),
        "providers do not publish themselves"
    );
    let coordinator = h.token(
        "coord",
        Role::Staff,
        Some(cafeia_platform::auth::Territory::Region("84".into())),
    );
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/trainings/{id}/publish"),
            Some(&coordinator),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the national catalogue is reviewed by national staff"
    );
    let (status, body) = h
        .call(
            Method::POST,
            &format!("/v1/trainings/{id}/publish"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (key, data) = h.next_message().await;
    assert_eq!(key, "catalogue.training.published");
    assert_eq!(data["places"][0]["departement"], "69");
    assert_eq!(data["provider"]["siret"], SIRET_A);

    let (status, public) = h
        .call(Method::GET, &format!("/v1/trainings/{id}"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(public["places"][0]["commune"], "Lyon");
    let (_, ld) = h
        .call(
            Method::GET,
            &format!("/v1/trainings/{id}/jsonld"),
            None,
            None,
        )
        .await;
    assert_eq!(ld["@type"], "Course");
    assert_eq!(ld["isAccessibleForFree"], true);
    assert_eq!(ld["hasCourseInstance"][0]["@type"], "CourseInstance");
    assert_eq!(ld["hasCourseInstance"][0]["courseMode"], "onsite");
    assert_eq!(
        ld["hasCourseInstance"][0]["location"]["address"]["addressLocality"],
        "Lyon"
    );
    assert_eq!(ld["provider"]["name"], "Association IA pour tous");

    let mut edited = programme(SIRET_A, "L'IA, c'est quoi ?");
    edited
        .as_object_mut()
        .expect("object")
        .remove("provider_siret");
    edited["duration_hours"] = json!(4);
    let (status, _) = h
        .call(
            Method::PUT,
            &format!("/v1/trainings/{id}"),
            Some(&b),
            Some(edited.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = h
        .call(
            Method::PUT,
            &format!("/v1/trainings/{id}"),
            Some(&a),
            Some(edited),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["status"], "published",
        "edits of a published programme go live"
    );
    let (key, data) = h.next_message().await;
    assert_eq!(key, "catalogue.training.updated");
    assert_eq!(data["duration_hours"], 4);
    let (_, trail) = h
        .call(
            Method::GET,
            &format!("/v1/trainings/{id}/audit"),
            Some(&staff),
            None,
        )
        .await;
    let trail: Vec<(String, String, Option<String>)> = trail
        .as_array()
        .expect("trail")
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or("").to_owned(),
                e["action"].as_str().unwrap_or("").to_owned(),
                e["detail"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        trail,
        vec![
            (format!("org-{SIRET_A}"), "submit".to_owned(), None),
            ("cnnum".to_owned(), "publish".to_owned(), None),
            (
                format!("org-{SIRET_A}"),
                "edit".to_owned(),
                Some("duration_hours".to_owned())
            ),
        ]
    );

    let (status, problem) = h
        .call(
            Method::POST,
            &format!("/v1/trainings/{id}/reject"),
            Some(&staff),
            Some(json!({"reason": "hors sujet"})),
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "INVALID_TRANSITION"),
        "a published programme is withdrawn, not rejected: {problem}"
    );
    let (status, problem) = h
        .call(
            Method::POST,
            &format!("/v1/trainings/{id}/publish"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "INVALID_TRANSITION"),
        "published already: {problem}"
    );
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/trainings/{id}/withdraw"),
            Some(&a),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        h.next_message().await,
        ("catalogue.training.withdrawn".to_owned(), json!({"id": id}))
    );
    let (status, _) = h
        .call(Method::GET, &format!("/v1/trainings/{id}"), None, None)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "withdrawn programmes are not public"
    );
    let mut late_edit = programme(SIRET_A, "L'IA, c'est quoi ?");
    late_edit
        .as_object_mut()
        .expect("object")
        .remove("provider_siret");
    let (status, problem) = h
        .call(
            Method::PUT,
            &format!("/v1/trainings/{id}"),
            Some(&a),
            Some(late_edit),
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "INVALID_TRANSITION"),
        "a withdrawn programme is not edited: {problem}"
    );

    let (_, rejected) = h
        .call(
            Method::POST,
            "/v1/trainings",
            Some(&a),
            Some(programme(SIRET_A, "Autre")),
        )
        .await;
    let rid = rejected["id"].as_str().expect("id");
    let (status, body) = h
        .call(
            Method::POST,
            &format!("/v1/trainings/{rid}/reject"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!((status, field(&body)), (StatusCode::BAD_REQUEST, "reason"));
    let (_, body) = h
        .call(
            Method::POST,
            &format!("/v1/trainings/{rid}/reject"),
            Some(&staff),
            Some(json!({"reason": "Public non précisé"})),
        )
        .await;
    assert_eq!(body["status"], "rejected");
    assert_eq!(body["status_reason"], "Public non précisé");
    h.no_more_messages().await;
    h.stop().await;
}

async fn bad_input_is_named_and_changes_nothing(backend: Backend) {
    let mut h = start(backend).await;
    let a = provider(&h, SIRET_A, "Association IA pour tous").await;
    for (change, expected) in [
        (json!({"level": "expert"}), "level"),
        (json!({"title": "   "}), "title"),
        (json!({"duration_hours": -2}), "duration_hours"),
        (
            json!({"sessions": [{"start_date": "2027-02-10", "end_date": "2027-02-01", "enrolment": "open"}]}),
            "sessions[0].end_date",
        ),
        (json!({"free": false}), "price_eur"),
        (json!({"certification": "RNCP-XYZ"}), "certification"),
        (json!({"topics": ["astrologie"]}), "topics[0]"),
        (json!({"places": ["99999"]}), "places[0]"),
        (json!({"format": "in_person", "places": []}), "places"),
    ] {
        let mut body = programme(SIRET_A, "IA");
        for (k, v) in change.as_object().expect("object") {
            body[k] = v.clone();
        }
        let (status, problem) = h
            .call(Method::POST, "/v1/trainings", Some(&a), Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(field(&problem), expected, "{problem}");
    }
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/providers",
            Some(&h.token("s", Role::Staff, None)),
            Some(json!({"siret": "12345678901234", "name": "X", "kind": "company"})),
        )
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "siret")
    );
    let (_, list) = h.call(Method::GET, "/v1/trainings", None, None).await;
    assert_eq!(list["items"], json!([]));
    let (status, problem) = h
        .call(Method::GET, "/v1/trainings?limit=5000", None, None)
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "limit")
    );
    for path in ["/v1/trainings?level=expert", "/v1/modules?level=expert"] {
        let (status, problem) = h.call(Method::GET, path, None, None).await;
        assert_eq!(
            (status, field(&problem)),
            (StatusCode::BAD_REQUEST, "level"),
            "{path}: {problem}"
        );
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("discovery")),
            "the allowed values are listed: {problem}"
        );
    }
    h.no_more_messages().await;
    h.stop().await;
}

async fn filters_and_stable_pagination(backend: Backend) {
    let mut h = start(backend).await;
    provider(&h, SIRET_A, "Association IA pour tous").await;
    let base = programme(SIRET_A, "Base");
    let variant = |title: &str, change: Value| {
        let mut body = base.clone();
        body["title"] = json!(title);
        for (k, v) in change.as_object().expect("object") {
            body[k] = v.clone();
        }
        body
    };
    let lyon = published(&mut h, variant("Lyon découverte", json!({}))).await;
    let online = published(&mut h, variant("En ligne", json!({"format": "online", "places": [], "online": true, "level": "beginner", "topics": ["generative_ai"], "accessibility": ["rgaa_compliant"]}))).await;
    let paid = published(&mut h, variant("Payante à Lille", json!({"free": false, "price_eur": 250.0, "places": ["59350"], "audiences": ["employees"], "languages": ["fr", "en"]}))).await;
    let closed = published(&mut h, variant("Session fermée à Rennes", json!({"places": ["35238"], "sessions": [{"start_date": "2027-03-01", "end_date": "2027-03-02", "enrolment": "closed"}]}))).await;
    let reunion = published(
        &mut h,
        variant(
            "La Réunion",
            json!({"places": ["97411"], "level": "intermediate"}),
        ),
    )
    .await;

    let ids = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|t| t["id"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    for (query, expected) in [
        ("level=discovery", vec![&lyon, &paid, &closed]),
        ("level=intermediate", vec![&reunion]),
        ("audience=employees", vec![&paid]),
        ("format=online", vec![&online]),
        ("online=true", vec![&online]),
        ("free=true", vec![&lyon, &online, &closed, &reunion]),
        ("topic=generative_ai", vec![&online]),
        ("departement=69", vec![&lyon]),
        ("region=32", vec![&paid]),
        ("departement=974", vec![&reunion]),
        ("accessibility=rgaa_compliant", vec![&online]),
        ("language=en", vec![&paid]),
        ("open_session=true", vec![&lyon, &online, &paid, &reunion]),
    ] {
        let (status, body) = h
            .call(Method::GET, &format!("/v1/trainings?{query}"), None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert_eq!(body["total"], json!(expected.len()), "{query}: {body}");
        assert_eq!(
            ids(&body),
            expected.into_iter().cloned().collect::<Vec<_>>(),
            "{query}"
        );
    }
    let (status, body) = h
        .call(Method::GET, "/v1/trainings?departement=999", None, None)
        .await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::BAD_REQUEST, "departement")
    );

    // Pages of two, with a programme published between pages: no duplicate, none skipped.
    let (_, first) = h
        .call(Method::GET, "/v1/trainings?limit=2", None, None)
        .await;
    assert_eq!(first["total"], 5, "the total counts every page: {first}");
    let mut seen = ids(&first);
    let late = published(&mut h, variant("Publiée entre deux pages", json!({}))).await;
    let mut cursor = first["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let (_, page) = h
            .call(
                Method::GET,
                &format!("/v1/trainings?limit=2&cursor={c}"),
                None,
                None,
            )
            .await;
        seen.extend(ids(&page));
        assert_eq!(page["total"], 6, "{page}");
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, vec![lyon, online, paid, closed, reunion, late]);
    h.stop().await;
}

const LHEO_HEAD: &str =
    r#"<?xml version="1.0" encoding="UTF-8"?><lheo xmlns="http://www.lheo.org/2.2"><offres>"#;
const LHEO_TAIL: &str = "</offres></lheo>";

fn offer(numero: &str, title: &str, siret: &str, end: &str) -> String {
    format!(
        r#"<formation numero="{numero}"><intitule-formation>{title}</intitule-formation><objectif-formation>Comprendre l'IA et ses usages.</objectif-formation><certification><code-RS>6232</code-RS></certification><action numero="{numero}-A"><modalites-enseignement>0</modalites-enseignement><lieu-de-formation><coordonnees><adresse><codepostal>33000</codepostal><ville>Bordeaux</ville></adresse></coordonnees></lieu-de-formation><nombre-heures-total>21</nombre-heures-total><langue-formation>fr</langue-formation><url-action><urlweb>https://exemple.fr/{numero}</urlweb></url-action><session numero="{numero}-S1"><periode><debut>20270105</debut><fin>{end}</fin></periode><etat-recrutement>1</etat-recrutement></session></action><organisme-formation-responsable><SIRET-organisme-formation><SIRET>{siret}</SIRET></SIRET-organisme-formation><nom-organisme>Université de Bordeaux</nom-organisme></organisme-formation-responsable><extras info="cafeia"><extra info="level">beginner</extra><extra info="topics">ai_at_work|ai_and_jobs</extra><extra info="audiences">employees|job_seekers</extra></extras></formation>"#
    )
}

async fn lheo_import_export_round_trip(backend: Backend) {
    let mut h = start(backend).await;
    let staff = h.token("national", Role::Staff, None);
    let good = format!(
        "{LHEO_HEAD}{}{}{}{LHEO_TAIL}",
        offer("BDX-1", "IA et emploi", SIRET_A, "20270115"),
        offer("BDX-2", "IA au bureau", SIRET_A, "20270120"),
        offer("BDX-3", "IA &amp; métiers", SIRET_B, "20270125"),
    );
    let (status, summary) = h
        .raw(
            Method::POST,
            "/v1/trainings/import",
            &staff,
            "application/xml",
            good.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(
        (summary["created"].as_u64(), summary["rejected"].as_u64()),
        (Some(3), Some(0)),
        "{summary}"
    );
    for _ in 0..3 {
        assert_eq!(h.next_message().await.0, "catalogue.training.published");
    }
    let (_, again) = h
        .raw(
            Method::POST,
            "/v1/trainings/import",
            &staff,
            "application/xml",
            good,
        )
        .await;
    assert_eq!(
        (
            again["unchanged"].as_u64(),
            again["created"].as_u64(),
            again["updated"].as_u64()
        ),
        (Some(3), Some(0), Some(0))
    );
    h.no_more_messages().await;

    let partial = format!(
        "{LHEO_HEAD}{}{}{}{}{}{LHEO_TAIL}",
        offer("BDX-1", "IA et emploi (mise à jour)", SIRET_A, "20270115"),
        offer("BDX-4", "SIRET faux", "12345678901234", "20270115"),
        offer("BDX-5", "Fin avant début", SIRET_A, "20261201"),
        offer("BDX-1", "Doublon", SIRET_A, "20270115"),
        offer("BDX-6", "", SIRET_A, "20270115"),
    );
    let (_, summary) = h
        .raw(
            Method::POST,
            "/v1/trainings/import",
            &staff,
            "application/xml",
            partial,
        )
        .await;
    assert_eq!(
        (
            summary["updated"].as_u64(),
            summary["created"].as_u64(),
            summary["rejected"].as_u64()
        ),
        (Some(1), Some(0), Some(4)),
        "{summary}"
    );
    let problems: Vec<(u64, &str)> = summary["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["position"].as_u64().unwrap_or(0),
                p["element"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        problems,
        vec![
            (
                2,
                "organisme-formation-responsable/SIRET-organisme-formation/SIRET"
            ),
            (3, "action/session[1]/periode/fin"),
            (4, "formation/@numero"),
            (5, "intitule-formation"),
        ]
    );
    let (key, updated) = h.next_message().await;
    assert_eq!(key, "catalogue.training.updated");
    // The import's edit is kept with the title before and after, for the review's diff.
    let (status, edits) = h
        .call(
            Method::GET,
            &format!(
                "/v1/trainings/{}/edits",
                updated["id"].as_str().expect("id")
            ),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edits}");
    assert_eq!(
        (
            edits.as_array().map(Vec::len),
            edits[0]["by"].clone(),
            edits[0]["changes"].clone()
        ),
        (
            Some(1),
            json!("import"),
            json!([{"field": "title", "before": "IA et emploi", "after": "IA et emploi (mise à jour)"}])
        ),
        "{edits}"
    );

    for hostile in [
        format!(
            r#"<?xml version="1.0"?><!DOCTYPE lheo [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>{}"#,
            &LHEO_HEAD[38..]
        ) + &offer("X-1", "&b;", SIRET_A, "20270115")
            + LHEO_TAIL,
        format!(
            "{LHEO_HEAD}{}{}",
            offer("X-2", "IA", SIRET_A, "20270115"),
            "<formation numero=\"X-3\"><intitule-formation>coupé"
        ),
        format!(
            "{LHEO_HEAD}{}{LHEO_TAIL}",
            "<a>".repeat(60) + &"</a>".repeat(60)
        ),
    ] {
        let (status, problem) = h
            .raw(
                Method::POST,
                "/v1/trainings/import",
                &staff,
                "application/xml",
                hostile,
            )
            .await;
        assert_eq!(
            (status, field(&problem)),
            (StatusCode::BAD_REQUEST, "file"),
            "{problem}"
        );
    }
    let (_, list) = h
        .call(Method::GET, "/v1/trainings?limit=100", None, None)
        .await;
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(3),
        "hostile files changed nothing"
    );
    h.no_more_messages().await;

    // A programme created through the API survives the round trip too.
    // (SIRET_B's provider came with the LHEO offer BDX-3.)
    published(&mut h, programme(SIRET_B, "Créée par l'API")).await;
    let exported = h
        .http
        .get(format!("{}/v1/trainings/export", h.base))
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("xml");
    assert!(exported.contains("<formation numero=\"BDX-1\">"));
    let (_, round) = h
        .raw(
            Method::POST,
            "/v1/trainings/import",
            &staff,
            "application/xml",
            exported,
        )
        .await;
    assert_eq!(
        (
            round["unchanged"].as_u64(),
            round["rejected"].as_u64(),
            round["offers"].as_u64()
        ),
        (Some(4), Some(0), Some(4)),
        "{round}"
    );
    h.no_more_messages().await;
    let (status, _) = h
        .raw(
            Method::POST,
            "/v1/trainings/import",
            &h.token("c", Role::Citizen, None),
            "application/xml",
            "<lheo/>",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    h.stop().await;
}

async fn modules_are_reviewed_and_published(backend: Backend) {
    let mut h = start(backend).await;
    let provider_token = h.provider_token("org", SIRET_A);
    let staff = h.token("s", Role::Staff, None);
    let module = json!({
        "title": "Repérer une image générée",
        "summary": "Un atelier de 45 minutes pour apprendre à repérer les images générées.",
        "duration_minutes": 45,
        "level": "discovery",
        "audiences": ["general_public"],
        "topics": ["misinformation_deepfakes"],
        "licence": "CC BY-SA 4.0",
        "resources": ["https://ressources.exemple.fr/images-generees.pdf"],
        "version": "1.0",
    });
    let mut wrong = module.clone();
    wrong["licence"] = json!("Tous droits réservés");
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/modules",
            Some(&provider_token),
            Some(wrong),
        )
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "licence")
    );
    let (status, created) = h
        .call(
            Method::POST,
            "/v1/modules",
            Some(&provider_token),
            Some(module.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id");
    let (_, list) = h.call(Method::GET, "/v1/modules", None, None).await;
    assert_eq!(list["items"], json!([]), "not public before review");
    assert_eq!(list["total"], 0);
    let batch = format!("/v1/modules/batch?ids={id},{}", uuid::Uuid::now_v7());
    let other_author = h.provider_token("other", SIRET_B);
    for (token, expected) in [
        (None, vec![]),
        (Some(&other_author), vec![]),
        (Some(&provider_token), vec![id.to_owned()]),
        (Some(&staff), vec![id.to_owned()]),
    ] {
        let (status, found) = h
            .call(Method::GET, &batch, token.map(String::as_str), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(ids_of(&found), expected, "{token:?}");
    }
    let (status, problem) = h
        .call(
            Method::POST,
            &format!("/v1/modules/{id}/review"),
            Some(&provider_token),
            Some(json!({"decision": "publish"})),
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::FORBIDDEN, "FORBIDDEN"),
        "staff review modules"
    );
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/modules/{id}/review"),
            Some(&staff),
            Some(json!({"decision": "publish"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (key, data) = h.next_message().await;
    assert_eq!(key, "catalogue.module.published");
    assert_eq!(data["licence"], "CC BY-SA 4.0");
    let (_, list) = h
        .call(
            Method::GET,
            "/v1/modules?topic=misinformation_deepfakes",
            None,
            None,
        )
        .await;
    assert_eq!(list["items"][0]["id"], id);
    assert_eq!(list["total"], 1);
    let (_, found) = h.call(Method::GET, &batch, None, None).await;
    assert_eq!(ids_of(&found), vec![id.to_owned()], "public once published");

    let review = format!("/v1/modules/{id}/review");
    let (status, problem) = h
        .call(
            Method::POST,
            &review,
            Some(&staff),
            Some(json!({"decision": "reject", "reason": "trop tard"})),
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "INVALID_TRANSITION"),
        "a published module is withdrawn, not rejected: {problem}"
    );
    let (status, _) = h
        .call(
            Method::POST,
            &review,
            Some(&staff),
            Some(json!({"decision": "withdraw"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.next_message().await.0, "catalogue.module.withdrawn");
    let (status, problem) = h
        .call(
            Method::PUT,
            &format!("/v1/modules/{id}"),
            Some(&provider_token),
            Some(module),
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "INVALID_TRANSITION"),
        "a withdrawn module is not edited: {problem}"
    );
    h.no_more_messages().await;
    h.stop().await;
}

async fn batch_look_ups_are_bounded_and_skip_unknown_ids(backend: Backend) {
    let h = start(backend).await;
    let staff = h.token("s", Role::Staff, None);
    let mut providers = Vec::new();
    for (siret, name) in [(SIRET_A, "Association IA pour tous"), (SIRET_B, "La Poste")] {
        let (status, body) = h
            .call(
                Method::POST,
                "/v1/providers",
                Some(&staff),
                Some(json!({"siret": siret, "name": name, "kind": "association"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        providers.push(body["id"].as_str().expect("id").to_owned());
    }
    let unknown = uuid::Uuid::now_v7();
    let (status, found) = h
        .call(
            Method::GET,
            &format!(
                "/v1/providers/batch?ids={},{unknown},{}",
                providers[1], providers[0]
            ),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let mut found = ids_of(&found);
    found.sort();
    assert_eq!(
        found, providers,
        "providers are public; unknown ids are absent"
    );
    let (_, none) = h
        .call(Method::GET, "/v1/providers/batch?ids=", None, None)
        .await;
    assert_eq!(none, json!([]));
    let too_many = (0..=cafeia_api::batch::MAX_BATCH)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect::<Vec<_>>()
        .join(",");
    for path in [
        format!("/v1/trainings/batch?ids={too_many}"),
        "/v1/modules/batch?ids=pas-un-uuid".to_owned(),
        "/v1/providers/batch".to_owned(),
    ] {
        let (status, problem) = h.call(Method::GET, &path, None, None).await;
        assert_eq!(
            (status, field(&problem)),
            (StatusCode::BAD_REQUEST, "ids"),
            "{path}: {problem}"
        );
    }
    h.stop().await;
}

backend_matrix!(
    lifecycle_and_authorization,
    batch_look_ups_are_bounded_and_skip_unknown_ids,
    bad_input_is_named_and_changes_nothing,
    filters_and_stable_pagination,
    lheo_import_export_round_trip,
    modules_are_reviewed_and_published,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_matches_the_routes() {
    let h = start(Backend::Embedded).await;
    h.assert_openapi_matches(&cafeia_catalogue_api::paths::ALL)
        .await;
    let (_, doc) = h.call(Method::GET, "/openapi.json", None, None).await;
    for (path, wanted) in [
        ("/v1/trainings/batch", vec!["ids"]),
        ("/v1/modules/batch", vec!["ids"]),
        ("/v1/providers/batch", vec!["ids"]),
        (
            "/v1/trainings",
            vec!["level", "departement", "cursor", "limit"],
        ),
        ("/v1/modules", vec!["topic", "level", "cursor", "limit"]),
    ] {
        let listed: Vec<&str> = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "query")
                    .filter_map(|p| p["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        for name in wanted {
            assert!(
                listed.contains(&name),
                "{path} documents its query parameter {name}: {listed:?}"
            );
        }
    }
    h.stop().await;
}

#[test]
fn every_message_type_has_a_contract() {
    cafeia_testkit::contracts::assert_every_type_has_a_contract(&cafeia_catalogue::messages::ALL);
}
