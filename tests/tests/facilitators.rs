//! The facilitator network through the public GraphQL API, on both backend sets.

use cafeia_e2e::TestStack;
use cafeia_platform::auth::{Role, Territory};
use cafeia_testkit::{Backend, backend_matrix};
use serde_json::json;

const REGISTER: &str = r#"mutation($input: FacilitatorProfileInput!) {
  registerAsFacilitator(input: $input) { id status departements regions email }
}"#;

async fn a_facilitator_registers_and_staff_verify_through_graphql(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let facilitator = stack.token("ines", &[Role::Facilitator], None);
    let input = json!({"input": {
        "displayName": "Inès Moreau",
        "email": "ines.moreau@mediatheque.example.fr",
        "kind": "BIBLIOTHECAIRE",
        "territories": ["33063"],
        "topics": ["what_is_ai"],
        "trainingCompletedOn": "2026-05-20",
    }});
    let body = stack
        .graphql(REGISTER, input.clone(), Some(&facilitator))
        .await;
    let me = &body["data"]["registerAsFacilitator"];
    assert_eq!(me["status"], "PENDING", "{body}");
    assert_eq!(me["departements"], json!(["33"]));
    let id = me["id"].as_str().expect("id").to_owned();

    let again = stack.graphql(REGISTER, input, Some(&facilitator)).await;
    assert_eq!(again["errors"][0]["extensions"]["code"], "CONFLICT");

    let outsider = stack.token(
        "coord-hdf",
        &[Role::Staff],
        Some(Territory::Region("32".into())),
    );
    let verify = "mutation($id: ID!) { verifyFacilitator(id: $id) { status } }";
    let refused = stack
        .graphql(verify, json!({"id": id}), Some(&outsider))
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let coordinator = stack.token(
        "coord-na",
        &[Role::Staff],
        Some(Territory::Region("75".into())),
    );
    let verified = stack
        .graphql(verify, json!({"id": id}), Some(&coordinator))
        .await;
    assert_eq!(
        verified["data"]["verifyFacilitator"]["status"], "VERIFIED",
        "{verified}"
    );

    let suspend = "mutation($id: ID!) { suspendFacilitator(id: $id, reason: \"  \") { status } }";
    let blank = stack
        .graphql(suspend, json!({"id": id}), Some(&coordinator))
        .await;
    assert_eq!(blank["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(blank["errors"][0]["extensions"]["field"], "reason");

    let directory = stack
        .graphql(
            "{ facilitators(filter: {departement: \"33\"}) { items { displayName status } } }",
            json!({}),
            Some(&coordinator),
        )
        .await;
    assert_eq!(
        directory["data"]["facilitators"]["items"],
        json!([{"displayName": "Inès Moreau", "status": "VERIFIED"}])
    );
    stack.stop().await;
}

async fn bad_input_names_the_graphql_field(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let facilitator = stack.token("x", &[Role::Facilitator], None);
    let body = stack
        .graphql(
            REGISTER,
            json!({"input": {"displayName": "X", "email": "x@example.fr", "kind": "BENEVOLE", "territories": ["33063"], "trainingCompletedOn": "2099-01-01"}}),
            Some(&facilitator),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "trainingCompletedOn"
    );
    let body = stack
        .graphql(
            "{ communesByPostcode(postcode: \"3300\") { name } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "postcode");
    let body = stack
        .graphql(
            "{ communesByPostcode(postcode: \"33000\") { insee name departementName } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        body["data"]["communesByPostcode"][0],
        json!({"insee": "33063", "name": "Bordeaux", "departementName": "Gironde"})
    );
    stack.stop().await;
}

backend_matrix!(
    a_facilitator_registers_and_staff_verify_through_graphql,
    bad_input_names_the_graphql_field
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_network_is_loaded_in_embedded_mode() {
    let stack = TestStack::start(Backend::Embedded).await;
    let venues = stack
        .graphql(
            "{ venues(departement: \"974\") { items { name commune } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        venues["data"]["venues"]["items"],
        json!([{"name": "Maison France Services de Saint-Denis", "commune": "Saint-Denis"}]),
        "{venues}"
    );
    let demo = stack.token("demo-animatrice", &[Role::Facilitator], None);
    let me = stack
        .graphql(
            "{ myFacilitatorProfile { displayName status } }",
            json!({}),
            Some(&demo),
        )
        .await;
    assert_eq!(
        me["data"]["myFacilitatorProfile"],
        json!({"displayName": "Camille Martin", "status": "VERIFIED"})
    );
    let staff = stack.token("cnnum", &[Role::Staff], None);
    let counts = stack
        .graphql(
            "{ facilitatorCounts { departement verified pending suspended } }",
            json!({}),
            Some(&staff),
        )
        .await;
    let rows = counts["data"]["facilitatorCounts"]
        .as_array()
        .expect("counts");
    assert!(rows.len() >= 8, "{counts}");
    assert!(
        rows.iter()
            .any(|r| r["departement"] == "67" && r["suspended"] == 1)
    );
    stack.stop().await;
}
