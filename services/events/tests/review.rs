//! Defects found in review, each with the test that failed before its fix, on both backend
//! sets: a suspended facilitator reading the roll, the online link in a waitlisted person's
//! private feed, a late venue announcement restoring a removed venue, far dates panicking the
//! handler, and calendars always claiming Paris time.

use cafeia_events::{Events, replicas};
use cafeia_platform::{
    auth::Role,
    bus::Message,
    envelope::{Envelope, MessageType},
    inbox,
};
use cafeia_testkit::{
    Backend, backend_matrix,
    service::{ServiceHarness, field},
};
use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use std::time::Duration as StdDuration;
use support::{VENUE, facilitator, network, published, session_at};
use uuid::Uuid;

use crate::support;

const SUSPENDED: MessageType = MessageType::new("facilitators", "facilitator", "suspended", 1);
const REINSTATED: MessageType = MessageType::new("facilitators", "facilitator", "reinstated", 1);
const VENUE_REMOVED: MessageType = MessageType::new("facilitators", "venue", "removed", 1);

async fn database(h: &ServiceHarness) -> DatabaseConnection {
    cafeia_platform::db::connect(&h.env.database_url(), 2)
        .await
        .expect("database")
}

/// Plays an announcement of the facilitators service stamped `time`, and returns once the
/// replica has applied it: the inbox records the message id in the transaction of its effect.
async fn deliver(
    h: &ServiceHarness,
    db: &DatabaseConnection,
    kind: MessageType,
    data: Value,
    time: DateTime<Utc>,
) {
    let envelope = Envelope {
        time,
        ..Envelope::new(kind, "facilitators", data)
    };
    let message = Message::event(kind.routing_key(), &envelope).expect("message");
    h.bus.publish(&message).await.expect("published");
    let key = (replicas::QUEUE.to_owned(), message.message_id.clone());
    for _ in 0..400 {
        let seen = inbox::entity::Entity::find_by_id(key.clone())
            .one(db)
            .await
            .expect("inbox");
        if seen.is_some() {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(25)).await;
    }
    panic!("{} was never applied", kind.type_name());
}

/// The catalogue code of a problem document.
fn code(problem: &Value) -> &str {
    problem["code"].as_str().unwrap_or_default()
}

fn venue_at(id: Uuid, departement: &str, region: &str, insee: &str, postcode: &str) -> Value {
    json!({
        "id": id, "name": "Médiathèque", "address": "1 rue de la Source",
        "postcode": postcode, "insee": insee, "departement": departement, "region": region,
        "latitude": -20.88, "longitude": 55.45, "opening_hours": null,
        "accessibility": [], "capacity": 30, "is_public": true,
    })
}

fn online(start: DateTime<Utc>, capacity: i32, url: &str) -> Value {
    let mut body = session_at(Uuid::nil(), start, capacity);
    body["format"] = json!("online");
    body["online_url"] = json!(url);
    body.as_object_mut().expect("object").remove("venue_id");
    body
}

async fn get(h: &ServiceHarness, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    h.call(Method::GET, path, token, None).await
}

/// The text of a calendar document.
async fn ics(h: &ServiceHarness, path: &str) -> String {
    let response = h
        .http
        .get(format!("{}{path}", h.base))
        .send()
        .await
        .expect("calendar");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.expect("text")
}

