//! Registration by email (review issue, item 11): registering with an email no longer tells
//! anyone whether that address is registered, nor lets anyone occupy another person's address.
//! The request holds nothing and answers the same for every address; the owner of the mailbox
//! confirms through the mailed link, and only then is a seat decided. On both backend sets,
//! with the mail the service really writes (its default transport: `.eml` files) and, for the
//! sender, a real SMTP server (aiosmtpd; `CAFEIA_TEST_SMTP_URL`).

use cafeia_events::{
    Events,
    config::EventsConfig,
    mail::{self, Outgoing, Round, Sender, Waker},
    registrations::{self, Asked, Request},
    storage::{
        Migrator, Rows, mail_message,
        mail_message::{MailKind, MailStatus},
        registration,
    },
};
use cafeia_platform::{
    auth::{DevIssuer, Role},
    mail::{Attachment, Mail, MailConfig, MailMetrics, Transport},
    metrics::Metrics,
};
use cafeia_testkit::{
    Backend, TcpProxy, TestEnv, backend_matrix,
    mail::{
        CONFIRM_PATH, link_token, mail_dir, parse, register_by_mail, require_smtp, smtp_maildir,
        wait_for_mail, written_to,
    },
    service::ServiceHarness,
};
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr,
};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};
use std::time::Duration as StdDuration;
use support::{Net, network, published, session_at};
use uuid::Uuid;

// Shared with the other suites; not every helper is needed here.
#[allow(dead_code)]
use crate::support;

async fn database(h: &ServiceHarness) -> DatabaseConnection {
    cafeia_platform::db::connect(&h.env.database_url(), 2)
        .await
        .expect("database")
}

/// The demo network and a published session of Alice's with `capacity` seats, in five days.
async fn session(h: &mut ServiceHarness, capacity: i32, waitlist: bool) -> (String, Net) {
    let net = network(h).await;
    let mut body = session_at(net.venue, Utc::now() + Duration::days(5), capacity);
    body["waitlist"] = json!(waitlist);
    let created = published(h, &net.alice.1, body).await;
    (created["id"].as_str().expect("id").to_owned(), net)
}

/// The raw answer to registering `email` without an account: status, content type, body bytes.
async fn ask(h: &ServiceHarness, session: &str, email: &str) -> (StatusCode, String, Vec<u8>) {
    let response = h
        .http
        .post(format!("{}/v1/sessions/{session}/registrations", h.base))
        .json(&json!({"email": email, "name": "Quelqu'un", "consent": true}))
        .send()
        .await
        .expect("request");
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.bytes().await.expect("body").to_vec();
    (status, kind, body)
}

async fn confirm(h: &ServiceHarness, token: &str) -> (StatusCode, Value) {
    h.call(
        Method::POST,
        "/v1/registrations/confirm",
        None,
        Some(json!({ "token": token })),
    )
    .await
}

/// The token of the latest confirmation mail to `email`, once `count` mails reached it.
async fn mailed_token(h: &ServiceHarness, email: &str, count: usize) -> String {
    let mails = wait_for_mail(&mail_dir(&h.env.config.data_dir), email, count).await;
    let last = mails.last().expect("a mail");
    link_token(&last.text, CONFIRM_PATH).expect("a confirmation link")
}

async fn view(h: &ServiceHarness, session: &str) -> Value {
    h.call(Method::GET, &format!("/v1/sessions/{session}"), None, None)
        .await
        .1
}

