//! Mail to facilitators about the staff's decisions (issue #18): verified, suspended with the
//! reason, reinstated — one mail each, written in the decision's transaction and sent by the
//! platform's mail outbox; none for a decision refused or rolled back; their erasure removes
//! what is still pending. On both backend sets, through a real SMTP server (aiosmtpd,
//! `CAFEIA_TEST_SMTP_URL`), every mail parsed back with `mail-parser`.

use crate::support;

use cafeia_facilitators::{domain::Decision, mail, storage::facilitator};
use cafeia_platform::{
    auth::Role,
    mail::outbox::{MailStatus, row},
};
use cafeia_testkit::{
    Backend, TcpProxy, backend_matrix,
    mail::{require_smtp, smtp_maildir, written_to},
    service::ServiceHarness,
};
use chrono::Utc;
use reqwest::{Method, StatusCode};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait,
};
use serde_json::{Value, json};
use std::time::Duration;
use support::{address, database, mails_to, register, start};
use uuid::Uuid;

async fn decide(h: &ServiceHarness, id: Uuid, decision: &str, body: Option<Value>) -> StatusCode {
    let staff = h.token("cnnum", Role::Staff, None);
    let (status, view) = h
        .call(
            Method::POST,
            &format!("/v1/facilitators/{id}/{decision}"),
            Some(&staff),
            body,
        )
        .await;
    assert!(
        status == StatusCode::OK || status.is_client_error(),
        "{view}"
    );
    status
}

/// The mail rows about facilitator `id`, whatever their status.
async fn rows_about(db: &DatabaseConnection, id: Uuid) -> Vec<row::Model> {
    row::Entity::find()
        .filter(row::Column::DedupeKey.starts_with(format!("facilitator/{id}/")))
        .all(db)
        .await
        .expect("rows")
}

/// Waits (10 s at most) until the rows about `id` are all sent.
async fn all_sent(db: &DatabaseConnection, id: Uuid) {
    for _ in 0..200 {
        if rows_about(db, id)
            .await
            .iter()
            .all(|r| r.status == MailStatus::Sent)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("mail about {id} still not sent after 10 s");
}

/// Verified, suspended (the reason in the mail), reinstated: one mail each, in French, text and
/// HTML, no List-Unsubscribe; a refused decision queues none; the rows are blanked once sent
/// and name no address; nothing personal on the bus.
async fn each_decision_mails_the_facilitator_once(backend: Backend) {
    let mut h = start(backend, None, &[]).await;
    let to = address("camille");
    let id = register(&h, "camille", &to).await;
    let db = database(&h).await;

    assert_eq!(decide(&h, id, "verify", None).await, StatusCode::OK);
    let verified = mails_to(&to, 1).await;
    assert_eq!(
        verified[0].subject,
        "Votre profil d'animateur·rice Café IA est vérifié"
    );
    assert!(
        verified[0].text.starts_with("Bonjour Camille Martin,"),
        "{}",
        verified[0].text
    );
    assert_eq!(
        decide(
            &h,
            id,
            "suspend",
            Some(json!({"reason": "Contenu trompeur signalé"}))
        )
        .await,
        StatusCode::OK
    );
    let mails = mails_to(&to, 2).await;
    let suspended = mails
        .iter()
        .find(|m| m.subject.contains("suspendu"))
        .expect("the suspension mail");
    assert!(
        suspended.text.contains("Motif : Contenu trompeur signalé"),
        "{}",
        suspended.text
    );
    let html = suspended.html.as_deref().expect("an HTML part");
    assert!(html.contains("<html lang=\"fr\">"), "{html}");
    assert!(html.contains("Motif : Contenu trompeur signalé"), "{html}");
    // Suspended already: refused, nothing queued.
    assert_eq!(
        decide(&h, id, "suspend", Some(json!({"reason": "Encore"}))).await,
        StatusCode::CONFLICT
    );
    assert_eq!(decide(&h, id, "reinstate", None).await, StatusCode::OK);
    let mails = mails_to(&to, 3).await;
    assert!(
        mails.iter().any(|m| m.subject.contains("est rétabli")),
        "{mails:?}"
    );
    all_sent(&db, id).await;
    let rows = rows_about(&db, id).await;
    let mut kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        vec![mail::REINSTATED, mail::SUSPENDED, mail::VERIFIED],
        "one row per decision taken"
    );
    for r in &rows {
        assert!(r.recipient.is_empty() && r.text.is_empty(), "{r:?}");
    }
    let mails = written_to(&smtp_maildir(), &to);
    assert_eq!(mails.len(), 3, "one mail per decision");
    for m in &mails {
        assert!(m.list_unsubscribe.is_none(), "{}", m.subject);
        assert!(m.html.is_some() && m.message_id.is_some(), "{}", m.subject);
    }
    // Registered, verified, suspended, reinstated: no address on the bus.
    for _ in 0..4 {
        let (key, data) = h.next_message().await;
        let text = data.to_string();
        assert!(!text.contains('@'), "{key}: {text}");
    }
    let (_, metrics) = h.call(Method::GET, "/metrics", None, None).await;
    let metrics = metrics.as_str().expect("text").to_owned();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("cafeia_mail_sent_total") && l.contains(mail::SUSPENDED)),
        "{metrics}"
    );
    assert!(!metrics.contains("example.org"), "{metrics}");
    h.stop().await;
}

