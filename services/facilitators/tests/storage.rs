//! Typed storage, on both backend sets: a value the code does not know, written behind its
//! back, fails the reads of its row (and only those) instead of reading as a default; the
//! tables' foreign keys refuse dangling references, and the migration that adds them keeps the
//! rows already there.

use cafeia_facilitators::{
    domain::{Accessibility, FacilitatorKind, FacilitatorStatus, OrganisationKind},
    storage::{JsonText, Migrator, area, facilitator, organisation, unreadable, venue},
};
use cafeia_platform::{audit::Actor, auth::Role};
use cafeia_testkit::{Backend, TestEnv, backend_matrix, service::ServiceHarness};
use chrono::Utc;
use reqwest::{Method, StatusCode};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, SqlErr, Statement,
};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use uuid::Uuid;

async fn start(backend: Backend) -> ServiceHarness {
    ServiceHarness::start::<cafeia_facilitators::Facilitators>(backend, &["facilitators.#"]).await
}

async fn connect(h: &ServiceHarness) -> DatabaseConnection {
    cafeia_platform::db::connect(&h.env.database_url(), 2)
        .await
        .expect("database")
}

fn profile(organisation_id: Option<&Value>) -> Value {
    json!({
        "display_name": "Camille Martin",
        "email": "camille@mediatheque.example.fr",
        "kind": "mediateur_numerique",
        "territories": ["69123"],
        "topics": ["what_is_ai", "generative_ai"],
        "languages": ["fr"],
        "training_completed_on": "2026-03-12",
        "organisation_id": organisation_id,
    })
}

fn organisation_input(rna: &str) -> Value {
    json!({"name": "Association Numérique", "rna": rna, "kind": "association", "address": "1 rue", "insee": "69123"})
}

fn venue_input(name: &str) -> Value {
    json!({"name": name, "address": "1 place Bellecour", "postcode": "69002", "insee": "69123", "is_public": true, "accessibility": ["wheelchair", "lsf"], "services": ["Atelier IA"], "publics": ["Seniors"]})
}

/// The created resource's id, after checking it was created.
fn created(status: StatusCode, body: &Value) -> String {
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().expect("id").to_owned()
}

/// Why reading `table` where `row` fails, as logged: the internal error's cause.
async fn read_failure(db: &DatabaseConnection, table: &'static str, row: &str) -> String {
    let sql = format!("SELECT id FROM {table} WHERE {row}");
    let id: Uuid = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("the row")
        .try_get_by_index(0)
        .expect("its id");
    let error = match table {
        "facilitator" => facilitator::Entity::find_by_id(id)
            .one(db)
            .await
            .map(|_| ())
            .map_err(unreadable(table)),
        "organisation" => organisation::Entity::find_by_id(id)
            .one(db)
            .await
            .map(|_| ())
            .map_err(unreadable(table)),
        _ => venue::Entity::find_by_id(id)
            .one(db)
            .await
            .map(|_| ())
            .map_err(unreadable(table)),
    }
    .expect_err("the damaged row is not read");
    std::error::Error::source(&error)
        .map(ToString::to_string)
        .unwrap_or_default()
}