/// New, waiting for confirmation, confirmed: the three answers are the same bytes, and the
/// answer names nothing of the address. Before, a new address got its registration (201, an
/// id, a status) and a registered one `409 ALREADY_REGISTERED « déjà inscrit·e »`. Only the
/// mailboxes learn anything: the confirmed address's owner gets a new cancellation link.
async fn registration_does_not_reveal_whether_an_email_is_registered(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let (id, _) = session(&mut h, 10, true).await;
    let dir = mail_dir(&h.env.config.data_dir);
    let (status, _, _) = ask(&h, &id, "pending@example.org").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    wait_for_mail(&dir, "pending@example.org", 1).await;
    let (status, held) = register_by_mail(&h, &id, "held@example.org").await;
    assert_eq!(status, StatusCode::OK, "{held}");
    let mut answers = Vec::new();
    for email in ["new@example.org", "pending@example.org", "held@example.org"] {
        answers.push(ask(&h, &id, email).await);
    }
    assert_eq!(answers[0].0, StatusCode::ACCEPTED);
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    let body: Value = serde_json::from_slice(&answers[0].2).expect("json");
    assert_eq!(
        body,
        json!({"session_id": id, "message": cafeia_events_api::views::PENDING_MESSAGE})
    );
    // The owners: a confirmation for the new address, a new cancellation link for the
    // registered one (the first link stops working), nothing more for the waiting one (a
    // mail went moments ago; it is sent before the later ones).
    wait_for_mail(&dir, "new@example.org", 1).await;
    // The request, the seat, and now this.
    let to_held = wait_for_mail(&dir, "held@example.org", 3).await;
    let reminder = to_held
        .iter()
        .find(|m| m.subject.starts_with("Votre inscription"))
        .expect("mail");
    assert!(
        reminder.subject.contains("Votre inscription"),
        "{reminder:?}"
    );
    let new_link = link_token(&reminder.text, "/annuler").expect("a cancellation link");
    assert_eq!(written_to(&dir, "pending@example.org").len(), 1);
    let old_link = held["cancellation_token"].as_str().expect("token");
    let (status, _) = h
        .call(
            Method::POST,
            "/v1/registrations/cancel",
            None,
            Some(json!({"token": old_link})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, cancelled) = h
        .call(
            Method::POST,
            "/v1/registrations/cancel",
            None,
            Some(json!({"token": new_link})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    h.stop().await;
}

/// Asked for, not confirmed: no seat, no waiting-list place, nothing on the roll. A signed-in
/// citizen takes the one seat meanwhile; the confirmation comes after them. Before, the
/// request itself took the seat.
async fn unconfirmed_registration_holds_no_seat(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(
        backend,
        &["events.registration.*", "events.seats.changed"],
    )
    .await;
    let (id, net) = session(&mut h, 1, true).await;
    let (status, _, _) = ask(&h, &id, "ana@example.org").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let seats = view(&h, &id).await;
    assert_eq!(
        (
            seats["confirmed"].as_i64(),
            seats["waitlisted"].as_i64(),
            seats["seats_left"].as_i64()
        ),
        (Some(0), Some(0), Some(1)),
        "{seats}"
    );
    let (status, roll) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&net.alice.1),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{roll}");
    assert_eq!(roll["total"], 0, "{roll}");
    let citizen = h.token("camille", cafeia_platform::auth::Role::Citizen, None);
    let (status, camille) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&citizen),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{camille}");
    assert_eq!(camille["status"], "confirmed");
    // The first message announces Camille's seat: the request announced nothing.
    let (key, first) = h.next_message().await;
    assert_eq!(key, "events.registration.confirmed");
    assert_eq!(first["registration_id"], camille["id"], "{first}");
    let token = mailed_token(&h, "ana@example.org", 1).await;
    let (status, ana) = confirm(&h, &token).await;
    assert_eq!(status, StatusCode::OK, "{ana}");
    assert_eq!(
        (ana["status"].as_str(), ana["waitlist_position"].as_i64()),
        (Some("waitlisted"), Some(1)),
        "{ana}"
    );
    assert!(ana["cancellation_token"].is_string(), "{ana}");
    h.stop().await;
}

/// Mallory registers Victor's address: it holds nothing, Mallory cannot confirm it (the link
/// went to Victor), and Victor still registers and confirms. Before, Mallory's request took
/// the seat in Victor's name and Victor was told « déjà inscrit·e ».
async fn someone_else_cannot_occupy_an_email(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let (id, _) = session(&mut h, 1, false).await;
    let (mallory, _, _) = ask(&h, &id, "victor@example.org").await;
    assert_eq!(mallory, StatusCode::ACCEPTED);
    assert_eq!(view(&h, &id).await["seats_left"], 1);
    // Mallory holds no token: guessing one confirms nothing.
    let (status, _) = confirm(&h, &"0".repeat(64)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Victor asks too (the same answer), and confirms with the link in his mailbox.
    let (victor, _, _) = ask(&h, &id, "Victor@Example.org").await;
    assert_eq!(victor, StatusCode::ACCEPTED);
    let token = mailed_token(&h, "victor@example.org", 1).await;
    let (status, registered) = confirm(&h, &token).await;
    assert_eq!(status, StatusCode::OK, "{registered}");
    assert_eq!(registered["status"], "confirmed");
    assert_eq!(view(&h, &id).await["seats_left"], 0);
    // The link works once.
    let (status, again) = confirm(&h, &token).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NOT_FOUND")),
        "{again}"
    );
    h.stop().await;
}

/// A request nobody confirms by its deadline (24 h, never after the start) is refused at
/// confirmation and erased with its mail by the sweep; the address may then ask again.
/// Before, a request never expired: it was a registration.
async fn unconfirmed_registration_expires(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let net = network(&mut h).await;
    let db = database(&h).await;
    let mut soon = session_at(net.venue, Utc::now() + Duration::hours(3), 5);
    soon["title"] = json!("Café IA de tout à l'heure");
    let soon = published(&h, &net.alice.1, soon).await;
    let mut later = session_at(net.venue, Utc::now() + Duration::days(5), 5);
    later["title"] = json!("Café IA de la semaine prochaine");
    let later = published(&h, &net.alice.1, later).await;
    let deadline = |email: &'static str, session: Value| {
        let db = db.clone();
        async move {
            let id = Uuid::parse_str(session["id"].as_str().expect("id")).expect("uuid");
            registration::Entity::find()
                .filter(registration::Column::SessionId.eq(id))
                .filter(registration::Column::Email.eq(email))
                .row(&db)
                .await
                .expect("read")
                .expect("the request")
        }
    };
    let before = Utc::now();
    for s in [&soon, &later] {
        let (status, _, _) = ask(&h, s["id"].as_str().expect("id"), "ana@example.org").await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let after = Utc::now();
    let starts: chrono::DateTime<Utc> = soon["starts_at"]
        .as_str()
        .expect("start")
        .parse()
        .expect("instant");
    let in_soon = deadline("ana@example.org", soon.clone()).await;
    assert_eq!(in_soon.confirm_by, Some(starts), "never after the start");
    let in_later = deadline("ana@example.org", later.clone()).await;
    let by = in_later.confirm_by.expect("deadline");
    assert!(by >= before + Duration::hours(24) && by <= after + Duration::hours(24));
    // The deadline passes (as time would).
    registration::Entity::update_many()
        .col_expr(
            registration::Column::ConfirmBy,
            Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(registration::Column::Id.eq(in_later.id))
        .exec(&db)
        .await
        .expect("update");
    let tokens = wait_for_mail(&mail_dir(&h.env.config.data_dir), "ana@example.org", 2).await;
    let later_title = later["title"].as_str().expect("title");
    let later_token = tokens
        .iter()
        .filter(|m| m.subject.contains(later_title))
        .filter_map(|m| link_token(&m.text, CONFIRM_PATH))
        .collect::<Vec<_>>();
    assert!(!later_token.is_empty());
    for token in &later_token {
        let (status, _) = confirm(&h, token).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // The sweep erases it and its mail; the other request, still in time, stays.
    let erased = registrations::expire_unconfirmed(&db, Utc::now())
        .await
        .expect("sweep");
    assert_eq!(erased, 1);
    assert!(
        registration::Entity::find_by_id(in_later.id)
            .row(&db)
            .await
            .expect("read")
            .is_none()
    );
    let mails = mail_message::Entity::find()
        .filter(mail_message::Column::RegistrationId.eq(in_later.id))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(mails, 0);
    assert!(
        registration::Entity::find_by_id(in_soon.id)
            .row(&db)
            .await
            .expect("read")
            .is_some()
    );
    // Ana may ask again, and confirm this time.
    let (status, confirmed) =
        register_by_mail(&h, later["id"].as_str().expect("id"), "ana@example.org").await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    h.stop().await;
}

/// The request and its mail are one transaction: rolled back, neither exists; committed,
/// both do. (The mail holds the only copy of the link's token: it cannot be written later.)
async fn confirmation_mail_is_written_in_the_registration_transaction(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let (id, _) = session(&mut h, 5, true).await;
    let session_id = Uuid::parse_str(&id).expect("uuid");
    let db = database(&h).await;
    let settings = EventsConfig::default();
    let request = Request {
        email: "ana@example.org".into(),
        name: None,
    };
    let txn = cafeia_platform::db::begin(&db).await.expect("begin");
    let asked = registrations::ask(&txn, &settings, session_id, &request, Utc::now())
        .await
        .expect("asked");
    let Asked::New(registration_id) = asked else {
        panic!("a new request: {asked:?}");
    };
    let in_transaction = mail_message::Entity::find()
        .filter(mail_message::Column::RegistrationId.eq(registration_id))
        .rows(&txn)
        .await
        .expect("read");
    assert_eq!(in_transaction.len(), 1);
    assert_eq!(in_transaction[0].kind, MailKind::RegistrationConfirmation);
    assert!(in_transaction[0].text.contains(CONFIRM_PATH));
    drop(txn);
    let mails = mail_message::Entity::find()
        .count(&db)
        .await
        .expect("count");
    let requests = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(session_id))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(
        (mails, requests),
        (0, 0),
        "rolled back: no mail, no request"
    );
    let txn = cafeia_platform::db::begin(&db).await.expect("begin");
    let asked = registrations::ask(&txn, &settings, session_id, &request, Utc::now())
        .await
        .expect("asked");
    assert!(matches!(asked, Asked::New(_)), "{asked:?}");
    txn.commit().await.expect("commit");
    let mails = mail_message::Entity::find()
        .count(&db)
        .await
        .expect("count");
    assert_eq!(mails, 1);
    h.stop().await;
}

/// Asking again mails again, with a new link, at most once per `mail_resend_minutes` and
/// never while the last mail is still queued; the old link then stops working.
async fn asking_again_mails_a_new_link_at_most_once_per_interval(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let (id, _) = session(&mut h, 5, true).await;
    let db = database(&h).await;
    let dir = mail_dir(&h.env.config.data_dir);
    ask(&h, &id, "ana@example.org").await;
    let first = mailed_token(&h, "ana@example.org", 1).await;
    // At once again: nothing more.
    ask(&h, &id, "ana@example.org").await;
    // The interval passes (as time would): the next request mails a new link.
    mail_message::Entity::update_many()
        .col_expr(
            mail_message::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::minutes(11)),
        )
        .exec(&db)
        .await
        .expect("update");
    ask(&h, &id, "ana@example.org").await;
    let second = mailed_token(&h, "ana@example.org", 2).await;
    assert_ne!(first, second);
    assert_eq!(written_to(&dir, "ana@example.org").len(), 2);
    let (status, _) = confirm(&h, &first).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, confirmed) = confirm(&h, &second).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    // One row per registration and kind (the request's, then the seat's), sent (marked just
    // after the file is written), and blank.
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = mail_message::Entity::find().rows(&db).await.expect("rows");
        if rows.len() == 2 && rows.iter().all(|r| r.status == MailStatus::Sent) {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let mut kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, vec!["registration_confirmation", "seat_confirmed"]);
    for row in &rows {
        assert_eq!(row.status, MailStatus::Sent);
        assert!(row.recipient.is_empty() && row.subject.is_empty() && row.text.is_empty());
        assert!(row.html.is_none() && row.list_unsubscribe.is_none());
    }
    // Erasing the registration erases its mail row.
    let token = confirmed["cancellation_token"].as_str().expect("token");
    let (status, _) = h
        .call(
            Method::POST,
            "/v1/registrations/erase",
            None,
            Some(json!({ "token": token })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        mail_message::Entity::find()
            .count(&db)
            .await
            .expect("count"),
        0
    );
    h.stop().await;
}

/// Signed in, a citizen registers at once (no mail to confirm: the account is who they are);
/// with their consent, the address their identity provider verified is kept for the mail about
/// it (and the seat is mailed there), an unverified one never, and neither shows on the roll.
async fn signed_in_citizens_register_at_once_keeping_only_a_verified_email(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let (id, net) = session(&mut h, 5, true).await;
    let db = database(&h).await;
    let issuer =
        DevIssuer::load_or_create(&h.env.config.data_dir, &h.env.config.auth).expect("issuer");
    let verified = issuer
        .issue_with_email(
            "camille",
            &[Role::Citizen],
            "camille@example.org",
            StdDuration::from_secs(600),
        )
        .expect("token");
    let now = Utc::now().timestamp();
    let unverified = issuer
        .sign(&json!({
            "sub": "dominique", "iss": h.env.config.auth.issuer, "aud": h.env.config.auth.audience,
            "exp": now + 600, "nbf": now, "roles": ["citizen"],
            "email": "dominique@example.org", "email_verified": false,
        }))
        .expect("token");
    for token in [&verified, &unverified] {
        let (status, reg) = h
            .call(
                Method::POST,
                &format!("/v1/sessions/{id}/registrations"),
                Some(token),
                Some(json!({"consent": true})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{reg}");
        assert_eq!(reg["status"], "confirmed", "{reg}");
    }
    let session_id = Uuid::parse_str(&id).expect("uuid");
    let mut kept: Vec<Option<String>> = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(session_id))
        .rows(&db)
        .await
        .expect("rows")
        .into_iter()
        .map(|r| r.email)
        .collect();
    kept.sort();
    assert_eq!(kept, vec![None, Some("camille@example.org".to_owned())]);
    let (_, roll) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&net.alice.1),
            None,
        )
        .await;
    let lines = roll["items"].as_array().expect("roll");
    assert_eq!(lines.len(), 2, "{roll}");
    assert!(
        lines
            .iter()
            .all(|l| l["signed_in"] == true && l["email"].is_null()),
        "{roll}"
    );
    let dir = mail_dir(&h.env.config.data_dir);
    let mails = wait_for_mail(&dir, "camille@example.org", 1).await;
    assert!(mails[0].subject.contains("est réservée"), "{:?}", mails[0]);
    assert!(written_to(&dir, "dominique@example.org").is_empty());
    h.stop().await;
}

