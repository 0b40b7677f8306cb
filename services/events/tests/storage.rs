//! Typed storage, on both backend sets: a stored value this service never writes fails the read
//! (500 `INTERNAL`, the cause naming its table and column or enum, the other rows still
//! readable), the tables refuse dangling references while the replica keeps taking messages,
//! and the migration adding the keys keeps rows and indexes.

use cafeia_events::{
    Events,
    domain::{Accessibility, RegistrationMode, RegistrationStatus, SessionStatus},
    storage::{
        JsonText, Migrator, Rows, Zone, attendance, facilitator, registration, session, venue,
    },
};
use cafeia_facilitators_api::FacilitatorKind;
use cafeia_platform::{
    envelope::MessageType,
    vocabulary::{Audience, Format, Level},
};
use cafeia_testkit::{
    Backend, TestEnv, backend_matrix, mail::register_by_mail, service::ServiceHarness,
};
use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, ModelTrait, SqlErr, Statement, TryIntoModel,
};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use std::{collections::BTreeMap, time::Duration as StdDuration};
use support::{Net, VENUE, network, published, session_at};
use uuid::Uuid;

use crate::support;

const ERASED: MessageType = MessageType::new("facilitators", "facilitator", "erased", 1);
const VENUE_REMOVED: MessageType = MessageType::new("facilitators", "venue", "removed", 1);

/// A fixed instant: PostgreSQL keeps microseconds, so rows compared after a round trip use
/// whole seconds.
fn instant() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("instant")
}

/// The service with the demo network, Alice's session `Bonne` and Bob's `Victime`, each with
/// one registration, and a report on `Victime`.
struct Stage {
    h: ServiceHarness,
    db: DatabaseConnection,
    net: Net,
    good: String,
    victim: String,
}

async fn stage(backend: Backend) -> Stage {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let net = network(&mut h).await;
    let mut ids = Vec::new();
    for (title, token) in [("Bonne", &net.alice.1), ("Victime", &net.bob.1)] {
        let mut body = session_at(net.venue, Utc::now() + Duration::days(5), 10);
        body["title"] = json!(title);
        let created = published(&h, token, body).await;
        let id = created["id"].as_str().expect("id").to_owned();
        let (status, body) = register_by_mail(&h, &id, &format!("{title}@example.org")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.push(id);
    }
    let db = cafeia_platform::db::connect(&h.env.database_url(), 2)
        .await
        .expect("database");
    let victim_id = Uuid::parse_str(&ids[1]).expect("uuid");
    // Reports are taken once a session has started; this one is written as the service would.
    report_row(victim_id).insert(&db).await.expect("report");
    let victim = ids.pop().expect("victim");
    let good = ids.pop().expect("good");
    Stage {
        h,
        db,
        net,
        good,
        victim,
    }
}

async fn text(db: &DatabaseConnection, sql: &str) -> Option<String> {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row")
        .try_get_by_index::<Option<String>>(0)
        .expect("text")
}

/// The cause a failed read logs.
fn cause<T: std::fmt::Debug>(read: Result<T, DbErr>) -> String {
    read.expect_err("the bad row fails the read").to_string()
}

/// What reading every row of `table` through the entity logs.
async fn logged(db: &DatabaseConnection, table: &str) -> String {
    match table {
        "session" => cause(session::Entity::find().rows(db).await),
        "registration" => cause(registration::Entity::find().rows(db).await),
        "attendance_report" => cause(attendance::Entity::find().rows(db).await),
        "facilitator_replica" => cause(facilitator::Entity::find().rows(db).await),
        _ => cause(venue::Entity::find().rows(db).await),
    }
}

fn internal(status: StatusCode, problem: &Value, what: &str) {
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("INTERNAL")),
        "{what}: {problem}"
    );
    // The cause is logged, not answered.
    let answered = problem.to_string();
    assert!(
        !answered.contains("column") && !answered.contains("table "),
        "{answered}"
    );
}