/// The mail is written with the decision: a transaction that queued it and rolled back leaves
/// no row.
async fn a_decision_rolled_back_queues_no_mail(backend: Backend) {
    let h = start(backend, None, &[]).await;
    let to = address("dora");
    let id = register(&h, "dora", &to).await;
    let db = database(&h).await;
    let model = facilitator::Entity::find_by_id(id)
        .one(&db)
        .await
        .expect("read")
        .expect("facilitator");
    let txn = db.begin().await.expect("begin");
    let queued = mail::queue_decision(
        &txn,
        &model,
        Decision::Verify,
        None,
        Uuid::now_v7(),
        Utc::now(),
    )
    .await
    .expect("queued");
    assert!(queued);
    assert_eq!(
        rows_about(&db, id).await.len(),
        0,
        "not visible before commit"
    );
    txn.rollback().await.expect("rollback");
    assert!(rows_about(&db, id).await.is_empty());
    // A decision refused before it is taken (not verified yet: nothing to reinstate).
    assert_eq!(
        decide(&h, id, "reinstate", None).await,
        StatusCode::CONFLICT
    );
    assert!(rows_about(&db, id).await.is_empty());
    h.stop().await;
}

/// While the mail server is unreachable, a decision's mail waits; the facilitator's erasure
/// removes it. Once the server is back, another facilitator's mail goes and none to the
/// erased one.
async fn erasure_removes_the_pending_mail(backend: Backend) {
    let url = require_smtp().await;
    let proxy = TcpProxy::start(url.split("://").nth(1).unwrap_or_default()).await;
    proxy.cut();
    let h = start(backend, Some(&proxy), &[]).await;
    let (eve, fred) = (address("eve"), address("fred"));
    let eve_id = register(&h, "eve", &eve).await;
    let fred_id = register(&h, "fred", &fred).await;
    let db = database(&h).await;
    assert_eq!(decide(&h, eve_id, "verify", None).await, StatusCode::OK);
    let pending = rows_about(&db, eve_id).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].status, MailStatus::Queued);
    assert_eq!(pending[0].recipient, eve);
    let (status, _) = h
        .call(
            Method::DELETE,
            "/v1/facilitators/me",
            Some(&h.token("eve", Role::Facilitator, None)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(rows_about(&db, eve_id).await.is_empty(), "erased with her");
    let left = row::Entity::find()
        .filter(row::Column::Recipient.eq(eve.as_str()))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(left, 0);
    proxy.restore();
    assert_eq!(decide(&h, fred_id, "verify", None).await, StatusCode::OK);
    mails_to(&fred, 1).await;
    all_sent(&db, fred_id).await;
    assert!(written_to(&smtp_maildir(), &eve).is_empty());
    h.stop().await;
}

backend_matrix!(
    each_decision_mails_the_facilitator_once,
    a_decision_rolled_back_queues_no_mail,
    erasure_removes_the_pending_mail,
);