/// A cancelled session leaves nothing to confirm: its requests go, with their mail.
async fn cancelling_a_session_erases_the_requests_waiting_for_confirmation(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let (id, net) = session(&mut h, 5, true).await;
    let db = database(&h).await;
    ask(&h, &id, "ana@example.org").await;
    let token = mailed_token(&h, "ana@example.org", 1).await;
    let (status, cancelled) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/cancel"),
            Some(&net.alice.1),
            Some(json!({"reason": "Salle indisponible"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    let session_id = Uuid::parse_str(&id).expect("uuid");
    let left = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(session_id))
        .count(&db)
        .await
        .expect("count");
    let mails = mail_message::Entity::find()
        .count(&db)
        .await
        .expect("count");
    assert_eq!((left, mails), (0, 0));
    let (status, refused) = confirm(&h, &token).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    h.stop().await;
}

/// A migrated database of `backend` for the sender's tests.
async fn outbox_database(env: &TestEnv) -> DatabaseConnection {
    let db = cafeia_platform::db::connect(&env.database_url(), 2)
        .await
        .expect("database");
    Migrator::up(&db, None).await.expect("migrated");
    db
}

fn transport(url: &str, env: &TestEnv) -> Transport {
    let config: MailConfig = serde_json::from_value(json!({ "url": url })).expect("config");
    Transport::from_config(&config, &env.config.data_dir).expect("transport")
}

fn sender(db: &DatabaseConnection, transport: Transport, metrics: &Metrics) -> Sender {
    Sender::new(
        db.clone(),
        transport,
        MailMetrics::register(metrics),
        Waker::default(),
        StdDuration::from_millis(100),
    )
}

fn invitation(to: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Confirmez votre inscription au Café IA « Découvrir l'IA »".into(),
        text: format!(
            "Bonjour,\nOuvrez https://cafe-ia.example.org{CONFIRM_PATH}?jeton={}\nÀ bientôt",
            "ab".repeat(32)
        ),
        html: Some("<p>Bonjour, <a href=\"https://cafe-ia.example.org\">ici</a></p>".into()),
        attachments: vec![Attachment {
            filename: "cafe-ia.ics".into(),
            content_type: "text/calendar; charset=utf-8; method=REQUEST".into(),
            content: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n".into(),
        }],
        list_unsubscribe: None,
        message_id: None,
    }
}

async fn queue(db: &DatabaseConnection, mail: Mail) -> Uuid {
    let key = format!("test/{}", Uuid::now_v7());
    let queued = mail::queue(
        db,
        Outgoing {
            kind: MailKind::RegistrationConfirmation,
            dedupe_key: key.clone(),
            registration_id: None,
            mail,
        },
        Utc::now(),
        Duration::minutes(10),
    )
    .await
    .expect("queued");
    assert!(queued);
    mail_message::Entity::find()
        .filter(mail_message::Column::DedupeKey.eq(key))
        .row(db)
        .await
        .expect("read")
        .expect("row")
        .id
}

async fn row(db: &DatabaseConnection, id: Uuid) -> mail_message::Model {
    mail_message::Entity::find_by_id(id)
        .row(db)
        .await
        .expect("read")
        .expect("row")
}

/// Over a real SMTP server: the mail arrives whole (text, HTML, the `.ics`), and its row is
/// marked sent with its recipient and content blanked.
async fn mail_is_delivered_over_smtp_and_blanked_once_sent(backend: Backend) {
    let url = require_smtp().await;
    let env = TestEnv::new(backend).await;
    let db = outbox_database(&env).await;
    let to = format!("ana.{}@example.org", Uuid::now_v7().simple());
    let id = queue(&db, invitation(&to)).await;
    let metrics = Metrics::new("events");
    let round = sender(&db, transport(&url, &env), &metrics)
        .send_due()
        .await
        .expect("round");
    assert_eq!(
        round,
        Round {
            handled: 1,
            unavailable: false
        }
    );
    let sent = row(&db, id).await;
    assert_eq!(sent.status, MailStatus::Sent);
    assert!(sent.sent_at.is_some());
    assert!(sent.recipient.is_empty() && sent.text.is_empty() && sent.subject.is_empty());
    assert!(sent.html.is_none() && sent.attachments.0.is_empty());
    let received = wait_for_mail(&smtp_maildir(), &to, 1).await;
    let mail = &received[0];
    assert!(mail.subject.contains("Découvrir l'IA"), "{mail:?}");
    assert_eq!(
        link_token(&mail.text, CONFIRM_PATH).as_deref(),
        Some("ab".repeat(32).as_str())
    );
    assert!(mail.html.as_deref().is_some_and(|h| h.contains("<a href")));
    assert_eq!(
        mail.attachments,
        vec![("cafe-ia.ics".to_owned(), "text/calendar".to_owned())]
    );
    assert!(metrics.render().contains("cafeia_mail_sent_total"));
}

/// A mail the server can never take (a non-ASCII address, which it does not accept: no
/// SMTPUTF8) is parked and counted; the reason stored and counted names no address. The
/// next mail still goes.
async fn a_mail_the_smtp_server_refuses_is_parked_and_counted(backend: Backend) {
    let url = require_smtp().await;
    let env = TestEnv::new(backend).await;
    let db = outbox_database(&env).await;
    let refused = queue(&db, invitation("jérôme@example.org")).await;
    let fine_to = format!("ben.{}@example.org", Uuid::now_v7().simple());
    let fine = queue(&db, invitation(&fine_to)).await;
    let metrics = Metrics::new("events");
    let round = sender(&db, transport(&url, &env), &metrics)
        .send_due()
        .await
        .expect("round");
    assert_eq!(
        round,
        Round {
            handled: 2,
            unavailable: false
        }
    );
    let parked = row(&db, refused).await;
    assert_eq!(parked.status, MailStatus::Parked);
    let why = parked.last_error.unwrap_or_default();
    assert!(
        // Refused by way of the server (its capabilities), not before: the address parses.
        why.contains("smtp") && !why.contains("jérôme") && !why.contains('@'),
        "{why}"
    );
    assert_eq!(row(&db, fine).await.status, MailStatus::Sent);
    wait_for_mail(&smtp_maildir(), &fine_to, 1).await;
    let text = metrics.render();
    assert!(
        text.lines()
            .any(|l| l.starts_with("cafeia_mail_parked_total")
                && l.contains("registration_confirmation")
                && l.ends_with(" 1")),
        "{text}"
    );
    assert!(!text.contains("example.org"), "{text}");
}

/// While the server cannot be reached, mail waits, unharmed (not parked, no attempt
/// counted); it goes once the server is back.
async fn mail_waits_while_the_smtp_server_is_unreachable(backend: Backend) {
    let url = require_smtp().await;
    let env = TestEnv::new(backend).await;
    let db = outbox_database(&env).await;
    let address = url.split("://").nth(1).unwrap_or_default().to_owned();
    let proxy = TcpProxy::start(&address).await;
    let to = format!("cleo.{}@example.org", Uuid::now_v7().simple());
    let id = queue(&db, invitation(&to)).await;
    let metrics = Metrics::new("events");
    let sender = sender(&db, transport(&proxy.url_for(&url), &env), &metrics);
    proxy.cut();
    let round = sender.send_due().await.expect("round");
    assert_eq!(
        round,
        Round {
            handled: 0,
            unavailable: true
        }
    );
    let waiting = row(&db, id).await;
    assert_eq!((waiting.status, waiting.attempts), (MailStatus::Queued, 0));
    assert!(
        waiting
            .last_error
            .as_deref()
            .is_some_and(|e| !e.contains('@')),
        "{waiting:?}"
    );
    proxy.restore();
    let round = sender.send_due().await.expect("round");
    assert_eq!(
        round,
        Round {
            handled: 1,
            unavailable: false
        }
    );
    assert_eq!(row(&db, id).await.status, MailStatus::Sent);
    wait_for_mail(&smtp_maildir(), &to, 1).await;
}

/// `file://` (the default under `cafeia up`) writes one `.eml` per mail, parseable as the
/// mail it is.
async fn the_file_transport_writes_a_parseable_eml(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let db = outbox_database(&env).await;
    let dir = env.config.data_dir.join("outbox-mail");
    let id = queue(&db, invitation("dora@example.org")).await;
    let metrics = Metrics::new("events");
    let url = format!("file://{}", dir.display());
    let round = sender(&db, transport(&url, &env), &metrics)
        .send_due()
        .await
        .expect("round");
    assert_eq!(
        round,
        Round {
            handled: 1,
            unavailable: false
        }
    );
    assert_eq!(row(&db, id).await.status, MailStatus::Sent);
    let files: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].extension().is_some_and(|e| e == "eml"));
    let mail = parse(&std::fs::read(&files[0]).expect("read")).expect("a mail");
    assert_eq!(mail.to, "dora@example.org");
    assert!(mail.subject.starts_with("Confirmez votre inscription"));
    assert!(mail.text.contains("À bientôt"));
    assert_eq!(mail.attachments.len(), 1);
}