async fn unknown_stored_values_fail_the_read(backend: Backend) {
    let Stage {
        h,
        db,
        net,
        good,
        victim,
    } = stage(backend).await;
    let bob = &net.bob.1;
    let session = "title = 'Victime'";
    let of_session = "session_id IN (SELECT id FROM session WHERE title = 'Victime')";
    let read_victim = (Method::GET, format!("/v1/sessions/{victim}"), None);
    let roll = (
        Method::GET,
        format!("/v1/sessions/{victim}/registrations"),
        Some(bob),
    );
    let report = (
        Method::GET,
        format!("/v1/sessions/{victim}/attendance"),
        Some(bob),
    );
    let feed = (
        Method::GET,
        format!("/v1/calendars/facilitators/{}/feed.ics", net.bob.0),
        None,
    );
    // Names stay off the bus: Bob's replica row is found by his account.
    let bob_row = format!("account = '{}'", cafeia_platform::auth::account_key("bob"));
    // (table, column, bad value, rows, what the logged cause names, the call that reads it)
    let cases = [
        (
            "session",
            "status",
            "'archived'",
            session,
            "SessionStatus",
            &read_victim,
        ),
        (
            "session",
            "format",
            "'telepathy'",
            session,
            "Format",
            &read_victim,
        ),
        (
            "session",
            "level",
            "'expert'",
            session,
            "Level",
            &read_victim,
        ),
        (
            "session",
            "registration_mode",
            "'maybe'",
            session,
            "RegistrationMode",
            &read_victim,
        ),
        (
            "session",
            "timezone",
            "'Europe/Lutece'",
            session,
            "column timezone",
            &read_victim,
        ),
        (
            "session",
            "audiences",
            "'[\"martians\"]'",
            session,
            "column audiences",
            &read_victim,
        ),
        (
            "session",
            "accessibility",
            "'[\"ramp\"]'",
            session,
            "column accessibility",
            &read_victim,
        ),
        (
            "session",
            "topics",
            "'not json'",
            session,
            "column topics",
            &read_victim,
        ),
        (
            "session",
            "languages",
            "'[1]'",
            session,
            "column languages",
            &read_victim,
        ),
        (
            "session",
            "modules",
            "'[\"module\"]'",
            session,
            "column modules",
            &read_victim,
        ),
        (
            "session",
            "co_facilitators",
            "'{}'",
            session,
            "column co_facilitators",
            &read_victim,
        ),
        (
            "registration",
            "status",
            "'lost'",
            of_session,
            "RegistrationStatus",
            &roll,
        ),
        (
            "attendance_report",
            "age_bands",
            "'not json'",
            of_session,
            "column age_bands",
            &report,
        ),
        (
            "attendance_report",
            "occupations",
            "'[]'",
            of_session,
            "column occupations",
            &report,
        ),
        (
            "facilitator_replica",
            "status",
            "'retired'",
            bob_row.as_str(),
            "FacilitatorStatus",
            &feed,
        ),
        (
            "facilitator_replica",
            "kind",
            "'wizard'",
            bob_row.as_str(),
            "FacilitatorKind",
            &feed,
        ),
    ];
    for (table, column, bad, rows, named, (method, path, token)) in cases {
        let was = text(
            &db,
            &format!("SELECT {column} FROM {table} WHERE {rows} LIMIT 1"),
        )
        .await
        .expect("a value");
        db.execute_unprepared(&format!("UPDATE {table} SET {column} = {bad} WHERE {rows}"))
            .await
            .expect("bad value written");
        let cause = logged(&db, table).await;
        assert!(
            cause.contains(&format!("table {table}")) && cause.contains(named),
            "{table}.{column}: {cause}"
        );
        let token = token.map(String::as_str);
        let (status, problem) = h.call(method.clone(), path, token, None).await;
        internal(status, &problem, &format!("{table}.{column}"));
        // The other rows still read.
        let (status, body) = h
            .call(Method::GET, &format!("/v1/sessions/{good}"), None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{table}.{column}: {body}");
        let (status, _) = h.call(Method::GET, "/livez", None, None).await;
        assert_eq!(status, StatusCode::OK);
        // Mended, the row reads again.
        db.execute_unprepared(&format!(
            "UPDATE {table} SET {column} = '{was}' WHERE {rows}"
        ))
        .await
        .expect("value mended");
        let (status, body) = h.call(method.clone(), path, token, None).await;
        assert_eq!(status, StatusCode::OK, "{table}.{column}: {body}");
    }

    // A venue whose accessibility does not read: sessions are planned on it no more.
    db.execute_unprepared("UPDATE venue_replica SET accessibility = 'nope'")
        .await
        .expect("bad value written");
    let cause = logged(&db, "venue_replica").await;
    assert!(
        cause.contains("table venue_replica") && cause.contains("column accessibility"),
        "{cause}"
    );
    let plan = session_at(net.venue, Utc::now() + Duration::days(6), 10);
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/sessions",
            Some(&net.alice.1),
            Some(plan.clone()),
        )
        .await;
    internal(status, &problem, "venue_replica.accessibility");
    db.execute_unprepared("UPDATE venue_replica SET accessibility = '[\"wheelchair\"]'")
        .await
        .expect("value mended");
    let (status, body) = h
        .call(Method::POST, "/v1/sessions", Some(&net.alice.1), Some(plan))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Columns written together that disagree: a session at a venue without (part of) its
    // place, in every document showing it; a negative revision. Every value reads, the row
    // does not make sense.
    for (column, bad, path) in [
        ("place_name", "NULL", format!("/v1/sessions/{victim}")),
        ("address", "NULL", format!("/v1/sessions/{victim}/jsonld")),
        ("lat", "NULL", format!("/v1/sessions/{victim}/calendar.ics")),
        (
            "revision",
            "-1",
            format!("/v1/sessions/{victim}/calendar.ics"),
        ),
    ] {
        let was = text(
            &db,
            &format!("SELECT CAST({column} AS TEXT) FROM session WHERE {session}"),
        )
        .await
        .expect("a value");
        db.execute_unprepared(&format!(
            "UPDATE session SET {column} = {bad} WHERE {session}"
        ))
        .await
        .expect("bad value written");
        let (status, problem) = h.call(Method::GET, &path, None, None).await;
        internal(status, &problem, &format!("session.{column}"));
        db.execute_unprepared(&format!(
            "UPDATE session SET {column} = '{was}' WHERE {session}"
        ))
        .await
        .expect("value mended");
        let (status, body) = h.call(Method::GET, &path, None, None).await;
        assert_eq!(status, StatusCode::OK, "session.{column}: {body}");
    }

    // A list holding a bad row fails as a whole rather than skipping or defaulting it; the
    // same list without it answers.
    db.execute_unprepared(&format!(
        "UPDATE session SET level = 'expert' WHERE {session}"
    ))
    .await
    .expect("bad value written");
    for (path, token) in [
        ("/v1/sessions".to_owned(), None),
        (format!("/v1/sessions/batch?ids={good},{victim}"), None),
        (format!("/v1/sessions/by-venue?ids={}", net.venue), None),
        ("/v1/me/sessions".to_owned(), Some(bob.as_str())),
        ("/v1/calendars/public.ics".to_owned(), None),
    ] {
        let (status, problem) = h.call(Method::GET, &path, token, None).await;
        internal(status, &problem, &path);
    }
    for (path, token) in [
        (format!("/v1/sessions/batch?ids={good}"), None),
        ("/v1/me/sessions".to_owned(), Some(net.alice.1.as_str())),
    ] {
        let (status, body) = h.call(Method::GET, &path, token, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    // The retention sweep reads only the sessions' ids: a damaged session does not stop it.
    let erased = cafeia_events::registrations::erase_before(&db, Utc::now() + Duration::days(30))
        .await
        .expect("the sweep runs");
    assert_eq!(erased, 2);
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

/// A facilitator as the replica held them before it lost `display_name` (the fifth
/// migration): written with a name, read back as the entity is now.
async fn old_facilitator(db: &DatabaseConnection, id: Uuid) -> facilitator::Model {
    use sea_orm::sea_query::{Alias, Query};
    let kind = serde_json::to_value(FacilitatorKind::Bibliothecaire).expect("kind");
    let insert = Query::insert()
        .into_table(Alias::new("facilitator_replica"))
        .columns(["id", "account", "display_name", "kind", "status", "as_of"].map(Alias::new))
        .values_panic([
            id.into(),
            format!("account-{id}").into(),
            "Alice".into(),
            kind.as_str().expect("a wire name").into(),
            "verified".into(),
            instant().into(),
        ])
        .to_owned();
    db.execute(&insert).await.expect("an old facilitator row");
    facilitator::Entity::find_by_id(id)
        .row(db)
        .await
        .expect("read")
        .expect("the row")
}

fn venue_row(id: Uuid) -> venue::ActiveModel {
    venue::ActiveModel {
        id: Set(id),
        name: Set("Médiathèque".into()),
        address: Set("1 place de la Comédie".into()),
        postcode: Set("69001".into()),
        insee: Set("69381".into()),
        departement: Set("69".into()),
        region: Set("84".into()),
        lat: Set(45.767),
        lon: Set(4.836),
        accessibility: Set(JsonText(vec!["wheelchair".into()])),
        capacity: Set(Some(30)),
        removed: Set(false),
        as_of: Set(instant()),
    }
}

fn session_row(facilitator_id: Uuid, venue_id: Option<Uuid>) -> session::ActiveModel {
    let starts_at = instant() + Duration::days(30);
    let at_venue = |value: &str| venue_id.map(|_| value.to_owned());
    session::ActiveModel {
        id: Set(Uuid::now_v7()),
        series_id: Set(None),
        title: Set("Café IA".into()),
        description: Set("Pour tout le monde.".into()),
        modules: Set(JsonText(vec![Uuid::now_v7()])),
        topics: Set(JsonText(vec!["what_is_ai".into()])),
        audiences: Set(JsonText(vec![Audience::GeneralPublic, Audience::Seniors])),
        languages: Set(JsonText(vec!["fr".into()])),
        accessibility: Set(JsonText(vec![Accessibility::Wheelchair])),
        co_facilitators: Set(JsonText(vec![])),
        facilitator_id: Set(facilitator_id),
        format: Set(if venue_id.is_some() {
            Format::InPerson
        } else {
            Format::Online
        }),
        level: Set(Level::Beginner),
        registration_mode: Set(RegistrationMode::Open),
        waitlist_enabled: Set(true),
        venue_id: Set(venue_id),
        place_name: Set(at_venue("Médiathèque")),
        address: Set(at_venue("1 place de la Comédie, 69001")),
        insee: Set(at_venue("69381")),
        departement: Set(at_venue("69")),
        region: Set(at_venue("84")),
        lat: Set(venue_id.map(|_| 45.767)),
        lon: Set(venue_id.map(|_| 4.836)),
        online_url: Set(venue_id
            .is_none()
            .then(|| "https://visio.example.org/cafe".into())),
        starts_at: Set(starts_at),
        ends_at: Set(starts_at + Duration::hours(2)),
        timezone: Set(Zone(chrono_tz::Europe::Paris)),
        capacity: Set(Some(10)),
        confirmed: Set(1),
        waitlisted: Set(0),
        arrivals: Set(1),
        status: Set(SessionStatus::Published),
        status_reason: Set(None),
        created_at: Set(instant()),
        updated_at: Set(instant()),
        revision: Set(1),
    }
}

fn registration_row(session_id: Uuid, identity: &str) -> registration::ActiveModel {
    registration::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session_id),
        identity: Set(identity.into()),
        account: Set(None),
        email: Set(Some("ana@example.org".into())),
        name: Set(None),
        consent_at: Set(Some(instant())),
        status: Set(RegistrationStatus::Confirmed),
        position: Set(1),
        token_hash: Set(None),
        created_at: Set(instant()),
        updated_at: Set(instant()),
        erased_at: Set(None),
        confirm_hash: Set(None),
        confirm_by: Set(None),
        reminders_off_at: Set(None),
    }
}

/// Inserts `row` into the `registration` table as it was before the mail migration (without
/// its columns), and returns it as the entity reads it once migrated.
async fn old_registration(
    db: &DatabaseConnection,
    row: registration::ActiveModel,
) -> Result<registration::Model, DbErr> {
    let mut row = row;
    row.confirm_hash = sea_orm::ActiveValue::NotSet;
    row.confirm_by = sea_orm::ActiveValue::NotSet;
    row.reminders_off_at = sea_orm::ActiveValue::NotSet;
    registration::Entity::insert(row.clone())
        .exec_without_returning(db)
        .await?;
    row.confirm_hash = Set(None);
    row.confirm_by = Set(None);
    row.reminders_off_at = Set(None);
    row.try_into_model()
}

fn report_row(session_id: Uuid) -> attendance::ActiveModel {
    let counts = |pairs: &[(&str, i32)]| -> JsonText<BTreeMap<String, i32>> {
        JsonText(pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect())
    };
    attendance::ActiveModel {
        session_id: Set(session_id),
        version: Set(1),
        attended: Set(8),
        no_shows: Set(1),
        walk_ins: Set(2),
        first_timers: Set(5),
        age_bands: Set(counts(&[("25_39", 3), ("60_74", 4)])),
        occupations: Set(counts(&[("retired", 4)])),
        first_reported_at: Set(instant()),
        reported_at: Set(instant()),
    }
}

/// Waits until the replica's row of facilitator `id` has lost its account link (erased).
async fn wait_erased(db: &DatabaseConnection, id: Uuid) {
    for _ in 0..200 {
        let row = facilitator::Entity::find_by_id(id).row(db).await;
        if row.expect("read").is_some_and(|f| f.account.is_empty()) {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("facilitator {id} never lost their account link: the replica did not apply the erasure");
}

async fn foreign_keys_refuse_dangling_references(backend: Backend) {
    let Stage {
        h,
        db,
        net,
        good,
        victim,
    } = stage(backend).await;
    let victim_id = Uuid::parse_str(&victim).expect("uuid");
    let alice = net.alice.0;
    is_dangling(
        registration_row(Uuid::now_v7(), "email:ana@example.org")
            .insert(&db)
            .await,
        "a registration to an unknown session",
    );
    is_dangling(
        report_row(Uuid::now_v7()).insert(&db).await,
        "a report on an unknown session",
    );
    is_dangling(
        session_row(Uuid::now_v7(), Some(net.venue))
            .insert(&db)
            .await,
        "a session of a facilitator the replica does not know",
    );
    is_dangling(
        session_row(alice, Some(Uuid::now_v7())).insert(&db).await,
        "a session at a venue the replica does not know",
    );
    // The key is on the replica's row, whatever its status; an online session has no venue.
    let pending = session_row(net.pending.0, None)
        .insert(&db)
        .await
        .expect("a session of a known facilitator, online");
    pending
        .delete(&db)
        .await
        .expect("a session without rows deleted");
    // Nothing deletes what sessions, registrations and reports were counted on.
    is_dangling(
        session::Entity::delete_by_id(victim_id).exec(&db).await,
        "a session with registrations and a report",
    );
    is_dangling(
        venue::Entity::delete_by_id(net.venue).exec(&db).await,
        "a venue sessions are held at",
    );
    is_dangling(
        facilitator::Entity::delete_by_id(net.bob.0).exec(&db).await,
        "a facilitator running sessions",
    );

    // The replica keeps taking messages about what sessions point at: an older announcement of
    // the venue (ignored), the erasure of Bob (his row blanked, kept), the venue's removal
    // (marked, kept).
    let stale = cafeia_platform::envelope::Envelope {
        time: Utc::now() - Duration::hours(1),
        ..cafeia_platform::envelope::Envelope::new(
            VENUE,
            "venue",
            json!({
                "id": net.venue, "name": "Ancienne médiathèque", "address": "1 rue Vieille",
                "postcode": "69007", "insee": "69387", "departement": "69", "region": "84",
                "latitude": 45.745, "longitude": 4.842, "opening_hours": null,
                "accessibility": [], "capacity": 30, "is_public": true,
            }),
        )
    };
    let message =
        cafeia_platform::bus::Message::event(VENUE.routing_key(), &stale).expect("message");
    h.bus.publish(&message).await.expect("published");
    h.publish(ERASED, "facilitator", json!({"id": net.bob.0}))
        .await;
    wait_erased(&db, net.bob.0).await;
    h.publish(VENUE_REMOVED, "venue", json!({"id": net.venue}))
        .await;
    let plan = session_at(net.venue, Utc::now() + Duration::days(7), 10);
    let mut refused = false;
    for _ in 0..100 {
        let (status, _) = h
            .call(
                Method::POST,
                "/v1/sessions",
                Some(&net.alice.1),
                Some(plan.clone()),
            )
            .await;
        if status == StatusCode::BAD_REQUEST {
            refused = true;
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert!(refused, "a removed venue takes no new session");
    for id in [&good, &victim] {
        let (status, body) = h
            .call(Method::GET, &format!("/v1/sessions/{id}"), None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["place"]["name"], "Médiathèque Jean-Macé", "{body}");
    }
    assert_eq!(
        facilitator::Entity::find_by_id(net.bob.0)
            .row(&db)
            .await
            .expect("read")
            .map(|f| f.account),
        Some(String::new())
    );
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
    // The schema as it was before the keys (and the mail migration, the replica without
    // names and the notifications after them), with rows.
    let before_keys = Migrator::migrations().len() as u32 - 4;
    Migrator::up(&db, Some(before_keys))
        .await
        .expect("first migrations");
    let facilitator = old_facilitator(&db, Uuid::now_v7()).await;
    let venue = venue_row(Uuid::now_v7()).insert(&db).await.expect("venue");
    let session = session_row(facilitator.id, Some(venue.id))
        .insert(&db)
        .await
        .expect("session");
    let online = session_row(facilitator.id, None)
        .insert(&db)
        .await
        .expect("online session");
    let registration = old_registration(&db, registration_row(session.id, "email:ana@example.org"))
        .await
        .expect("registration");
    let report = report_row(session.id).insert(&db).await.expect("report");
    let tables = ["session", "registration", "attendance_report"];
    let mut indexed = Vec::new();
    for table in tables {
        indexed.push(indexes(&db, table).await);
    }
    // The mail migration adds two of its own on `registration`.
    let keeps_indexes = |after: Vec<Vec<String>>| {
        for ((table, before), after) in tables.iter().zip(&indexed).zip(after) {
            let after: Vec<String> = after
                .into_iter()
                .filter(|i| i != "idx_registration_confirm_by" && i != "uq_registration_confirm")
                .collect();
            assert_eq!(&after, before, "{table} keeps its indexes");
        }
    };

    Migrator::up(&db, None).await.expect("the keys added");
    let mut now_indexed = Vec::new();
    for table in tables {
        now_indexed.push(indexes(&db, table).await);
    }
    keeps_indexes(now_indexed);
    // The facilitator stays, without the name the replica used to copy.
    assert_eq!(
        facilitator::Entity::find()
            .rows(&db)
            .await
            .expect("facilitators"),
        vec![facilitator]
    );
    let names = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT display_name FROM facilitator_replica",
        ))
        .await;
    assert!(names.is_err(), "the names are dropped: {names:?}");
    let mut sessions = session::Entity::find().rows(&db).await.expect("sessions");
    sessions.sort_by_key(|s| s.id);
    assert_eq!(sessions, vec![session.clone(), online]);
    assert_eq!(
        registration::Entity::find()
            .rows(&db)
            .await
            .expect("registrations"),
        vec![registration]
    );
    assert_eq!(
        attendance::Entity::find().rows(&db).await.expect("reports"),
        vec![report]
    );
    // The unique identity per session still holds, and the keys do.
    let again = registration_row(session.id, "email:ana@example.org")
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
        registration_row(Uuid::now_v7(), "email:bea@example.org")
            .insert(&db)
            .await,
        "after the migration",
    );

    // Rolled back (the links kept per mail, the notifications, the replica's names, the mail
    // migration, then the keys), the keys are gone (indexes kept); a dangling row then stops
    // the migration, which keeps nothing of itself.
    Migrator::down(&db, Some(5)).await.expect("rolled back");
    let mut now_indexed = Vec::new();
    for table in tables {
        now_indexed.push(indexes(&db, table).await);
    }
    keeps_indexes(now_indexed);
    let orphan = old_registration(
        &db,
        registration_row(Uuid::now_v7(), "email:bea@example.org"),
    )
    .await
    .expect("no key any more");
    let refused = Migrator::up(&db, None).await;
    assert!(refused.is_err(), "a dangling reference stops the migration");
    assert_eq!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("pending")
            .len(),
        5
    );
    // (Counted in SQL: the entity names the mail migration's columns, not there yet.)
    assert_eq!(
        text(&db, "SELECT CAST(COUNT(*) AS TEXT) FROM registration")
            .await
            .as_deref(),
        Some("2"),
        "the rows are all there"
    );
    let mut now_indexed = Vec::new();
    for table in tables {
        now_indexed.push(indexes(&db, table).await);
    }
    keeps_indexes(now_indexed);
    registration::Entity::delete_by_id(orphan.id)
        .exec(&db)
        .await
        .expect("orphan removed");
    Migrator::up(&db, None).await.expect("the keys added");
    is_dangling(
        report_row(Uuid::now_v7()).insert(&db).await,
        "after the migration",
    );
}

backend_matrix!(
    unknown_stored_values_fail_the_read,
    foreign_keys_refuse_dangling_references,
    the_migration_keeps_rows_and_indexes,
);
