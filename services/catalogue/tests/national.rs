//! The catalogue is national, on both backend sets: coordinators neither publish, withdraw nor
//! edit educational modules (as for programmes), and providers read staff decisions on their
//! programmes by role, never by the staff member's account.

use cafeia_catalogue::Catalogue;
use cafeia_platform::auth::{Role, Territory};
use cafeia_testkit::{Backend, backend_matrix, service::ServiceHarness};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const SIRET: &str = "73282932000074";
const STAFF_SUB: &str = "cnnum-agent-4217";

fn code(problem: &Value) -> &str {
    problem["code"].as_str().unwrap_or("<none>")
}

fn module() -> Value {
    json!({
        "title": "Repérer une image générée",
        "summary": "Un atelier de 45 minutes pour apprendre à repérer les images générées.",
        "duration_minutes": 45,
        "level": "discovery",
        "audiences": ["general_public"],
        "topics": ["misinformation_deepfakes"],
        "licence": "CC BY-SA 4.0",
        "resources": ["https://ressources.exemple.fr/images-generees.pdf"],
        "version": "1.0",
    })
}

fn programme() -> Value {
    json!({
        "provider_siret": SIRET,
        "title": "L'IA, c'est quoi ?",
        "summary": "Découvrir ce qu'est l'intelligence artificielle, sans prérequis.",
        "objectives": "Comprendre les notions de base de l'IA et ses usages quotidiens.",
        "level": "discovery",
        "audiences": ["general_public"],
        "format": "in_person",
        "pace": "scheduled",
        "duration_hours": 3,
        "free": true,
        "languages": ["fr"],
        "accessibility": [],
        "topics": ["what_is_ai"],
        "places": ["69123"],
        "sessions": [{"start_date": "2027-01-12", "end_date": "2027-01-12", "enrolment": "open"}],
        "enrolment_url": "https://exemple.fr/inscription",
    })
}

