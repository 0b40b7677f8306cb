//! The digest of a session's registrations, mailed to its lead facilitator the day before
//! (issue #18): built from the events service's messages (counts only, no registrant), one per
//! session whatever the number of replicas sweeping, with a one-click unsubscription that
//! stops the next ones; none for a session further off. On both backend sets, through a real
//! SMTP server (aiosmtpd, `CAFEIA_TEST_SMTP_URL`), every mail parsed back with `mail-parser`.

use crate::support;

use cafeia_events_api::{
    RegistrationMode, SessionStatus,
    messages::{
        PlaceState, SEATS_CHANGED, SESSION_PUBLISHED, SESSION_UPDATED, SeatsChanged, SessionState,
    },
};
use cafeia_facilitators::{
    Facilitators,
    digests::DIGEST,
    storage::digests::{link, session},
};
use cafeia_platform::{
    auth::Role,
    mail::outbox::row,
    vocabulary::{Format, Level},
};
use cafeia_testkit::{
    Backend, backend_matrix,
    mail::{smtp_maildir, written_to},
};
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use std::time::Duration;
use support::{address, database, mails_to, register, start};
use uuid::Uuid;

/// A published session of `facilitator` in Lyon starting at `starts_at`, 12 seats, 10 free.
fn published(facilitator: Uuid, starts_at: DateTime<Utc>) -> SessionState {
    SessionState {
        id: Uuid::now_v7(),
        series_id: None,
        revision: 1,
        title: "L'IA au quotidien".into(),
        description: "Découvrir l'IA".into(),
        status: SessionStatus::Published,
        status_reason: None,
        facilitator_id: facilitator,
        facilitator_kind: Some("conseiller_numerique".into()),
        co_facilitators: vec![],
        modules: vec![],
        topics: vec!["what_is_ai".into()],
        format: Format::InPerson,
        place: Some(PlaceState {
            venue_id: Uuid::now_v7(),
            name: "Médiathèque Lumière".into(),
            address: "1 rue de la République, 69002 Lyon".into(),
            insee: "69123".into(),
            departement: "69".into(),
            region: "84".into(),
            latitude: 45.76,
            longitude: 4.83,
        }),
        starts_at,
        ends_at: starts_at + chrono::Duration::hours(2),
        timezone: "Europe/Paris".into(),
        capacity: Some(12),
        seats_left: Some(10),
        waitlist_enabled: true,
        audiences: vec![],
        level: Level::Discovery,
        languages: vec!["fr".into()],
        accessibility: vec![],
        registration_mode: RegistrationMode::Open,
    }
}

