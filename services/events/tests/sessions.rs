//! The events service through its REST API, on both backend sets: lifecycle, authorization,
//! series, capacity and waiting list (including the 1,000-registration race), anonymous
//! tokens, attendance corrections, calendars, erasure, and the replica kept from the bus.

use cafeia_events::{Events, domain::CORRECTION_WINDOW_DAYS, messages, storage::session};
use cafeia_platform::{
    auth::{Role, Territory},
    envelope::MessageType,
};
use cafeia_testkit::{
    Backend, backend_matrix,
    contracts::assert_every_type_has_a_contract,
    mail::{mail_dir, register_by_mail, wait_for_confirmations},
    service::{ServiceHarness, field},
};
use chrono::{DateTime, Duration, NaiveDateTime, SecondsFormat, Timelike, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use std::time::Duration as StdDuration;
use support::{VERIFIED, facilitator, network, paris, published, session_at};
use uuid::Uuid;

use crate::support;

const SUSPENDED: MessageType = MessageType::new("facilitators", "facilitator", "suspended", 1);

async fn drain(h: &mut ServiceHarness) {
    while h
        .messages
        .next_within(StdDuration::from_millis(300))
        .await
        .map(|d| tokio::spawn(d.ack()))
        .is_some()
    {}
}

/// The next message of type `key`, skipping others (each one contract-checked).
async fn expect(h: &mut ServiceHarness, key: &str) -> Value {
    for _ in 0..50 {
        let (k, data) = h.next_message().await;
        if k == key {
            return data;
        }
    }
    panic!("no {key} message");
}

async fn register_anonymously(
    h: &ServiceHarness,
    session: &str,
    email: &str,
) -> (StatusCode, Value) {
    h.call(
        Method::POST,
        &format!("/v1/sessions/{session}/registrations"),
        None,
        Some(json!({"email": email, "consent": true})),
    )
    .await
}

/// The catalogue code of a problem document.
fn code(problem: &Value) -> &str {
    problem["code"].as_str().unwrap_or_default()
}

/// Every line of a session's roll, following its pages (100 at a time); checks the total.
async fn roll_all(h: &ServiceHarness, id: &str, token: &str) -> Vec<Value> {
    let mut lines = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
        let (status, page) = h
            .call(
                Method::GET,
                &format!("/v1/sessions/{id}/registrations?limit=100{after}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        lines.extend(page["items"].as_array().expect("items").iter().cloned());
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            assert_eq!(page["total"].as_u64(), Some(lines.len() as u64), "{page}");
            return lines;
        }
    }
}

async fn lifecycle_and_authorization(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.#"]).await;
    let net = network(&mut h).await;
    drain(&mut h).await;
    let start = Utc::now() + Duration::days(10);
    let body = session_at(net.venue, start, 20);

    // Who may create and publish.
    let citizen = h.token("citizen-1", Role::Citizen, None);
    let (status, _) = h
        .call(Method::POST, "/v1/sessions", None, Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = h
        .call(
            Method::POST,
            "/v1/sessions",
            Some(&citizen),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stranger = h.token("never-registered", Role::Facilitator, None);
    let (status, _) = h
        .call(
            Method::POST,
            "/v1/sessions",
            Some(&stranger),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A pending facilitator drafts but does not publish.
    let (status, draft) = h
        .call(
            Method::POST,
            "/v1/sessions",
            Some(&net.pending.1),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let draft_id = draft["id"].as_str().expect("id").to_owned();
    let (status, refused) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{draft_id}/publish"),
            Some(&net.pending.1),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(code(&refused), "FACILITATOR_NOT_VERIFIED", "{refused}");
    // Drafts are not public.
    let (status, _) = h
        .call(Method::GET, &format!("/v1/sessions/{draft_id}"), None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Alice drafts then publishes.
    let (status, created) = h
        .call(
            Method::POST,
            "/v1/sessions",
            Some(&net.alice.1),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "draft");
    let id = created["id"].as_str().expect("id").to_owned();
    // Instants travel in UTC; the zone says how to show them.
    assert_eq!(
        created["starts_at"],
        json!(
            start
                .with_nanosecond(0)
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        )
    );
    assert_eq!(created["timezone"], "Europe/Paris");
    h.no_more_messages().await;
    // Bob may not publish, edit or complete Alice's session.
    for (method, path) in [
        (Method::POST, format!("/v1/sessions/{id}/publish")),
        (Method::POST, format!("/v1/sessions/{id}/complete")),
    ] {
        let (status, _) = h.call(method, &path, Some(&net.bob.1), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, _) = h
        .call(
            Method::PUT,
            &format!("/v1/sessions/{id}"),
            Some(&net.bob.1),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, view) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/publish"),
            Some(&net.alice.1),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let (status, again) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/publish"),
            Some(&net.alice.1),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&again)),
        (StatusCode::CONFLICT, "NOT_A_DRAFT"),
        "{again}"
    );
    let message = expect(&mut h, "events.session.published").await;
    assert_eq!(message["id"], json!(id));
    assert_eq!(message["seats_left"], 20);
    assert_eq!(message["place"]["departement"], "69");
    assert!(message.get("online_url").is_none());

    // A citizen registers (no email asked), sees it, cancels.
    let (status, reg) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&citizen),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reg}");
    assert_eq!(reg["status"], "confirmed");
    assert!(reg.get("cancellation_token").is_none());
    let confirmed = expect(&mut h, "events.registration.confirmed").await;
    assert_eq!(confirmed["signed_in"], true);
    assert!(confirmed.get("email").is_none());
    let seats = expect(&mut h, "events.seats.changed").await;
    assert_eq!(seats["seats_left"], 19);
    let (status, again) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&citizen),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(code(&again), "ALREADY_REGISTERED", "{again}");
    let (status, mine) = h
        .call(Method::GET, "/v1/me/registrations", Some(&citizen), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["total"], 1, "{mine}");
    assert_eq!(mine["items"][0]["session"]["seats_left"], 19);
    // Someone else's registration cannot be cancelled.
    let other = h.token("citizen-2", Role::Citizen, None);
    let reg_id = reg["id"].as_str().expect("id");
    let (status, _) = h
        .call(
            Method::DELETE,
            &format!("/v1/registrations/{reg_id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The roll is for the facilitators of the session.
    let (status, _) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&net.bob.1),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, roll) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&net.alice.1),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(roll["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(roll["total"], 1);
    let (status, _) = h
        .call(
            Method::DELETE,
            &format!("/v1/registrations/{reg_id}"),
            Some(&citizen),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let cancelled = expect(&mut h, "events.registration.cancelled").await;
    assert_eq!(cancelled["cause"], "registrant");

    // Staff of another département may not cancel; Alice may.
    let far_staff = h.token(
        "staff-13",
        Role::Staff,
        Some(Territory::Departement("13".into())),
    );
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/cancel"),
            Some(&far_staff),
            Some(json!({"reason": "doublon"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/cancel"),
            Some(&net.alice.1),
            Some(json!({"reason": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    h.call(
        Method::POST,
        &format!("/v1/sessions/{id}/registrations"),
        Some(&other),
        Some(json!({})),
    )
    .await;
    let (status, view) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/cancel"),
            Some(&net.alice.1),
            Some(json!({"reason": "Salle indisponible"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["status"], "cancelled");
    let told = expect(&mut h, "events.registration.cancelled").await;
    assert_eq!(told["cause"], "session_cancelled");
    let message = expect(&mut h, "events.session.cancelled").await;
    assert_eq!(message["status_reason"], "Salle indisponible");
    // A cancelled session no longer changes, nor takes registrations; an upcoming session
    // cannot be completed, nor a draft.
    let (status, problem) = register_anonymously(&h, &id, "late@example.org").await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "REGISTRATION_CLOSED"),
        "{problem}"
    );
    for (method, path, body) in [
        (
            Method::POST,
            format!("/v1/sessions/{id}/cancel"),
            Some(json!({"reason": "encore"})),
        ),
        (
            Method::PUT,
            format!("/v1/sessions/{id}"),
            Some(body.clone()),
        ),
        (Method::POST, format!("/v1/sessions/{id}/complete"), None),
    ] {
        let (status, problem) = h.call(method, &path, Some(&net.alice.1), body).await;
        assert_eq!(
            (status, code(&problem)),
            (StatusCode::CONFLICT, "SESSION_CLOSED"),
            "{path}: {problem}"
        );
    }
    let upcoming = published(&h, &net.alice.1, session_at(net.venue, start, 10)).await;
    let upcoming_id = upcoming["id"].as_str().expect("id");
    let (status, problem) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{upcoming_id}/complete"),
            Some(&net.alice.1),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "SESSION_NOT_STARTED"),
        "{problem}"
    );
    let (_, draft) = h
        .call(
            Method::POST,
            "/v1/sessions",
            Some(&net.alice.1),
            Some(body.clone()),
        )
        .await;
    let draft_id = draft["id"].as_str().expect("id");
    let (status, problem) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{draft_id}/complete"),
            Some(&net.alice.1),
            None,
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "INVALID_TRANSITION"),
        "{problem}"
    );
    // "My sessions" lists Alice's, and only hers, soonest first, in pages with their total
    // (her probe session of `network`, the cancelled one, the upcoming one, the draft).
    let mut ids = Vec::new();
    let mut starts = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = h
            .call(
                Method::GET,
                &format!("/v1/me/sessions?limit=3{cursor}"),
                Some(&net.alice.1),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total"], 4, "{page}");
        for s in page["items"].as_array().expect("items") {
            ids.push(s["id"].as_str().expect("id").to_owned());
            starts.push(s["starts_at"].as_str().expect("start").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(ids.len(), 4);
    assert!(ids.contains(&id) && ids.iter().any(|i| i == upcoming_id));
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
    let (_, bobs) = h
        .call(Method::GET, "/v1/me/sessions", Some(&net.bob.1), None)
        .await;
    assert_eq!(bobs["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(bobs["total"], 0);
    // A cursor from elsewhere is refused, naming the parameter.
    let (status, problem) = h
        .call(
            Method::GET,
            &format!("/v1/me/sessions?cursor={}", Uuid::now_v7()),
            Some(&net.alice.1),
            None,
        )
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "cursor")
    );
    // The routes register the contract's path templates: check those (the helper reads
    // quoted paths relative to `/v1`).
    h.assert_openapi_matches(&cafeia_events_api::paths::ALL)
        .await;
    h.stop().await;
}

async fn bad_input(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.#"]).await;
    let net = network(&mut h).await;
    let start = Utc::now() + Duration::days(5);
    let token = net.alice.1.clone();
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut reversed = session_at(net.venue, start, 10);
    reversed["ends_at"] = json!(paris(start - Duration::hours(1)));
    cases.push((reversed, "ends_at"));
    cases.push((
        session_at(net.venue, Utc::now() - Duration::days(1), 10),
        "starts_at",
    ));
    cases.push((session_at(net.venue, start, 0), "capacity"));
    let mut no_capacity = session_at(net.venue, start, 10);
    no_capacity
        .as_object_mut()
        .expect("object")
        .remove("capacity");
    cases.push((no_capacity, "capacity"));
    cases.push((session_at(Uuid::now_v7(), start, 10), "venue_id"));
    let mut online = session_at(net.venue, start, 10);
    online["format"] = json!("online");
    online.as_object_mut().expect("object").remove("venue_id");
    cases.push((online.clone(), "online_url"));
    online["online_url"] = json!("http://insecure.example.org");
    cases.push((online, "online_url"));
    let mut zone = session_at(net.venue, start, 10);
    zone["timezone"] = json!("Europe/Lutece");
    cases.push((zone, "timezone"));
    let mut gap = session_at(net.venue, start, 10);
    gap["starts_at"] = json!("2027-03-28T02:30:00");
    cases.push((gap, "starts_at"));
    let mut topic = session_at(net.venue, start, 10);
    topic["topics"] = json!(["astrology"]);
    cases.push((topic, "topics[0]"));
    let mut unknown = session_at(net.venue, start, 10);
    unknown["format"] = json!("telepathy");
    cases.push((unknown, "format"));
    let mut misnamed = session_at(net.venue, start, 10);
    misnamed["waitlist_enabled"] = json!(false);
    cases.push((misnamed, "waitlist_enabled"));
    for (body, expected) in cases {
        let (status, problem) = h
            .call(Method::POST, "/v1/sessions", Some(&token), Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(field(&problem), expected, "{problem}");
    }
    // Nothing was created by the refusals (only the probe session of `network`).
    let (_, mine) = h
        .call(Method::GET, "/v1/me/sessions", Some(&token), None)
        .await;
    assert_eq!(mine["total"], 1, "{mine}");
    // Registration input.
    let session = published(&h, &token, session_at(net.venue, start, 10)).await;
    let id = session["id"].as_str().expect("id");
    for (body, expected) in [
        (json!({"email": "person@example.org"}), "consent"),
        (json!({"email": "not-an-email", "consent": true}), "email"),
        (json!({"consent": true}), "email"),
        (
            json!({"email": "nul\u{0}@example.org", "consent": true}),
            "email",
        ),
        (
            json!({"email": "ok@example.org", "name": "Zo\u{0}é", "consent": true}),
            "name",
        ),
    ] {
        let (status, problem) = h
            .call(
                Method::POST,
                &format!("/v1/sessions/{id}/registrations"),
                None,
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(field(&problem), expected, "{problem}");
    }
    let (status, _) = h
        .call(Method::GET, "/v1/sessions?departement=999", None, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h
        .call(Method::GET, "/v1/sessions?limit=100000", None, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Query strings name the parameter at fault, and the values an enum accepts.
    let (status, problem) = h
        .call(Method::GET, "/v1/sessions?status=archived", None, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(field(&problem), "status", "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("completed")),
        "{problem}"
    );
    let (status, problem) = h
        .call(Method::GET, "/v1/sessions?colour=red", None, None)
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "colour"),
        "{problem}"
    );
    let (status, problem) = h
        .call(
            Method::GET,
            "/v1/me/sessions?limit=many",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "limit"),
        "{problem}"
    );
    // NUL anywhere in a request is refused up front (PostgreSQL cannot store it).
    let (status, problem) = h
        .call(Method::GET, "/v1/sessions?limit=5&topic=a%00b", None, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field(&problem), "topic", "{problem}");
    let (status, problem) = h.call(Method::GET, "/v1/sessions/a%00b", None, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(field(&problem), "path", "{problem}");
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{}/registrations", Uuid::now_v7()),
            None,
            Some(json!({"email": "a@example.org", "consent": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.stop().await;
}

/// Sends the `(URL, body)` POSTs, `at_once` of them in flight at a time; the answers come
/// back in the order asked.
async fn post_all(requests: Vec<(String, Value)>, at_once: usize) -> Vec<(StatusCode, Value)> {
    use futures::StreamExt;
    // A connection each, as separate people would: none is reused after the server dropped it
    // idle (the keep-alive race shows as a reset).
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    futures::stream::iter(requests.into_iter().map(|(url, body)| {
        let http = http.clone();
        async move {
            tokio::spawn(async move {
                let resp = http.post(url).json(&body).send().await.expect("request");
                let status = resp.status();
                (status, resp.json::<Value>().await.expect("json"))
            })
            .await
            .expect("task")
        }
    }))
    .buffered(at_once.max(1))
    .collect()
    .await
}

/// Registers everyone to session `id` without an account (`(service base URL, email)`): the
/// requests (each answered 202; they take no lock on the session, only a transaction each, so
/// a hundred at a time), then, with the tokens of the mails the service wrote, every
/// confirmation at once on the same base URL — where the seats are decided, in batches. The
/// confirmations' answers come back in the order asked.
async fn register_all(
    h: &ServiceHarness,
    id: &str,
    requests: Vec<(String, String)>,
) -> Vec<(StatusCode, Value)> {
    let asked = post_all(
        requests
            .iter()
            .map(|(base, email)| {
                (
                    format!("{base}/v1/sessions/{id}/registrations"),
                    json!({"email": email, "consent": true}),
                )
            })
            .collect(),
        100,
    )
    .await;
    for (status, body) in &asked {
        assert_eq!(*status, StatusCode::ACCEPTED, "{body}");
    }
    let emails: Vec<String> = requests.iter().map(|(_, e)| e.clone()).collect();
    let tokens = wait_for_confirmations(&mail_dir(&h.env.config.data_dir), &emails).await;
    post_all(
        requests
            .iter()
            .map(|(base, email)| {
                (
                    format!("{base}/v1/registrations/confirm"),
                    json!({"token": tokens[&email.to_lowercase()]}),
                )
            })
            .collect(),
        usize::MAX,
    )
    .await
}

async fn capacity_race(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let net = network(&mut h).await;
    let session = published(
        &h,
        &net.alice.1,
        session_at(net.venue, Utc::now() + Duration::days(3), 50),
    )
    .await;
    let id = session["id"].as_str().expect("id").to_owned();
    let requests = (0..1000)
        .map(|i| (h.base.clone(), format!("p{i}@example.org")))
        .collect();
    let mut tokens = Vec::new();
    let (mut confirmed, mut waitlisted) = (0, 0);
    for (status, body) in register_all(&h, &id, requests).await {
        assert_eq!(status, StatusCode::OK, "{body}");
        match body["status"].as_str() {
            Some("confirmed") => confirmed += 1,
            Some("waitlisted") => waitlisted += 1,
            other => panic!("unexpected status {other:?}"),
        }
        tokens.push(
            body["cancellation_token"]
                .as_str()
                .expect("token")
                .to_owned(),
        );
    }
    assert_eq!((confirmed, waitlisted), (50, 950));
    let (_, view) = h
        .call(Method::GET, &format!("/v1/sessions/{id}"), None, None)
        .await;
    assert_eq!(
        (
            view["confirmed"].as_i64(),
            view["waitlisted"].as_i64(),
            view["seats_left"].as_i64()
        ),
        (Some(50), Some(950), Some(0))
    );
    // Rows agree with the counters, and arrival order is consistent: every confirmed
    // registration arrived before every waitlisted one, waitlist positions run 1..=950.
    let roll = roll_all(&h, &id, &net.alice.1).await;
    assert_eq!(roll.len(), 1000);
    let statuses: Vec<&str> = roll.iter().filter_map(|r| r["status"].as_str()).collect();
    assert!(statuses[..50].iter().all(|s| *s == "confirmed"));
    assert!(statuses[50..].iter().all(|s| *s == "waitlisted"));
    let positions: Vec<i64> = roll[50..]
        .iter()
        .filter_map(|r| r["waitlist_position"].as_i64())
        .collect();
    assert_eq!(positions, (1..=950).collect::<Vec<_>>());
    // Ten confirmed people cancel (concurrently): exactly the next ten are promoted.
    let first_ten_waiting: Vec<Value> = roll[50..60].iter().map(|r| r["id"].clone()).collect();
    let confirmed_emails: Vec<String> = roll[..10]
        .iter()
        .map(|r| r["email"].as_str().unwrap_or_default().to_owned())
        .collect();
    let mut cancels = Vec::new();
    for email in &confirmed_emails {
        let n: usize = email
            .trim_start_matches('p')
            .trim_end_matches("@example.org")
            .parse()
            .expect("n");
        let token = tokens[n].clone();
        let (http, url) = (
            h.http.clone(),
            format!("{}/v1/registrations/cancel", h.base),
        );
        cancels.push(tokio::spawn(async move {
            http.post(url)
                .json(&json!({"token": token}))
                .send()
                .await
                .expect("cancel")
                .status()
        }));
    }
    for c in cancels {
        assert_eq!(c.await.expect("task"), StatusCode::OK);
    }
    let roll = roll_all(&h, &id, &net.alice.1).await;
    let promoted: Vec<Value> = roll
        .iter()
        .filter(|r| r["status"] == "confirmed" && first_ten_waiting.contains(&r["id"]))
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(promoted.len(), 10, "the next ten in line got the seats");
    let count = |s: &str| roll.iter().filter(|r| r["status"] == s).count();
    assert_eq!(
        (count("confirmed"), count("waitlisted"), count("cancelled")),
        (50, 940, 10)
    );
    let (_, view) = h
        .call(Method::GET, &format!("/v1/sessions/{id}"), None, None)
        .await;
    assert_eq!(
        (view["confirmed"].as_i64(), view["waitlisted"].as_i64()),
        (Some(50), Some(940))
    );
    h.stop().await;
}

/// Registrations that arrive together are decided together (one transaction per batch): the
/// same person twice at once (their request twice, one in upper case: one registration, one
/// mail; then their link followed twice: one seat), a session without waiting list filling up
/// mid-batch, and one message per registration with seats announced as they finally stand.
async fn concurrent_duplicates_and_no_waiting_list(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(
        backend,
        &["events.registration.*", "events.seats.changed"],
    )
    .await;
    let net = network(&mut h).await;
    let mut body = session_at(net.venue, Utc::now() + Duration::days(3), 5);
    body["waitlist"] = json!(false);
    let session = published(&h, &net.alice.1, body).await;
    let id = session["id"].as_str().expect("id").to_owned();
    drain(&mut h).await;
    // Twenty people, each twice at the same moment (the second time in upper case).
    let requests = (0..40)
        .map(|i| {
            let email = if i % 2 == 0 {
                format!("d{}@example.org", i / 2)
            } else {
                format!("D{}@EXAMPLE.ORG", i / 2)
            };
            (h.base.clone(), email)
        })
        .collect();
    let answers = register_all(&h, &id, requests).await;
    let mut confirmed_people = Vec::new();
    let (mut duplicates, mut full) = (0, 0);
    for (i, (status, body)) in answers.into_iter().enumerate() {
        let person = i / 2;
        match status {
            StatusCode::OK => {
                assert_eq!(body["status"], "confirmed", "{body}");
                confirmed_people.push(person);
            }
            StatusCode::CONFLICT => {
                assert_eq!(code(&body), "SESSION_FULL", "{body}");
                full += 1;
            }
            // The link followed a second time: used already.
            StatusCode::NOT_FOUND => duplicates += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    confirmed_people.sort_unstable();
    let distinct = {
        let mut d = confirmed_people.clone();
        d.dedup();
        d
    };
    assert_eq!(confirmed_people.len(), 5, "exactly the capacity");
    assert_eq!(distinct, confirmed_people, "nobody holds two seats");
    // Each confirmed person's other request is a duplicate; everyone else found it full.
    assert_eq!((duplicates, full), (5, 30));
    let (_, view) = h
        .call(Method::GET, &format!("/v1/sessions/{id}"), None, None)
        .await;
    assert_eq!(
        (
            view["confirmed"].as_i64(),
            view["waitlisted"].as_i64(),
            view["seats_left"].as_i64()
        ),
        (Some(5), Some(0), Some(0))
    );
    let (_, roll) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&net.alice.1),
            None,
        )
        .await;
    assert_eq!(roll["items"].as_array().map(Vec::len), Some(5));
    // Five registrations announced; the last seats message tells the session is full.
    let (mut announced, mut last_seats) = (0, Value::Null);
    while let Some(d) = h.messages.next_within(StdDuration::from_millis(500)).await {
        let envelope: Value = serde_json::from_slice(&d.message.body).expect("json");
        match d.message.routing_key.as_str() {
            "events.registration.confirmed" => {
                // Decided in a batch by another task, still traced to its request.
                assert!(envelope["traceparent"].is_string(), "{envelope}");
                announced += 1;
            }
            "events.seats.changed" => last_seats = envelope["data"].clone(),
            other => panic!("unexpected message {other}"),
        }
        d.ack().await.expect("ack");
    }
    assert_eq!(announced, 5);
    assert_eq!(
        (
            last_seats["confirmed"].as_i64(),
            last_seats["seats_left"].as_i64()
        ),
        (Some(5), Some(0)),
        "{last_seats}"
    );
    h.stop().await;
}

/// Two replicas of the service on one database, registrations to the same session sent to
/// both at once: their batches queue on the same row lock, so the invariant holds across
/// processes.
async fn two_replicas_one_session(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let net = network(&mut h).await;
    let second = h.replica::<Events>().await;
    let session = published(
        &h,
        &net.alice.1,
        session_at(net.venue, Utc::now() + Duration::days(3), 40),
    )
    .await;
    let id = session["id"].as_str().expect("id").to_owned();
    let requests = (0..400)
        .map(|i| {
            let base = if i % 2 == 0 { &h.base } else { &second };
            (base.clone(), format!("r{i}@example.org"))
        })
        .collect();
    let answers = register_all(&h, &id, requests).await;
    let mut positions = Vec::new();
    let mut confirmed = 0;
    for (status, body) in answers {
        assert_eq!(status, StatusCode::OK, "{body}");
        match body["status"].as_str() {
            Some("confirmed") => confirmed += 1,
            Some("waitlisted") => positions.push(body["waitlist_position"].as_i64().expect("pos")),
            other => panic!("unexpected status {other:?}"),
        }
    }
    positions.sort_unstable();
    assert_eq!(confirmed, 40);
    assert_eq!(positions, (1..=360).collect::<Vec<_>>(), "one place each");
    for base in [h.base.clone(), second] {
        let view: Value = h
            .http
            .get(format!("{base}/v1/sessions/{id}"))
            .send()
            .await
            .expect("view")
            .json()
            .await
            .expect("json");
        assert_eq!(
            (view["confirmed"].as_i64(), view["waitlisted"].as_i64()),
            (Some(40), Some(360))
        );
    }
    let roll = roll_all(&h, &id, &net.alice.1).await;
    let count = |s: &str| roll.iter().filter(|r| r["status"] == s).count();
    assert_eq!((count("confirmed"), count("waitlisted")), (40, 360));
    h.stop().await;
}

async fn waitlist_rules(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.registration.*"]).await;
    let net = network(&mut h).await;
    let start = Utc::now() + Duration::days(4);
    let body = session_at(net.venue, start, 2);
    let session = published(&h, &net.alice.1, body.clone()).await;
    let id = session["id"].as_str().expect("id").to_owned();
    for i in 0..4 {
        let (status, reg) = register_by_mail(&h, &id, &format!("w{i}@example.org")).await;
        assert_eq!(status, StatusCode::OK, "{reg}");
        assert_eq!(
            reg["status"],
            if i < 2 { "confirmed" } else { "waitlisted" }
        );
        if i >= 2 {
            assert_eq!(reg["waitlist_position"], i - 1);
        }
    }
    // Same email twice (case folded): answered as any request, and nothing more is held.
    let (status, again) = register_anonymously(&h, &id, "W0@Example.org").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    // The roll's pages number the waiting list across pages.
    let (_, first_page) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{id}/registrations?limit=3"),
            Some(&net.alice.1),
            None,
        )
        .await;
    assert_eq!(first_page["total"], 4, "{first_page}");
    assert_eq!(first_page["items"][2]["waitlist_position"], 1);
    let next = first_page["next_cursor"].as_str().expect("a second page");
    let (_, second_page) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{id}/registrations?limit=3&cursor={next}"),
            Some(&net.alice.1),
            None,
        )
        .await;
    assert_eq!(second_page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(second_page["items"][0]["waitlist_position"], 2);
    assert!(second_page["next_cursor"].is_null());
    // Below the confirmed count: refused, nothing changed.
    let mut smaller = body.clone();
    smaller["capacity"] = json!(1);
    let (status, problem) = h
        .call(
            Method::PUT,
            &format!("/v1/sessions/{id}"),
            Some(&net.alice.1),
            Some(smaller),
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "CAPACITY_BELOW_CONFIRMED"),
        "{problem}"
    );
    assert_eq!(field(&problem), "capacity");
    // Larger: the two waiting people are promoted, in order.
    drain(&mut h).await;
    let mut larger = body.clone();
    larger["capacity"] = json!(5);
    let (status, view) = h
        .call(
            Method::PUT,
            &format!("/v1/sessions/{id}"),
            Some(&net.alice.1),
            Some(larger),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        (
            view["confirmed"].as_i64(),
            view["waitlisted"].as_i64(),
            view["seats_left"].as_i64()
        ),
        (Some(4), Some(0), Some(1))
    );
    let first = expect(&mut h, "events.registration.promoted").await;
    let second = expect(&mut h, "events.registration.promoted").await;
    assert!(first["registration_id"].as_str() < second["registration_id"].as_str());
    // Without a waiting list, a full session refuses with SESSION_FULL.
    let mut closed = session_at(net.venue, start, 1);
    closed["waitlist"] = json!(false);
    let closed = published(&h, &net.alice.1, closed).await;
    let closed_id = closed["id"].as_str().expect("id");
    let (status, _) = register_by_mail(&h, closed_id, "first@example.org").await;
    assert_eq!(status, StatusCode::OK);
    let (status, problem) = register_anonymously(&h, closed_id, "second@example.org").await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "SESSION_FULL");
    // On-site-only sessions take no registration.
    let mut on_site = session_at(net.venue, start, 10);
    on_site["registration_mode"] = json!("on_site_only");
    let on_site = published(&h, &net.alice.1, on_site).await;
    let (status, problem) =
        register_anonymously(&h, on_site["id"].as_str().expect("id"), "x@example.org").await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "REGISTRATION_CLOSED"),
        "{problem}"
    );
    assert_eq!(on_site["registration_open"], false);
    h.stop().await;
}

async fn anonymous_tokens_and_erasure(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.registration.*"]).await;
    let net = network(&mut h).await;
    let session = published(
        &h,
        &net.alice.1,
        session_at(net.venue, Utc::now() + Duration::days(2), 1),
    )
    .await;
    let id = session["id"].as_str().expect("id").to_owned();
    let (_, first) = register_by_mail(&h, &id, "ana@example.org").await;
    let (_, second) = register_by_mail(&h, &id, "ben@example.org").await;
    assert_eq!(second["status"], "waitlisted");
    let token = first["cancellation_token"]
        .as_str()
        .expect("token")
        .to_owned();
    // Forged tokens are unknown; nothing changes.
    for forged in [
        "0".repeat(64),
        "not-a-token".into(),
        token.replace(&token[..4], "ffff"),
    ] {
        let (status, _) = h
            .call(
                Method::POST,
                "/v1/registrations/cancel",
                None,
                Some(json!({"token": forged})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (_, view) = h
        .call(Method::GET, &format!("/v1/sessions/{id}"), None, None)
        .await;
    assert_eq!(view["confirmed"], 1);
    let (status, _) = h
        .call(
            Method::POST,
            "/v1/registrations/cancel",
            None,
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Ben was promoted; the stale token is recognised and refused.
    let (_, roll) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&net.alice.1),
            None,
        )
        .await;
    assert_eq!(roll["items"][1]["status"], "confirmed");
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/registrations/cancel",
            None,
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(code(&problem), "REGISTRATION_NOT_ACTIVE", "{problem}");
    // Ana may register again after cancelling.
    let (status, again) = register_by_mail(&h, &id, "ana@example.org").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    // Erasure on request: Ben's email and name are gone, his seat freed.
    let ben = second["cancellation_token"].as_str().expect("token");
    let (status, erased) = h
        .call(
            Method::POST,
            "/v1/registrations/erase",
            None,
            Some(json!({"token": ben})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{erased}");
    let (_, roll) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&net.alice.1),
            None,
        )
        .await;
    let emails: Vec<&str> = roll["items"]
        .as_array()
        .expect("roll")
        .iter()
        .filter_map(|r| r["email"].as_str())
        .collect();
    assert!(!emails.contains(&"ben@example.org"), "{roll}");
    assert_eq!(roll["items"][1]["status"], "cancelled");
    // Signed-in erasure.
    let citizen = h.token("citizen-erase", Role::Citizen, None);
    h.call(
        Method::POST,
        &format!("/v1/sessions/{id}/registrations"),
        Some(&citizen),
        Some(json!({})),
    )
    .await;
    let (status, _) = h
        .call(Method::DELETE, "/v1/me/registrations", Some(&citizen), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, mine) = h
        .call(Method::GET, "/v1/me/registrations", Some(&citizen), None)
        .await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(mine["total"], 0);
    // Automatic erasure after the retention period (as the background sweep runs it).
    let db = cafeia_platform::db::connect(&h.env.config.database_url("events"), 2)
        .await
        .expect("db");
    let erased = cafeia_events::registrations::erase_before(&db, Utc::now() + Duration::days(30))
        .await
        .expect("sweep");
    assert!(erased >= 1);
    let (_, roll) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&net.alice.1),
            None,
        )
        .await;
    assert!(
        roll["items"]
            .as_array()
            .expect("roll")
            .iter()
            .all(|r| r["email"].is_null()),
        "{roll}"
    );
    h.stop().await;
}

async fn attendance_correction_replaces(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.attendance.*"]).await;
    let net = network(&mut h).await;
    let start = Utc::now() + Duration::seconds(5);
    let session = published(&h, &net.alice.1, session_at(net.venue, start, 10)).await;
    let id = session["id"].as_str().expect("id").to_owned();
    let (status, draft) = h
        .call(
            Method::POST,
            "/v1/sessions",
            Some(&net.alice.1),
            Some(session_at(net.venue, start, 10)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let draft_id = draft["id"].as_str().expect("id").to_owned();
    let mut regs = Vec::new();
    let mut tokens = Vec::new();
    // At once: each must be confirmed before the session starts.
    let people: Vec<String> = (0..3).map(|i| format!("a{i}@example.org")).collect();
    let confirmed =
        futures::future::join_all(people.iter().map(|email| register_by_mail(&h, &id, email)))
            .await;
    for (status, reg) in confirmed {
        assert_eq!(status, StatusCode::OK, "{reg}");
        regs.push(reg["id"].as_str().expect("id").to_owned());
        tokens.push(
            reg["cancellation_token"]
                .as_str()
                .expect("token")
                .to_owned(),
        );
    }
    let report = json!({
        "registrations": [
            {"registration_id": regs[0], "attended": true},
            {"registration_id": regs[1], "attended": true},
            {"registration_id": regs[2], "attended": false},
        ],
        "walk_ins": 4, "first_timers": 5,
        "age_bands": {"25_39": 3, "60_74": 2}, "occupations": {"retired": 2, "employee": 3},
    });
    // Not before the start.
    let path = format!("/v1/sessions/{id}/attendance");
    let (status, problem) = h
        .call(Method::PUT, &path, Some(&net.alice.1), Some(report.clone()))
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "SESSION_NOT_STARTED"),
        "{problem}"
    );
    tokio::time::sleep(
        (start - Utc::now()).to_std().unwrap_or_default() + StdDuration::from_millis(300),
    )
    .await;
    // Registration is closed once started.
    let (status, problem) = register_anonymously(&h, &id, "late@example.org").await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "REGISTRATION_CLOSED"),
        "{problem}"
    );
    // Too late to edit, publish, or cancel a registration; a draft has no attendance.
    let started: [(Method, String, Option<Value>); 3] = [
        (
            Method::PUT,
            format!("/v1/sessions/{id}"),
            Some(session_at(net.venue, Utc::now() + Duration::days(1), 10)),
        ),
        (
            Method::POST,
            format!("/v1/sessions/{draft_id}/publish"),
            None,
        ),
        (
            Method::POST,
            "/v1/registrations/cancel".to_owned(),
            Some(json!({"token": tokens[0]})),
        ),
    ];
    for (method, at, body) in started {
        let (status, problem) = h.call(method, &at, Some(&net.alice.1), body).await;
        assert_eq!(
            (status, code(&problem)),
            (StatusCode::CONFLICT, "SESSION_STARTED"),
            "{at}: {problem}"
        );
    }
    let (status, problem) = h
        .call(
            Method::PUT,
            &format!("/v1/sessions/{draft_id}/attendance"),
            Some(&net.alice.1),
            Some(json!({"first_timers": 0})),
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "INVALID_TRANSITION"),
        "{problem}"
    );
    // Someone else's report, impossible figures: refused.
    let (status, _) = h
        .call(Method::PUT, &path, Some(&net.bob.1), Some(report.clone()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut too_many = report.clone();
    too_many["first_timers"] = json!(7);
    let (status, problem) = h
        .call(Method::PUT, &path, Some(&net.alice.1), Some(too_many))
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "first_timers")
    );
    let mut ages = report.clone();
    ages["age_bands"] = json!({"25_39": 5, "60_74": 2});
    let (status, problem) = h
        .call(Method::PUT, &path, Some(&net.alice.1), Some(ages))
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "age_bands")
    );
    let mut stranger = report.clone();
    stranger["registrations"][0]["registration_id"] = json!(Uuid::now_v7());
    let (status, problem) = h
        .call(Method::PUT, &path, Some(&net.alice.1), Some(stranger))
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "registrations[0].registration_id")
    );
    h.no_more_messages().await;
    // The report.
    let (status, first) = h
        .call(Method::PUT, &path, Some(&net.alice.1), Some(report.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        (
            first["version"].as_i64(),
            first["attended"].as_i64(),
            first["no_shows"].as_i64()
        ),
        (Some(1), Some(6), Some(1))
    );
    let v1 = expect(&mut h, "events.attendance.recorded").await;
    assert_eq!(
        (
            v1["version"].as_i64(),
            v1["attended"].as_i64(),
            v1["first_timers"].as_i64()
        ),
        (Some(1), Some(6), Some(5))
    );
    assert!(v1.get("email").is_none() && v1["age_bands"]["25_39"] == 3);
    // The correction replaces it: all three came, one walk-in less.
    let mut fixed = report.clone();
    fixed["registrations"][2]["attended"] = json!(true);
    fixed["walk_ins"] = json!(3);
    fixed["first_timers"] = json!(4);
    let (status, second) = h
        .call(Method::PUT, &path, Some(&net.alice.1), Some(fixed))
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(
        (
            second["version"].as_i64(),
            second["attended"].as_i64(),
            second["no_shows"].as_i64(),
            second["first_timers"].as_i64()
        ),
        (Some(2), Some(6), Some(0), Some(4))
    );
    let v2 = expect(&mut h, "events.attendance.recorded").await;
    assert_eq!(
        (
            v2["version"].as_i64(),
            v2["attended"].as_i64(),
            v2["first_timers"].as_i64(),
            v2["no_shows"].as_i64()
        ),
        (Some(2), Some(6), Some(4), Some(0))
    );
    let (_, stored) = h.call(Method::GET, &path, Some(&net.alice.1), None).await;
    assert_eq!(
        (stored["version"].as_i64(), stored["first_timers"].as_i64()),
        (Some(2), Some(4))
    );
    let (_, view) = h
        .call(Method::GET, &format!("/v1/sessions/{id}"), None, None)
        .await;
    assert_eq!(view["status"], "completed");
    // Once the correction window has passed (the session moved back in time), no correction.
    let db = cafeia_platform::db::connect(&h.env.config.database_url("events"), 2)
        .await
        .expect("db");
    let long_ago = Utc::now() - Duration::days(CORRECTION_WINDOW_DAYS + 2);
    session::Entity::update_many()
        .col_expr(session::Column::StartsAt, Expr::value(long_ago))
        .col_expr(
            session::Column::EndsAt,
            Expr::value(long_ago + Duration::hours(2)),
        )
        .filter(session::Column::Id.eq(Uuid::parse_str(&id).expect("uuid")))
        .exec(&db)
        .await
        .expect("moved");
    let (status, problem) = h
        .call(Method::PUT, &path, Some(&net.alice.1), Some(report))
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::CONFLICT, "CORRECTION_WINDOW_CLOSED"),
        "{problem}"
    );
    h.stop().await;
}

/// Parses a feed and returns (summary, start as a UTC instant, status) of each event.
fn events_of(ics: &str) -> Vec<(String, DateTime<Utc>, String)> {
    use icalendar::{Calendar, CalendarDateTime, Component, DatePerhapsTime};
    let calendar: Calendar = ics.parse().expect("valid iCalendar");
    calendar
        .events()
        .map(|e| {
            let start = match e.get_start() {
                Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(t))) => t,
                other => panic!("start as a UTC instant, got {other:?}"),
            };
            (
                e.get_summary().unwrap_or_default().to_owned(),
                start,
                e.property_value("STATUS").unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn series_and_calendars(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let net = network(&mut h).await;
    // A weekly café at 18:00 in Paris, across the change to summer time (28 March 2027).
    let local = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").expect("time");
    let mut session = session_at(net.venue, Utc::now() + Duration::days(1), 12);
    session["starts_at"] = json!("2027-03-14T18:00:00");
    session["ends_at"] = json!("2027-03-14T19:30:00");
    let (status, series) = h
        .call(
            Method::POST,
            "/v1/series",
            Some(&net.alice.1),
            Some(json!({"session": session, "recurrence": {"frequency": "weekly", "count": 4}, "publish": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{series}");
    let sessions = series["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 4);
    let starts: Vec<&str> = sessions
        .iter()
        .filter_map(|s| s["starts_at"].as_str())
        .collect();
    // 18:00 in Paris, as UTC instants on both sides of the change.
    assert_eq!(
        starts,
        vec![
            "2027-03-14T17:00:00Z",
            "2027-03-21T17:00:00Z",
            "2027-03-28T16:00:00Z",
            "2027-04-04T16:00:00Z",
        ]
    );
    for _ in 0..4 {
        expect(&mut h, "events.session.published").await;
    }
    // The series' sessions are listed together; one is cancelled.
    let series_id = series["series_id"].as_str().expect("id");
    let (_, page) = h
        .call(
            Method::GET,
            &format!("/v1/sessions?series_id={series_id}"),
            None,
            None,
        )
        .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(4));
    assert_eq!(page["total"], 4);
    // A smaller page: the total is still the whole filtered list's.
    let (_, small) = h
        .call(
            Method::GET,
            &format!("/v1/sessions?series_id={series_id}&limit=3"),
            None,
            None,
        )
        .await;
    assert_eq!(small["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(small["total"], 4);
    let next = small["next_cursor"].as_str().expect("next page");
    let (_, rest) = h
        .call(
            Method::GET,
            &format!("/v1/sessions?series_id={series_id}&limit=3&cursor={next}"),
            None,
            None,
        )
        .await;
    assert_eq!(
        (
            rest["items"].as_array().map(Vec::len),
            rest["total"].as_u64()
        ),
        (Some(1), Some(4))
    );
    let third = sessions[2]["id"].as_str().expect("id");
    h.call(
        Method::POST,
        &format!("/v1/sessions/{third}/cancel"),
        Some(&net.alice.1),
        Some(json!({"reason": "jour férié"})),
    )
    .await;
    // The facilitator's feed, parsed back: instants are right on both sides of the change.
    let ics = h
        .http
        .get(format!(
            "{}/v1/calendars/facilitators/{}/feed.ics",
            h.base, net.alice.0
        ))
        .send()
        .await
        .expect("feed");
    assert_eq!(
        ics.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let ics = ics.text().await.expect("text");
    let events = events_of(&ics);
    let paris = |t: &DateTime<Utc>| t.with_timezone(&chrono_tz::Europe::Paris).naive_local();
    let series_events: Vec<&(String, DateTime<Utc>, String)> = events
        .iter()
        .filter(|e| e.1.date_naive().format("%Y").to_string() == "2027")
        .collect();
    assert_eq!(series_events.len(), 4, "{ics}");
    assert_eq!(series_events[0].1.hour(), 17, "18:00 CET is 17:00 UTC");
    assert_eq!(series_events[3].1.hour(), 16, "18:00 CEST is 16:00 UTC");
    assert!(
        series_events
            .iter()
            .all(|e| paris(&e.1).time() == local("2027-01-01T18:00:00").time())
    );
    assert_eq!(series_events[2].2, "CANCELLED");
    assert_eq!(series_events[0].2, "CONFIRMED");
    // One session's .ics, the public feed by département and topic.
    let first = sessions[0]["id"].as_str().expect("id");
    let one = h
        .http
        .get(format!("{}/v1/sessions/{first}/calendar.ics", h.base))
        .send()
        .await
        .expect("ics")
        .text()
        .await
        .expect("text");
    assert_eq!(events_of(&one).len(), 1);
    let public = h
        .http
        .get(format!(
            "{}/v1/calendars/public.ics?departement=69&topic=what_is_ai&from=2027-03-01T00:00:00Z",
            h.base
        ))
        .send()
        .await
        .expect("ics")
        .text()
        .await
        .expect("text");
    let public = events_of(&public);
    assert_eq!(
        public.len(),
        4,
        "published and cancelled sessions of the series"
    );
    let elsewhere = h
        .http
        .get(format!("{}/v1/calendars/public.ics?departement=13", h.base))
        .send()
        .await
        .expect("ics")
        .text()
        .await
        .expect("text");
    assert!(events_of(&elsewhere).is_empty());
    // A citizen's private feed shows their sessions, with the online link.
    let mut online = session_at(net.venue, Utc::now() + Duration::days(6), 1);
    online["format"] = json!("online");
    online["online_url"] = json!("https://visio.example.org/cafe-ia");
    online.as_object_mut().expect("object").remove("venue_id");
    let online = published(&h, &net.alice.1, online).await;
    let online_id = online["id"].as_str().expect("id");
    let citizen = h.token("citizen-feed", Role::Citizen, None);
    let (_, public_view) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{online_id}"),
            Some(&citizen),
            None,
        )
        .await;
    assert!(
        public_view["online_url"].is_null(),
        "link hidden before registering"
    );
    h.call(
        Method::POST,
        &format!("/v1/sessions/{online_id}/registrations"),
        Some(&citizen),
        Some(json!({})),
    )
    .await;
    let (_, registered_view) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{online_id}"),
            Some(&citizen),
            None,
        )
        .await;
    assert_eq!(
        registered_view["online_url"],
        "https://visio.example.org/cafe-ia"
    );
    let (status, feed) = h
        .call(Method::POST, "/v1/me/calendar", Some(&citizen), None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let path = feed["path"].as_str().expect("path");
    let private = h
        .http
        .get(format!("{}{path}", h.base))
        .send()
        .await
        .expect("feed")
        .text()
        .await
        .expect("text");
    assert_eq!(events_of(&private).len(), 1);
    assert!(private.contains("https://visio.example.org/cafe-ia"));
    // A new feed URL revokes the old one.
    h.call(Method::POST, "/v1/me/calendar", Some(&citizen), None)
        .await;
    let (status, _) = h.call(Method::GET, path, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // JSON-LD.
    let (status, ld) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{first}/jsonld"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ld["@type"], json!(["Event", "EducationEvent"]));
    assert_eq!(
        (
            ld["maximumAttendeeCapacity"].as_i64(),
            ld["remainingAttendeeCapacity"].as_i64()
        ),
        (Some(12), Some(12))
    );
    assert_eq!(
        ld["eventAttendanceMode"],
        "https://schema.org/OfflineEventAttendanceMode"
    );
    assert_eq!(ld["isAccessibleForFree"], true);
    let (_, ld) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/{third}/jsonld"),
            None,
            None,
        )
        .await;
    assert_eq!(ld["eventStatus"], "https://schema.org/EventCancelled");
    // Bad series input.
    let (status, problem) = h
        .call(Method::POST, "/v1/series", Some(&net.alice.1),
            Some(json!({"session": session_at(net.venue, Utc::now() + Duration::days(1), 5), "recurrence": {"frequency": "weekly", "count": 500}})))
        .await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "recurrence.count")
    );
    h.stop().await;
}

async fn replica_from_the_bus(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let net = network(&mut h).await;
    let session = published(
        &h,
        &net.bob.1,
        session_at(net.venue, Utc::now() + Duration::days(8), 10),
    )
    .await;
    let id = session["id"].as_str().expect("id").to_owned();
    drain(&mut h).await;
    // The same announcement delivered twice changes nothing the second time.
    let suspension = cafeia_platform::envelope::Envelope::new(
        SUSPENDED,
        "facilitator",
        facilitator(net.bob.0, "bob", "suspended"),
    );
    let message = cafeia_platform::bus::Message::event(SUSPENDED.routing_key(), &suspension)
        .expect("message");
    h.bus.publish(&message).await.expect("published");
    let updated = expect(&mut h, "events.session.updated").await;
    assert_eq!(
        (updated["id"].as_str(), updated["status"].as_str()),
        (Some(id.as_str()), Some("draft"))
    );
    h.bus.publish(&message).await.expect("published again");
    h.no_more_messages().await;
    // A suspended facilitator cannot act; their session is no longer public.
    let (status, _) = h
        .call(Method::GET, &format!("/v1/sessions/{id}"), None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/sessions",
            Some(&net.bob.1),
            Some(session_at(net.venue, Utc::now() + Duration::days(9), 5)),
        )
        .await;
    assert_eq!(
        (status, code(&problem)),
        (StatusCode::FORBIDDEN, "FACILITATOR_SUSPENDED"),
        "{problem}"
    );
    // An older announcement arriving late does not undo the suspension.
    let stale = cafeia_platform::envelope::Envelope {
        time: Utc::now() - Duration::hours(1),
        ..cafeia_platform::envelope::Envelope::new(
            VERIFIED,
            "facilitator",
            facilitator(net.bob.0, "bob", "verified"),
        )
    };
    let message =
        cafeia_platform::bus::Message::event(VERIFIED.routing_key(), &stale).expect("message");
    h.bus.publish(&message).await.expect("published");
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/publish"),
            Some(&net.bob.1),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    h.stop().await;
}

/// The batch look-ups the gateway's loaders use: sessions by ids with the single look-up's
/// visibility, and the upcoming published sessions of venues and facilitators.
async fn batch_look_ups(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let net = network(&mut h).await;
    let soon = Utc::now() + Duration::days(3);
    // Alice: a weekly series of 22 at the venue, a draft, an online session; Bob: one session
    // Alice co-runs.
    let mut weekly = session_at(net.venue, soon + Duration::days(1), 10);
    weekly["title"] = json!("Café IA du mardi");
    let (status, series) = h
        .call(
            Method::POST,
            "/v1/series",
            Some(&net.alice.1),
            Some(json!({"session": weekly, "recurrence": {"frequency": "weekly", "count": 22}, "publish": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{series}");
    let first_of_series = series["sessions"][0]["id"].as_str().expect("id").to_owned();
    let (_, draft) = h
        .call(
            Method::POST,
            "/v1/sessions",
            Some(&net.alice.1),
            Some(session_at(net.venue, soon, 10)),
        )
        .await;
    let draft = draft["id"].as_str().expect("id").to_owned();
    let mut online = session_at(net.venue, soon, 10);
    online["format"] = json!("online");
    online["online_url"] = json!("https://visio.example.org/batch");
    online.as_object_mut().expect("object").remove("venue_id");
    let online = published(&h, &net.alice.1, online).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut corun = session_at(net.venue, soon, 10);
    corun["co_facilitators"] = json!([net.alice.0]);
    let corun = published(&h, &net.bob.1, corun).await["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // By ids: unknown ids and (for outsiders) drafts are absent; the link only for insiders.
    let unknown = Uuid::now_v7();
    let ids = format!("{first_of_series},{draft},{online},{unknown},{online}");
    let batch = format!("/v1/sessions/batch?ids={ids}");
    let found = |answer: &Value| -> Vec<String> {
        let mut ids: Vec<String> = answer
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    let (status, public) = h.call(Method::GET, &batch, None, None).await;
    assert_eq!(status, StatusCode::OK, "{public}");
    assert_eq!(
        found(&public),
        sorted(vec![first_of_series.clone(), online.clone()])
    );
    assert!(
        public
            .as_array()
            .expect("list")
            .iter()
            .all(|s| s["online_url"].is_null())
    );
    let (_, alices) = h.call(Method::GET, &batch, Some(&net.alice.1), None).await;
    assert_eq!(
        found(&alices),
        sorted(vec![first_of_series.clone(), draft.clone(), online.clone()])
    );
    assert!(
        alices
            .as_array()
            .expect("list")
            .iter()
            .any(|s| s["online_url"] == "https://visio.example.org/batch"),
        "{alices}"
    );
    // Bob sees Alice's published sessions, not her draft.
    let (_, bobs) = h.call(Method::GET, &batch, Some(&net.bob.1), None).await;
    assert_eq!(
        found(&bobs),
        sorted(vec![first_of_series.clone(), online.clone()])
    );
    let (_, none) = h
        .call(Method::GET, "/v1/sessions/batch?ids=", None, None)
        .await;
    assert_eq!(none, json!([]));
    let too_many: Vec<String> = (0..101).map(|_| Uuid::now_v7().to_string()).collect();
    for bad in [
        format!("/v1/sessions/batch?ids={}", too_many.join(",")),
        "/v1/sessions/batch?ids=not-a-uuid".to_owned(),
        "/v1/sessions/by-venue".to_owned(),
    ] {
        let (status, problem) = h.call(Method::GET, &bad, None, None).await;
        assert_eq!(
            (status, field(&problem)),
            (StatusCode::BAD_REQUEST, "ids"),
            "{bad}: {problem}"
        );
    }

    // By venue: upcoming published sessions, soonest first, 20 at most; drafts and online
    // sessions (no venue) left out; venues without any absent.
    let (status, groups) = h
        .call(
            Method::GET,
            &format!("/v1/sessions/by-venue?ids={},{unknown}", net.venue),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{groups}");
    assert_eq!(groups.as_array().map(Vec::len), Some(1), "{groups}");
    assert_eq!(groups[0]["id"], json!(net.venue));
    let at_venue = groups[0]["sessions"].as_array().expect("sessions");
    assert_eq!(at_venue.len(), 20);
    let starts: Vec<&str> = at_venue
        .iter()
        .filter_map(|s| s["starts_at"].as_str())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
    assert!(at_venue.iter().all(|s| s["status"] == "published"));
    assert!(at_venue.iter().all(|s| s["id"] != json!(draft)));
    // The co-run session (soonest) comes first.
    assert_eq!(at_venue[0]["id"], json!(corun));

    // By facilitator: what each runs or co-runs.
    let (status, groups) = h
        .call(
            Method::GET,
            &format!(
                "/v1/sessions/by-facilitator?ids={},{},{}",
                net.alice.0, net.bob.0, net.pending.0
            ),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{groups}");
    let group = |id: Uuid| {
        groups
            .as_array()
            .expect("groups")
            .iter()
            .find(|g| g["id"] == json!(id))
            .map(|g| g["sessions"].as_array().expect("sessions").clone())
    };
    let alice = group(net.alice.0).expect("alice's sessions");
    assert_eq!(alice.len(), 20);
    assert!(alice.iter().any(|s| s["id"] == json!(corun)));
    assert!(alice.iter().any(|s| s["id"] == json!(online)));
    assert!(alice.iter().all(|s| s["id"] != json!(draft)));
    let bob = group(net.bob.0).expect("bob's sessions");
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0]["id"], json!(corun));
    assert!(group(net.pending.0).is_none());

    // The OpenAPI document lists every query parameter (and the path's).
    let (_, doc) = h.call(Method::GET, "/openapi.json", None, None).await;
    for (path, expected) in [
        ("/v1/sessions/batch", vec!["ids"]),
        ("/v1/sessions/by-venue", vec!["ids"]),
        ("/v1/sessions/by-facilitator", vec!["ids"]),
        (
            "/v1/sessions",
            vec!["departement", "status", "cursor", "limit"],
        ),
        ("/v1/me/sessions", vec!["cursor", "limit"]),
        ("/v1/sessions/{id}", vec!["id"]),
        ("/v1/me/registrations", vec!["cursor", "limit"]),
        (
            "/v1/sessions/{id}/registrations",
            vec!["id", "cursor", "limit"],
        ),
    ] {
        let names: Vec<&str> = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
            .unwrap_or_default();
        for name in expected {
            assert!(names.contains(&name), "{path} lacks {name}: {names:?}");
        }
    }
    h.stop().await;
}

backend_matrix!(
    lifecycle_and_authorization,
    bad_input,
    capacity_race,
    concurrent_duplicates_and_no_waiting_list,
    two_replicas_one_session,
    waitlist_rules,
    anonymous_tokens_and_erasure,
    attendance_correction_replaces,
    series_and_calendars,
    replica_from_the_bus,
    batch_look_ups,
);

#[test]
fn every_message_type_has_a_contract() {
    assert_every_type_has_a_contract(&messages::ALL);
}