async fn provider(h: &ServiceHarness) -> String {
    let token = h.provider_token("org-a", SIRET);
    let (status, body) = h
        .call(
            Method::POST,
            "/v1/providers",
            Some(&token),
            Some(
                json!({"siret": SIRET, "name": "Association IA pour tous", "kind": "association"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    token
}

async fn regional_coordinators_cannot_publish_withdraw_or_edit_modules(backend: Backend) {
    let mut h = ServiceHarness::start::<Catalogue>(backend, &["catalogue.#"]).await;
    let author = provider(&h).await;
    let national = h.token("cnnum", Role::Staff, None);
    let coordinator = h.token("coord", Role::Staff, Some(Territory::Region("84".into())));

    // The code programmes answer a coordinator with, to compare.
    let (status, created) = h
        .call(
            Method::POST,
            "/v1/trainings",
            Some(&author),
            Some(programme()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let training = created["id"].as_str().expect("id").to_owned();
    let (status, refused) = h
        .call(
            Method::POST,
            &format!("/v1/trainings/{training}/publish"),
            Some(&coordinator),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let training_code = code(&refused).to_owned();
    assert_eq!(training_code, "FORBIDDEN");

    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/modules",
            Some(&coordinator),
            Some(module()),
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::FORBIDDEN, training_code.as_str()),
        "coordinators do not submit modules: {problem}"
    );
    let (status, created) = h
        .call(Method::POST, "/v1/modules", Some(&author), Some(module()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let review = format!("/v1/modules/{id}/review");
    let edit = format!("/v1/modules/{id}");
    let mut edited = module();
    edited["version"] = json!("1.1");

    for decision in ["publish", "reject", "withdraw"] {
        let (status, problem) = h
            .call(
                Method::POST,
                &review,
                Some(&coordinator),
                Some(json!({"decision": decision, "reason": "hors périmètre"})),
            )
            .await;
        assert_eq!(
            (status, code(&problem)),
            (StatusCode::FORBIDDEN, training_code.as_str()),
            "a coordinator does not {decision} a submitted module: {problem}"
        );
    }
    let (status, problem) = h
        .call(Method::PUT, &edit, Some(&coordinator), Some(edited.clone()))
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::FORBIDDEN, training_code.as_str()),
        "a coordinator does not edit a module: {problem}"
    );

    // National staff publish; a coordinator still neither edits nor withdraws it.
    let (status, body) = h
        .call(
            Method::POST,
            &review,
            Some(&national),
            Some(json!({"decision": "publish"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(h.next_message().await.0, "catalogue.module.published");
    let (status, problem) = h
        .call(Method::PUT, &edit, Some(&coordinator), Some(edited.clone()))
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::FORBIDDEN, training_code.as_str()),
        "{problem}"
    );
    let (status, problem) = h
        .call(
            Method::POST,
            &review,
            Some(&coordinator),
            Some(json!({"decision": "withdraw"})),
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::FORBIDDEN, training_code.as_str()),
        "{problem}"
    );
    let (_, unchanged) = h.call(Method::GET, &edit, None, None).await;
    assert_eq!(
        (&unchanged["status"], &unchanged["version"]),
        (&json!("published"), &json!("1.0"))
    );

    // National staff edit and withdraw it.
    let (status, body) = h
        .call(Method::PUT, &edit, Some(&national), Some(edited))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], "1.1");
    assert_eq!(h.next_message().await.0, "catalogue.module.published");
    let (status, body) = h
        .call(
            Method::POST,
            &review,
            Some(&national),
            Some(json!({"decision": "withdraw"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(h.next_message().await.0, "catalogue.module.withdrawn");
    h.no_more_messages().await;
    h.stop().await;
}

async fn a_provider_sees_staff_by_role_in_a_programmes_audit_trail(backend: Backend) {
    let mut h = ServiceHarness::start::<Catalogue>(backend, &["catalogue.#"]).await;
    let author = provider(&h).await;
    let staff = h.token(STAFF_SUB, Role::Staff, None);
    let (status, created) = h
        .call(
            Method::POST,
            "/v1/trainings",
            Some(&author),
            Some(programme()),
        )
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
    let _ = h.next_message().await;
    let mut edited = programme();
    edited
        .as_object_mut()
        .expect("object")
        .remove("provider_siret");
    edited["duration_hours"] = json!(4);
    let (status, body) = h
        .call(
            Method::PUT,
            &format!("/v1/trainings/{id}"),
            Some(&staff),
            Some(edited),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let _ = h.next_message().await;

    let trail = |body: &Value| -> Vec<(String, String, String)> {
        body.as_array()
            .expect("trail")
            .iter()
            .map(|e| {
                let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
                (text("actor"), text("actor_role"), text("action"))
            })
            .collect()
    };
    let audit = format!("/v1/trainings/{id}/audit");
    let (status, seen) = h.call(Method::GET, &audit, Some(&author), None).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert!(
        !seen.to_string().contains(STAFF_SUB),
        "the staff member's account is not shown to the provider: {seen}"
    );
    let own = |actor: &str, role: &str, action: &str| {
        (actor.to_owned(), role.to_owned(), action.to_owned())
    };
    assert_eq!(
        trail(&seen),
        [
            own("org-a", "provider", "submit"),
            own("staff", "staff", "publish"),
            own("staff", "staff", "edit"),
        ]
    );
    let (status, seen) = h.call(Method::GET, &audit, Some(&staff), None).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(
        trail(&seen),
        [
            own("org-a", "provider", "submit"),
            own(STAFF_SUB, "staff", "publish"),
            own(STAFF_SUB, "staff", "edit"),
        ],
        "national staff see who acted"
    );
    h.stop().await;
}

/// The review queue: the longest waiting first, a corrected module waiting from its
/// resubmission; pages follow on with the cursor; national staff only.
async fn the_review_queue_puts_resubmitted_modules_behind_those_waiting(backend: Backend) {
    let h = ServiceHarness::start::<Catalogue>(backend, &["catalogue.#"]).await;
    let author = provider(&h).await;
    let national = h.token("cnnum", Role::Staff, None);
    let coordinator = h.token("coord", Role::Staff, Some(Territory::Region("84".into())));
    let mut ids = Vec::new();
    for title in ["Premier module", "Deuxième module", "Troisième module"] {
        let mut m = module();
        m["title"] = json!(title);
        let (status, created) = h
            .call(Method::POST, "/v1/modules", Some(&author), Some(m))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        ids.push(created["id"].as_str().expect("id").to_owned());
    }
    let (status, body) = h
        .call(
            Method::POST,
            &format!("/v1/modules/{}/review", ids[0]),
            Some(&national),
            Some(json!({"decision": "reject", "reason": "la licence manque de précision"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut corrected = module();
    corrected["title"] = json!("Premier module");
    corrected["version"] = json!("1.1");
    let (status, body) = h
        .call(
            Method::PUT,
            &format!("/v1/modules/{}", ids[0]),
            Some(&author),
            Some(corrected),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "submitted", "{body}");

    let queue_ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|m| m["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let (status, first) = h
        .call(
            Method::GET,
            "/v1/modules/review?limit=2",
            Some(&national),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["total"], 3);
    assert_eq!(queue_ids(&first), vec![ids[1].clone(), ids[2].clone()]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (status, second) = h
        .call(
            Method::GET,
            &format!("/v1/modules/review?limit=2&cursor={cursor}"),
            Some(&national),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(queue_ids(&second), vec![ids[0].clone()]);
    assert!(second["next_cursor"].is_null(), "{second}");

    for path in ["/v1/modules/review", "/v1/trainings/review"] {
        let (status, problem) = h.call(Method::GET, path, Some(&coordinator), None).await;
        assert_eq!(
            (status, code(&problem)),
            (StatusCode::FORBIDDEN, "FORBIDDEN"),
            "{path}: {problem}"
        );
        let (status, problem) = h.call(Method::GET, path, Some(&author), None).await;
        assert_eq!(
            (status, code(&problem)),
            (StatusCode::FORBIDDEN, "FORBIDDEN"),
            "{path}: {problem}"
        );
    }
    h.stop().await;
}

backend_matrix!(
    regional_coordinators_cannot_publish_withdraw_or_edit_modules,
    a_provider_sees_staff_by_role_in_a_programmes_audit_trail,
    the_review_queue_puts_resubmitted_modules_behind_those_waiting
);
