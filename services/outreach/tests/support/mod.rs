//! What the outreach tests share: messages as the producers announce them, and the headline
//! polled until the consumer caught up.

// Each test module uses some of these.
#![allow(dead_code)]

use cafeia_events_api::{
    RegistrationMode, SessionStatus,
    messages::{PlaceState, SessionState},
};
use cafeia_facilitators_api::{FacilitatorKind, FacilitatorStatus, messages::FacilitatorState};
use cafeia_platform::{
    bus::Message,
    envelope::{Envelope, MessageType},
    vocabulary::{Format, Level},
};
use cafeia_testkit::service::ServiceHarness;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

pub const AS_OF: &str = "as_of=2027-03-31";

#[allow(clippy::too_many_arguments)]
pub fn report(
    session: Uuid,
    version: i32,
    facilitator: Uuid,
    day: &str,
    place: Option<(&str, &str)>,
    format: &str,
    audiences: &[&str],
    attended: i32,
    first_timers: i32,
    age_bands: Value,
) -> Value {
    json!({
        "session_id": session, "version": version, "facilitator_id": facilitator,
        "facilitator_kind": "mediateur_numerique", "starts_at": format!("{day}T17:00:00Z"),
        "format": format, "insee": null,
        "departement": place.map(|p| p.0), "region": place.map(|p| p.1),
        "topics": ["what_is_ai"], "audiences": audiences, "level": "discovery",
        "registered": attended, "attended": attended, "no_shows": 0, "walk_ins": 0,
        "first_timers": first_timers, "age_bands": age_bands, "occupations": {},
    })
}

pub fn message(kind: MessageType, data: impl serde::Serialize) -> Message {
    Message::event(kind.routing_key(), &Envelope::new(kind, "test", data)).expect("message")
}

/// A facilitator as the facilitators service announces them.
pub fn facilitator(id: Uuid, status: FacilitatorStatus) -> FacilitatorState {
    FacilitatorState {
        id,
        account: format!("{:064x}", id.as_u128()),
        kind: FacilitatorKind::Benevole,
        status,
        departements: vec!["69".into()],
        regions: vec!["84".into()],
        topics: vec!["what_is_ai".into()],
        languages: vec!["fr".into()],
        organisation_id: None,
    }
}

/// A published in-person session in `departement`, as the events service announces it.
pub fn planned_session(departement: &str, region: &str, starts_at: &str) -> SessionState {
    let starts_at = starts_at.parse().expect("instant");
    SessionState {
        id: Uuid::now_v7(),
        series_id: None,
        revision: 1,
        title: "Café IA".into(),
        description: "Découvrir l'IA".into(),
        status: SessionStatus::Published,
        status_reason: None,
        facilitator_id: Uuid::now_v7(),
        facilitator_kind: Some("benevole".into()),
        co_facilitators: vec![],
        modules: vec![],
        topics: vec!["what_is_ai".into()],
        format: Format::InPerson,
        place: Some(PlaceState {
            venue_id: Uuid::now_v7(),
            name: "Médiathèque".into(),
            address: "1 rue de la République".into(),
            insee: "69123".into(),
            departement: departement.into(),
            region: region.into(),
            latitude: 45.76,
            longitude: 4.83,
        }),
        starts_at,
        ends_at: starts_at + chrono::Duration::hours(2),
        timezone: "Europe/Paris".into(),
        capacity: Some(20),
        seats_left: Some(20),
        waitlist_enabled: true,
        audiences: vec![],
        level: Level::Discovery,
        languages: vec!["fr".into()],
        accessibility: vec![],
        registration_mode: RegistrationMode::Open,
    }
}

pub async fn headline(h: &ServiceHarness, token: &str, query: &str) -> (StatusCode, Value) {
    h.call(
        Method::GET,
        &format!("/v1/outreach/headline?{query}"),
        Some(token),
        None,
    )
    .await
}

/// Polls until the headline's `reached` is `expected`.
pub async fn until_reached(h: &ServiceHarness, token: &str, expected: i64) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let (_, body) = headline(h, token, AS_OF).await;
        if body["reached"] == expected {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("reached never became {expected}: {last}");
}
