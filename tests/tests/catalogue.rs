//! The training catalogue through the public GraphQL API, on both backend sets.

use cafeia_e2e::TestStack;
use cafeia_platform::auth::Role;
use cafeia_testkit::{Backend, backend_matrix};
use serde_json::json;

async fn a_provider_submits_and_staff_publish_through_graphql(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let siret = "73282932000074";
    let provider = stack.token_with_siret("org-1", siret);
    let created = stack
        .graphql(
            "mutation($p: ProviderInput!) { createProvider(input: $p) { id name } }",
            json!({"p": {"siret": siret, "name": "Université de Bordeaux", "kind": "UNIVERSITY"}}),
            Some(&provider),
        )
        .await;
    assert_eq!(
        created["data"]["createProvider"]["name"], "Université de Bordeaux",
        "{created}"
    );
    let submit = "mutation($t: TrainingInput!) { submitTraining(input: $t) { id status places { commune } } }";
    let input = json!({"t": {
        "providerSiret": siret,
        "title": "L'IA au travail, premiers usages",
        "summary": "Une journée pour découvrir les usages de l'IA au bureau.",
        "objectives": "Utiliser un assistant conversationnel avec discernement.",
        "level": "BEGINNER",
        "audiences": ["EMPLOYEES", "JOB_SEEKERS"],
        "format": "IN_PERSON",
        "pace": "SCHEDULED",
        "durationHours": 7,
        "free": true,
        "topics": ["ai_at_work"],
        "places": ["33063"],
        "sessions": [{"startDate": "2027-02-02", "endDate": "2027-02-02", "enrolment": "OPEN"}],
    }});
    let body = stack.graphql(submit, input.clone(), Some(&provider)).await;
    let training = &body["data"]["submitTraining"];
    assert_eq!(training["status"], "SUBMITTED", "{body}");
    assert_eq!(training["places"][0]["commune"], "Bordeaux");
    let id = training["id"].as_str().expect("id").to_owned();

    let mut bad = input.clone();
    bad["t"]["durationHours"] = json!(-7);
    let refused = stack.graphql(submit, bad, Some(&provider)).await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "durationHours");
    let citizen = stack.token("c", &[Role::Citizen], None);
    let forbidden = stack.graphql(submit, input, Some(&citizen)).await;
    assert_eq!(forbidden["errors"][0]["extensions"]["code"], "FORBIDDEN");

    let review = "mutation($id: ID!) { reviewTraining(id: $id, decision: PUBLISH) { status } }";
    let self_review = stack
        .graphql(review, json!({"id": id}), Some(&provider))
        .await;
    assert_eq!(self_review["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let staff = stack.token("cnnum", &[Role::Staff], None);
    let published = stack.graphql(review, json!({"id": id}), Some(&staff)).await;
    assert_eq!(
        published["data"]["reviewTraining"]["status"], "PUBLISHED",
        "{published}"
    );

    let found = stack
        .graphql(
            "{ trainings(filter: {departement: \"33\", audience: JOB_SEEKERS, hasOpenSession: true}) { items { title } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        found["data"]["trainings"]["items"],
        json!([{"title": "L'IA au travail, premiers usages"}]),
        "{found}"
    );
    let ld = stack
        .graphql(
            "query($id: ID!) { trainingJsonLd(id: $id) }",
            json!({"id": id}),
            None,
        )
        .await;
    assert_eq!(ld["data"]["trainingJsonLd"]["@type"], "Course");
    let hostile = stack
        .graphql(
            "mutation($x: String!) { importLheo(content: $x) { offers } }",
            json!({"x": "<!DOCTYPE x [<!ENTITY a \"b\">]><lheo/>"}),
            Some(&staff),
        )
        .await;
    assert_eq!(hostile["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(hostile["errors"][0]["extensions"]["field"], "file");
    stack.stop().await;
}

backend_matrix!(a_provider_submits_and_staff_publish_through_graphql);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_catalogue_is_loaded_in_embedded_mode() {
    let stack = TestStack::start(Backend::Embedded).await;
    let body = stack.graphql("{ trainings(first: 100) { items { title online } } educationalModules(first: 100) { items { licence } } }", json!({}), None).await;
    let trainings = body["data"]["trainings"]["items"]
        .as_array()
        .expect("trainings");
    assert_eq!(trainings.len(), 26, "{body}");
    assert!(trainings.iter().any(|t| t["online"] == true));
    assert_eq!(
        body["data"]["educationalModules"]["items"]
            .as_array()
            .map(Vec::len),
        Some(12)
    );
    let reunion = stack
        .graphql(
            "{ trainings(filter: {departement: \"974\"}) { items { title } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        reunion["data"]["trainings"]["items"]
            .as_array()
            .map(Vec::len),
        Some(3),
        "{reunion}"
    );
    stack.stop().await;
}