async fn unknown_stored_values_fail_the_reads_of_their_row(backend: Backend) {
    let h = start(backend).await;
    let staff = h.token("cnnum", Role::Staff, None);
    let camille = h.token("camille", Role::Facilitator, None);
    let dominique = h.token("dominique", Role::Facilitator, None);
    let (status, body) = h
        .call(
            Method::POST,
            "/v1/organisations",
            Some(&staff),
            Some(organisation_input("W691000001")),
        )
        .await;
    let first_org = created(status, &body);
    let (status, body) = h
        .call(
            Method::POST,
            "/v1/organisations",
            Some(&staff),
            Some(organisation_input("W691000002")),
        )
        .await;
    let second_org = created(status, &body);
    // Two facilitators and two venues alike, so a damaged column is repaired from its twin.
    let mut facilitators = Vec::new();
    for token in [&camille, &dominique] {
        let (status, body) = h
            .call(
                Method::POST,
                "/v1/facilitators/me",
                Some(token),
                Some(profile(Some(&json!(first_org)))),
            )
            .await;
        facilitators.push(created(status, &body));
    }
    let mut venues = Vec::new();
    for name in ["Salle A", "Salle B"] {
        let (status, body) = h
            .call(
                Method::POST,
                "/v1/venues",
                Some(&staff),
                Some(venue_input(name)),
            )
            .await;
        venues.push(created(status, &body));
    }
    let db = connect(&h).await;

    // (table, damaged column, what is written, which row, its twin, the damaged and the sound
    // row's URLs, what the logged cause names besides the table)
    let facilitator_urls = (
        format!("/v1/facilitators/{}", facilitators[0]),
        format!("/v1/facilitators/{}", facilitators[1]),
    );
    let organisation_urls = (
        format!("/v1/organisations/{first_org}"),
        format!("/v1/organisations/{second_org}"),
    );
    let venue_urls = (
        format!("/v1/venues/{}", venues[0]),
        format!("/v1/venues/{}", venues[1]),
    );
    let cases = [
        ("facilitator", "status", "'banned'", "FacilitatorStatus"),
        ("facilitator", "kind", "'astronaut'", "FacilitatorKind"),
        ("facilitator", "topics", "'what_is_ai'", "column topics"),
        ("facilitator", "languages", "'[1]'", "column languages"),
        ("facilitator", "territories", "'null'", "column territories"),
        ("organisation", "kind", "'castle'", "OrganisationKind"),
        (
            "venue",
            "accessibility",
            "'[\"teleporter\"]'",
            "column accessibility",
        ),
        ("venue", "services", "'{\"a\": 1}'", "column services"),
        ("venue", "publics", "''", "column publics"),
    ];
    for (table, column, bad, named) in cases {
        let (row, twin, urls, token) = match table {
            "facilitator" => (
                "sub = 'camille'",
                "sub = 'dominique'",
                &facilitator_urls,
                &staff,
            ),
            "organisation" => (
                "rna = 'W691000001'",
                "rna = 'W691000002'",
                &organisation_urls,
                &staff,
            ),
            _ => ("name = 'Salle A'", "name = 'Salle B'", &venue_urls, &staff),
        };
        db.execute_unprepared(&format!("UPDATE {table} SET {column} = {bad} WHERE {row}"))
            .await
            .expect("bad value written");

        let (status, problem) = h.call(Method::GET, &urls.0, Some(token), None).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, Some("INTERNAL")),
            "{table}.{column} = {bad}: {problem}"
        );
        let (status, sound) = h.call(Method::GET, &urls.1, Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "the other row still reads: {sound}");
        let cause = read_failure(&db, table, row).await;
        assert!(
            cause.contains(&format!("table {table}")) && cause.contains(named),
            "{table}.{column}: {cause}"
        );

        db.execute_unprepared(&format!(
            "UPDATE {table} SET {column} = (SELECT {column} FROM {table} WHERE {twin}) WHERE {row}"
        ))
        .await
        .expect("repaired");
        let (status, body) = h.call(Method::GET, &urls.0, Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "repaired {table}.{column}: {body}");
    }

    // A damaged row fails the lists it is in, and the person's own reads, as an internal error.
    db.execute_unprepared("UPDATE facilitator SET status = 'banned' WHERE sub = 'camille'")
        .await
        .expect("bad value written");
    for (url, token) in [
        ("/v1/facilitators", &staff),
        ("/v1/facilitators/me", &camille),
        ("/v1/facilitators/stats/departements", &staff),
    ] {
        let (status, problem) = h.call(Method::GET, url, Some(token), None).await;
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{url}: {problem}"
        );
        assert_eq!(problem["code"], "INTERNAL", "{url}: {problem}");
    }
    let (status, me) = h
        .call(Method::GET, "/v1/facilitators/me", Some(&dominique), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["status"], "pending");
    assert_eq!(me["kind"], "mediateur_numerique");
    assert_eq!(me["topics"], json!(["generative_ai", "what_is_ai"]));
    let (_, venue) = h.call(Method::GET, &venue_urls.0, None, None).await;
    assert_eq!(venue["accessibility"], json!(["lsf", "wheelchair"]));
    let (_, organisation) = h.call(Method::GET, &organisation_urls.0, None, None).await;
    assert_eq!(organisation["kind"], "association");
    h.stop().await;
}

