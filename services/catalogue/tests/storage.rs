//! Typed storage, on both backend sets: a stored value this service never writes fails the read
//! (500 `INTERNAL`, the cause naming its table and column, the other rows still readable), the
//! tables refuse dangling references, and the migration adding the keys keeps rows and indexes.

use cafeia_catalogue::{
    Catalogue,
    domain::{Enrolment, Format, Level, Pace, ProviderKind, ReviewStatus},
    storage::{Migrator, Rows, module, place, provider, session, training},
};
use cafeia_platform::auth::Role;
use cafeia_testkit::{Backend, TestEnv, backend_matrix, service::ServiceHarness};
use chrono::{DateTime, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, DbErr, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter, SqlErr, Statement,
};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use uuid::Uuid;

const SIRET: &str = "73282932000074";

fn programme(title: &str, places: &[&str]) -> Value {
    let sessions: Vec<Value> = places
        .iter()
        .map(|insee| {
            json!({"start_date": "2027-01-12", "end_date": "2027-01-12", "enrolment": "open",
                   "insee": if places.len() > 1 { json!(insee) } else { Value::Null }})
        })
        .collect();
    json!({
        "provider_siret": SIRET,
        "title": title,
        "summary": "Découvrir ce qu'est l'intelligence artificielle, sans prérequis.",
        "objectives": "Comprendre les notions de base de l'IA et ses usages quotidiens.",
        "level": "discovery",
        "audiences": ["general_public", "seniors"],
        "format": "in_person",
        "pace": "scheduled",
        "duration_hours": 3,
        "free": true,
        "languages": ["fr"],
        "accessibility": ["disabled_access"],
        "topics": ["what_is_ai"],
        "places": places,
        "sessions": sessions,
    })
}

/// A published programme's id.
async fn published(h: &mut ServiceHarness, body: Value) -> String {
    let staff = h.token("staff", Role::Staff, None);
    let (status, created) = h
        .call(Method::POST, "/v1/trainings", Some(&staff), Some(body))
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
    assert_eq!(h.next_message().await.0, "catalogue.training.published");
    id
}

