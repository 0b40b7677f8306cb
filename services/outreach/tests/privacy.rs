//! Erasure leaves no name behind, on both backend sets: what the facilitators service really
//! publishes about a person who registers, is renamed, verified and erased is played to
//! outreach, and no stored row of either service holds their name (nor, in outreach, their
//! account link).

use crate::support;

use cafeia_facilitators::Facilitators;
use cafeia_facilitators_api::messages::FACILITATOR_UPDATED;
use cafeia_outreach::{
    Outreach, ingest,
    storage::{Migrator, facilitator, history, planned, report},
};
use cafeia_platform::{
    auth::{Role, account_key},
    outbox,
};
use cafeia_testkit::{Backend, TestEnv, backend_matrix, service::ServiceHarness};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

const FIRST_NAME: &str = "Camille Martin";
const NEW_NAME: &str = "Camille Durand";

fn profile(name: &str) -> Value {
    json!({
        "display_name": name,
        "email": "camille@mediatheque.example.fr",
        "kind": "mediateur_numerique",
        "territories": ["69123"],
        "topics": ["what_is_ai"],
        "languages": ["fr"],
        "training_completed_on": "2026-03-12",
    })
}

async fn connect(h: &ServiceHarness) -> DatabaseConnection {
    cafeia_platform::db::connect(&h.env.database_url(), 2)
        .await
        .expect("database")
}

/// Every stored row of outreach's tables, as text.
async fn outreach_rows(db: &DatabaseConnection) -> Vec<String> {
    let mut rows: Vec<String> = history::Entity::find()
        .all(db)
        .await
        .expect("history")
        .iter()
        .map(|r| format!("{r:?}"))
        .collect();
    rows.extend(
        report::Entity::find()
            .all(db)
            .await
            .expect("reports")
            .iter()
            .map(|r| format!("{r:?}")),
    );
    rows.extend(
        planned::Entity::find()
            .all(db)
            .await
            .expect("planned")
            .iter()
            .map(|r| format!("{r:?}")),
    );
    rows.extend(
        facilitator::Entity::find()
            .all(db)
            .await
            .expect("facilitators")
            .iter()
            .map(|r| format!("{r:?}")),
    );
    rows
}