/// A suspended facilitator is refused what `acting` refuses them (`FACILITATOR_SUSPENDED`):
/// the roll (names, emails), the attendance report, and every insider view (the online link)
/// of a session they co-run — a suspension only unpublishes the sessions they run themselves.
/// Reinstated, they read them again.
async fn suspended_facilitator_is_refused_the_roll_until_reinstated(backend: Backend) {
    let h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let db = database(&h).await;
    let mut h = h;
    let net = network(&mut h).await;
    let mut body = online(
        Utc::now() + Duration::days(5),
        10,
        "https://visio.example.org/co",
    );
    body["co_facilitators"] = json!([net.bob.0]);
    let session = published(&h, &net.alice.1, body).await;
    let id = session["id"].as_str().expect("id").to_owned();
    let citizen = h.token("camille", Role::Citizen, None);
    let (status, reg) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&citizen),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reg}");
    let registration = reg["id"].as_str().expect("id").to_owned();
    let roll = format!("/v1/sessions/{id}/registrations");
    let (status, page) = get(&h, &roll, Some(&net.bob.1)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"][0]["id"], json!(registration), "{page}");

    deliver(
        &h,
        &db,
        SUSPENDED,
        facilitator(net.bob.0, "bob", "suspended"),
        Utc::now(),
    )
    .await;
    let (status, refused) = get(&h, &roll, Some(&net.bob.1)).await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::FORBIDDEN, "FACILITATOR_SUSPENDED"),
        "{refused}"
    );
    assert!(!refused.to_string().contains(&registration), "{refused}");
    let (status, refused) = get(
        &h,
        &format!("/v1/sessions/{id}/attendance"),
        Some(&net.bob.1),
    )
    .await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::FORBIDDEN, "FACILITATOR_SUSPENDED"),
        "{refused}"
    );
    // Insider views: the session is public, its link is not theirs any more.
    let (status, view) = get(&h, &format!("/v1/sessions/{id}"), Some(&net.bob.1)).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert!(view["online_url"].is_null(), "{view}");
    let (_, batch) = get(
        &h,
        &format!("/v1/sessions/batch?ids={id}"),
        Some(&net.bob.1),
    )
    .await;
    assert!(batch[0]["online_url"].is_null(), "{batch}");
    // Alice, not suspended, still reads it all; a facilitator not of the session never did.
    let (status, _) = get(&h, &roll, Some(&net.alice.1)).await;
    assert_eq!(status, StatusCode::OK);
    // Holding a seat makes a facilitator of another session an insider of its link, not of
    // its team: neither the roll nor the report.
    let (status, seat) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/registrations"),
            Some(&net.pending.1),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{seat}");
    for path in [roll.clone(), format!("/v1/sessions/{id}/attendance")] {
        let (status, refused) = get(&h, &path, Some(&net.pending.1)).await;
        assert_eq!(
            (status, code(&refused)),
            (StatusCode::FORBIDDEN, "FORBIDDEN"),
            "{path}: {refused}"
        );
    }

    deliver(
        &h,
        &db,
        REINSTATED,
        facilitator(net.bob.0, "bob", "verified"),
        Utc::now(),
    )
    .await;
    let (status, page) = get(&h, &roll, Some(&net.bob.1)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"][0]["id"], json!(registration), "{page}");
    let (_, view) = get(&h, &format!("/v1/sessions/{id}"), Some(&net.bob.1)).await;
    assert_eq!(view["online_url"], "https://visio.example.org/co", "{view}");
    // Past the gate: no report yet.
    let (status, _) = get(
        &h,
        &format!("/v1/sessions/{id}/attendance"),
        Some(&net.bob.1),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.stop().await;
}

/// A private feed shows the online link of the sessions where its holder has a seat; a place
/// on the waiting list is not a seat (the link comes with the promotion).
async fn private_feed_hides_the_online_link_from_the_waiting_list(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let net = network(&mut h).await;
    let url = "https://visio.example.org/une-place";
    let session = published(
        &h,
        &net.alice.1,
        online(Utc::now() + Duration::days(4), 1, url),
    )
    .await;
    let id = session["id"].as_str().expect("id").to_owned();
    let mut feeds = Vec::new();
    let mut registrations = Vec::new();
    for (sub, expected) in [("seated", "confirmed"), ("waiting", "waitlisted")] {
        let token = h.token(sub, Role::Citizen, None);
        let (status, reg) = h
            .call(
                Method::POST,
                &format!("/v1/sessions/{id}/registrations"),
                Some(&token),
                Some(json!({})),
            )
            .await;
        assert_eq!(
            (status, reg["status"].as_str()),
            (StatusCode::CREATED, Some(expected))
        );
        let (status, feed) = h
            .call(Method::POST, "/v1/me/calendar", Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{feed}");
        feeds.push(feed["path"].as_str().expect("path").to_owned());
        registrations.push((token, reg["id"].as_str().expect("id").to_owned()));
    }
    let seated = ics(&h, &feeds[0]).await;
    assert!(seated.contains(url), "{seated}");
    let waiting = ics(&h, &feeds[1]).await;
    assert!(
        waiting.contains("BEGIN:VEVENT"),
        "the session is in the feed: {waiting}"
    );
    assert!(!waiting.contains("visio.example.org"), "{waiting}");
    // The seated person cancels: the next one is promoted and gets the link.
    let (status, _) = h
        .call(
            Method::DELETE,
            &format!("/v1/registrations/{}", registrations[0].1),
            Some(&registrations[0].0),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let promoted = ics(&h, &feeds[1]).await;
    assert!(promoted.contains(url), "{promoted}");
    let cancelled = ics(&h, &feeds[0]).await;
    assert!(!cancelled.contains("visio.example.org"), "{cancelled}");
    h.stop().await;
}

/// A removal is final: the facilitators service deletes the venue and never gives its id to
/// another, so an upsert of that id arriving after the removal (late, or even stamped later by
/// a skewed clock) does not bring it back; nor does one arriving after a removal that came
/// first (a tombstone is kept).
async fn late_venue_upserted_after_removed_does_not_restore_the_venue(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let db = database(&h).await;
    let net = network(&mut h).await;
    let now = Utc::now();
    let (t0, t1, t2) = (
        now - Duration::hours(3),
        now - Duration::hours(2),
        now - Duration::hours(1),
    );
    let creates = |venue: Uuid| {
        h.call(
            Method::POST,
            "/v1/sessions",
            Some(&net.alice.1),
            Some(session_at(venue, Utc::now() + Duration::days(3), 10)),
        )
    };
    let lyon = |id| venue_at(id, "69", "84", "69387", "69007");

    // Known, removed, then an older state arrives late.
    let known = Uuid::now_v7();
    deliver(&h, &db, VENUE, lyon(known), t0).await;
    let (status, body) = creates(known).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    deliver(&h, &db, VENUE_REMOVED, json!({"id": known}), t2).await;
    deliver(&h, &db, VENUE, lyon(known), t1).await;
    let (status, problem) = creates(known).await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "venue_id"),
        "{problem}"
    );

    // The removal arrives before any state of the venue.
    let unseen = Uuid::now_v7();
    deliver(&h, &db, VENUE_REMOVED, json!({"id": unseen}), t2).await;
    deliver(&h, &db, VENUE, lyon(unseen), t1).await;
    let (status, problem) = creates(unseen).await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "venue_id"),
        "{problem}"
    );

    // Stamped after the removal: still the removed id, still refused.
    deliver(&h, &db, VENUE, lyon(known), Utc::now()).await;
    let (status, problem) = creates(known).await;
    assert_eq!(
        (status, field(&problem)),
        (StatusCode::BAD_REQUEST, "venue_id"),
        "{problem}"
    );
    // The other venues are untouched.
    let (status, body) = creates(net.venue).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    h.stop().await;
}

