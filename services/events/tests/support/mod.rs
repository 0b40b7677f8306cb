//! What the events test suites share: the facilitators service's announcements played on the
//! bus (a venue, verified and pending facilitators) and sessions created through the API.

use cafeia_platform::{
    auth::{Role, account_key},
    envelope::MessageType,
};
use cafeia_testkit::service::ServiceHarness;
use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration as StdDuration;
use uuid::Uuid;

pub const VERIFIED: MessageType = MessageType::new("facilitators", "facilitator", "verified", 1);
pub const REGISTERED: MessageType =
    MessageType::new("facilitators", "facilitator", "registered", 1);
pub const VENUE: MessageType = MessageType::new("facilitators", "venue", "upserted", 1);

pub struct Net {
    pub venue: Uuid,
    pub alice: (Uuid, String),
    // Not every suite needs all three people (each compiles this module on its own).
    #[allow(dead_code)]
    pub bob: (Uuid, String),
    #[allow(dead_code)]
    pub pending: (Uuid, String),
}

pub fn facilitator(id: Uuid, sub: &str, status: &str) -> Value {
    json!({
        "id": id, "account": account_key(sub), "display_name": sub, "kind": "mediateur_numerique",
        "status": status, "departements": ["69"], "regions": ["84"], "topics": [],
        "languages": ["fr"], "organisation_id": null,
    })
}

/// Plays the facilitators service's announcements (a venue in Lyon, two verified facilitators,
/// one pending) and waits until the replica has them.
pub async fn network(h: &mut ServiceHarness) -> Net {
    let venue = Uuid::now_v7();
    h.publish(
        VENUE,
        "venue",
        json!({
            "id": venue, "name": "Médiathèque Jean-Macé", "address": "2 rue Jean-Jaurès",
            "postcode": "69007", "insee": "69387", "departement": "69", "region": "84",
            "latitude": 45.745, "longitude": 4.842, "opening_hours": null,
            "accessibility": ["wheelchair"], "capacity": 30, "is_public": true,
        }),
    )
    .await;
    let mut people = Vec::new();
    for (sub, status, kind) in [
        ("alice", "verified", VERIFIED),
        ("bob", "verified", VERIFIED),
        ("pending", "pending", REGISTERED),
    ] {
        let id = Uuid::now_v7();
        h.publish(kind, "facilitator", facilitator(id, sub, status))
            .await;
        people.push((id, h.token(sub, Role::Facilitator, None)));
    }
    for (id, _) in &people {
        wait_for(h, &format!("/v1/calendars/facilitators/{id}/feed.ics")).await;
    }
    // The venue came first on the same queue, but check it anyway.
    let token = people[0].1.clone();
    for _ in 0..100 {
        let (status, _) = h
            .call(
                Method::POST,
                "/v1/sessions",
                Some(&token),
                Some(session_at(venue, Utc::now() + Duration::days(400), 5)),
            )
            .await;
        if status == StatusCode::CREATED {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let mut people = people.into_iter();
    let mut next = || people.next().expect("person");
    Net {
        venue,
        alice: next(),
        bob: next(),
        pending: next(),
    }
}

pub async fn wait_for(h: &ServiceHarness, path: &str) {
    for _ in 0..200 {
        let (status, _) = h.call(Method::GET, path, None, None).await;
        if status == StatusCode::OK {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("{path} never answered 200: the replica did not catch up");
}

pub fn paris(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Paris)
        .naive_local()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

pub fn session_at(venue: Uuid, start: DateTime<Utc>, capacity: i32) -> Value {
    json!({
        "title": "Café IA : c'est quoi l'IA ?",
        "description": "Pour tout le monde.",
        "format": "in_person",
        "venue_id": venue,
        "starts_at": paris(start),
        "ends_at": paris(start + Duration::hours(2)),
        "timezone": "Europe/Paris",
        "capacity": capacity,
        "topics": ["what_is_ai"],
        "accessibility": ["wheelchair"],
    })
}

pub async fn published(h: &ServiceHarness, token: &str, body: Value) -> Value {
    let (status, created) = h
        .call(
            Method::POST,
            "/v1/sessions?publish=true",
            Some(token),
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}
