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
    let again = stack
        .graphql(
            "mutation($p: ProviderInput!) { createProvider(input: $p) { id } }",
            json!({"p": {"siret": siret, "name": "Doublon", "kind": "UNIVERSITY"}}),
            Some(&provider),
        )
        .await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"], "ALREADY_EXISTS",
        "{again}"
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

    let review = "mutation($id: UUID!) { reviewTraining(id: $id, decision: PUBLISH) { status } }";
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
    let twice = stack.graphql(review, json!({"id": id}), Some(&staff)).await;
    assert_eq!(
        twice["errors"][0]["extensions"]["code"], "INVALID_TRANSITION",
        "{twice}"
    );

    let found = stack
        .graphql(
            "{ trainings(filter: {departement: \"33\", audience: JOB_SEEKERS, hasOpenSession: true}) { totalCount edges { node { title provider { name siret } } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        found["data"]["trainings"],
        json!({"totalCount": 1, "edges": [{"node": {
            "title": "L'IA au travail, premiers usages",
            "provider": {"name": "Université de Bordeaux", "siret": siret},
        }}]}),
        "{found}"
    );
    let ld = stack
        .graphql(
            "query($id: UUID!) { trainingJsonLd(id: $id) }",
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

async fn programmes_are_edited_and_modules_reviewed_through_graphql(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let siret = "35600000000048";
    let provider = stack.token_with_siret("org-2", siret);
    let created = stack
        .graphql(
            "mutation($p: ProviderInput!) { createProvider(input: $p) { id } }",
            json!({"p": {"siret": siret, "name": "La Poste — formations", "kind": "COMPANY"}}),
            Some(&provider),
        )
        .await;
    let provider_id = created["data"]["createProvider"]["id"]
        .as_str()
        .expect("provider id")
        .to_owned();
    let found = stack
        .graphql(
            "query($id: UUID!) { trainingProvider(id: $id) { siret kind } }",
            json!({"id": provider_id}),
            None,
        )
        .await;
    assert_eq!(
        found["data"]["trainingProvider"],
        json!({"siret": siret, "kind": "COMPANY"}),
        "{found}"
    );

    let input = json!({
        "providerSiret": siret,
        "title": "Premiers pas avec l'IA",
        "summary": "Deux heures pour découvrir l'IA générative.",
        "objectives": "Savoir ce qu'un assistant conversationnel sait faire, et ne sait pas faire.",
        "level": "DISCOVERY",
        "audiences": ["GENERAL_PUBLIC"],
        "format": "ONLINE",
        "pace": "SELF_PACED",
        "durationHours": 2,
        "free": true,
        "topics": ["generative_ai"],
    });
    let submitted = stack
        .graphql(
            "mutation($t: TrainingInput!) { submitTraining(input: $t) { id languages online } }",
            json!({"t": input}),
            Some(&provider),
        )
        .await;
    let training = &submitted["data"]["submitTraining"];
    assert_eq!(training["languages"], json!(["fr"]), "{submitted}");
    assert_eq!(training["online"], true);
    let id = training["id"].as_str().expect("id").to_owned();
    let read =
        "query($id: UUID!) { training(id: $id) { title status providerId provider { id name } } }";
    let hidden = stack.graphql(read, json!({"id": id}), None).await;
    assert_eq!(
        hidden["data"]["training"],
        json!(null),
        "a submitted programme is not public"
    );
    let own = stack
        .graphql(read, json!({"id": id}), Some(&provider))
        .await;
    assert_eq!(own["data"]["training"]["providerId"], provider_id, "{own}");
    assert_eq!(
        own["data"]["training"]["provider"],
        json!({"id": provider_id, "name": "La Poste — formations"}),
        "{own}"
    );

    let mut edited = input.clone();
    edited["title"] = json!("Premiers pas avec l'IA générative");
    edited["accessibility"] = json!(["RGAA_COMPLIANT"]);
    let updated = stack
        .graphql(
            "mutation($id: UUID!, $t: TrainingInput!) { updateTraining(id: $id, input: $t) { title accessibility status } }",
            json!({"id": id, "t": edited}),
            Some(&provider),
        )
        .await;
    assert_eq!(
        updated["data"]["updateTraining"],
        json!({"title": "Premiers pas avec l'IA générative", "accessibility": ["RGAA_COMPLIANT"], "status": "SUBMITTED"}),
        "{updated}"
    );
    let staff = stack.token("cnnum", &[Role::Staff], None);
    let rejected = stack
        .graphql(
            "mutation($id: UUID!) { reviewTraining(id: $id, decision: REJECT, reason: \"Objectifs à préciser\") { status statusReason } }",
            json!({"id": id}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        rejected["data"]["reviewTraining"],
        json!({"status": "REJECTED", "statusReason": "Objectifs à préciser"}),
        "{rejected}"
    );
    let not_an_id = stack
        .graphql(read, json!({"id": "formation-1"}), None)
        .await;
    assert_eq!(
        not_an_id["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );

    let module = json!({
        "title": "L'IA et l'information",
        "summary": "Reconnaître une image générée, vérifier une source.",
        "durationMinutes": 90,
        "level": "DISCOVERY",
        "audiences": ["SENIORS", "GENERAL_PUBLIC"],
        "topics": ["misinformation_deepfakes"],
        "licence": "CC BY-SA 4.0",
        "resources": ["https://ressources.exemple.fr/cafe-ia/deepfakes"],
        "version": "1.0",
    });
    let submitted = stack
        .graphql(
            "mutation($m: ModuleInput!) { submitEducationalModule(input: $m) { id status audiences } }",
            json!({"m": module}),
            Some(&provider),
        )
        .await;
    let submitted = &submitted["data"]["submitEducationalModule"];
    assert_eq!(submitted["status"], "SUBMITTED", "{submitted}");
    assert_eq!(submitted["audiences"], json!(["GENERAL_PUBLIC", "SENIORS"]));
    let module_id = submitted["id"].as_str().expect("module id").to_owned();
    let mut next = module.clone();
    next["version"] = json!("1.1");
    let updated = stack
        .graphql(
            "mutation($id: UUID!, $m: ModuleInput!) { updateEducationalModule(id: $id, input: $m) { version } }",
            json!({"id": module_id, "m": next}),
            Some(&provider),
        )
        .await;
    assert_eq!(
        updated["data"]["updateEducationalModule"]["version"], "1.1",
        "{updated}"
    );
    let review = "mutation($id: UUID!, $d: ReviewDecision!, $r: String) { reviewEducationalModule(id: $id, decision: $d, reason: $r) { status } }";
    let unexplained = stack
        .graphql(
            review,
            json!({"id": module_id, "d": "REJECT"}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        unexplained["errors"][0]["extensions"]["field"], "reason",
        "{unexplained}"
    );
    let published = stack
        .graphql(
            review,
            json!({"id": module_id, "d": "PUBLISH"}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        published["data"]["reviewEducationalModule"]["status"], "PUBLISHED",
        "{published}"
    );
    let public = stack
        .graphql(
            "query($id: UUID!) { educationalModule(id: $id) { title version licence } }",
            json!({"id": module_id}),
            None,
        )
        .await;
    assert_eq!(
        public["data"]["educationalModule"],
        json!({"title": "L'IA et l'information", "version": "1.1", "licence": "CC BY-SA 4.0"}),
        "{public}"
    );
    let listed = stack
        .graphql(
            "{ educationalModules(topic: \"misinformation_deepfakes\", level: DISCOVERY) { totalCount edges { node { id topics level } } } }",
            json!({}),
            None,
        )
        .await;
    let listed = &listed["data"]["educationalModules"];
    let edges = listed["edges"].as_array().expect("edges");
    assert_eq!(listed["totalCount"], json!(edges.len()), "{listed}");
    assert!(
        edges.iter().any(|e| e["node"]["id"] == module_id),
        "the published module is listed: {listed}"
    );
    assert!(
        edges.iter().all(|e| e["node"]["level"] == "DISCOVERY"
            && e["node"]["topics"]
                .as_array()
                .is_some_and(|t| t.contains(&json!("misinformation_deepfakes")))),
        "{listed}"
    );
    let withdrawn = stack
        .graphql(
            review,
            json!({"id": module_id, "d": "WITHDRAW"}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        withdrawn["data"]["reviewEducationalModule"]["status"], "WITHDRAWN",
        "{withdrawn}"
    );
    let late = stack
        .graphql(
            "mutation($id: UUID!, $m: ModuleInput!) { updateEducationalModule(id: $id, input: $m) { version } }",
            json!({"id": module_id, "m": module}),
            Some(&provider),
        )
        .await;
    assert_eq!(
        late["errors"][0]["extensions"]["code"], "INVALID_TRANSITION",
        "a withdrawn module is not edited: {late}"
    );
    stack.stop().await;
}

/// The review queue lists what waits, oldest first, to national staff only; a programme
/// corrected after a refusal comes back with what each edit changed, before and after.
async fn staff_review_the_queue_and_the_diff_of_an_edit_through_graphql(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let siret = "13002526500013";
    let provider = stack.token_with_siret("org-3", siret);
    let created = stack
        .graphql(
            "mutation($p: ProviderInput!) { createProvider(input: $p) { id } }",
            json!({"p": {"siret": siret, "name": "Inria Académie", "kind": "PUBLIC_AGENCY"}}),
            Some(&provider),
        )
        .await;
    assert!(created["errors"].is_null(), "{created}");
    let programme = |title: &str| {
        json!({
            "providerSiret": siret,
            "title": title,
            "summary": "Comprendre ce que fait une IA, sans prérequis.",
            "objectives": "Savoir ce qu'est un modèle et d'où viennent ses erreurs.",
            "level": "DISCOVERY",
            "audiences": ["GENERAL_PUBLIC"],
            "format": "IN_PERSON",
            "pace": "SCHEDULED",
            "durationHours": 3,
            "free": true,
            "topics": ["what_is_ai"],
            "places": ["69123"],
        })
    };
    let submit = "mutation($t: TrainingInput!) { submitTraining(input: $t) { id } }";
    let mut ids = Vec::new();
    for title in ["Première proposition", "Deuxième proposition"] {
        let body = stack
            .graphql(submit, json!({"t": programme(title)}), Some(&provider))
            .await;
        ids.push(
            body["data"]["submitTraining"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_owned(),
        );
    }
    let module = stack
        .graphql(
            "mutation($m: ModuleInput!) { submitEducationalModule(input: $m) { id } }",
            json!({"m": {
                "title": "L'IA au quotidien",
                "summary": "Repérer l'IA dans les services de tous les jours.",
                "durationMinutes": 60,
                "level": "DISCOVERY",
                "audiences": ["GENERAL_PUBLIC"],
                "topics": ["what_is_ai"],
                "licence": "CC BY 4.0",
                "resources": ["https://ressources.exemple.fr/cafe-ia/quotidien"],
                "version": "1.0",
            }}),
            Some(&provider),
        )
        .await;
    let module_id = module["data"]["submitEducationalModule"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{module}"))
        .to_owned();

    let queue = "{ trainingReviewQueue { totalCount nodes { id title } } \
                 educationalModuleReviewQueue { totalCount nodes { id } } }";
    let staff = stack.token("cnnum", &[Role::Staff], None);
    let seen = stack.graphql(queue, json!({}), Some(&staff)).await;
    let listed: Vec<&str> = seen["data"]["trainingReviewQueue"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{seen}"))
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert_eq!(listed, ids, "submitted programmes, oldest first: {seen}");
    assert_eq!(seen["data"]["trainingReviewQueue"]["totalCount"], 2);
    assert_eq!(
        seen["data"]["educationalModuleReviewQueue"]["nodes"],
        json!([{"id": module_id}]),
        "{seen}"
    );
    let coordinator = stack.token(
        "coordination-ara",
        &[Role::Staff],
        Some(cafeia_platform::auth::Territory::Region("84".into())),
    );
    for (who, token) in [("a coordinator", &coordinator), ("a provider", &provider)] {
        let refused = stack
            .graphql(
                "{ trainingReviewQueue { totalCount } }",
                json!({}),
                Some(token),
            )
            .await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{who}: {refused}"
        );
    }

    // Refused, corrected, back in the queue: the edit says what changed.
    let rejected = stack
        .graphql(
            "mutation($id: UUID!) { reviewTraining(id: $id, decision: REJECT, reason: \"Durée à revoir\") { status } }",
            json!({"id": ids[0]}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        rejected["data"]["reviewTraining"]["status"], "REJECTED",
        "{rejected}"
    );
    let mut corrected = programme("Première proposition");
    corrected["durationHours"] = json!(4);
    corrected["places"] = json!(["69123", "63113"]);
    let updated = stack
        .graphql(
            "mutation($id: UUID!, $t: TrainingInput!) { updateTraining(id: $id, input: $t) { status } }",
            json!({"id": ids[0], "t": corrected}),
            Some(&provider),
        )
        .await;
    assert_eq!(
        updated["data"]["updateTraining"]["status"], "SUBMITTED",
        "{updated}"
    );
    let edits =
        "query($id: UUID!) { training(id: $id) { edits { by changes { field before after } } } }";
    let seen = stack
        .graphql(edits, json!({"id": ids[0]}), Some(&staff))
        .await;
    assert_eq!(
        seen["data"]["training"]["edits"],
        json!([{"by": "PROVIDER", "changes": [
            {"field": "DURATION_HOURS", "before": 3, "after": 4},
            {"field": "PLACES", "before": ["69123"], "after": ["63113", "69123"]},
        ]}]),
        "{seen}"
    );
    let own = stack
        .graphql(edits, json!({"id": ids[0]}), Some(&provider))
        .await;
    assert_eq!(
        own["data"]["training"]["edits"], seen["data"]["training"]["edits"],
        "the provider reads its own edits: {own}"
    );
    let other = stack.token_with_siret("org-4", "73282932000074");
    let hidden = stack
        .graphql(edits, json!({"id": ids[0]}), Some(&other))
        .await;
    assert_eq!(
        hidden,
        json!({"data": {"training": null}}),
        "another provider does not see a submitted programme"
    );
    let published = stack
        .graphql(
            "mutation($id: UUID!) { reviewTraining(id: $id, decision: PUBLISH) { status } }",
            json!({"id": ids[1]}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        published["data"]["reviewTraining"]["status"], "PUBLISHED",
        "{published}"
    );
    let citizen = stack.token("c", &[Role::Citizen], None);
    let refused = stack
        .graphql(edits, json!({"id": ids[1]}), Some(&citizen))
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "a published programme's edits are its provider's and staff's: {refused}"
    );
    let queued = stack.graphql(queue, json!({}), Some(&staff)).await;
    assert_eq!(
        queued["data"]["trainingReviewQueue"]["nodes"],
        json!([{"id": ids[0], "title": "Première proposition"}]),
        "the corrected programme is back, the published one gone: {queued}"
    );
    stack.stop().await;
}

backend_matrix!(
    a_provider_submits_and_staff_publish_through_graphql,
    programmes_are_edited_and_modules_reviewed_through_graphql,
    staff_review_the_queue_and_the_diff_of_an_edit_through_graphql,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_catalogue_is_loaded_in_embedded_mode() {
    let stack = TestStack::start(Backend::Embedded).await;
    let body = stack
        .graphql(
            "{ trainings(first: 100) { totalCount edges { node { id title online provider { name } } } } educationalModules(first: 100) { totalCount edges { node { id licence } } } }",
            json!({}),
            None,
        )
        .await;
    let trainings = body["data"]["trainings"]["edges"]
        .as_array()
        .expect("trainings");
    assert_eq!(trainings.len(), 26, "{body}");
    assert_eq!(body["data"]["trainings"]["totalCount"], 26);
    assert!(trainings.iter().any(|t| t["node"]["online"] == true));
    assert!(
        trainings.iter().all(|t| t["node"]["provider"]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())),
        "every programme names its provider: {body}"
    );
    let modules = body["data"]["educationalModules"]["edges"]
        .as_array()
        .expect("modules");
    assert_eq!(modules.len(), 12);
    assert_eq!(body["data"]["educationalModules"]["totalCount"], 12);

    // Pages of ten: the cursors lead through every programme once, the total stays.
    let page = "query($after: String) { trainings(first: 10, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } } } }";
    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let body = stack.graphql(page, json!({"after": after}), None).await;
        let connection = &body["data"]["trainings"];
        assert_eq!(connection["totalCount"], 26, "{body}");
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], !after.is_null());
        let edges = connection["edges"].as_array().expect("edges");
        assert_eq!(
            connection["pageInfo"]["endCursor"],
            edges
                .last()
                .map_or(serde_json::Value::Null, |e| e["cursor"].clone())
        );
        seen.extend(edges.iter().map(|e| e["node"]["id"].clone()));
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    let everything: Vec<_> = trainings.iter().map(|t| t["node"]["id"].clone()).collect();
    assert_eq!(seen, everything);
    // Resuming after any edge continues right after it.
    let third = trainings[2]["node"]["id"].clone();
    let second_cursor = {
        let body = stack.graphql(page, json!({"after": null}), None).await;
        body["data"]["trainings"]["edges"][1]["cursor"].clone()
    };
    let resumed = stack
        .graphql(page, json!({"after": second_cursor}), None)
        .await;
    assert_eq!(
        resumed["data"]["trainings"]["edges"][0]["node"]["id"], third,
        "{resumed}"
    );
    let too_many = stack
        .graphql("{ trainings(first: 500) { totalCount } }", json!({}), None)
        .await;
    assert_eq!(
        (
            &too_many["errors"][0]["extensions"]["code"],
            &too_many["errors"][0]["extensions"]["field"]
        ),
        (&json!("BAD_USER_INPUT"), &json!("first")),
        "{too_many}"
    );

    // Look-ups by id, several in one request (one batch per kind), visible ones only.
    let ids: Vec<_> = trainings[..3]
        .iter()
        .map(|t| t["node"]["id"].clone())
        .collect();
    let modules_ids: Vec<_> = modules[..2]
        .iter()
        .map(|m| m["node"]["id"].clone())
        .collect();
    let many = stack
        .graphql(
            "query($a: UUID!, $b: UUID!, $c: UUID!, $m: UUID!, $n: UUID!, $x: UUID!) { a: training(id: $a) { id } b: training(id: $b) { id } c: training(id: $c) { id } x: training(id: $x) { id } m: educationalModule(id: $m) { id } n: educationalModule(id: $n) { id } y: educationalModule(id: $x) { id } }",
            json!({"a": ids[0], "b": ids[1], "c": ids[2], "m": modules_ids[0], "n": modules_ids[1], "x": "0190a4e2-7b1c-7cc3-9d2e-5f8a1b2c3d4e"}),
            None,
        )
        .await;
    assert_eq!(
        many["data"],
        json!({"a": {"id": ids[0]}, "b": {"id": ids[1]}, "c": {"id": ids[2]}, "x": null,
               "m": {"id": modules_ids[0]}, "n": {"id": modules_ids[1]}, "y": null}),
        "{many}"
    );

    let reunion = stack
        .graphql(
            "{ trainings(filter: {departement: \"974\"}) { totalCount edges { node { title } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(reunion["data"]["trainings"]["totalCount"], 3, "{reunion}");
    assert_eq!(
        reunion["data"]["trainings"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(3),
        "{reunion}"
    );
    stack.stop().await;
}