/// Dates at the end of chrono's range (year 262142) panicked the handler (a duration added
/// with `+`); they are refused with their field, as is a session more than five years ahead,
/// and the service answers the next request.
async fn far_future_dates_are_refused_with_their_field_not_a_panic(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let net = network(&mut h).await;
    let token = &net.alice.1;
    let mut cases = Vec::new();
    // A series whose second occurrence would end past the range.
    let mut series_start = session_at(net.venue, Utc::now(), 10);
    series_start["starts_at"] = json!("+262142-12-24T23:00:00");
    series_start["ends_at"] = json!("+262142-12-25T10:00:00");
    cases.push((
        "/v1/series",
        json!({"session": series_start, "recurrence": {"frequency": "weekly", "count": 2}}),
        "session.starts_at",
    ));
    // A session near the end of the range (its correction window runs past it).
    let mut near_end = session_at(net.venue, Utc::now(), 10);
    near_end["starts_at"] = json!("+262142-12-28T18:00:00");
    near_end["ends_at"] = json!("+262142-12-28T20:00:00");
    cases.push(("/v1/sessions", near_end.clone(), "starts_at"));
    // West of UTC, the last evening of the range has no instant.
    let mut last_evening = online(Utc::now(), 10, "https://visio.example.org/fin");
    last_evening["starts_at"] = json!("+262142-12-31T20:00:00");
    last_evening["ends_at"] = json!("+262142-12-31T23:00:00");
    last_evening["timezone"] = json!("America/Cayenne");
    cases.push(("/v1/sessions", last_evening, "starts_at"));
    // A series reaching more than five years ahead: the first occurrence out of reach is named.
    cases.push((
        "/v1/series",
        json!({
            "session": session_at(net.venue, Utc::now() + Duration::days(1), 10),
            "recurrence": {"frequency": "monthly", "count": 8, "interval": 12},
        }),
        "occurrences[5].starts_at",
    ));
    for (path, body, expected) in cases {
        let (status, problem) = h.call(Method::POST, path, Some(token), Some(body)).await;
        assert_eq!(
            (status, code(&problem), field(&problem)),
            (StatusCode::BAD_REQUEST, "BAD_USER_INPUT", expected),
            "{path}: {problem}"
        );
        // The handler did not panic: the service answers on.
        let (status, page) = get(&h, "/v1/sessions", None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
    }
    // Within five years is fine.
    let (status, body) = h
        .call(
            Method::POST,
            "/v1/sessions",
            Some(token),
            Some(session_at(
                net.venue,
                Utc::now() + Duration::days(4 * 365),
                10,
            )),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    h.stop().await;
}

fn property<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|line| line.strip_prefix(name))
        .collect()
}

