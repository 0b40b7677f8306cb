//! Typed storage, on both backend sets: a stored value the code does not know fails the read
//! (500 `INTERNAL`, the service keeps answering, a rebuild mends the derived row and every
//! other row reads as before); a message naming an unknown facilitator kind is refused; every
//! derived row references the history (foreign keys, also after migrating a database that
//! already held rows).

use crate::support;

use cafeia_events_api::messages::{ATTENDANCE_RECORDED as ATTENDANCE, SESSION_PUBLISHED};
use cafeia_facilitators_api::{FacilitatorStatus, messages::FACILITATOR_VERIFIED};
use cafeia_outreach::{
    Outreach, aggregates,
    domain::{Scope, Window},
    figures::Figures,
    ingest,
    storage::Migrator,
};
use cafeia_platform::{auth::Role, envelope::Envelope};
use cafeia_testkit::{Backend, TestEnv, backend_matrix, service::ServiceHarness};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};
use support::{AS_OF, facilitator, headline, message, planned_session, report, until_reached};
use uuid::Uuid;

/// What the figures answer, the parts a corrupt row would change.
async fn figures(h: &ServiceHarness, token: &str) -> (Value, Value) {
    let (status, head) = headline(h, token, AS_OF).await;
    assert_eq!(status, StatusCode::OK, "{head}");
    let (status, audiences) = h
        .call(
            Method::GET,
            &format!("/v1/outreach/breakdown?by=audience&{AS_OF}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{audiences}");
    (head, audiences)
}

async fn unknown_stored_values_fail_the_read(backend: Backend) {
    let h = ServiceHarness::start::<Outreach>(backend, &["outreach.#"]).await;
    let staff = h.token("staff", Role::Staff, None);
    let f = Uuid::now_v7();
    // A report naming a kind the facilitators contract does not know is malformed: it goes to
    // the dead-letter queue and is never counted; the others are.
    let mut astronaut = report(
        Uuid::now_v7(),
        1,
        f,
        "2027-03-12",
        Some(("13", "93")),
        "in_person",
        &["seniors"],
        9,
        9,
        json!({}),
    );
    astronaut["facilitator_kind"] = json!("astronaut");
    for m in [
        message(ATTENDANCE, astronaut),
        message(
            ATTENDANCE,
            report(
                Uuid::now_v7(),
                1,
                f,
                "2027-03-10",
                Some(("69", "84")),
                "in_person",
                &["general_public"],
                20,
                15,
                json!({"25_39": 8}),
            ),
        ),
        message(
            ATTENDANCE,
            report(
                Uuid::now_v7(),
                1,
                f,
                "2027-03-11",
                Some(("38", "84")),
                "hybrid",
                &["students"],
                7,
                7,
                json!({"18_24": 7}),
            ),
        ),
        message(
            FACILITATOR_VERIFIED,
            facilitator(f, FacilitatorStatus::Verified),
        ),
        message(
            SESSION_PUBLISHED,
            planned_session("69", "84", "2027-04-10T16:00:00Z"),
        ),
    ] {
        h.bus.publish(&m).await.expect("published");
    }
    until_reached(&h, &staff, 22).await;
    // The facilitator and the planned session are in too.
    let mut before = figures(&h, &staff).await;
    for _ in 0..100 {
        if before.0["verified_facilitators"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        before = figures(&h, &staff).await;
    }
    assert_eq!(before.0["verified_facilitators"], 1, "{}", before.0);
    assert_eq!(
        before.0["reached"], 22,
        "the astronaut's report is not counted"
    );

    let db = cafeia_platform::db::connect(&h.env.database_url(), 2)
        .await
        .expect("database");
    // (table, what is written, which row, what the logged cause names besides the table):
    // unknown enum texts, JSON of the wrong shape, text that is no JSON at all.
    let cases = [
        (
            "report",
            "format = 'teleportation'",
            "departement = '38'",
            "Format",
        ),
        (
            "report",
            "facilitator_kind = 'astronaut'",
            "departement = '38'",
            "FacilitatorKind",
        ),
        (
            "report",
            "audiences = '[\"martians\"]'",
            "departement = '38'",
            "column audiences",
        ),
        (
            "report",
            "topics = 'what_is_ai'",
            "departement = '38'",
            "column topics",
        ),
        (
            "report",
            "age_bands = '[7]'",
            "departement = '38'",
            "column age_bands",
        ),
        (
            "planned_session",
            "status = 'archived'",
            "1 = 1",
            "SessionStatus",
        ),
        (
            "facilitator",
            "status = 'banned'",
            "1 = 1",
            "FacilitatorStatus",
        ),
        (
            "facilitator",
            "kind = 'astronaut'",
            "1 = 1",
            "FacilitatorKind",
        ),
    ];
    for (i, (table, value, row, named)) in cases.into_iter().enumerate() {
        // A new history row to stamp the changed row with: the figures reload rows by `seq`.
        db.execute_unprepared(&format!(
            "INSERT INTO history (message_id, kind, time, data) \
             VALUES ('corrupt-{i}', 'test.corrupted', '2027-04-01T00:00:00Z', '{{}}')"
        ))
        .await
        .expect("history row");
        db.execute_unprepared(&format!(
            "UPDATE {table} SET {value}, seq = (SELECT MAX(seq) FROM history) WHERE {row}"
        ))
        .await
        .expect("bad value written");
        // What is logged: the table, and the column or its enum.
        let error = Figures::default()
            .refresh(&db)
            .await
            .expect_err("the bad row fails the read");
        let cause = std::error::Error::source(&error)
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(
            cause.contains(&format!("table {table}")) && cause.contains(named),
            "{table}.{value}: {cause}"
        );
        let mut answer = (StatusCode::OK, Value::Null);
        for _ in 0..60 {
            answer = headline(&h, &staff, AS_OF).await;
            if answer.0 != StatusCode::OK {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (status, problem) = answer;
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{table}.{value}: {problem}"
        );
        assert_eq!(problem["code"], "INTERNAL", "{table}.{value}: {problem}");
        // The cause is logged, not answered.
        assert!(
            !problem.to_string().contains(table),
            "{table}.{value}: {problem}"
        );
        // Asked again, the read fails again (no figures over what was loaded before).
        let (status, _) = headline(&h, &staff, AS_OF).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{table}.{value}");
        // The service still runs.
        let (status, _) = h.call(Method::GET, "/livez", None, None).await;
        assert_eq!(status, StatusCode::OK);
        // A rebuild replays the history into the derived tables: the bad row is mended and
        // every figure is what it was.
        let (status, rebuilt) = h
            .call(Method::POST, "/v1/outreach/rebuild", Some(&staff), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{table}.{value}: {rebuilt}");
        assert_eq!(figures(&h, &staff).await, before, "{table}.{value}");
    }

    // A history payload that does not read stops a rebuild, which then changes nothing.
    db.execute_unprepared(&format!(
        "INSERT INTO history (message_id, kind, time, data) \
         VALUES ('corrupt-payload', '{}', '2027-04-01T00:00:00Z', '{{\"session_id\": 7}}')",
        ATTENDANCE.type_name()
    ))
    .await
    .expect("history row");
    let (status, problem) = h
        .call(Method::POST, "/v1/outreach/rebuild", Some(&staff), None)
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{problem}");
    assert_eq!(problem["code"], "INTERNAL", "{problem}");
    assert_eq!(figures(&h, &staff).await, before);
    db.execute_unprepared("DELETE FROM history WHERE message_id = 'corrupt-payload'")
        .await
        .expect("no figure stands on it");
    let (status, _) = h
        .call(Method::POST, "/v1/outreach/rebuild", Some(&staff), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(figures(&h, &staff).await, before);
    h.stop().await;
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("row");
    row.try_get_by_index::<i64>(0).expect("count")
}

fn envelope(
    kind: cafeia_platform::envelope::MessageType,
    data: impl serde::Serialize,
) -> Arc<Envelope> {
    Arc::new(Envelope::new(
        kind,
        "test",
        serde_json::to_value(data).expect("json"),
    ))
}

/// An attendance report as the service kept it before reports carried their zone (the fourth
/// migration): its history row, and its `report` row with the columns of then.
async fn old_report(db: &DatabaseConnection, data: Value) {
    use cafeia_outreach::storage::history;
    use sea_orm::{
        ActiveModelTrait,
        ActiveValue::Set,
        sea_query::{Alias, Query},
    };
    let kept = history::ActiveModel {
        message_id: Set(Uuid::now_v7().to_string()),
        kind: Set(ATTENDANCE.type_name()),
        time: Set(chrono::Utc::now()),
        data: Set(data.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("history row");
    let uuid = |key: &str| data[key].as_str().expect(key).parse::<Uuid>().expect(key);
    let int = |key: &str| data[key].as_i64().expect(key);
    let text = |key: &str| data[key].as_str().map(str::to_owned);
    let starts_at: chrono::DateTime<chrono::Utc> = data["starts_at"]
        .as_str()
        .expect("starts_at")
        .parse()
        .expect("instant");
    let columns = [
        "session_id",
        "version",
        "facilitator_id",
        "facilitator_kind",
        "starts_at",
        "format",
        "departement",
        "region",
        "topics",
        "audiences",
        "age_bands",
        "occupations",
        "attended",
        "first_timers",
        "walk_ins",
        "no_shows",
        "seq",
    ];
    let insert = Query::insert()
        .into_table(Alias::new("report"))
        .columns(columns.map(Alias::new))
        .values_panic([
            uuid("session_id").into(),
            int("version").into(),
            uuid("facilitator_id").into(),
            text("facilitator_kind").into(),
            starts_at.into(),
            text("format").into(),
            text("departement").into(),
            text("region").into(),
            data["topics"].to_string().into(),
            data["audiences"].to_string().into(),
            data["age_bands"].to_string().into(),
            data["occupations"].to_string().into(),
            int("attended").into(),
            int("first_timers").into(),
            int("walk_ins").into(),
            int("no_shows").into(),
            kept.seq.into(),
        ])
        .to_owned();
    db.execute(&insert).await.expect("an old report row");
}

async fn foreign_keys_hold_after_migrating_rows(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let db = cafeia_platform::db::connect(&env.database_url(), 2)
        .await
        .expect("database");
    // The database as it stood before the foreign keys, holding rows of every table.
    let before_keys = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261126_000202_outreach_foreign_keys")
        .and_then(|n| u32::try_from(n).ok())
        .expect("the foreign keys migration");
    Migrator::up(&db, Some(before_keys))
        .await
        .expect("earlier migrations");
    let f = Uuid::now_v7();
    // The report as the code of then wrote it (today's writes the zone column, not there yet).
    old_report(
        &db,
        report(
            Uuid::now_v7(),
            1,
            f,
            "2027-03-10",
            Some(("69", "84")),
            "in_person",
            &["general_public"],
            20,
            15,
            json!({}),
        ),
    )
    .await;
    let first = [
        envelope(
            FACILITATOR_VERIFIED,
            facilitator(f, FacilitatorStatus::Verified),
        ),
        envelope(
            SESSION_PUBLISHED,
            planned_session("69", "84", "2027-04-10T16:00:00Z"),
        ),
    ];
    assert_eq!(ingest::ingest(&db, &first).await.expect("ingested"), 2);

    Migrator::up(&db, None).await.expect("foreign keys added");

    // Every row came through and reads typed.
    let loaded = Figures::default();
    loaded.refresh(&db).await.expect("figures load");
    let window = Window {
        scope: Scope::France,
        from: None,
        to: chrono::NaiveDate::from_ymd_opt(2027, 3, 31).expect("day"),
    };
    let head = loaded.read(|s| {
        assert_eq!(
            (s.reports.len(), s.planned.len(), s.facilitators.len()),
            (1, 1, 1)
        );
        aggregates::headline(s, &window)
    });
    assert_eq!((head.reached, head.verified_facilitators), (15, Some(1)));
    // The indexes by `seq` are still there.
    for table in ["report", "planned_session", "facilitator"] {
        let index = format!("idx_{table}_seq");
        let sql = match db.get_database_backend() {
            DbBackend::Sqlite => format!(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = '{index}' \
                 AND tbl_name = '{table}'"
            ),
            _ => format!(
                "SELECT COUNT(*) FROM pg_indexes WHERE indexname = '{index}' \
                 AND tablename = '{table}'"
            ),
        };
        assert_eq!(count(&db, &sql).await, 1, "{index}");
    }

    // A derived row pointing at no message of the history is refused, on each table.
    let missing = 999_999_999;
    for insert in [
        format!(
            "INSERT INTO facilitator (id, status, kind, as_of, seq) VALUES \
             ('0195f0c0-0000-7000-8000-000000000001', 'verified', 'benevole', \
             '2027-01-01T00:00:00Z', {missing})"
        ),
        format!(
            "INSERT INTO planned_session (session_id, revision, status, departement, \
             starts_at, seq) VALUES ('0195f0c0-0000-7000-8000-000000000002', 1, 'published', \
             '69', '2027-04-01T00:00:00Z', {missing})"
        ),
        format!(
            "INSERT INTO report (session_id, version, facilitator_id, facilitator_kind, \
             starts_at, format, departement, region, topics, audiences, age_bands, \
             occupations, attended, first_timers, walk_ins, no_shows, seq) VALUES \
             ('0195f0c0-0000-7000-8000-000000000003', 1, \
             '0195f0c0-0000-7000-8000-000000000004', NULL, '2027-03-01T00:00:00Z', \
             'online', NULL, NULL, '[]', '[]', '{{}}', '{{}}', 1, 1, 0, 0, {missing})"
        ),
    ] {
        let refused = db
            .execute_unprepared(&insert)
            .await
            .expect_err("dangling reference refused");
        assert!(
            refused.to_string().to_lowercase().contains("foreign key"),
            "{insert}: {refused}"
        );
    }
    // A message behind a figure cannot leave the history.
    let refused = db
        .execute_unprepared("DELETE FROM history")
        .await
        .expect_err("history rows behind figures kept");
    assert!(
        refused.to_string().to_lowercase().contains("foreign key"),
        "{refused}"
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM history").await, 3);

    // Consuming and rebuilding still work under the keys.
    let more = [envelope(
        FACILITATOR_VERIFIED,
        facilitator(Uuid::now_v7(), FacilitatorStatus::Verified),
    )];
    assert_eq!(ingest::ingest(&db, &more).await.expect("ingested"), 1);
    assert_eq!(ingest::rebuild(&db).await.expect("rebuilt"), 4);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM facilitator").await, 2);
}

backend_matrix!(
    unknown_stored_values_fail_the_read,
    foreign_keys_hold_after_migrating_rows
);
