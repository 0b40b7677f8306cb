//! The facilitator network through the public GraphQL API, on both backend sets.

use cafeia_e2e::TestStack;
use cafeia_platform::auth::{Role, Territory};
use cafeia_testkit::{Backend, backend_matrix};
use serde_json::{Value, json};

const REGISTER: &str = r#"mutation($input: FacilitatorProfileInput!) {
  registerAsFacilitator(input: $input) { id status departements regions email }
}"#;

/// The first error's `extensions.code`.
fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

/// The nodes of a connection.
fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("a connection: {connection}"))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

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
    assert_eq!(code(&again), "ALREADY_EXISTS", "{again}");

    let created = stack
        .graphql(
            "mutation($input: VenueInput!) { createVenue(input: $input) { id isPublic } }",
            json!({"input": {"name": "Médiathèque du quartier", "address": "1 cours Victor-Hugo", "postcode": "33000", "insee": "33063", "isPublic": false}}),
            Some(&facilitator),
        )
        .await;
    let venue_id = created["data"]["createVenue"]["id"]
        .as_str()
        .expect("venue id");
    let mine = stack
        .graphql(
            "{ myVenues { totalCount edges { cursor node { id name isPublic } } pageInfo { hasNextPage endCursor } } }",
            json!({}),
            Some(&facilitator),
        )
        .await;
    assert_eq!(
        mine["data"]["myVenues"],
        json!({
            "totalCount": 1,
            "edges": [{"cursor": venue_id, "node": {"id": venue_id, "name": "Médiathèque du quartier", "isPublic": false}}],
            "pageInfo": {"hasNextPage": false, "endCursor": venue_id},
        }),
        "{mine}"
    );

    let outsider = stack.token(
        "coord-hdf",
        &[Role::Staff],
        Some(Territory::Region("32".into())),
    );
    let verify = "mutation($id: UUID!) { verifyFacilitator(id: $id) { status } }";
    let refused = stack
        .graphql(verify, json!({"id": id}), Some(&outsider))
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
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
    let twice = stack
        .graphql(verify, json!({"id": id}), Some(&coordinator))
        .await;
    assert_eq!(code(&twice), "INVALID_TRANSITION", "{twice}");
    let malformed = stack
        .graphql(verify, json!({"id": "pas-un-uuid"}), Some(&coordinator))
        .await;
    assert_eq!(code(&malformed), "BAD_USER_INPUT", "{malformed}");

    let suspend = "mutation($id: UUID!) { suspendFacilitator(id: $id, reason: \"  \") { status } }";
    let blank = stack
        .graphql(suspend, json!({"id": id}), Some(&coordinator))
        .await;
    assert_eq!(code(&blank), "BAD_USER_INPUT");
    assert_eq!(blank["errors"][0]["extensions"]["field"], "reason");

    let directory = stack
        .graphql(
            "{ facilitators(filter: {departement: \"33\"}) { totalCount edges { node { displayName status } } } }",
            json!({}),
            Some(&coordinator),
        )
        .await;
    assert_eq!(
        directory["data"]["facilitators"]["totalCount"], 1,
        "{directory}"
    );
    assert_eq!(
        nodes(&directory["data"]["facilitators"]),
        vec![json!({"displayName": "Inès Moreau", "status": "VERIFIED"})]
    );
    stack.stop().await;
}

const PROFILE: &str = r#"mutation($input: FacilitatorProfileInput!) {
  updateMyFacilitatorProfile(input: $input) { id organisationId territories }
}"#;

/// A profile in Pau (Pyrénées-Atlantiques: no demo data there).
fn pau_profile(organisation: Option<&str>) -> Value {
    json!({"input": {
        "displayName": "Léa Garnier",
        "email": "lea.garnier@example.fr",
        "kind": "MEDIATEUR_NUMERIQUE",
        "territories": ["64445"],
        "topics": ["generative_ai"],
        "languages": ["fr", "oc"],
        "trainingCompletedOn": "2026-02-02",
        "organisationId": organisation,
    }})
}