/// Calendars name the zone of their sessions: a session's own calendar its zone, a feed the
/// zone its sessions share, none when they differ; every start is a UTC instant.
async fn calendars_name_the_session_zone_for_overseas_sessions(backend: Backend) {
    let h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let db = database(&h).await;
    let mut h = h;
    let net = network(&mut h).await;
    // 18:00 in Cayenne (UTC−3) on 10 March 2027 is 21:00 UTC.
    let mut cayenne = online(Utc::now(), 10, "https://visio.example.org/guyane");
    cayenne["starts_at"] = json!("2027-03-10T18:00:00");
    cayenne["ends_at"] = json!("2027-03-10T20:00:00");
    cayenne["timezone"] = json!("America/Cayenne");
    let cayenne = published(&h, &net.alice.1, cayenne).await;
    let one = ics(
        &h,
        &format!(
            "/v1/sessions/{}/calendar.ics",
            cayenne["id"].as_str().expect("id")
        ),
    )
    .await;
    assert_eq!(
        property(&one, "X-WR-TIMEZONE:"),
        vec!["America/Cayenne"],
        "{one}"
    );
    assert_eq!(
        property(&one, "DTSTART:"),
        vec!["20270310T210000Z"],
        "{one}"
    );

    // 18:00 in Saint-Denis de La Réunion (UTC+4) on 11 March 2027 is 14:00 UTC.
    let reunion = Uuid::now_v7();
    deliver(
        &h,
        &db,
        VENUE,
        venue_at(reunion, "974", "04", "97411", "97400"),
        Utc::now(),
    )
    .await;
    let mut body = session_at(reunion, Utc::now(), 10);
    body["starts_at"] = json!("2027-03-11T18:00:00");
    body["ends_at"] = json!("2027-03-11T20:00:00");
    body["timezone"] = json!("Indian/Reunion");
    published(&h, &net.bob.1, body).await;
    let feed = ics(
        &h,
        "/v1/calendars/public.ics?departement=974&from=2027-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(
        property(&feed, "X-WR-TIMEZONE:"),
        vec!["Indian/Reunion"],
        "{feed}"
    );
    assert_eq!(
        property(&feed, "DTSTART:"),
        vec!["20270311T140000Z"],
        "{feed}"
    );
    let feed = ics(
        &h,
        &format!("/v1/calendars/facilitators/{}/feed.ics", net.bob.0),
    )
    .await;
    assert_eq!(
        property(&feed, "X-WR-TIMEZONE:"),
        vec!["Indian/Reunion"],
        "{feed}"
    );

    // Alice's feed mixes Cayenne and Paris: no zone claimed, each start a UTC instant.
    published(
        &h,
        &net.alice.1,
        session_at(net.venue, Utc::now() + Duration::days(2), 10),
    )
    .await;
    let mixed = ics(
        &h,
        &format!("/v1/calendars/facilitators/{}/feed.ics", net.alice.0),
    )
    .await;
    assert!(!mixed.contains("X-WR-TIMEZONE"), "{mixed}");
    let starts = property(&mixed, "DTSTART");
    assert_eq!(starts.len(), 2, "{mixed}");
    assert!(
        starts
            .iter()
            .all(|s| s.starts_with(':') && s.ends_with("Z")),
        "{starts:?}"
    );
    let public = ics(&h, "/v1/calendars/public.ics?from=2027-01-01T00:00:00Z").await;
    assert!(!public.contains("X-WR-TIMEZONE"), "{public}");
    assert!(!public.contains("Europe/Paris"), "{public}");
    h.stop().await;
}

backend_matrix!(
    suspended_facilitator_is_refused_the_roll_until_reinstated,
    private_feed_hides_the_online_link_from_the_waiting_list,
    late_venue_upserted_after_removed_does_not_restore_the_venue,
    far_future_dates_are_refused_with_their_field_not_a_panic,
    calendars_name_the_session_zone_for_overseas_sessions,
);