/// A service with a provider, two published programmes (`Bonne`, `Victime`) and a module.
async fn catalogue(backend: Backend) -> (ServiceHarness, DatabaseConnection) {
    let mut h = ServiceHarness::start::<Catalogue>(backend, &["catalogue.#"]).await;
    let staff = h.token("staff", Role::Staff, None);
    let (status, body) = h
        .call(
            Method::POST,
            "/v1/providers",
            Some(&staff),
            Some(
                json!({"siret": SIRET, "name": "Association IA pour tous", "kind": "association"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    published(&mut h, programme("Bonne", &["69123"])).await;
    published(&mut h, programme("Victime", &["69123", "75056"])).await;
    let (status, body) = h
        .call(
            Method::POST,
            "/v1/modules",
            Some(&staff),
            Some(json!({
                "title": "Atelier victime",
                "summary": "Un atelier de 45 minutes pour apprendre à repérer les images générées.",
                "duration_minutes": 45,
                "level": "discovery",
                "audiences": ["general_public"],
                "topics": ["misinformation_deepfakes"],
                "licence": "CC BY-SA 4.0",
                "resources": ["https://ressources.exemple.fr/images-generees.pdf"],
                "version": "1.0",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let db = cafeia_platform::db::connect(&h.env.database_url(), 2)
        .await
        .expect("database");
    (h, db)
}

async fn text(db: &DatabaseConnection, sql: &str) -> String {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row")
        .try_get_by_index::<String>(0)
        .expect("text")
}

/// The cause a failed read logs.
fn cause<T: std::fmt::Debug>(read: Result<T, DbErr>) -> String {
    read.expect_err("the bad row fails the read").to_string()
}

async fn unknown_stored_values_fail_the_read(backend: Backend) {
    let (h, db) = catalogue(backend).await;
    let staff = h.token("staff", Role::Staff, None);
    let (_, list) = h.call(Method::GET, "/v1/trainings", None, None).await;
    let id_of = |title: &str| {
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|t| t["title"] == title)
            .and_then(|t| t["id"].as_str())
            .expect("listed")
            .to_owned()
    };
    let (good, victim) = (id_of("Bonne"), id_of("Victime"));
    let module_id = {
        let m = module::Entity::find()
            .filter(module::Column::Title.eq("Atelier victime"))
            .rows(&db)
            .await
            .expect("modules");
        m[0].id
    };
    let provider_id = list["items"][0]["provider_id"]
        .as_str()
        .expect("provider")
        .to_owned();
    let victim_training = "title = 'Victime'";
    let victim_sessions = "training_id IN (SELECT id FROM training WHERE title = 'Victime')";
    // (table, column, bad value, rows, what the logged cause names, the path that reads it)
    let cases = [
        (
            "training",
            "status",
            "'archived'",
            victim_training,
            "ReviewStatus",
            format!("/v1/trainings/{victim}"),
        ),
        (
            "training",
            "level",
            "'expert'",
            victim_training,
            "Level",
            format!("/v1/trainings/{victim}"),
        ),
        (
            "training",
            "format",
            "'telepathy'",
            victim_training,
            "Format",
            format!("/v1/trainings/{victim}"),
        ),
        (
            "training",
            "pace",
            "'whenever'",
            victim_training,
            "Pace",
            format!("/v1/trainings/{victim}"),
        ),
        (
            "training",
            "audiences",
            "'[\"martians\"]'",
            victim_training,
            "column audiences",
            format!("/v1/trainings/{victim}"),
        ),
        (
            "training",
            "funding",
            "'not json'",
            victim_training,
            "column funding",
            format!("/v1/trainings/{victim}"),
        ),
        (
            "training",
            "accessibility",
            "'[\"ramp\"]'",
            victim_training,
            "column accessibility",
            format!("/v1/trainings/{victim}"),
        ),
        (
            "training",
            "languages",
            "'[1]'",
            victim_training,
            "column languages",
            format!("/v1/trainings/{victim}"),
        ),
        (
            "training",
            "topics",
            "'{}'",
            victim_training,
            "column topics",
            format!("/v1/trainings/{victim}"),
        ),
        (
            "training_session",
            "enrolment",
            "'maybe'",
            victim_sessions,
            "Enrolment",
            format!("/v1/trainings/{victim}"),
        ),
        (
            "provider",
            "kind",
            "'guild'",
            "1 = 1",
            "ProviderKind",
            format!("/v1/providers/{provider_id}"),
        ),
        (
            "educational_module",
            "level",
            "'expert'",
            "title = 'Atelier victime'",
            "Level",
            format!("/v1/modules/{module_id}"),
        ),
        (
            "educational_module",
            "status",
            "'lost'",
            "title = 'Atelier victime'",
            "ReviewStatus",
            format!("/v1/modules/{module_id}"),
        ),
        (
            "educational_module",
            "audiences",
            "''",
            "title = 'Atelier victime'",
            "column audiences",
            format!("/v1/modules/{module_id}"),
        ),
        (
            "educational_module",
            "resources",
            "'[null]'",
            "title = 'Atelier victime'",
            "column resources",
            format!("/v1/modules/{module_id}"),
        ),
    ];
    for (table, column, bad, rows, named, path) in cases {
        let was = text(
            &db,
            &format!("SELECT {column} FROM {table} WHERE {rows} LIMIT 1"),
        )
        .await;
        db.execute_unprepared(&format!("UPDATE {table} SET {column} = {bad} WHERE {rows}"))
            .await
            .expect("bad value written");
        // What is logged names the table and the column or its enum.
        let logged = match table {
            "training" => cause(training::Entity::find().rows(&db).await),
            "training_session" => cause(session::Entity::find().rows(&db).await),
            "provider" => cause(provider::Entity::find().rows(&db).await),
            _ => cause(module::Entity::find().rows(&db).await),
        };
        assert!(
            logged.contains(&format!("table {table}")) && logged.contains(named),
            "{table}.{column}: {logged}"
        );
        let (status, problem) = h.call(Method::GET, &path, Some(&staff), None).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, Some("INTERNAL")),
            "{table}.{column}: {problem}"
        );
        // The cause is logged, not answered.
        assert!(!problem.to_string().contains(table), "{problem}");
        // The other rows still read.
        if table != "provider" {
            let (status, body) = h
                .call(Method::GET, &format!("/v1/trainings/{good}"), None, None)
                .await;
            assert_eq!(status, StatusCode::OK, "{table}.{column}: {body}");
        }
        let (status, _) = h.call(Method::GET, "/livez", None, None).await;
        assert_eq!(status, StatusCode::OK);
        // Mended, the row reads again.
        db.execute_unprepared(&format!(
            "UPDATE {table} SET {column} = '{was}' WHERE {rows}"
        ))
        .await
        .expect("value mended");
        let (status, body) = h.call(Method::GET, &path, Some(&staff), None).await;
        assert_eq!(status, StatusCode::OK, "{table}.{column}: {body}");
    }
    // A list holding a bad row fails as a whole rather than skipping or defaulting it.
    db.execute_unprepared(&format!(
        "UPDATE training SET level = 'expert' WHERE {victim_training}"
    ))
    .await
    .expect("bad value written");
    for path in [
        "/v1/trainings".to_owned(),
        format!("/v1/trainings/batch?ids={good},{victim}"),
        "/v1/trainings/export".to_owned(),
    ] {
        let (status, problem) = h.call(Method::GET, &path, None, None).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, Some("INTERNAL")),
            "{path}: {problem}"
        );
    }
    let (status, body) = h
        .call(
            Method::GET,
            &format!("/v1/trainings/batch?ids={good}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    h.stop().await;
}

fn is_dangling(result: Result<impl std::fmt::Debug, DbErr>, what: &str) {
    let err = result.expect_err(what);
    assert!(
        matches!(
            err.sql_err(),
            Some(SqlErr::ForeignKeyConstraintViolation(_))
        ),
        "{what}: {err}"
    );
}

fn place_of(training_id: Uuid, insee: &str) -> place::ActiveModel {
    place::ActiveModel {
        training_id: Set(training_id),
        insee: Set(insee.into()),
        departement: Set("69".into()),
        region: Set("84".into()),
        lat: Set(45.76),
        lon: Set(4.83),
    }
}

fn session_of(training_id: Uuid, insee: Option<&str>) -> session::ActiveModel {
    let day = NaiveDate::from_ymd_opt(2027, 3, 1).expect("date");
    session::ActiveModel {
        id: Set(Uuid::now_v7()),
        training_id: Set(training_id),
        lheo_id: Set(None),
        start_date: Set(day),
        end_date: Set(day),
        enrolment: Set(Enrolment::Open),
        insee: Set(insee.map(str::to_owned)),
    }
}

fn training_of(id: Uuid, provider_id: Uuid, lheo_id: &str) -> training::ActiveModel {
    let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("instant");
    training::ActiveModel {
        id: Set(id),
        lheo_id: Set(Some(lheo_id.into())),
        provider_id: Set(provider_id),
        title: Set("Comprendre l'IA".into()),
        summary: Set("Résumé".into()),
        objectives: Set("Objectifs".into()),
        content: Set(String::new()),
        level: Set(Level::Beginner),
        audiences: Set(vec![cafeia_catalogue::domain::Audience::Seniors].into()),
        format: Set(Format::Hybrid),
        pace: Set(Pace::SelfPaced),
        duration_hours: Set(7),
        is_free: Set(true),
        price_cents: Set(None),
        funding: Set(vec![cafeia_catalogue::domain::Funding::Cpf].into()),
        certification: Set(None),
        languages: Set(vec!["fr".to_owned()].into()),
        accessibility: Set(Vec::new().into()),
        topics: Set(vec!["what_is_ai".to_owned()].into()),
        online: Set(true),
        enrolment_url: Set(None),
        contact_email: Set(None),
        status: Set(ReviewStatus::Published),
        status_reason: Set(None),
        submitted_by: Set("test".into()),
        created_at: Set(at),
        updated_at: Set(at),
        published_at: Set(Some(at)),
    }
}

async fn foreign_keys_refuse_dangling_references(backend: Backend) {
    let (mut h, db) = catalogue(backend).await;
    let victim = training::Entity::find()
        .filter(training::Column::Title.eq("Victime"))
        .row(&db)
        .await
        .expect("read")
        .expect("the programme with two places");
    is_dangling(
        training_of(Uuid::now_v7(), Uuid::now_v7(), "sans-organisme")
            .insert(&db)
            .await,
        "a programme of an unknown provider",
    );
    is_dangling(
        place_of(Uuid::now_v7(), "69123").insert(&db).await,
        "a place of an unknown programme",
    );
    is_dangling(
        session_of(Uuid::now_v7(), None).insert(&db).await,
        "a session of an unknown programme",
    );
    is_dangling(
        session_of(victim.id, Some("33063")).insert(&db).await,
        "a session outside its programme's places",
    );
    let held = session_of(victim.id, Some("75056"))
        .insert(&db)
        .await
        .expect("a session in one of its programme's places");
    held.delete(&db).await.expect("deleted");
    is_dangling(
        place::Entity::delete_many()
            .filter(place::Column::TrainingId.eq(victim.id))
            .exec(&db)
            .await,
        "places its sessions are held in",
    );
    is_dangling(
        provider::Entity::delete_by_id(victim.provider_id)
            .exec(&db)
            .await,
        "a provider with programmes",
    );

    // The API's own writes keep to the keys: an edit replaces places and sessions (sessions
    // first), the places moving.
    let staff = h.token("staff", Role::Staff, None);
    let (status, body) = h
        .call(
            Method::PUT,
            &format!("/v1/trainings/{}", victim.id),
            Some(&staff),
            Some(programme("Victime", &["33063", "13055"])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut held_in: Vec<&str> = body["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|s| s["insee"].as_str())
        .collect();
    held_in.sort();
    assert_eq!(held_in, ["13055", "33063"], "{body}");
    assert_eq!(h.next_message().await.0, "catalogue.training.updated");

    // A programme's places and sessions go with it.
    training::Entity::delete_by_id(victim.id)
        .exec(&db)
        .await
        .expect("a programme deleted");
    for (table, left) in [
        (
            "training_place",
            place::Entity::find()
                .filter(place::Column::TrainingId.eq(victim.id))
                .count(&db)
                .await,
        ),
        (
            "training_session",
            session::Entity::find()
                .filter(session::Column::TrainingId.eq(victim.id))
                .count(&db)
                .await,
        ),
    ] {
        assert_eq!(left.expect("count"), 0, "{table}");
    }
    h.stop().await;
}

/// The names of the indexes on `table`.
async fn indexes(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => {
            format!("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}'")
        }
        _ => format!("SELECT indexname FROM pg_indexes WHERE tablename = '{table}'"),
    };
    let mut names: Vec<String> = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("indexes")
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("name"))
        .collect();
    names.sort();
    names
}

async fn the_migration_keeps_rows_and_indexes(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let db = cafeia_platform::db::connect(&env.database_url(), 2)
        .await
        .expect("database");
    // The schema as it was before the keys, with rows.
    let before_keys = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261202_000102_catalogue_foreign_keys")
        .expect("the keys' migration") as u32;
    // Migrations after the keys' (rolled back with them below).
    let after_keys = Migrator::migrations().len() as u32 - before_keys - 1;
    Migrator::up(&db, Some(before_keys))
        .await
        .expect("first migrations");
    let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("instant");
    let provider = provider::ActiveModel {
        id: Set(Uuid::now_v7()),
        siret: Set(SIRET.into()),
        name: Set("Association IA pour tous".into()),
        kind: Set(ProviderKind::Association),
        email: Set(None),
        website: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&db)
    .await
    .expect("provider");
    let id = Uuid::now_v7();
    let training = training_of(id, provider.id, "lheo-1")
        .insert(&db)
        .await
        .expect("training");
    let places = [
        place_of(id, "69123").insert(&db).await.expect("place"),
        place_of(id, "75056").insert(&db).await.expect("place"),
    ];
    let session = session_of(id, Some("75056"))
        .insert(&db)
        .await
        .expect("session");
    let tables = ["training", "training_place", "training_session"];
    let mut indexed = Vec::new();
    for table in tables {
        indexed.push(indexes(&db, table).await);
    }

    Migrator::up(&db, None).await.expect("the keys added");
    for (table, before) in tables.iter().zip(&indexed) {
        assert_eq!(
            &indexes(&db, table).await,
            before,
            "{table} keeps its indexes"
        );
    }
    let read = training::Entity::find_by_id(id)
        .row(&db)
        .await
        .expect("read");
    assert_eq!(read.as_ref(), Some(&training));
    let mut read_places = place::Entity::find().rows(&db).await.expect("places");
    read_places.sort_by(|a, b| a.insee.cmp(&b.insee));
    assert_eq!(read_places, places);
    assert_eq!(
        session::Entity::find().rows(&db).await.expect("sessions"),
        vec![session.clone()]
    );
    // The unique LHEO id still holds, and the keys do.
    let again = training_of(Uuid::now_v7(), provider.id, "lheo-1")
        .insert(&db)
        .await;
    assert!(
        matches!(
            again.as_ref().err().and_then(DbErr::sql_err),
            Some(SqlErr::UniqueConstraintViolation(_))
        ),
        "{again:?}"
    );
    is_dangling(
        training_of(Uuid::now_v7(), Uuid::now_v7(), "lheo-2")
            .insert(&db)
            .await,
        "after the migration",
    );

    // Rolled back, the keys are gone (indexes kept); a dangling row then stops the migration,
    // which keeps nothing of itself.
    Migrator::down(&db, Some(after_keys + 1))
        .await
        .expect("rolled back");
    for (table, before) in tables.iter().zip(&indexed) {
        assert_eq!(
            &indexes(&db, table).await,
            before,
            "{table} keeps its indexes"
        );
    }
    let orphan = training_of(Uuid::now_v7(), Uuid::now_v7(), "lheo-3")
        .insert(&db)
        .await
        .expect("no key any more");
    let refused = Migrator::up(&db, None).await;
    assert!(refused.is_err(), "a dangling reference stops the migration");
    assert_eq!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("pending")
            .len(),
        after_keys as usize + 1
    );
    assert_eq!(
        training::Entity::find().count(&db).await.expect("count"),
        2,
        "the rows are all there"
    );
    for (table, before) in tables.iter().zip(&indexed) {
        assert_eq!(
            &indexes(&db, table).await,
            before,
            "{table} keeps its indexes"
        );
    }
    orphan.delete(&db).await.expect("orphan removed");
    Migrator::up(&db, None).await.expect("the keys added");
    is_dangling(
        session_of(id, Some("33063")).insert(&db).await,
        "after the migration",
    );
}

backend_matrix!(
    unknown_stored_values_fail_the_read,
    foreign_keys_refuse_dangling_references,
    the_migration_keeps_rows_and_indexes,
);
