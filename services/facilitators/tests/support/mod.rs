//! What the mailing tests share: the service sending to the test SMTP server, a facilitator
//! registered with an address, the mails that address received.

#![allow(dead_code)] // each test file uses its part

use cafeia_facilitators::Facilitators;
use cafeia_platform::auth::Role;
use cafeia_testkit::{
    Backend, TcpProxy,
    mail::{Received, require_smtp, smtp_maildir, written_to},
    service::ServiceHarness,
};
use reqwest::{Method, StatusCode};
use sea_orm::DatabaseConnection;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

/// The facilitators service sending to the test SMTP server (through `proxy` when given),
/// with `settings` of its own section.
pub async fn start(
    backend: Backend,
    proxy: Option<&TcpProxy>,
    settings: &[(&str, &str)],
) -> ServiceHarness {
    let url = require_smtp().await;
    let url = proxy.map(|p| p.url_for(&url)).unwrap_or(url);
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    ServiceHarness::start_with::<Facilitators>(backend, &["facilitators.#"], move |config| {
        let mail: cafeia_platform::mail::MailConfig =
            serde_json::from_value(json!({ "url": url })).expect("mail config");
        config.mail.url = mail.url;
        config.sources.overrides.extend(settings);
    })
    .await
}

/// An address nobody else's test uses (lower case: the service stores it so).
pub fn address(who: &str) -> String {
    format!("{who}.{}@example.org", Uuid::now_v7().simple())
}

pub async fn database(h: &ServiceHarness) -> DatabaseConnection {
    cafeia_platform::db::connect(&h.env.database_url(), 2)
        .await
        .expect("database")
}

/// `sub` registers as a facilitator with `email`; returns the id.
pub async fn register(h: &ServiceHarness, sub: &str, email: &str) -> Uuid {
    let (status, me) = h
        .call(
            Method::POST,
            "/v1/facilitators/me",
            Some(&h.token(sub, Role::Facilitator, None)),
            Some(json!({
                "display_name": "Camille Martin",
                "email": email,
                "kind": "conseiller_numerique",
                "territories": ["69123"],
                "topics": ["what_is_ai"],
                "languages": ["fr"],
                "training_completed_on": "2026-03-12",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{me}");
    Uuid::parse_str(me["id"].as_str().expect("id")).expect("uuid")
}

/// The mails to `to` once there are `count` of them (10 s at most, then fails).
pub async fn mails_to(to: &str, count: usize) -> Vec<Received> {
    for _ in 0..200 {
        let found = written_to(&smtp_maildir(), to);
        if found.len() >= count {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "expected {count} mail(s) to {to}, found {:?}",
        written_to(&smtp_maildir(), to)
            .iter()
            .map(|m| m.subject.clone())
            .collect::<Vec<_>>()
    );
}
