//! What the facilitators service lets out about people: no name on the bus (nor left in the
//! outbox rows written before), and staff decisions shown to the facilitator by role, never by
//! the staff member's account.

use cafeia_facilitators::{
    Facilitators,
    messages::{FACILITATOR_STATES, FACILITATOR_UPDATED, FacilitatorState},
    storage::Migrator,
};
use cafeia_facilitators_api::{FacilitatorKind, FacilitatorStatus};
use cafeia_platform::{auth::Role, envelope::Envelope, outbox};
use cafeia_testkit::{Backend, TestEnv, backend_matrix, service::ServiceHarness};
use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use uuid::Uuid;

const STAFF_SUB: &str = "cnnum-agent-4217";

#[test]
fn facilitator_messages_carry_no_display_name() {
    let state = FacilitatorState {
        id: Uuid::now_v7(),
        account: "0".repeat(64),
        kind: FacilitatorKind::Benevole,
        status: FacilitatorStatus::Verified,
        departements: vec!["69".into()],
        regions: vec!["84".into()],
        topics: vec![],
        languages: vec!["fr".into()],
        organisation_id: None,
    };
    let data = serde_json::to_value(&state).expect("JSON");
    assert!(data.get("display_name").is_none(), "{data}");
    assert!(!data.to_string().contains("Camille"), "{data}");
    // Consumers still read what producers not yet upgraded send (and drop the name).
    let mut old = data.clone();
    old["display_name"] = json!("Camille Martin");
    let read: FacilitatorState = serde_json::from_value(old).expect("an older message reads");
    assert_eq!(read, state);
    // The published contracts do not declare it either.
    for kind in FACILITATOR_STATES {
        let path = cafeia_testkit::contracts::events_dir().join(kind.schema_file());
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("schema")).expect("JSON");
        assert!(
            schema["properties"].get("display_name").is_none()
                && !schema["required"]
                    .as_array()
                    .expect("required")
                    .contains(&json!("display_name")),
            "{}",
            kind.type_name()
        );
    }
}

async fn a_facilitator_sees_staff_decisions_by_role_not_by_account(backend: Backend) {
    let h = ServiceHarness::start::<Facilitators>(backend, &["facilitators.#"]).await;
    let camille = h.token("camille", Role::Facilitator, None);
    let staff = h.token(STAFF_SUB, Role::Staff, None);
    let (status, me) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&camille),
            Some(json!({
                "display_name": "Camille Martin",
                "email": "camille@mediatheque.example.fr",
                "kind": "mediateur_numerique",
                "territories": ["69123"],
                "topics": ["what_is_ai"],
                "languages": ["fr"],
                "training_completed_on": "2026-03-12",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{me}");
    let id = me["id"].as_str().expect("id");
    for (decision, body) in [
        ("verify", None),
        (
            "suspend",
            Some(json!({"reason": "Contenu trompeur signalé"})),
        ),
        ("reinstate", None),
    ] {
        let (status, answer) = h
            .call(
                Method::POST,
                &format!("/v1/facilitators/{id}/{decision}"),
                Some(&staff),
                body,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{decision}: {answer}");
    }

    let (status, export) = h
        .call(
            Method::GET,
            "/v1/facilitators/me/export",
            Some(&camille),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !export.to_string().contains(STAFF_SUB),
        "the staff member's account is not shown: {export}"
    );
    let history: Vec<(&str, &str, &str)> = export["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or_default(),
                e["actor_role"].as_str().unwrap_or_default(),
                e["action"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("staff", "staff", "verify"),
            ("staff", "staff", "suspend"),
            ("staff", "staff", "reinstate"),
        ]
    );

    // Staff still see who decided.
    let (status, trail) = h
        .call(
            Method::GET,
            &format!("/v1/facilitators/{id}/audit"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let actors: Vec<&str> = trail
        .as_array()
        .expect("trail")
        .iter()
        .filter_map(|e| e["actor"].as_str())
        .collect();
    assert_eq!(actors, [STAFF_SUB, STAFF_SUB, STAFF_SUB]);
    h.stop().await;
}

/// Rows written while messages carried the name (pending ones, and sent ones kept 7 days)
/// lose it when the service migrates; the rest of each message is kept.
async fn outbox_rows_written_with_names_lose_them_when_migrating(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let db = cafeia_platform::db::connect(&env.database_url(), 2)
        .await
        .expect("database");
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261222_000103_facilitator_names_off_the_bus")
        .expect("the migration");
    Migrator::up(&db, Some(u32::try_from(before).expect("few")))
        .await
        .expect("earlier migrations");
    let id = Uuid::now_v7();
    let as_sent_before = json!({
        "id": id, "account": "0".repeat(64), "display_name": "Camille Martin",
        "kind": "benevole", "status": "pending", "departements": ["69"], "regions": ["84"],
        "topics": [], "languages": ["fr"], "organisation_id": null,
    });
    let envelope = Envelope::new(
        FACILITATOR_UPDATED,
        format!("facilitator/{id}"),
        as_sent_before,
    );
    outbox::enqueue(&db, FACILITATOR_UPDATED, &envelope)
        .await
        .expect("an old outbox row");

    Migrator::up(&db, None).await.expect("migrated");

    let rows = outbox::entity::Entity::find()
        .all(&db)
        .await
        .expect("outbox");
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].payload.contains("Camille"), "{}", rows[0].payload);
    let event: Value = serde_json::from_str(&rows[0].payload).expect("JSON");
    assert_eq!(event["id"], envelope.id.to_string());
    assert_eq!(event["data"]["id"], id.to_string());
    assert_eq!(event["data"]["kind"], "benevole");
    cafeia_testkit::contracts::validate(rows[0].payload.as_bytes(), true)
        .expect("the row now matches its contract");
}

backend_matrix!(
    a_facilitator_sees_staff_decisions_by_role_not_by_account,
    outbox_rows_written_with_names_lose_them_when_migrating
);
