//! The facilitator network through its REST API, on both backend sets, with the messages it
//! publishes checked against their contracts.

use cafeia_facilitators::Facilitators;
use cafeia_platform::auth::{Role, Territory};
use cafeia_testkit::{
    Backend, backend_matrix,
    service::{ServiceHarness, field},
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

type Harness = ServiceHarness;

/// The problem document's stable code.
fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or_default()
}

async fn start(backend: Backend) -> Harness {
    ServiceHarness::start::<Facilitators>(backend, &["facilitators.#"]).await
}

fn profile(territories: &[&str]) -> Value {
    json!({
        "display_name": "Camille Martin",
        "email": "Camille.Martin@mediatheque.example.fr",
        "kind": "conseiller_numerique",
        "territories": territories,
        "topics": ["what_is_ai", "generative_ai"],
        "languages": ["fr", "lsf"],
        "training_completed_on": "2026-03-12",
    })
}

async fn registration_verification_suspension_reinstatement(backend: Backend) {
    let mut h = start(backend).await;
    let camille = h.token("camille", Role::Facilitator, None);
    let staff = h.token("cnnum", Role::Staff, None);

    let (status, me) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&camille),
            Some(profile(&["69123", "38"])),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{me}");
    assert_eq!(me["status"], "pending");
    assert_eq!(me["email"], "camille.martin@mediatheque.example.fr");
    assert_eq!(me["departements"], json!(["38", "69"]));
    assert_eq!(me["regions"], json!(["84"]));
    let id = me["id"].as_str().expect("id").to_owned();
    let (key, data) = h.next_message().await;
    assert_eq!(key, "facilitators.facilitator.registered");
    assert_eq!(data["id"], id.as_str());
    assert!(data.get("email").is_none(), "no private data on the bus");

    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&camille),
            Some(profile(&["69123"])),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "registering twice");
    assert_eq!(code(&problem), "ALREADY_EXISTS", "{problem}");

    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/facilitators/{id}/verify"),
            Some(&camille),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a facilitator cannot verify");
    let (status, body) = h
        .call(
            Method::POST,
            &format!("/v1/facilitators/{id}/verify"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "verified");
    assert_eq!(
        h.next_message().await.0,
        "facilitators.facilitator.verified"
    );

    let (status, body) = h
        .call(
            Method::POST,
            &format!("/v1/facilitators/{id}/suspend"),
            Some(&staff),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field(&body), "reason");
    let (status, body) = h
        .call(
            Method::POST,
            &format!("/v1/facilitators/{id}/suspend"),
            Some(&staff),
            Some(json!({"reason": "Contenu trompeur signalé"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "suspended");
    let (key, data) = h.next_message().await;
    assert_eq!(key, "facilitators.facilitator.suspended");
    assert!(
        data.get("reason").is_none(),
        "the reason stays with staff, off the bus"
    );

    // A suspended facilitator cannot act, and nothing changes.
    let (status, problem) = h
        .call(
            Method::PATCH,
            "/v1/facilitators/me",
            Some(&camille),
            Some(profile(&["75056"])),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&problem), "FACILITATOR_SUSPENDED", "{problem}");
    let (_, me) = h
        .call(Method::GET, "/v1/facilitators/me", Some(&camille), None)
        .await;
    assert_eq!(me["territories"], json!(["69123", "38"]));
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/venues",
            Some(&camille),
            Some(
                json!({"name": "Salle", "address": "1 rue", "postcode": "69001", "insee": "69123"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&problem), "FACILITATOR_SUSPENDED", "{problem}");
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/organisations",
            Some(&camille),
            Some(json!({"name": "Asso", "rna": "W691234567", "kind": "association", "address": "1 rue", "insee": "69123"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&problem), "FACILITATOR_SUSPENDED", "{problem}");

    for (decision, why) in [
        (
            "verify",
            "a suspension is lifted by reinstatement, not verification",
        ),
        ("suspend", "suspended already"),
    ] {
        let (status, problem) = h
            .call(
                Method::POST,
                &format!("/v1/facilitators/{id}/{decision}"),
                Some(&staff),
                Some(json!({"reason": "Encore"})),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{why}");
        assert_eq!(code(&problem), "INVALID_TRANSITION", "{why}: {problem}");
    }
    let (status, body) = h
        .call(
            Method::POST,
            &format!("/v1/facilitators/{id}/reinstate"),
            Some(&staff),
            Some(json!({"reason": "Signalement infondé"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "verified");
    assert_eq!(
        h.next_message().await.0,
        "facilitators.facilitator.reinstated"
    );
    for decision in ["verify", "reinstate"] {
        let (status, problem) = h
            .call(
                Method::POST,
                &format!("/v1/facilitators/{id}/{decision}"),
                Some(&staff),
                None,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "{decision} a verified facilitator"
        );
        assert_eq!(code(&problem), "INVALID_TRANSITION", "{problem}");
    }

    let (_, trail) = h
        .call(
            Method::GET,
            &format!("/v1/facilitators/{id}/audit"),
            Some(&staff),
            None,
        )
        .await;
    let actions: Vec<(&str, &str, Option<&str>)> = trail
        .as_array()
        .expect("trail")
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or(""),
                e["action"].as_str().unwrap_or(""),
                e["reason"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("cnnum", "verify", None),
            ("cnnum", "suspend", Some("Contenu trompeur signalé")),
            ("cnnum", "reinstate", Some("Signalement infondé")),
        ]
    );
    h.stop().await;
}

async fn verification_needs_the_facilitator_training(backend: Backend) {
    let mut h = start(backend).await;
    let mut p = profile(&["35238"]);
    p.as_object_mut()
        .expect("object")
        .remove("training_completed_on");
    let (_, me) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&h.token("erwan", Role::Facilitator, None)),
            Some(p),
        )
        .await;
    let _ = h.next_message().await;
    let id = me["id"].as_str().expect("id");
    let (status, body) = h
        .call(
            Method::POST,
            &format!("/v1/facilitators/{id}/verify"),
            Some(&h.token("s", Role::Staff, None)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field(&body), "training_completed_on");
    assert!(
        h.messages
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "nothing published"
    );
    h.stop().await;
}

async fn coordinators_act_only_in_their_territory(backend: Backend) {
    let mut h = start(backend).await;
    let (_, lyon) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&h.token("a", Role::Facilitator, None)),
            Some(profile(&["69123"])),
        )
        .await;
    let (_, rennes) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&h.token("b", Role::Facilitator, None)),
            Some(profile(&["35238"])),
        )
        .await;
    let (lyon, rennes) = (
        lyon["id"].as_str().expect("id").to_owned(),
        rennes["id"].as_str().expect("id").to_owned(),
    );
    let idf = h.token(
        "coord-idf",
        Role::Staff,
        Some(Territory::Region("11".into())),
    );
    let ara = h.token(
        "coord-ara",
        Role::Staff,
        Some(Territory::Region("84".into())),
    );
    let rhone = h.token(
        "coord-69",
        Role::Staff,
        Some(Territory::Departement("69".into())),
    );

    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/facilitators/{lyon}/verify"),
            Some(&idf),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "Île-de-France cannot verify in Rhône"
    );
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/facilitators/{rennes}/verify"),
            Some(&rhone),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/facilitators/{lyon}/verify"),
            Some(&ara),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, _) = h
        .call(Method::GET, "/v1/facilitators?region=53", Some(&ara), None)
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "asking outside the scope is refused"
    );
    let (_, page) = h
        .call(Method::GET, "/v1/facilitators", Some(&ara), None)
        .await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        vec![lyon.as_str()],
        "a coordinator's directory is their territory"
    );
    let (_, page) = h
        .call(
            Method::GET,
            "/v1/facilitators?status=pending",
            Some(&h.token("n", Role::Staff, None)),
            None,
        )
        .await;
    let ids: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert_eq!(ids, vec![rennes.as_str()]);
    let (_, near) = h
        .call(
            Method::GET,
            "/v1/facilitators?near=45.75,4.85&radius_km=10",
            Some(&h.token("n", Role::Staff, None)),
            None,
        )
        .await;
    assert_eq!(near["items"].as_array().map(Vec::len), Some(1));
    assert!(
        near["items"][0]["distance_km"]
            .as_f64()
            .is_some_and(|d| d < 10.0)
    );
    let (_, counts) = h
        .call(
            Method::GET,
            "/v1/facilitators/stats/departements",
            Some(&h.token("n", Role::Staff, None)),
            None,
        )
        .await;
    assert_eq!(
        counts,
        json!([
            {"departement": "35", "name": "Ille-et-Vilaine", "pending": 1, "verified": 0, "suspended": 0},
            {"departement": "69", "name": "Rhône", "pending": 0, "verified": 1, "suspended": 0},
        ])
    );
    let (status, _) = h
        .call(
            Method::GET,
            "/v1/facilitators",
            Some(&h.token("c", Role::Citizen, None)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for _ in 0..3 {
        let _ = h.next_message().await;
    }
    h.stop().await;
}

async fn bad_input_is_named_and_changes_nothing(backend: Backend) {
    let mut h = start(backend).await;
    let f = h.token("f", Role::Facilitator, None);
    let staff = h.token("s", Role::Staff, None);
    for (body, expected) in [
        (profile(&["99999"]), "territories[0]"),
        (
            {
                let mut p = profile(&["69123"]);
                p["kind"] = json!("sorcier");
                p
            },
            "kind",
        ),
        (
            {
                let mut p = profile(&["69123"]);
                p["email"] = json!("pas-une-adresse");
                p
            },
            "email",
        ),
        (
            {
                let mut p = profile(&["69123"]);
                p["languages"] = json!(["klingon"]);
                p
            },
            "languages[0]",
        ),
        (
            {
                let mut p = profile(&["69123"]);
                p["training_completed_on"] = json!("2031-01-01");
                p
            },
            "training_completed_on",
        ),
    ] {
        let (status, problem) = h
            .call(Method::POST, "/v1/facilitators/me", Some(&f), Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(field(&problem), expected, "{problem}");
    }
    let (status, _) = h
        .call(Method::GET, "/v1/facilitators/me", Some(&f), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was registered");

    let org = |siret: &str| json!({"name": "Médiathèque", "siret": siret, "kind": "mediatheque", "address": "1 rue", "insee": "69123"});
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/organisations",
            Some(&staff),
            Some(org("12345678901234")),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field(&problem), "siret");
    // The 14 digits' key holds, the SIREN's (their first nine) does not; zeros pass any sum.
    for invented in ["12345678901237", "00000000000000"] {
        let (status, problem) = h
            .call(
                Method::POST,
                "/v1/organisations",
                Some(&staff),
                Some(org(invented)),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{invented}: {problem}");
        assert_eq!(field(&problem), "siret");
    }
    let (status, problem) = h
        .call(Method::POST, "/v1/organisations", Some(&staff), Some(json!({"name": "Asso", "rna": "X12", "kind": "association", "address": "1 rue", "insee": "69123"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field(&problem), "rna");
    let (status, created) = h
        .call(
            Method::POST,
            "/v1/organisations",
            Some(&staff),
            Some(org("73282932000074")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/organisations",
            Some(&staff),
            Some(org("73 282 932 000 074")),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "same SIRET twice");
    assert_eq!(code(&problem), "ALREADY_EXISTS", "{problem}");
    let asso = json!({"name": "Asso", "rna": "W691234567", "kind": "association", "address": "1 rue", "insee": "69123"});
    let (status, _) = h
        .call(
            Method::POST,
            "/v1/organisations",
            Some(&staff),
            Some(asso.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, problem) = h
        .call(Method::POST, "/v1/organisations", Some(&staff), Some(asso))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "same RNA twice");
    assert_eq!(code(&problem), "ALREADY_EXISTS", "{problem}");

    let venue = |extra: Value| {
        let mut v = json!({"name": "Espace numérique", "address": "1 place Bellecour", "postcode": "69002", "insee": "69123"});
        for (k, x) in extra.as_object().expect("object") {
            v[k] = x.clone();
        }
        v
    };
    for (extra, expected) in [
        (json!({"latitude": 51.5, "longitude": -0.12}), "latitude"),
        (json!({"latitude": 43.6, "longitude": 1.44}), "latitude"),
        (
            json!({"opening_hours": "le mardi après-midi"}),
            "opening_hours",
        ),
        (json!({"postcode": "75001"}), "insee"),
        (
            json!({"accessibility": ["teleportation"]}),
            "accessibility[0]",
        ),
        (json!({"capacity": 0}), "capacity"),
    ] {
        let (status, problem) = h
            .call(Method::POST, "/v1/venues", Some(&staff), Some(venue(extra)))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(field(&problem), expected, "{problem}");
    }
    let (_, venues) = h.call(Method::GET, "/v1/venues", None, None).await;
    assert_eq!(venues["items"], json!([]), "no venue was created");
    let (status, ok) = h
        .call(Method::POST, "/v1/venues", Some(&staff), Some(venue(json!({"latitude": 45.7578, "longitude": 4.832, "opening_hours": "Mo-Fr 09:00-12:00,14:00-17:30", "accessibility": ["wheelchair"], "capacity": 20}))))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");
    let (key, data) = h.next_message().await;
    assert_eq!(key, "facilitators.venue.upserted");
    assert_eq!(data["insee"], "69123");
    let (status, page) = h
        .call(Method::GET, "/v1/venues?limit=1000", None, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    h.stop().await;
}

const CSV_HEADER: &str = "id,nom,commune,code_postal,code_insee,adresse,latitude,longitude,horaires,services,prise_en_charge_specifique,date_maj";

async fn venues_import_idempotently_and_round_trip(backend: Backend) {
    let mut h = start(backend).await;
    let staff = h.token("national", Role::Staff, None);
    let valid = format!(
        "{CSV_HEADER}\n\
         lieu-1,Médiathèque de la Part-Dieu,Lyon,69003,69123,30 boulevard Vivier-Merle,45.7605,4.8583,Tu-Sa 10:00-19:00,Accès internet|Comprendre l'IA,Handicaps moteurs|Surdité,2026-10-01\n\
         lieu-2,France Services de Guéret,Guéret,23000,23096,1 place Bonnyaud,,,Mo-Fr 08:30-12:30,Aide aux démarches,,2026-09-15\n\
         lieu-3,Cyber-base de Cayenne,Cayenne,97300,97302,12 avenue du Général-de-Gaulle,4.9372,-52.326,,Accès internet,,2026-09-01\n"
    );
    let (status, report) = h
        .raw(
            Method::POST,
            "/v1/venues/import?format=csv",
            &staff,
            "text/csv",
            valid.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["created"].as_u64(), report["rejected"].as_u64()),
        (Some(3), Some(0)),
        "{report}"
    );
    for _ in 0..3 {
        assert_eq!(h.next_message().await.0, "facilitators.venue.upserted");
    }
    let (_, again) = h
        .raw(
            Method::POST,
            "/v1/venues/import?format=csv",
            &staff,
            "text/csv",
            valid,
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
    assert!(
        h.messages
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "an identical import publishes nothing"
    );

    let partial = format!(
        "{CSV_HEADER}\n\
         lieu-1,Médiathèque de la Part-Dieu (rénovée),Lyon,69003,69123,30 boulevard Vivier-Merle,45.7605,4.8583,Tu-Sa 10:00-19:00,Accès internet|Comprendre l'IA,Handicaps moteurs|Surdité,2026-11-01\n\
         lieu-4,Lieu sans code postal valable,Nulle part,00000,,1 rue,,,,Accès internet,,2026-11-01\n\
         lieu-5,Horaires fantaisistes,Rennes,35000,35238,10 cours des Alliés,,,quand on peut,Accès internet,,2026-11-01\n\
         lieu-1,Doublon,Lyon,69003,69123,1 rue,,,,Accès internet,,2026-11-01\n\
         lieu-6,Espace numérique de Mamoudzou,Mamoudzou,97600,97611,Place Mariage,,,,Accès internet,,2026-11-01\n"
    );
    let (status, report) = h
        .raw(
            Method::POST,
            "/v1/venues/import?format=csv",
            &staff,
            "text/csv",
            partial,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["total"], 5);
    assert_eq!(
        (
            report["updated"].as_u64(),
            report["created"].as_u64(),
            report["rejected"].as_u64()
        ),
        (Some(1), Some(1), Some(3)),
        "{report}"
    );
    let problems: Vec<(u64, &str)> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap_or(0),
                e["field"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        problems,
        vec![(2, "postcode"), (3, "opening_hours"), (4, "id")]
    );

    let (status, _) = h
        .raw(
            Method::POST,
            "/v1/venues/import?format=csv",
            &staff,
            "text/csv",
            "nom,adresse\nx,y\n",
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a file without the standard's columns is refused whole"
    );
    let (status, _) = h
        .raw(
            Method::POST,
            "/v1/venues/import?format=csv",
            &h.token("coord", Role::Staff, Some(Territory::Region("84".into()))),
            "text/csv",
            "id\n",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Export, then import the export: nothing changes.
    let exported = h
        .http
        .get(format!("{}/v1/venues/export?format=json", h.base))
        .send()
        .await
        .expect("export");
    let exported = exported.text().await.expect("body");
    let lieux: Value = serde_json::from_str(&exported).expect("json");
    assert_eq!(lieux.as_array().map(Vec::len), Some(4));
    assert!(lieux[0].get("created_by").is_none());
    let (_, round) = h
        .raw(
            Method::POST,
            "/v1/venues/import?format=json",
            &staff,
            "application/json",
            exported,
        )
        .await;
    assert_eq!(
        (round["unchanged"].as_u64(), round["rejected"].as_u64()),
        (Some(4), Some(0)),
        "{round}"
    );
    let csv = h
        .http
        .get(format!("{}/v1/venues/export?format=csv", h.base))
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("csv");
    assert!(csv.starts_with("id,nom,commune,code_postal,code_insee"));
    let (_, round) = h
        .raw(
            Method::POST,
            "/v1/venues/import?format=csv",
            &staff,
            "text/csv",
            csv,
        )
        .await;
    assert_eq!(round["unchanged"].as_u64(), Some(4), "{round}");

    let (_, in_rhone) = h
        .call(Method::GET, "/v1/venues?departement=69", None, None)
        .await;
    assert_eq!(in_rhone["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        in_rhone["items"][0]["accessibility"],
        json!(["hearing_loop", "wheelchair"])
    );
    let (_, near_cayenne) = h
        .call(
            Method::GET,
            "/v1/venues?near=4.93,-52.33&radius_km=5",
            None,
            None,
        )
        .await;
    assert_eq!(near_cayenne["items"][0]["name"], "Cyber-base de Cayenne");
    // A radius out of range is refused even without a point to measure it from.
    for path in ["/v1/venues?radius_km=0", "/v1/venues?radius_km=501"] {
        let (status, problem) = h.call(Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {problem}");
        assert_eq!(
            problem["errors"][0]["field"], "radius_km",
            "{path}: {problem}"
        );
    }
    h.stop().await;
}

async fn a_facilitator_exports_and_erases_their_data(backend: Backend) {
    let mut h = start(backend).await;
    let f = h.token("lea", Role::Facilitator, None);
    let (_, me) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&f),
            Some(profile(&["13055"])),
        )
        .await;
    let id = me["id"].as_str().expect("id").to_owned();
    let _ = h.next_message().await;
    let (status, _) = h
        .call(
            Method::PATCH,
            "/v1/facilitators/me",
            Some(&f),
            Some(profile(&["13055", "84007"])),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (key, data) = h.next_message().await;
    assert_eq!(key, "facilitators.facilitator.updated");
    assert_eq!(
        data["departements"],
        json!(["13", "84"]),
        "replicas learn the new areas"
    );
    let (status, export) = h
        .call(Method::GET, "/v1/facilitators/me/export", Some(&f), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        export["profile"]["email"],
        "camille.martin@mediatheque.example.fr"
    );
    assert_eq!(export["account"]["sub"], "lea");

    let (status, _) = h
        .call(Method::DELETE, "/v1/facilitators/me", Some(&f), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (key, data) = h.next_message().await;
    assert_eq!(key, "facilitators.facilitator.erased");
    assert_eq!(data["id"], id.as_str());
    let (status, _) = h
        .call(Method::GET, "/v1/facilitators/me", Some(&f), None)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the account no longer leads to the person"
    );
    let (status, _) = h
        .call(
            Method::GET,
            &format!("/v1/facilitators/{id}"),
            Some(&h.token("s", Role::Staff, None)),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "erased people leave the directory"
    );
    h.stop().await;
}

async fn erasure_does_not_lift_a_suspension(backend: Backend) {
    let mut h = start(backend).await;
    let f = h.token("mallory", Role::Facilitator, None);
    let staff = h.token("s", Role::Staff, None);
    let (_, me) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&f),
            Some(profile(&["69123"])),
        )
        .await;
    let id = me["id"].as_str().expect("id").to_owned();
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/facilitators/{id}/suspend"),
            Some(&staff),
            Some(json!({"reason": "Fraude"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = h
        .call(Method::DELETE, "/v1/facilitators/me", Some(&f), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "erasure stays a right");
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&f),
            Some(profile(&["69123"])),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "registering again does not escape the suspension"
    );
    assert_eq!(code(&problem), "FACILITATOR_SUSPENDED", "{problem}");
    let coordinator = h.token("coord", Role::Staff, Some(Territory::Region("11".into())));
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/venues",
            Some(&coordinator),
            Some(
                json!({"name": "Salle", "address": "1 rue", "postcode": "69002", "insee": "69123"}),
            ),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a coordinator places venues in their own territory only"
    );
    assert_eq!(code(&problem), "FORBIDDEN", "{problem}");
    for _ in 0..3 {
        let _ = h.next_message().await;
    }
    h.stop().await;
}

async fn a_facilitator_lists_their_own_venues(backend: Backend) {
    let h = start(backend).await;
    let nadia = h.token("nadia", Role::Facilitator, None);
    let omar = h.token("omar", Role::Facilitator, None);
    let staff = h.token("s", Role::Staff, None);
    for who in [&nadia, &omar] {
        let (status, body) = h
            .call(
                Method::POST,
                "/v1/facilitators/me",
                Some(who),
                Some(profile(&["69123"])),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let venue = |name: &str, is_public: bool| json!({"name": name, "address": "1 place Bellecour", "postcode": "69002", "insee": "69123", "is_public": is_public});
    for (who, name, is_public) in [
        (&nadia, "Salle des fêtes", true),
        (&nadia, "Bureau de Nadia", false),
        (&omar, "Atelier d'Omar", true),
    ] {
        let (status, body) = h
            .call(
                Method::POST,
                "/v1/venues",
                Some(who),
                Some(venue(name, is_public)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, staff_venue) = h
        .call(
            Method::POST,
            "/v1/venues",
            Some(&staff),
            Some(venue("Salle de l'équipe", true)),
        )
        .await;
    assert_eq!(staff_venue["name"], "Salle de l'équipe");

    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|v| v["name"].as_str().map(str::to_owned))
            .collect()
    };
    let (status, mine) = h
        .call(
            Method::GET,
            "/v1/facilitators/me/venues",
            Some(&nadia),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(
        names(&mine),
        ["Salle des fêtes", "Bureau de Nadia"],
        "their own venues, private ones included, in creation order"
    );
    let (_, first) = h
        .call(
            Method::GET,
            "/v1/facilitators/me/venues?limit=1",
            Some(&nadia),
            None,
        )
        .await;
    assert_eq!(names(&first), ["Salle des fêtes"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, second) = h
        .call(
            Method::GET,
            &format!("/v1/facilitators/me/venues?limit=1&cursor={cursor}"),
            Some(&nadia),
            None,
        )
        .await;
    assert_eq!(names(&second), ["Bureau de Nadia"]);
    assert_eq!(second["next_cursor"], Value::Null);
    let (_, theirs) = h
        .call(Method::GET, "/v1/facilitators/me/venues", Some(&omar), None)
        .await;
    assert_eq!(names(&theirs), ["Atelier d'Omar"], "nobody else's");

    let (status, _) = h
        .call(
            Method::GET,
            "/v1/facilitators/me/venues",
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "facilitators only");
    let (status, _) = h
        .call(Method::GET, "/v1/facilitators/me/venues", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, problem) = h
        .call(
            Method::GET,
            "/v1/facilitators/me/venues?near=45.7,4.8",
            Some(&nadia),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    let (_, public) = h.call(Method::GET, "/v1/venues", None, None).await;
    assert!(
        !names(&public).contains(&"Bureau de Nadia".to_owned()),
        "a private venue stays out of the public list"
    );
    h.stop().await;
}

async fn batch_look_ups_show_what_single_look_ups_show(backend: Backend) {
    let h = start(backend).await;
    let nadia = h.token("nadia", Role::Facilitator, None);
    let omar = h.token("omar", Role::Facilitator, None);
    let staff = h.token("s", Role::Staff, None);
    let (_, organisation) = h
        .call(
            Method::POST,
            "/v1/organisations",
            Some(&staff),
            Some(json!({"name": "Médiathèque Jean-Macé", "siret": "73282932000074", "kind": "mediatheque", "address": "1 rue", "insee": "69123"})),
        )
        .await;
    let mut with_organisation = profile(&["69123"]);
    with_organisation["organisation_id"] = organisation["id"].clone();
    let (_, nadia_profile) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&nadia),
            Some(with_organisation),
        )
        .await;
    let (_, omar_profile) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&omar),
            Some(profile(&["35238"])),
        )
        .await;
    let venue = |name: &str, is_public: bool| json!({"name": name, "address": "1 place Bellecour", "postcode": "69002", "insee": "69123", "is_public": is_public});
    let (_, public) = h
        .call(
            Method::POST,
            "/v1/venues",
            Some(&nadia),
            Some(venue("Salle des fêtes", true)),
        )
        .await;
    let (_, private) = h
        .call(
            Method::POST,
            "/v1/venues",
            Some(&nadia),
            Some(venue("Bureau de Nadia", false)),
        )
        .await;
    let unknown = "0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b";
    let ids = format!(
        "{},{},{unknown},{}",
        public["id"].as_str().expect("id"),
        private["id"].as_str().expect("id"),
        public["id"].as_str().expect("id"),
    );
    let names = |list: &Value| -> Vec<String> {
        let mut names: Vec<String> = list
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|v| v["name"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        names
    };
    let path = format!("/v1/venues/batch?ids={ids}");
    for (who, expected, why) in [
        (None, vec!["Salle des fêtes"], "anyone sees the public one"),
        (
            Some(&omar),
            vec!["Salle des fêtes"],
            "another facilitator too",
        ),
        (
            Some(&nadia),
            vec!["Bureau de Nadia", "Salle des fêtes"],
            "its author sees the private one",
        ),
        (
            Some(&staff),
            vec!["Bureau de Nadia", "Salle des fêtes"],
            "staff too",
        ),
    ] {
        let (status, found) = h
            .call(Method::GET, &path, who.map(String::as_str), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(names(&found), expected, "{why}");
    }
    let (_, none) = h
        .call(Method::GET, "/v1/venues/batch?ids=", None, None)
        .await;
    assert_eq!(none, json!([]));
    let (status, problem) = h
        .call(Method::GET, "/v1/venues/batch?ids=pas-un-uuid", None, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field(&problem), "ids");
    let (status, problem) = h.call(Method::GET, "/v1/venues/batch", None, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "ids are required");
    assert_eq!(field(&problem), "ids", "{problem}");
    let too_many = (0..101)
        .map(|i| format!("0193a5b2-7c4d-7e8f-9a0b-{i:012}"))
        .collect::<Vec<_>>()
        .join(",");
    let (status, problem) = h
        .call(
            Method::GET,
            &format!("/v1/venues/batch?ids={too_many}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field(&problem), "ids");

    // Public profiles: for anyone, nothing private, erased people absent.
    let (nadia_id, omar_id) = (
        nadia_profile["id"].as_str().expect("id").to_owned(),
        omar_profile["id"].as_str().expect("id").to_owned(),
    );
    let profiles_path =
        format!("/v1/facilitators/profiles/batch?ids={nadia_id},{omar_id},{unknown}");
    let (status, profiles) = h.call(Method::GET, &profiles_path, None, None).await;
    assert_eq!(status, StatusCode::OK, "{profiles}");
    assert_eq!(
        profiles,
        json!([]),
        "pending facilitators have no public face yet (their names are not public)"
    );
    let (status, problem) = h
        .call(
            Method::GET,
            "/v1/facilitators/profiles/batch?ids=1,2",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field(&problem), "ids");
    h.stop().await;
}

async fn lists_count_their_whole_selection(backend: Backend) {
    let h = start(backend).await;
    let staff = h.token("s", Role::Staff, None);
    // Lyon, Villeurbanne, Vienne (38), Rennes: three within 40 km of Lyon.
    for (who, territory) in [
        ("a", "69123"),
        ("b", "69266"),
        ("c", "38544"),
        ("d", "35238"),
    ] {
        let (status, body) = h
            .call(
                Method::POST,
                "/v1/facilitators/me",
                Some(&h.token(who, Role::Facilitator, None)),
                Some(profile(&[territory])),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, page) = h
        .call(Method::GET, "/v1/facilitators?limit=2", Some(&staff), None)
        .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["total"], 4, "{page}");
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let (_, rest) = h
        .call(
            Method::GET,
            &format!("/v1/facilitators?limit=2&cursor={cursor}"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(
        (
            rest["items"].as_array().map(Vec::len),
            rest["total"].as_u64()
        ),
        (Some(2), Some(4)),
        "the total is the whole list's, on every page"
    );
    assert_eq!(rest["next_cursor"], Value::Null);
    let (_, rhone) = h
        .call(
            Method::GET,
            "/v1/facilitators?departement=69",
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(rhone["total"], 2, "the total follows the filters: {rhone}");

    // Nearest first, page by page: the pages follow each other, the total is within the radius.
    let near = "near=45.76,4.84&radius_km=40";
    let (_, first) = h
        .call(
            Method::GET,
            &format!("/v1/facilitators?{near}&limit=2"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(first["total"], 3, "{first}");
    let distances = |page: &Value| -> Vec<f64> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|f| f["distance_km"].as_f64())
            .collect()
    };
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, second) = h
        .call(
            Method::GET,
            &format!("/v1/facilitators?{near}&limit=2&cursor={cursor}"),
            Some(&staff),
            None,
        )
        .await;
    let mut all = distances(&first);
    all.extend(distances(&second));
    assert_eq!(all.len(), 3, "{first} {second}");
    assert!(
        all.windows(2).all(|w| w[0] <= w[1]),
        "nearest first: {all:?}"
    );
    assert_eq!(second["next_cursor"], Value::Null);
    let (status, problem) = h
        .call(
            Method::GET,
            &format!("/v1/facilitators?{near}&cursor=0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a cursor from no page of this list"
    );
    assert_eq!(field(&problem), "cursor");

    for (name, postcode, insee, is_public) in [
        ("Salle A", "69002", "69123", true),
        ("Salle B", "69002", "69123", true),
        ("Salle privée", "69002", "69123", false),
        ("Salle de Rennes", "35000", "35238", true),
    ] {
        let (status, body) = h
            .call(
                Method::POST,
                "/v1/venues",
                Some(&staff),
                Some(json!({"name": name, "address": "1 rue", "postcode": postcode, "insee": insee, "is_public": is_public})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, venues) = h.call(Method::GET, "/v1/venues?limit=1", None, None).await;
    assert_eq!(venues["total"], 3, "public venues only: {venues}");
    let (_, lyon) = h
        .call(Method::GET, "/v1/venues?commune=69123", None, None)
        .await;
    assert_eq!(lyon["total"], 2);
    let (_, near_lyon) = h
        .call(
            Method::GET,
            "/v1/venues?near=45.76,4.84&radius_km=20&limit=1",
            None,
            None,
        )
        .await;
    assert_eq!(
        (
            near_lyon["total"].as_u64(),
            near_lyon["items"].as_array().map(Vec::len)
        ),
        (Some(2), Some(1)),
        "{near_lyon}"
    );
    assert!(near_lyon["next_cursor"].is_string());

    for (siret, insee) in [("73282932000074", "69123"), ("13002526500013", "35238")] {
        let (status, body) = h
            .call(
                Method::POST,
                "/v1/organisations",
                Some(&staff),
                Some(json!({"name": "Structure", "siret": siret, "kind": "mediatheque", "address": "1 rue", "insee": insee})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, organisations) = h
        .call(Method::GET, "/v1/organisations?limit=1", None, None)
        .await;
    assert_eq!(organisations["total"], 2, "{organisations}");
    let (_, in_35) = h
        .call(Method::GET, "/v1/organisations?departement=35", None, None)
        .await;
    assert_eq!(in_35["total"], 1);

    let facilitator = h.token("a", Role::Facilitator, None);
    let (status, body) = h
        .call(
            Method::POST,
            "/v1/venues",
            Some(&facilitator),
            Some(json!({"name": "Ma salle", "address": "1 rue", "postcode": "69002", "insee": "69123", "is_public": false})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, mine) = h
        .call(
            Method::GET,
            "/v1/facilitators/me/venues",
            Some(&facilitator),
            None,
        )
        .await;
    assert_eq!(mine["total"], 1, "{mine}");
    h.stop().await;
}

async fn query_errors_name_the_parameter(backend: Backend) {
    let h = start(backend).await;
    let staff = h.token("s", Role::Staff, None);
    let (status, problem) = h
        .call(
            Method::GET,
            "/v1/facilitators?status=archived",
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field(&problem), "status", "{problem}");
    let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("pending") && message.contains("suspended"),
        "the allowed values are listed: {problem}"
    );
    let (status, problem) = h
        .call(Method::GET, "/v1/venues?limit=beaucoup", None, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field(&problem), "limit", "{problem}");
    let (status, problem) = h
        .call(Method::GET, "/v1/organisations?page=2", None, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        field(&problem),
        "page",
        "an unknown parameter is named: {problem}"
    );
    let (status, problem) = h
        .call(Method::GET, "/v1/venues/export?format=xml", None, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field(&problem), "format", "{problem}");
    h.stop().await;
}

backend_matrix!(
    erasure_does_not_lift_a_suspension,
    registration_verification_suspension_reinstatement,
    verification_needs_the_facilitator_training,
    coordinators_act_only_in_their_territory,
    bad_input_is_named_and_changes_nothing,
    venues_import_idempotently_and_round_trip,
    a_facilitator_exports_and_erases_their_data,
    a_facilitator_lists_their_own_venues,
    batch_look_ups_show_what_single_look_ups_show,
    lists_count_their_whole_selection,
    query_errors_name_the_parameter,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gazetteer_lookups_over_rest() {
    let h = start(Backend::Embedded).await;
    let (status, communes) = h
        .call(Method::GET, "/v1/territories/postcodes/69001", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = communes
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["insee"].as_str())
        .collect();
    assert!(
        names.contains(&"69123") && names.contains(&"69381"),
        "{names:?}"
    );
    let (_, reunion) = h
        .call(Method::GET, "/v1/territories/communes/97411", None, None)
        .await;
    assert_eq!(reunion["name"], "Saint-Denis");
    assert_eq!(reunion["region_name"], "La Réunion");
    assert!(reunion["population"].as_u64().is_some_and(|p| p > 100_000));
    let (status, _) = h
        .call(Method::GET, "/v1/territories/postcodes/6900", None, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h
        .call(Method::GET, "/v1/territories/communes/00000", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_matches_the_routes() {
    let h = start(Backend::Embedded).await;
    h.assert_openapi_matches(&cafeia_facilitators_api::paths::ALL)
        .await;
    // Handlers read their query strings with the platform's `Query`, which utoipa does not
    // see through: every parameter must still be documented (`params(…)` names them).
    let (_, doc) = h.call(Method::GET, "/openapi.json", None, None).await;
    for (path, expected) in [
        (
            "/v1/facilitators",
            &[
                "departement",
                "region",
                "status",
                "kind",
                "near",
                "radius_km",
                "cursor",
                "limit",
            ][..],
        ),
        ("/v1/facilitators/me/venues", &["cursor", "limit"]),
        ("/v1/facilitators/profiles/batch", &["ids"]),
        ("/v1/organisations", &["departement", "cursor", "limit"]),
        (
            "/v1/venues",
            &[
                "commune",
                "departement",
                "near",
                "radius_km",
                "cursor",
                "limit",
            ],
        ),
        ("/v1/venues/batch", &["ids"]),
        ("/v1/venues/export", &["format"]),
    ] {
        let mut names: Vec<&str> = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} lists no parameters"))
            .iter()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect();
        names.sort_unstable();
        let mut expected = expected.to_vec();
        expected.sort_unstable();
        assert_eq!(names, expected, "{path}");
    }
    let import = &doc["paths"]["/v1/venues/import"]["post"]["parameters"];
    assert_eq!(import[0]["name"], "format", "{import}");
    h.stop().await;
}

#[test]
fn every_message_type_has_a_contract() {
    cafeia_testkit::contracts::assert_every_type_has_a_contract(
        &cafeia_facilitators::messages::ALL,
    );
}