async fn references_to_missing_rows_are_refused(backend: Backend) {
    let h = start(backend).await;
    let staff = h.token("cnnum", Role::Staff, None);
    let camille = h.token("camille", Role::Facilitator, None);
    let unknown = json!(Uuid::now_v7());

    // Through the API, an unknown organisation is the caller's mistake, named.
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&camille),
            Some(profile(Some(&unknown))),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "organisation_id");
    let mut input = venue_input("Salle A");
    input["organisation_id"] = unknown.clone();
    let (status, problem) = h
        .call(Method::POST, "/v1/venues", Some(&staff), Some(input))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "organisation_id");

    let (status, body) = h
        .call(
            Method::POST,
            "/v1/organisations",
            Some(&staff),
            Some(organisation_input("W691000001")),
        )
        .await;
    let org = created(status, &body);
    let (status, body) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&camille),
            Some(profile(Some(&json!(org)))),
        )
        .await;
    let camille_id = created(status, &body);
    let mut input = venue_input("Salle A");
    input["organisation_id"] = json!(org);
    let (status, body) = h
        .call(Method::POST, "/v1/venues", Some(&camille), Some(input))
        .await;
    let venue_id = created(status, &body);
    let (status, body) = h
        .call(
            Method::POST,
            &format!("/v1/facilitators/{camille_id}/verify"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Behind the API, the database refuses what would dangle.
    let db = connect(&h).await;
    let org: Uuid = org.parse().expect("uuid");
    let camille_id: Uuid = camille_id.parse().expect("uuid");
    let refused = |result: Result<(), sea_orm::DbErr>, what: &str| match result {
        Err(e) => assert!(
            matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))),
            "{what}: {e}"
        ),
        Ok(()) => panic!("{what}: accepted"),
    };
    refused(
        area::ActiveModel {
            facilitator_id: Set(Uuid::now_v7()),
            departement: Set("69".into()),
            region: Set("84".into()),
        }
        .insert(&db)
        .await
        .map(|_| ()),
        "an area of no facilitator",
    );
    refused(
        facilitator_row(Uuid::now_v7(), "someone", Some(Uuid::now_v7()))
            .insert(&db)
            .await
            .map(|_| ()),
        "a facilitator of no organisation",
    );
    refused(
        venue_row(Uuid::now_v7(), Some(Uuid::now_v7()))
            .insert(&db)
            .await
            .map(|_| ()),
        "a venue of no organisation",
    );
    refused(
        cafeia_platform::audit::record(
            &db,
            Actor::staff("cnnum"),
            "verify",
            "facilitator",
            Uuid::now_v7(),
            None,
        )
        .await,
        "a decision on no facilitator",
    );
    cafeia_platform::audit::record(
        &db,
        Actor::staff("cnnum"),
        "venue_removed",
        "venue",
        Uuid::now_v7(),
        None,
    )
    .await
    .expect("the log outlives the venues it names");
    refused(
        organisation::Entity::delete_by_id(org)
            .exec(&db)
            .await
            .map(|_| ()),
        "deleting an organisation with members",
    );
    refused(
        facilitator::Entity::delete_by_id(camille_id)
            .exec(&db)
            .await
            .map(|_| ()),
        "deleting a facilitator with a history",
    );
    // Areas go with their facilitator (nothing deletes one today, erasure keeps the row).
    let loner = Uuid::now_v7();
    facilitator_row(loner, "loner", None)
        .insert(&db)
        .await
        .expect("a facilitator");
    area::ActiveModel {
        facilitator_id: Set(loner),
        departement: Set("69".into()),
        region: Set("84".into()),
    }
    .insert(&db)
    .await
    .expect("their area");
    facilitator::Entity::delete_by_id(loner)
        .exec(&db)
        .await
        .expect("deleted");
    let left = area::Entity::find()
        .filter(area::Column::FacilitatorId.eq(loner))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(left, 0, "the areas went with the facilitator");

    // Erasure blanks the row the keys point at, and a venue goes with its log entries kept.
    let (status, body) = h
        .call(
            Method::DELETE,
            &format!("/v1/venues/{venue_id}"),
            Some(&camille),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = h
        .call(Method::DELETE, "/v1/facilitators/me", Some(&camille), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let erased = facilitator::Entity::find_by_id(camille_id)
        .one(&db)
        .await
        .expect("read")
        .expect("the anonymous record is kept");
    assert!(erased.erased_at.is_some() && erased.display_name.is_empty());
    assert_eq!(erased.organisation_id, Some(org));
    assert_eq!(erased.status, FacilitatorStatus::Verified);
    h.stop().await;
}

fn facilitator_row(id: Uuid, sub: &str, organisation_id: Option<Uuid>) -> facilitator::ActiveModel {
    let now = Utc::now();
    facilitator::ActiveModel {
        id: Set(id),
        sub: Set(sub.into()),
        display_name: Set("Dominique".into()),
        email: Set(None),
        kind: Set(FacilitatorKind::Benevole),
        organisation_id: Set(organisation_id),
        territories: Set(JsonText(vec!["69123".into()])),
        topics: Set(JsonText(vec!["what_is_ai".into()])),
        languages: Set(JsonText(vec!["fr".into()])),
        training_completed_on: Set(None),
        status: Set(FacilitatorStatus::Pending),
        status_reason: Set(None),
        lat: Set(None),
        lon: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        erased_at: Set(None),
    }
}

fn venue_row(id: Uuid, organisation_id: Option<Uuid>) -> venue::ActiveModel {
    let now = Utc::now();
    venue::ActiveModel {
        id: Set(id),
        source_id: Set(None),
        name: Set("Salle".into()),
        address: Set("1 place Bellecour".into()),
        postcode: Set("69002".into()),
        insee: Set("69123".into()),
        departement: Set("69".into()),
        region: Set("84".into()),
        lat: Set(45.757),
        lon: Set(4.832),
        opening_hours: Set(None),
        accessibility: Set(JsonText(vec![Accessibility::Wheelchair])),
        capacity: Set(None),
        services: Set(JsonText(Vec::new())),
        publics: Set(JsonText(Vec::new())),
        is_public: Set(true),
        organisation_id: Set(organisation_id),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

async fn index_exists(db: &DatabaseConnection, name: &str) -> bool {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            format!("SELECT name FROM sqlite_master WHERE type = 'index' AND name = '{name}'")
        }
        _ => format!("SELECT indexname FROM pg_indexes WHERE indexname = '{name}'"),
    };
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .is_some()
}

/// How many migrations come before the one named `name`.
fn migrations_before(name: &str) -> u32 {
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no migration {name}"));
    u32::try_from(position).expect("few migrations")
}

async fn the_foreign_keys_migration_keeps_the_rows_already_there(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let db = cafeia_platform::db::connect(&env.database_url(), 2)
        .await
        .expect("database");
    // The database as it stood before the foreign keys, holding rows of every table.
    let before_keys = migrations_before("m20261126_000102_facilitator_network_foreign_keys");
    Migrator::up(&db, Some(before_keys))
        .await
        .expect("earlier migrations");
    let org = Uuid::now_v7();
    organisation::ActiveModel {
        id: Set(org),
        name: Set("Médiathèque".into()),
        siret: Set(None),
        rna: Set(Some("W691000001".into())),
        kind: Set(OrganisationKind::Mediatheque),
        address: Set("1 rue".into()),
        insee: Set("69123".into()),
        departement: Set("69".into()),
        region: Set("84".into()),
        created_by: Set("cnnum".into()),
        created_at: Set(Utc::now()),
    }
    .insert(&db)
    .await
    .expect("organisation");
    let member = Uuid::now_v7();
    facilitator_row(member, "camille", Some(org))
        .insert(&db)
        .await
        .expect("facilitator");
    area::ActiveModel {
        facilitator_id: Set(member),
        departement: Set("69".into()),
        region: Set("84".into()),
    }
    .insert(&db)
    .await
    .expect("area");
    let (kept, stray) = (Uuid::now_v7(), Uuid::now_v7());
    venue_row(kept, Some(org)).insert(&db).await.expect("venue");
    // Venues took any organisation id until the keys: this one names none.
    let mut stray_row = venue_row(stray, Some(Uuid::now_v7()));
    stray_row.source_id = Set(Some("import-1".into()));
    stray_row.insert(&db).await.expect("stray venue");
    cafeia_platform::audit::record(
        &db,
        Actor::staff("cnnum"),
        "verify",
        "facilitator",
        member,
        None,
    )
    .await
    .expect("decision logged");
    cafeia_platform::audit::record(
        &db,
        Actor::staff("cnnum"),
        "venue_removed",
        "venue",
        Uuid::now_v7(),
        None,
    )
    .await
    .expect("removal logged");

    Migrator::up(&db, None).await.expect("the foreign keys");

    let stored = facilitator::Entity::find_by_id(member)
        .one(&db)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(stored.organisation_id, Some(org));
    assert_eq!(stored.kind, FacilitatorKind::Benevole);
    assert_eq!(stored.topics, JsonText(vec!["what_is_ai".to_owned()]));
    assert_eq!(area::Entity::find().count(&db).await.expect("count"), 1);
    let venues: Vec<(Uuid, Option<Uuid>)> = venue::Entity::find()
        .all(&db)
        .await
        .expect("read")
        .into_iter()
        .map(|v| (v.id, v.organisation_id))
        .collect();
    assert!(venues.contains(&(kept, Some(org))), "{venues:?}");
    assert!(
        venues.contains(&(stray, None)),
        "the stray link is cleared: {venues:?}"
    );
    let trail = cafeia_platform::audit::trail(&db, member)
        .await
        .expect("trail");
    assert_eq!(trail.len(), 1);
    for index in [
        "idx_area_departement",
        "idx_area_region",
        "idx_venue_departement",
        "idx_venue_insee",
        "idx_venue_lat",
        "idx_audit_subject",
    ] {
        assert!(index_exists(&db, index).await, "{index} kept");
    }
    // Unique columns stay unique, and the keys hold.
    let twice = facilitator_row(Uuid::now_v7(), "camille", None)
        .insert(&db)
        .await
        .expect_err("a second camille");
    assert!(
        matches!(twice.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
        "{twice}"
    );
    let mut same_source = venue_row(Uuid::now_v7(), None);
    same_source.source_id = Set(Some("import-1".into()));
    let twice = same_source
        .insert(&db)
        .await
        .expect_err("a source id twice");
    assert!(
        matches!(twice.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
        "{twice}"
    );
    let dangling = area::ActiveModel {
        facilitator_id: Set(Uuid::now_v7()),
        departement: Set("69".into()),
        region: Set("84".into()),
    }
    .insert(&db)
    .await
    .expect_err("an area of no facilitator");
    assert!(
        matches!(
            dangling.sql_err(),
            Some(SqlErr::ForeignKeyConstraintViolation(_))
        ),
        "{dangling}"
    );
}

backend_matrix!(
    unknown_stored_values_fail_the_reads_of_their_row,
    references_to_missing_rows_are_refused,
    the_foreign_keys_migration_keeps_the_rows_already_there,
);