async fn a_facilitators_whole_life_through_graphql(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let lea = stack.token("lea", &[Role::Facilitator], None);
    let staff = stack.token("cnnum", &[Role::Staff], None);
    let body = stack.graphql(REGISTER, pau_profile(None), Some(&lea)).await;
    let id = body["data"]["registerAsFacilitator"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("registered: {body}"))
        .to_owned();

    let create_organisation = "mutation($input: OrganisationInput!) { createOrganisation(input: $input) { id name commune kind } }";
    let organisation = json!({"input": {"name": "Médiathèque André-Labarrère", "siret": "73282932000074", "kind": "MEDIATHEQUE", "address": "2 place Marguerite-Laborde", "insee": "64445"}});
    let created = stack
        .graphql(create_organisation, organisation.clone(), Some(&staff))
        .await;
    assert_eq!(
        created["data"]["createOrganisation"]["commune"], "Pau",
        "{created}"
    );
    let organisation_id = created["data"]["createOrganisation"]["id"]
        .as_str()
        .expect("organisation id")
        .to_owned();
    let duplicate = stack
        .graphql(create_organisation, organisation, Some(&staff))
        .await;
    assert_eq!(
        code(&duplicate),
        "ALREADY_EXISTS",
        "same SIRET: {duplicate}"
    );
    let found = stack
        .graphql(
            "query($id: UUID!) { organisation(id: $id) { name siret } }",
            json!({"id": organisation_id}),
            None,
        )
        .await;
    assert_eq!(
        found["data"]["organisation"],
        json!({"name": "Médiathèque André-Labarrère", "siret": "73282932000074"})
    );
    let listed = stack
        .graphql(
            "{ organisations(departement: \"64\", first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        listed["data"]["organisations"],
        json!({"totalCount": 1, "edges": [{"node": {"id": organisation_id}}], "pageInfo": {"hasNextPage": false}}),
        "{listed}"
    );

    let updated = stack
        .graphql(PROFILE, pau_profile(Some(&organisation_id)), Some(&lea))
        .await;
    assert_eq!(
        updated["data"]["updateMyFacilitatorProfile"]["organisationId"], organisation_id,
        "{updated}"
    );
    let for_staff = stack
        .graphql(
            "query($id: UUID!) { facilitator(id: $id) { email organisationId } }",
            json!({"id": id}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        for_staff["data"]["facilitator"]["email"], "lea.garnier@example.fr",
        "{for_staff}"
    );
    let public = "query($id: UUID!) { facilitatorProfile(id: $id) { id displayName kind organisationName languages topics status } }";
    let profile = stack.graphql(public, json!({"id": id}), None).await;
    assert_eq!(
        profile["data"]["facilitatorProfile"],
        Value::Null,
        "a pending facilitator has no public face yet: {profile}"
    );
    let private = stack
        .graphql(
            "query($id: UUID!) { facilitatorProfile(id: $id) { email } }",
            json!({"id": id}),
            None,
        )
        .await;
    assert_eq!(
        code(&private),
        "GRAPHQL_VALIDATION_FAILED",
        "a public profile has no email: {private}"
    );

    let decide = r#"mutation($id: UUID!) {
      verifyFacilitator(id: $id) { status }
    }"#;
    let verified = stack.graphql(decide, json!({"id": id}), Some(&staff)).await;
    assert_eq!(verified["data"]["verifyFacilitator"]["status"], "VERIFIED");
    let suspended = stack
        .graphql(
            "mutation($id: UUID!) { suspendFacilitator(id: $id, reason: \"Signalement\") { status statusReason } }",
            json!({"id": id}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        suspended["data"]["suspendFacilitator"],
        json!({"status": "SUSPENDED", "statusReason": "Signalement"})
    );
    let refused = stack.graphql(PROFILE, pau_profile(None), Some(&lea)).await;
    assert_eq!(code(&refused), "FACILITATOR_SUSPENDED", "{refused}");
    let reinstate =
        "mutation($id: UUID!) { reinstateFacilitator(id: $id, reason: \"Infondé\") { status } }";
    let reinstated = stack
        .graphql(reinstate, json!({"id": id}), Some(&staff))
        .await;
    assert_eq!(
        reinstated["data"]["reinstateFacilitator"]["status"], "VERIFIED",
        "{reinstated}"
    );
    let again = stack
        .graphql(reinstate, json!({"id": id}), Some(&staff))
        .await;
    assert_eq!(code(&again), "INVALID_TRANSITION", "{again}");
    let audit = stack
        .graphql(
            "query($id: UUID!) { facilitatorAudit(id: $id) { actor action reason } }",
            json!({"id": id}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        audit["data"]["facilitatorAudit"],
        json!([
            {"actor": "cnnum", "action": "verify", "reason": null},
            {"actor": "cnnum", "action": "suspend", "reason": "Signalement"},
            {"actor": "cnnum", "action": "reinstate", "reason": "Infondé"},
        ]),
        "{audit}"
    );

    // Venues: a private one is seen by its author and staff only.
    let venue = |name: &str, is_public: bool| json!({"input": {"name": name, "address": "1 rue Henri-IV", "postcode": "64000", "insee": "64445", "isPublic": is_public}});
    let create_venue = "mutation($input: VenueInput!) { createVenue(input: $input) { id } }";
    let mut ids = Vec::new();
    for (name, is_public) in [("Salle du château", true), ("Bureau de Léa", false)] {
        let created = stack
            .graphql(create_venue, venue(name, is_public), Some(&lea))
            .await;
        ids.push(
            created["data"]["createVenue"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("created: {created}"))
                .to_owned(),
        );
    }
    let both =
        "query($a: UUID!, $b: UUID!) { a: venue(id: $a) { name } b: venue(id: $b) { name } }";
    let vars = json!({"a": ids[0], "b": ids[1]});
    let before = stack.service_calls().await["facilitators"];
    let anonymous = stack.graphql(both, vars.clone(), None).await;
    let after = stack.service_calls().await["facilitators"];
    assert_eq!(
        anonymous["data"],
        json!({"a": {"name": "Salle du château"}, "b": null}),
        "{anonymous}"
    );
    assert_eq!(after - before, 1, "both venues in one batch call");
    let author = stack.graphql(both, vars.clone(), Some(&lea)).await;
    assert_eq!(
        author["data"],
        json!({"a": {"name": "Salle du château"}, "b": {"name": "Bureau de Léa"}}),
        "{author}"
    );
    let renamed = stack
        .graphql(
            "mutation($id: UUID!, $input: VenueInput!) { updateVenue(id: $id, input: $input) { name isPublic } }",
            json!({"id": ids[1], "input": venue("Bureau partagé", true)["input"]}),
            Some(&lea),
        )
        .await;
    assert_eq!(
        renamed["data"]["updateVenue"],
        json!({"name": "Bureau partagé", "isPublic": true}),
        "{renamed}"
    );
    let in_pau = "{ venues(commune: \"64445\", first: 1) { totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } }";
    let first = stack.graphql(in_pau, json!({}), None).await;
    let page = &first["data"]["venues"];
    assert_eq!(page["totalCount"], 2, "{first}");
    assert_eq!(nodes(page), vec![json!({"name": "Salle du château"})]);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let rest = stack
        .graphql(
            "query($after: String) { venues(commune: \"64445\", first: 1, after: $after) { totalCount edges { node { name } } pageInfo { hasNextPage } } }",
            json!({"after": page["pageInfo"]["endCursor"]}),
            None,
        )
        .await;
    assert_eq!(
        nodes(&rest["data"]["venues"]),
        vec![json!({"name": "Bureau partagé"})],
        "{rest}"
    );
    assert_eq!(rest["data"]["venues"]["pageInfo"]["hasNextPage"], false);
    let too_many = stack
        .graphql("{ venues(first: 101) { totalCount } }", json!({}), None)
        .await;
    assert_eq!(code(&too_many), "BAD_USER_INPUT", "{too_many}");
    let removed = stack
        .graphql(
            "mutation($id: UUID!) { removeVenue(id: $id) }",
            json!({"id": ids[1]}),
            Some(&lea),
        )
        .await;
    assert_eq!(removed["data"]["removeVenue"], true, "{removed}");
    let gone = stack.graphql(both, vars, Some(&staff)).await;
    assert_eq!(gone["data"]["b"], Value::Null, "{gone}");

    let data = stack
        .graphql("{ myFacilitatorData }", json!({}), Some(&lea))
        .await;
    let export = &data["data"]["myFacilitatorData"];
    assert_eq!(
        export["profile"]["email"], "lea.garnier@example.fr",
        "{data}"
    );
    assert_eq!(
        export["venues_created"].as_array().map(Vec::len),
        Some(1),
        "{data}"
    );
    let erased = stack
        .graphql("mutation { eraseMyFacilitatorData }", json!({}), Some(&lea))
        .await;
    assert_eq!(erased["data"]["eraseMyFacilitatorData"], true, "{erased}");
    let profile = stack.graphql(public, json!({"id": id}), None).await;
    assert_eq!(
        profile["data"]["facilitatorProfile"],
        Value::Null,
        "an erased facilitator has no public face: {profile}"
    );
    let me = stack
        .graphql("{ myFacilitatorProfile { id } }", json!({}), Some(&lea))
        .await;
    assert_eq!(me["data"]["myFacilitatorProfile"], Value::Null, "{me}");
    stack.stop().await;
}

async fn national_staff_import_venues_through_graphql(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let national = stack.token("cnnum", &[Role::Staff], None);
    let import = "mutation($content: String!) { importVenues(format: CSV, content: $content) { total created rejected errors { row field } } }";
    let csv = "id,nom,commune,code_postal,code_insee,adresse,latitude,longitude,horaires,services,prise_en_charge_specifique,date_maj\n\
               pau-1,Cyber-base de Pau,Pau,64000,64445,1 place Royale,,,Mo-Fr 09:00-17:00,Accès internet,Surdité,2026-10-01\n\
               pau-2,Sans code postal,Nulle part,00000,,1 rue,,,,Accès internet,,2026-10-01\n";
    let report = stack
        .graphql(import, json!({"content": csv}), Some(&national))
        .await;
    assert_eq!(
        report["data"]["importVenues"],
        json!({"total": 2, "created": 1, "rejected": 1, "errors": [{"row": 2, "field": "postcode"}]}),
        "{report}"
    );
    let coordinator = stack.token(
        "coord",
        &[Role::Staff],
        Some(Territory::Region("75".into())),
    );
    let refused = stack
        .graphql(import, json!({"content": csv}), Some(&coordinator))
        .await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    let venues = stack
        .graphql(
            "{ venues(departement: \"64\") { totalCount edges { node { name accessibility } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(venues["data"]["venues"]["totalCount"], 1, "{venues}");
    assert_eq!(
        nodes(&venues["data"]["venues"]),
        vec![json!({"name": "Cyber-base de Pau", "accessibility": ["hearing_loop"]})]
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
    assert_eq!(code(&body), "BAD_USER_INPUT");
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
    let body = stack
        .graphql(
            "{ bordeaux: commune(insee: \"33063\") { name regionName postcodes } unknown: commune(insee: \"00000\") { name } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(body["data"]["bordeaux"]["name"], "Bordeaux", "{body}");
    assert_eq!(body["data"]["bordeaux"]["regionName"], "Nouvelle-Aquitaine");
    assert_eq!(body["data"]["unknown"], Value::Null);
    // Suggestions while typing: accents, case and hyphens ignored, the most populous first.
    let body = stack
        .graphql(
            "{ communes(search: \"SAINT ETIEN\", first: 3) { insee name } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        body["data"]["communes"][0]["name"], "Saint-Étienne",
        "{body}"
    );
    assert!(
        body["data"]["communes"]
            .as_array()
            .is_some_and(|c| c.len() <= 3)
    );
    let body = stack
        .graphql("{ communes(search: \"  \") { name } }", json!({}), None)
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "search", "{body}");
    stack.stop().await;
}

backend_matrix!(
    a_facilitator_registers_and_staff_verify_through_graphql,
    a_facilitators_whole_life_through_graphql,
    national_staff_import_venues_through_graphql,
    bad_input_names_the_graphql_field
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_network_is_loaded_in_embedded_mode() {
    let stack = TestStack::start(Backend::Embedded).await;
    let venues = stack
        .graphql(
            "{ venues(departement: \"974\") { totalCount edges { node { name commune } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(venues["data"]["venues"]["totalCount"], 1, "{venues}");
    assert_eq!(
        nodes(&venues["data"]["venues"]),
        vec![json!({"name": "Maison France Services de Saint-Denis", "commune": "Saint-Denis"})],
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
