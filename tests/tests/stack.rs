//! The stack, end to end, on both backend sets.

use cafeia_e2e::{SERVICES, TestStack};
use cafeia_platform::auth::{Role, Territory};
use cafeia_testkit::{Backend, backend_matrix};
use serde_json::json;

async fn every_service_is_ready_behind_the_gateway(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let staff = stack.token("cnnum-1", &[Role::Staff], None);
    let body = stack
        .graphql(
            "{ me { sub roles } services { name ready checks { name status } } }",
            json!({}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        body["data"]["me"],
        json!({"sub": "cnnum-1", "roles": ["STAFF"]}),
        "{body}"
    );
    let services = body["data"]["services"].as_array().expect("services list");
    let names: Vec<&str> = services.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, SERVICES);
    for service in services {
        assert_eq!(service["ready"], true, "{service}");
        assert_eq!(
            service["checks"],
            json!([{"name": "bus", "status": "ok"}, {"name": "cache", "status": "ok"}, {"name": "database", "status": "ok"}])
        );
    }
    stack.stop().await;
}

async fn roles_and_scope_reach_the_api(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let coordinator = stack.token(
        "coord-84",
        &[Role::Staff],
        Some(Territory::Region("84".into())),
    );
    let body = stack
        .graphql("{ me { territory } }", json!({}), Some(&coordinator))
        .await;
    assert_eq!(body["data"]["me"]["territory"], "region:84");
    let citizen = stack.token("c-1", &[Role::Citizen], None);
    let body = stack
        .graphql("{ services { name } }", json!({}), Some(&citizen))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    stack.stop().await;
}

backend_matrix!(
    every_service_is_ready_behind_the_gateway,
    roles_and_scope_reach_the_api
);