/// The replica's row of `id` once `ready` holds of it (10 s at most, then fails).
async fn replicated(
    db: &DatabaseConnection,
    id: Uuid,
    ready: impl Fn(&session::Model) -> bool,
) -> session::Model {
    for _ in 0..200 {
        if let Some(row) = session::Entity::find_by_id(id).one(db).await.expect("read")
            && ready(&row)
        {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "session {id} not replicated as expected: {:?}",
        session::Entity::find_by_id(id).one(db).await
    );
}

/// Sweeping every second (two replicas on the real backends): the session starting in three hours gets one digest
/// with the counters of the latest `events.seats.changed` (an older one, redelivered late,
/// changes nothing); the one in three days gets none yet. The digest's one-click
/// unsubscription stops the next digest (claimed, not mailed); an unknown token is a 404.
/// Erasure takes the tokens. No address on the bus.
async fn one_digest_per_session_until_the_facilitator_opts_out(backend: Backend) {
    let mut h = start(backend, None, &[("facilitators.digest_sweep_seconds", "1")]).await;
    // A second replica where replicas are a deployment's shape (the embedded set is one
    // process: its SQLite mail outbox has one sender, see `platform::mail::outbox`).
    if matches!(backend, Backend::Real) {
        h.replica::<Facilitators>().await;
    }
    let to = address("camille");
    let id = register(&h, "camille", &to).await;
    let db = database(&h).await;

    // Planned in three days, then brought forward to three hours from now (revision 2, all
    // seats taken): the counters heard meanwhile stay, the newest of them.
    let first = published(id, Utc::now() + chrono::Duration::days(3));
    let later = published(id, Utc::now() + chrono::Duration::days(3));
    let floor = SeatsChanged::revision_floor(1);
    let seats = |confirmed: i32, waitlisted: i32, step: i64| SeatsChanged {
        session_id: first.id,
        capacity: Some(12),
        confirmed,
        waitlisted,
        seats_left: Some(12 - confirmed),
        revision: floor + step,
    };
    h.publish(SESSION_PUBLISHED, "session", &later).await;
    h.publish(SESSION_PUBLISHED, "session", &first).await;
    replicated(&db, first.id, |_| true).await;
    h.publish(SEATS_CHANGED, "session", seats(12, 3, 50)).await;
    h.publish(SEATS_CHANGED, "session", seats(5, 0, 10)).await;
    replicated(&db, first.id, |r| (r.confirmed, r.waitlisted) == (12, 3)).await;
    let soon = SessionState {
        revision: 2,
        starts_at: Utc::now() + chrono::Duration::hours(3),
        seats_left: Some(0),
        ..first.clone()
    };
    h.publish(SESSION_UPDATED, "session", &soon).await;
    let row = replicated(&db, soon.id, |r| r.digest_at.is_some()).await;
    assert_eq!(
        (row.revision, row.confirmed, row.waitlisted),
        (2, 12, 3),
        "the newest state and counters: {row:?}"
    );
    let mails = mails_to(&to, 1).await;
    let digest = &mails[0];
    assert_eq!(
        digest.subject,
        format!(
            "Café IA « L'IA au quotidien » du {} : 12 inscrit·es",
            cafeia_platform::mail::layout::french_datetime(
                &soon.starts_at.with_timezone(&chrono_tz::Europe::Paris)
            )
        )
    );
    assert!(
        digest.text.contains(
            "À cette heure : 12 personnes inscrites pour 12 places, et 3 personnes sur la liste \
             d'attente."
        ),
        "{}",
        digest.text
    );
    assert!(
        digest.text.contains(&format!(
            "http://127.0.0.1:8080/animateur/sessions/{}/inscrits",
            soon.id
        )),
        "{}",
        digest.text
    );
    assert!(
        digest
            .text
            .contains("Médiathèque Lumière, 1 rue de la République"),
        "{}",
        digest.text
    );
    let unsubscribe = digest
        .list_unsubscribe
        .clone()
        .expect("a List-Unsubscribe header");
    let token = unsubscribe
        .trim_matches(['<', '>'])
        .strip_prefix("http://127.0.0.1:8080/mail/digests/unsubscribe/")
        .unwrap_or_else(|| panic!("{unsubscribe}"))
        .to_owned();
    // Swept several times meanwhile: still one mail, one row.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(written_to(&smtp_maildir(), &to).len(), 1, "one digest");
    let rows = row::Entity::find()
        .filter(row::Column::Kind.eq(DIGEST))
        .filter(row::Column::DedupeKey.eq(format!("session/{}/digest", soon.id)))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(rows, 1);
    let settled = replicated(&db, soon.id, |_| true).await;
    assert_eq!(
        (settled.confirmed, settled.waitlisted),
        (12, 3),
        "the older counters, applied whenever, changed nothing"
    );
    let later_row = replicated(&db, later.id, |_| true).await;
    assert!(later_row.digest_at.is_none(), "three days off: not yet");

    let stop = |token: String| {
        let h = &h;
        async move {
            h.call(
                Method::POST,
                "/v1/facilitators/digests/stop",
                None,
                Some(json!({ "token": token })),
            )
            .await
        }
    };
    let (status, body) = stop("0".repeat(64)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = stop(token.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = stop(token).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "twice is still done");

    // Opted out: the next session due is claimed, and nothing is mailed.
    let next = published(id, Utc::now() + chrono::Duration::hours(5));
    h.publish(SESSION_PUBLISHED, "session", &next).await;
    replicated(&db, next.id, |r| r.digest_at.is_some()).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(written_to(&smtp_maildir(), &to).len(), 1, "no more digests");

    let (status, _) = h
        .call(
            Method::DELETE,
            "/v1/facilitators/me",
            Some(&h.token("camille", Role::Facilitator, None)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let links = link::Entity::find()
        .filter(link::Column::FacilitatorId.eq(id))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(links, 0, "erasure takes the tokens");
    // Registered, erased: no address on the bus.
    for _ in 0..2 {
        let (key, data) = h.next_message().await;
        assert!(!data.to_string().contains('@'), "{key}: {data}");
    }
    h.stop().await;
}

backend_matrix!(one_digest_per_session_until_the_facilitator_opts_out);