async fn erasure_leaves_no_facilitator_name_in_outreach_or_the_outbox(backend: Backend) {
    let mut facilitators =
        ServiceHarness::start::<Facilitators>(backend, &["facilitators.#"]).await;
    let outreach = ServiceHarness::start::<Outreach>(backend, &["outreach.#"]).await;
    let camille = facilitators.token("camille", Role::Facilitator, None);
    let staff = facilitators.token("cnnum", Role::Staff, None);

    let (status, me) = facilitators
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&camille),
            Some(profile(FIRST_NAME)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{me}");
    let id = me["id"].as_str().expect("id").to_owned();
    let (status, _) = facilitators
        .call(
            Method::PATCH,
            "/v1/facilitators/me",
            Some(&camille),
            Some(profile(NEW_NAME)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = facilitators
        .call(
            Method::POST,
            &format!("/v1/facilitators/{id}/verify"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = facilitators
        .call(Method::DELETE, "/v1/facilitators/me", Some(&camille), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // What was published (registered, updated, verified, erased) goes to outreach as it is.
    let mut keys = Vec::new();
    for _ in 0..4 {
        let delivery = facilitators
            .messages
            .next_within(Duration::from_secs(10))
            .await
            .expect("a message was published");
        cafeia_testkit::contracts::validate(&delivery.message.body, true)
            .expect("message matches its contract");
        let body = String::from_utf8(delivery.message.body.clone()).expect("UTF-8");
        for name in [FIRST_NAME, NEW_NAME] {
            assert!(!body.contains(name), "{name} on the bus: {body}");
        }
        keys.push(delivery.message.routing_key.clone());
        outreach
            .bus
            .publish(&delivery.message)
            .await
            .expect("played to outreach");
        delivery.ack().await.expect("ack");
    }
    assert_eq!(
        keys,
        [
            "facilitators.facilitator.registered",
            "facilitators.facilitator.updated",
            "facilitators.facilitator.verified",
            "facilitators.facilitator.erased",
        ]
    );
    // A producer not yet upgraded still sends the name: outreach does not keep it either.
    let late = json!({
        "id": id, "account": account_key("camille"), "display_name": FIRST_NAME,
        "kind": "mediateur_numerique", "status": "pending", "departements": ["69"],
        "regions": ["84"], "topics": ["what_is_ai"], "languages": ["fr"],
        "organisation_id": null,
    });
    outreach
        .bus
        .publish(&support::message(FACILITATOR_UPDATED, late))
        .await
        .expect("published");

    // Every message came through, and the facilitator counts.
    let db = connect(&outreach).await;
    let mut consumed = 0;
    for _ in 0..200 {
        consumed = history::Entity::find()
            .all(&db)
            .await
            .expect("history")
            .len();
        if consumed == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(consumed, 5, "every message reached outreach");
    let counted = facilitator::Entity::find_by_id(id.parse::<Uuid>().expect("uuid"))
        .one(&db)
        .await
        .expect("read")
        .expect("the facilitator counts");
    assert_eq!(
        counted.kind,
        cafeia_facilitators_api::FacilitatorKind::MediateurNumerique
    );

    let account = account_key("camille");
    for row in outreach_rows(&db).await {
        for secret in [FIRST_NAME, NEW_NAME, account.as_str()] {
            assert!(!row.contains(secret), "{secret} kept by outreach: {row}");
        }
    }
    // A rebuild replays no name either (there is none to replay) and gives the same figures.
    ingest::rebuild(&db).await.expect("rebuilt");
    for row in outreach_rows(&db).await {
        assert!(
            !row.contains(FIRST_NAME) && !row.contains(NEW_NAME),
            "{row}"
        );
    }

    // The facilitators' outbox (sent rows are kept 7 days) holds no name.
    let facilitators_db = connect(&facilitators).await;
    let rows = outbox::entity::Entity::find()
        .all(&facilitators_db)
        .await
        .expect("outbox");
    assert_eq!(rows.len(), 4, "every message is still in the outbox");
    for row in rows {
        let text = format!("{row:?}");
        for name in [FIRST_NAME, NEW_NAME] {
            assert!(!text.contains(name), "{name} in the outbox: {text}");
        }
    }
    facilitators.stop().await;
    outreach.stop().await;
}

/// History rows kept before the fix held facilitators' names and account links: the
/// migration clears them, and the history still rebuilds the same figures.
async fn history_rows_kept_with_names_lose_them_when_migrating(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let db = cafeia_platform::db::connect(&env.database_url(), 2)
        .await
        .expect("database");
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261222_000203_outreach_anonymous_history")
        .expect("the migration");
    Migrator::up(&db, Some(u32::try_from(before).expect("few")))
        .await
        .expect("earlier migrations");
    let id = Uuid::now_v7();
    let state = json!({
        "id": id, "account": account_key("camille"), "display_name": FIRST_NAME,
        "kind": "benevole", "status": "verified", "departements": ["69"], "regions": ["84"],
        "topics": [], "languages": ["fr"], "organisation_id": null,
    });
    history::ActiveModel {
        message_id: Set(Uuid::now_v7().to_string()),
        kind: Set("fr.cafeia.facilitators.facilitator.verified.v1".into()),
        time: Set(chrono::Utc::now()),
        data: Set(state.to_string()),
        ..Default::default()
    }
    .insert(&db)
    .await
    .expect("an old history row");

    Migrator::up(&db, None).await.expect("migrated");

    let rows = history::Entity::find().all(&db).await.expect("history");
    assert_eq!(rows.len(), 1);
    let data: Value = serde_json::from_str(&rows[0].data).expect("JSON");
    assert!(data.get("display_name").is_none(), "{data}");
    assert_eq!(data["account"], "", "{data}");
    assert_eq!(data["status"], "verified", "the rest is kept: {data}");
    assert_eq!(ingest::rebuild(&db).await.expect("rebuilt"), 1);
    let counted = facilitator::Entity::find_by_id(id)
        .one(&db)
        .await
        .expect("read")
        .expect("still counted");
    assert_eq!(
        counted.status,
        cafeia_facilitators_api::FacilitatorStatus::Verified
    );
}

backend_matrix!(
    erasure_leaves_no_facilitator_name_in_outreach_or_the_outbox,
    history_rows_kept_with_names_lose_them_when_migrating
);