/// A « session changed » mail the server refused for good stays parked when the session is
/// edited again: coalescing does not send it once more, the row keeps its refusal and the
/// parked metric counts it once.
async fn a_parked_change_mail_stays_parked_when_the_session_changes_again(backend: Backend) {
    let url = require_smtp().await;
    let env = TestEnv::new(backend).await;
    let db = outbox_database(&env).await;
    let key = format!("registration/{}/session_changed", Uuid::now_v7());
    let change = |text: &str| {
        let mut mail = invitation("jérôme@example.org");
        mail.text = text.to_owned();
        Outgoing {
            kind: MailKind::SessionChanged,
            dedupe_key: key.clone(),
            registration_id: None,
            mail,
        }
    };
    mail::queue_coalesced(
        &db,
        change("Nouvel horaire : 18 h"),
        Utc::now(),
        Duration::zero(),
    )
    .await
    .expect("queued");
    let metrics = Metrics::new("events");
    let sender = sender(&db, transport(&url, &env), &metrics);
    assert_eq!(sender.send_due().await.expect("round").handled, 1);
    let find = || {
        mail_message::Entity::find()
            .filter(mail_message::Column::DedupeKey.eq(key.as_str()))
            .row(&db)
    };
    let parked = find().await.expect("read").expect("row");
    assert_eq!(parked.status, MailStatus::Parked);

    mail::queue_coalesced(
        &db,
        change("Nouvel horaire : 19 h"),
        Utc::now(),
        Duration::zero(),
    )
    .await
    .expect("coalesced");
    let after = find().await.expect("read").expect("row");
    assert_eq!(after, parked, "left as the sender parked it");
    assert_eq!(
        sender.send_due().await.expect("round"),
        Round {
            handled: 0,
            unavailable: false
        }
    );
    let text = metrics.render();
    assert!(
        text.lines()
            .any(|l| l.starts_with("cafeia_mail_parked_total")
                && l.contains("session_changed")
                && l.ends_with(" 1")),
        "{text}"
    );
}

backend_matrix!(
    registration_does_not_reveal_whether_an_email_is_registered,
    unconfirmed_registration_holds_no_seat,
    someone_else_cannot_occupy_an_email,
    unconfirmed_registration_expires,
    confirmation_mail_is_written_in_the_registration_transaction,
    asking_again_mails_a_new_link_at_most_once_per_interval,
    signed_in_citizens_register_at_once_keeping_only_a_verified_email,
    cancelling_a_session_erases_the_requests_waiting_for_confirmation,
    mail_is_delivered_over_smtp_and_blanked_once_sent,
    a_mail_the_smtp_server_refuses_is_parked_and_counted,
    mail_waits_while_the_smtp_server_is_unreachable,
    the_file_transport_writes_a_parseable_eml,
    a_parked_change_mail_stays_parked_when_the_session_changes_again,
);
