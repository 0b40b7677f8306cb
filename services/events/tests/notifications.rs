//! Mail to registrants (issue #18): a seat, a waiting-list place, a promotion, a change of time
//! or place (coalesced), a cancellation, the reminder the day before (once per registration
//! whoever sweeps, with RFC 8058 one-click unsubscription). On both backend sets, through a
//! real SMTP server (aiosmtpd, `CAFEIA_TEST_SMTP_URL`), every mail parsed back with
//! `mail-parser` and its `.ics` with `icalendar`'s parser. Each test mails addresses of its own.

use cafeia_events::storage::{
    Rows, mail_link, mail_message,
    mail_message::{MailKind, MailStatus},
    registration,
};
use cafeia_events::{Events, config::EventsConfig, notify};
use cafeia_platform::auth::{DevIssuer, Role};
use cafeia_testkit::{
    Backend, TcpProxy, backend_matrix,
    mail::{
        Received, link_token, register_by_mail, require_smtp, smtp_maildir, wait_for_mail,
        written_to,
    },
    service::ServiceHarness,
};
use chrono::{DateTime, Duration, Timelike, Utc};
use icalendar::parser::{read_calendar, unfold};
use reqwest::{Method, StatusCode};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr,
};
use serde_json::{Value, json};
use std::time::Duration as StdDuration;
use support::{Net, VENUE, network, published, session_at};
use uuid::Uuid;

// Shared with the other suites; not every helper is needed here.
#[allow(dead_code)]
use crate::support;

/// Where every mailed link points (the default `events.web_base_url`).
const WEB: &str = "http://127.0.0.1:8080";

/// Events sending to the test SMTP server (through `proxy` when given), polling often.
async fn start(backend: Backend, patterns: &[&str], proxy: Option<&TcpProxy>) -> ServiceHarness {
    let url = require_smtp().await;
    let url = proxy.map(|p| p.url_for(&url)).unwrap_or(url);
    ServiceHarness::start_with::<Events>(backend, patterns, move |config| {
        let mail: cafeia_platform::mail::MailConfig =
            serde_json::from_value(json!({ "url": url })).expect("mail config");
        config.mail.url = mail.url;
        config
            .sources
            .overrides
            .push(("events.mail_poll_ms".into(), "100".into()));
    })
    .await
}

/// An address nobody else's test uses.
fn address(who: &str) -> String {
    format!("{who}.{}@example.org", Uuid::now_v7().simple())
}

async fn database(h: &ServiceHarness) -> DatabaseConnection {
    cafeia_platform::db::connect(&h.env.database_url(), 2)
        .await
        .expect("database")
}

/// A published session of Alice's, `capacity` seats with a waiting list, starting at `at`.
async fn session_starting(
    h: &mut ServiceHarness,
    at: DateTime<Utc>,
    capacity: i32,
) -> (Value, Net) {
    let net = network(h).await;
    let created = published(h, &net.alice.1, session_at(net.venue, at, capacity)).await;
    (created, net)
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

/// The first mail to `to` whose subject contains `subject` (10 s at most, then fails).
async fn mailed(to: &str, subject: &str) -> Received {
    for _ in 0..200 {
        if let Some(mail) = written_to(&smtp_maildir(), to)
            .into_iter()
            .find(|m| m.subject.contains(subject))
        {
            return mail;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let subjects: Vec<String> = written_to(&smtp_maildir(), to)
        .into_iter()
        .map(|m| m.subject)
        .collect();
    panic!("no mail « {subject} » to {to}; received: {subjects:?}");
}

fn count_with(to: &str, subject: &str) -> usize {
    written_to(&smtp_maildir(), to)
        .iter()
        .filter(|m| m.subject.contains(subject))
        .count()
}

/// What the `.ics` of a mail says.
#[derive(Debug, PartialEq, Eq)]
struct Invitation {
    method: String,
    uid: String,
    sequence: u32,
    status: String,
    start: String,
}

fn invitation(mail: &Received) -> Invitation {
    assert_eq!(
        mail.attachments,
        vec![("cafe-ia.ics".to_owned(), "text/calendar".to_owned())],
        "{mail:?}"
    );
    let text = unfold(&mail.attachment_texts[0]);
    let cal = read_calendar(&text).expect("a valid iCalendar");
    let method = cal
        .properties
        .iter()
        .find(|p| p.name.as_str() == "METHOD")
        .map(|p| p.val.as_str().to_owned())
        .expect("METHOD");
    let events: Vec<_> = cal
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .collect();
    assert_eq!(events.len(), 1, "{text}");
    let prop = |key: &str| {
        events[0]
            .find_prop(key)
            .map(|p| p.val.as_str().to_owned())
            .unwrap_or_else(|| panic!("{key} missing in {text}"))
    };
    // RFC 5546: PUBLISH and CANCEL name their organizer, the mails' sender (`mail.from`).
    assert_eq!(
        prop("ORGANIZER"),
        "mailto:ne-pas-repondre@cafe-ia.localhost",
        "{text}"
    );
    Invitation {
        method,
        uid: prop("UID"),
        sequence: prop("SEQUENCE").parse().expect("a number"),
        status: prop("STATUS"),
        start: prop("DTSTART"),
    }
}

/// `18 h 05`, as the mails write `at` in Paris.
fn paris_time(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&chrono_tz::Europe::Paris);
    format!("{} h {:02}", local.hour(), local.minute())
}

fn starts(session: &Value) -> DateTime<Utc> {
    session["starts_at"]
        .as_str()
        .expect("starts_at")
        .parse()
        .expect("an instant")
}

/// A signed-in citizen's token carrying a verified `email`.
fn citizen(h: &ServiceHarness, sub: &str, email: &str) -> String {
    DevIssuer::load_or_create(&h.env.config.data_dir, &h.env.config.auth)
        .expect("issuer")
        .issue_with_email(sub, &[Role::Citizen], email, StdDuration::from_secs(600))
        .expect("token")
}

async fn register_signed_in(h: &ServiceHarness, session: &str, token: &str) -> Value {
    let (status, reg) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{session}/registrations"),
            Some(token),
            Some(json!({"consent": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reg}");
    reg
}

async fn cancel_with(h: &ServiceHarness, token: &str) -> (StatusCode, Value) {
    h.call(
        Method::POST,
        "/v1/registrations/cancel",
        None,
        Some(json!({ "token": token })),
    )
    .await
}

/// Waits (10 s at most) until no mail is queued and due.
async fn drained(db: &DatabaseConnection) {
    for _ in 0..200 {
        let due = mail_message::Entity::find()
            .filter(mail_message::Column::Status.eq(MailStatus::Queued))
            .filter(mail_message::Column::NextAttemptAt.lte(Utc::now()))
            .count(db)
            .await
            .expect("count");
        if due == 0 {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("mail still due after 10 s");
}

/// A seat, a waiting-list place, a promotion: each mailed once, in French, text and HTML, with
/// when (local time), where, the map, accessibility, a cancellation link that works; the
/// seats with an `.ics` (`METHOD:PUBLISH`, the session's UID, SEQUENCE its revision). The
/// promotion's « je libère ma place » frees the seat; the first link names the registration
/// too. No List-Unsubscribe on any of them, and nothing personal on the bus.
async fn seats_waiting_list_and_promotion_are_mailed_with_working_links(backend: Backend) {
    let mut h = start(backend, &["events.registration.*"], None).await;
    let (session, _) = session_starting(&mut h, Utc::now() + Duration::days(5), 1).await;
    let id = id_of(&session);
    let (ana, ben) = (address("ana"), address("ben"));

    let (status, ana_reg) = register_by_mail(&h, &id, &ana).await;
    assert_eq!(status, StatusCode::OK, "{ana_reg}");
    assert_eq!(ana_reg["status"], "confirmed");
    let seat = mailed(&ana, "est réservée").await;
    assert_eq!(
        seat.subject,
        "Votre place au Café IA « Café IA : c'est quoi l'IA ? » est réservée"
    );
    let first_link = ana_reg["cancellation_token"].as_str().expect("token");
    assert_eq!(
        link_token(&seat.text, "/annuler").as_deref(),
        Some(first_link),
        "{}",
        seat.text
    );
    for expected in [
        format!("à {}", paris_time(starts(&session))),
        "(heure de Paris)".to_owned(),
        "Lieu : Médiathèque Jean-Macé, 2 rue Jean-Jaurès, 69007".to_owned(),
        "Plan : https://www.openstreetmap.org/?mlat=45.74500&mlon=4.84200".to_owned(),
        "Accessibilité : accessible en fauteuil roulant".to_owned(),
        format!("{WEB}/annuler?jeton={first_link}"),
    ] {
        assert!(seat.text.contains(&expected), "{expected} in {}", seat.text);
    }
    let html = seat.html.as_deref().expect("an HTML part");
    assert!(html.contains("<html lang=\"fr\">"), "{html}");
    assert!(
        html.contains(&format!("<a href=\"{WEB}/annuler?jeton={first_link}\"")),
        "{html}"
    );
    assert!(seat.list_unsubscribe.is_none() && seat.list_unsubscribe_post.is_none());
    assert!(seat.message_id.is_some());
    let published = invitation(&seat);
    assert_eq!(
        (
            published.method.as_str(),
            published.uid.clone(),
            published.sequence
        ),
        ("PUBLISH", format!("{id}@cafe-ia.fr"), 1)
    );
    assert_eq!(published.status, "CONFIRMED");

    let (status, ben_reg) = register_by_mail(&h, &id, &ben).await;
    assert_eq!(status, StatusCode::OK, "{ben_reg}");
    assert_eq!(ben_reg["status"], "waitlisted");
    let waiting = mailed(&ben, "liste d'attente").await;
    assert!(
        waiting
            .text
            .contains("première personne en liste d'attente"),
        "{}",
        waiting.text
    );
    let ben_first = ben_reg["cancellation_token"].as_str().expect("token");
    assert_eq!(
        link_token(&waiting.text, "/annuler").as_deref(),
        Some(ben_first)
    );
    assert!(waiting.attachments.is_empty() && waiting.list_unsubscribe.is_none());

    // Ana frees her seat from her mail; Ben is promoted and told.
    let (status, _) = cancel_with(&h, first_link).await;
    assert_eq!(status, StatusCode::OK);
    let promoted = mailed(&ben, "Une place s'est libérée").await;
    let release = link_token(&promoted.text, "/annuler").expect("a release link");
    assert_ne!(release, ben_first, "a link of its own");
    assert!(
        promoted
            .html
            .as_deref()
            .is_some_and(|h| h.contains("Je libère ma place")),
        "{promoted:?}"
    );
    let again = invitation(&promoted);
    assert_eq!(
        (again.method.as_str(), again.uid.as_str(), again.sequence),
        ("PUBLISH", published.uid.as_str(), 1)
    );
    assert!(promoted.list_unsubscribe.is_none());
    let (status, freed) = cancel_with(&h, &release).await;
    assert_eq!(status, StatusCode::OK, "{freed}");
    assert_eq!(freed["status"], "cancelled");
    // The first link named the same registration: cancelled already.
    let (status, refused) = cancel_with(&h, ben_first).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::CONFLICT, Some("REGISTRATION_NOT_ACTIVE")),
        "{refused}"
    );
    // One mail of each kind.
    assert_eq!(count_with(&ana, "est réservée"), 1);
    assert_eq!(count_with(&ben, "Une place s'est libérée"), 1);
    // Confirmed, waitlisted, cancelled, promoted, cancelled: none names anyone.
    for _ in 0..5 {
        let (key, data) = h.next_message().await;
        let text = data.to_string();
        assert!(
            !text.contains('@') && !text.contains("example.org"),
            "{key}: {text}"
        );
    }
    h.stop().await;
}

/// Two edits of the time close together: one mail per registration, telling the second;
/// its `.ics` keeps the UID with a higher SEQUENCE. The mail waits `mail_coalesce_minutes`
/// (each edit replaces its content); once sent, a later edit is news again. A signed-in
/// citizen who consented is mailed like anyone, with a cancellation link.
async fn edits_close_together_make_one_change_mail(backend: Backend) {
    let mut h = start(backend, &["events.session.*"], None).await;
    let at = Utc::now() + Duration::days(5);
    let (session, net) = session_starting(&mut h, at, 5).await;
    let id = id_of(&session);
    let db = database(&h).await;
    let (ana, cam) = (address("ana"), address("cam"));
    let (status, _) = register_by_mail(&h, &id, &ana).await;
    assert_eq!(status, StatusCode::OK);
    register_signed_in(&h, &id, &citizen(&h, "cam", &cam)).await;
    let seat = mailed(&cam, "est réservée").await;
    let cam_link = link_token(&seat.text, "/annuler").expect("a cancellation link");
    let before = invitation(&seat);

    let edit = |hours: i64| {
        let body = session_at(net.venue, at + Duration::hours(hours), 5);
        let (h, token, id) = (&h, net.alice.1.clone(), id.clone());
        async move {
            let (status, view) = h
                .call(
                    Method::PUT,
                    &format!("/v1/sessions/{id}"),
                    Some(&token),
                    Some(body),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{view}");
            view
        }
    };
    edit(1).await;
    let latest = edit(2).await;
    let rows = mail_message::Entity::find()
        .filter(mail_message::Column::Kind.eq(MailKind::SessionChanged))
        .rows(&db)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 2, "one per registration");
    for row in &rows {
        assert_eq!(row.status, MailStatus::Queued);
        assert!(
            row.next_attempt_at > Utc::now() + Duration::minutes(3),
            "{row:?}"
        );
        assert!(
            row.text.contains(&paris_time(starts(&latest))),
            "{}",
            row.text
        );
    }
    // The minutes pass (as time would).
    mail_message::Entity::update_many()
        .col_expr(
            mail_message::Column::NextAttemptAt,
            Expr::value(Utc::now() - Duration::seconds(1)),
        )
        .filter(mail_message::Column::Kind.eq(MailKind::SessionChanged))
        .exec(&db)
        .await
        .expect("update");
    for to in [&ana, &cam] {
        let changed = mailed(to, "Changement d'horaire ou de lieu").await;
        assert!(
            changed
                .text
                .contains(&format!("à {}", paris_time(starts(&latest)))),
            "{}",
            changed.text
        );
        let ics = invitation(&changed);
        assert_eq!(ics.method, "PUBLISH");
        assert_eq!(ics.uid, before.uid);
        assert_eq!(ics.sequence, 3, "published, then edited twice");
        assert!(ics.sequence > before.sequence);
        assert_ne!(ics.start, before.start);
    }
    drained(&db).await;
    assert_eq!(count_with(&ana, "Changement"), 1);
    assert_eq!(count_with(&cam, "Changement"), 1);
    // The change mail's link cancels, and the seat mail's still works beside it.
    let changed = mailed(&cam, "Changement").await;
    let change_link = link_token(&changed.text, "/annuler").expect("a link");
    assert_ne!(change_link, cam_link);
    // Later news is a new mail.
    edit(3).await;
    let row = mail_message::Entity::find()
        .filter(mail_message::Column::Kind.eq(MailKind::SessionChanged))
        .rows(&db)
        .await
        .expect("rows")
        .into_iter()
        .next()
        .expect("row");
    assert_eq!(row.status, MailStatus::Queued);
    let (status, cancelled) = cancel_with(&h, &cam_link).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    h.stop().await;
}

/// A cancelled session: everyone registered (a seat, a waiting-list place) is told the reason,
/// with the same UID and `METHOD:CANCEL`, `STATUS:CANCELLED`, a higher SEQUENCE.
async fn a_cancelled_session_is_mailed_with_its_reason_and_method_cancel(backend: Backend) {
    let mut h = start(backend, &["events.session.*"], None).await;
    let (session, net) = session_starting(&mut h, Utc::now() + Duration::days(5), 1).await;
    let id = id_of(&session);
    let (ana, ben) = (address("ana"), address("ben"));
    for to in [&ana, &ben] {
        let (status, reg) = register_by_mail(&h, &id, to).await;
        assert_eq!(status, StatusCode::OK, "{reg}");
    }
    let seat = invitation(&mailed(&ana, "est réservée").await);
    let (status, cancelled) = h
        .call(
            Method::POST,
            &format!("/v1/sessions/{id}/cancel"),
            Some(&net.alice.1),
            Some(json!({"reason": "Salle inondée"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    for to in [&ana, &ben] {
        let mail = mailed(to, "Annulation du Café IA").await;
        assert!(mail.text.contains("Motif : Salle inondée"), "{}", mail.text);
        assert!(mail.text.contains(&format!("{WEB}/")), "{}", mail.text);
        let ics = invitation(&mail);
        assert_eq!(
            (ics.method.as_str(), ics.status.as_str(), ics.uid.as_str()),
            ("CANCEL", "CANCELLED", seat.uid.as_str())
        );
        assert_eq!(ics.sequence, 2);
        assert!(mail.list_unsubscribe.is_none());
    }
    h.stop().await;
}

/// The reminder: two replicas sweeping at once queue one per seat of a session starting within
/// 24 h (none for a seat taken within those 24 h); each carries `List-Unsubscribe` (its own
/// token, at the gateway's public address) and `List-Unsubscribe-Post: List-Unsubscribe=One-
/// Click`; the one-click POST turns reminders off, twice is fine, an unknown token is a 404.
async fn reminders_go_once_per_seat_whoever_sweeps(backend: Backend) {
    let mut h = start(backend, &["events.session.*"], None).await;
    let (session, _) = session_starting(&mut h, Utc::now() + Duration::hours(20), 10).await;
    let id = id_of(&session);
    let session_id = Uuid::parse_str(&id).expect("uuid");
    let (ana, ben, cam, dora) = (
        address("ana"),
        address("ben"),
        address("cam"),
        address("dora"),
    );
    for to in [&ana, &ben, &dora] {
        let (status, reg) = register_by_mail(&h, &id, to).await;
        assert_eq!(status, StatusCode::OK, "{reg}");
    }
    register_signed_in(&h, &id, &citizen(&h, "cam", &cam)).await;
    let db = database(&h).await;
    // Ana, Ben and Cam registered days ago (as time would have it); Dora just now.
    registration::Entity::update_many()
        .col_expr(
            registration::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::days(3)),
        )
        .filter(registration::Column::SessionId.eq(session_id))
        .filter(registration::Column::Email.ne(dora.as_str()))
        .exec(&db)
        .await
        .expect("update");
    let other = database(&h).await;
    let settings = EventsConfig::default();
    let now = Utc::now();
    let (first, second) = tokio::join!(
        notify::queue_reminders(&db, &settings, now),
        notify::queue_reminders(&other, &settings, now)
    );
    assert_eq!(
        first.expect("sweep") + second.expect("sweep"),
        3,
        "one per seat"
    );
    assert_eq!(
        notify::queue_reminders(&db, &settings, Utc::now())
            .await
            .expect("sweep"),
        0
    );
    drained(&db).await;
    let mut stop = None;
    for to in [&ana, &ben, &cam] {
        assert_eq!(count_with(to, "Rappel"), 1, "{to}");
        let reminder = mailed(to, "Rappel : Café IA").await;
        let header = reminder.list_unsubscribe.clone().expect("List-Unsubscribe");
        let prefix = format!("<{WEB}/mail/unsubscribe/");
        assert!(
            header.starts_with(&prefix) && header.ends_with('>'),
            "{header}"
        );
        assert_eq!(
            reminder.list_unsubscribe_post.as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        assert!(reminder.text.contains(&paris_time(starts(&session))));
        assert!(link_token(&reminder.text, "/annuler").is_some());
        stop = Some(header[prefix.len()..header.len() - 1].to_owned());
        // Every other mail to them: no List-Unsubscribe.
        for mail in written_to(&smtp_maildir(), to) {
            if !mail.subject.starts_with("Rappel") {
                assert!(mail.list_unsubscribe.is_none(), "{}", mail.subject);
            }
        }
    }
    assert_eq!(count_with(&dora, "Rappel"), 0);
    let stop = stop.expect("a token");
    for _ in 0..2 {
        let (status, body) = h
            .call(
                Method::POST,
                "/v1/registrations/reminders/stop",
                None,
                Some(json!({ "token": stop })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let off = registration::Entity::find()
        .filter(registration::Column::Email.eq(cam.as_str()))
        .row(&db)
        .await
        .expect("read")
        .expect("cam");
    assert!(off.reminders_off_at.is_some());
    let (status, _) = h
        .call(
            Method::POST,
            "/v1/registrations/reminders/stop",
            None,
            Some(json!({ "token": "0".repeat(64) })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.stop().await;
}

/// While the mail server is unreachable: the one-click unsubscription withdraws the reminder
/// still queued and the next sweep queues none; erasing a registration removes its pending
/// mail and its links; the metrics name no address. Once the server is back, the rest goes.
async fn unsubscribing_and_erasure_remove_pending_mail(backend: Backend) {
    let url = require_smtp().await;
    let proxy = TcpProxy::start(url.split("://").nth(1).unwrap_or_default()).await;
    proxy.cut();
    let mut h = start(backend, &["events.session.*"], Some(&proxy)).await;
    let (session, _) = session_starting(&mut h, Utc::now() + Duration::hours(20), 10).await;
    let id = id_of(&session);
    let db = database(&h).await;
    let (eve, fred) = (address("eve"), address("fred"));
    let eve_token = citizen(&h, "eve", &eve);
    let eve_reg = register_signed_in(&h, &id, &eve_token).await;
    let fred_reg = register_signed_in(&h, &id, &citizen(&h, "fred", &fred)).await;
    registration::Entity::update_many()
        .col_expr(
            registration::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::days(3)),
        )
        .exec(&db)
        .await
        .expect("update");
    let settings = EventsConfig::default();
    assert_eq!(
        notify::queue_reminders(&db, &settings, Utc::now())
            .await
            .expect("sweep"),
        2
    );
    let reg_id = |v: &Value| Uuid::parse_str(v["id"].as_str().expect("id")).expect("uuid");
    let pending = |who: Uuid| {
        let db = db.clone();
        async move {
            mail_message::Entity::find()
                .filter(mail_message::Column::RegistrationId.eq(who))
                .rows(&db)
                .await
                .expect("rows")
        }
    };
    let fred_rows = pending(reg_id(&fred_reg)).await;
    let reminder = fred_rows
        .iter()
        .find(|r| r.kind == MailKind::Reminder)
        .expect("a reminder queued");
    assert_eq!(reminder.status, MailStatus::Queued);
    let header = reminder.list_unsubscribe.clone().expect("its address");
    let stop = header.rsplit('/').next().expect("token").to_owned();
    let (status, _) = h
        .call(
            Method::POST,
            "/v1/registrations/reminders/stop",
            None,
            Some(json!({ "token": stop })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let kinds: Vec<MailKind> = pending(reg_id(&fred_reg))
        .await
        .iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![MailKind::SeatConfirmed],
        "the reminder is withdrawn"
    );
    assert_eq!(
        notify::queue_reminders(&db, &settings, Utc::now())
            .await
            .expect("sweep"),
        0,
        "reminders off"
    );
    // Eve erases her registrations: their mail and links go.
    let eve_id = reg_id(&eve_reg);
    assert_eq!(pending(eve_id).await.len(), 2);
    let links = mail_link::Entity::find()
        .filter(mail_link::Column::RegistrationId.eq(eve_id))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(links, 2, "the reminder's cancellation and unsubscription");
    let (status, _) = h
        .call(
            Method::DELETE,
            "/v1/me/registrations",
            Some(&eve_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(pending(eve_id).await.is_empty());
    let links = mail_link::Entity::find()
        .filter(mail_link::Column::RegistrationId.eq(eve_id))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(links, 0);
    // Back: Fred's seat goes, once; nothing else of theirs.
    proxy.restore();
    mailed(&fred, "est réservée").await;
    drained(&db).await;
    assert_eq!(written_to(&smtp_maildir(), &fred).len(), 1);
    assert!(written_to(&smtp_maildir(), &eve).is_empty());
    let (_, metrics) = h.call(Method::GET, "/metrics", None, None).await;
    let metrics = metrics.as_str().expect("text").to_owned();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("cafeia_mail_sent_total") && l.contains("seat_confirmed")),
        "{metrics}"
    );
    assert!(
        !metrics.contains('@') && !metrics.contains("example.org"),
        "{metrics}"
    );
    h.stop().await;
}

/// Two « session changed » mails sent one after the other: each carries a cancellation link
/// of its own, and the first one's still works once the second is out (both name the same
/// registration).
async fn every_change_mail_keeps_its_own_working_link(backend: Backend) {
    let mut h = start(backend, &["events.session.*"], None).await;
    let at = Utc::now() + Duration::days(5);
    let (session, net) = session_starting(&mut h, at, 5).await;
    let id = id_of(&session);
    let db = database(&h).await;
    let ana = address("ana");
    let (status, _) = register_by_mail(&h, &id, &ana).await;
    assert_eq!(status, StatusCode::OK);
    mailed(&ana, "est réservée").await;
    let edit_and_send = |hours: i64| {
        let body = session_at(net.venue, at + Duration::hours(hours), 5);
        let (h, db, token, id) = (&h, &db, net.alice.1.clone(), id.clone());
        async move {
            let (status, view) = h
                .call(
                    Method::PUT,
                    &format!("/v1/sessions/{id}"),
                    Some(&token),
                    Some(body),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{view}");
            // The coalescing minutes pass (as time would).
            mail_message::Entity::update_many()
                .col_expr(
                    mail_message::Column::NextAttemptAt,
                    Expr::value(Utc::now() - Duration::seconds(1)),
                )
                .filter(mail_message::Column::Kind.eq(MailKind::SessionChanged))
                .filter(mail_message::Column::Status.eq(MailStatus::Queued))
                .exec(db)
                .await
                .expect("update");
            drained(db).await;
        }
    };
    edit_and_send(1).await;
    edit_and_send(2).await;
    // The seat, then the two changes.
    let changes: Vec<Received> = wait_for_mail(&smtp_maildir(), &ana, 3)
        .await
        .into_iter()
        .filter(|m| m.subject.contains("Changement"))
        .collect();
    assert_eq!(
        changes.len(),
        2,
        "one mail per edit, each sent before the next"
    );
    let links: Vec<String> = changes
        .iter()
        .map(|m| link_token(&m.text, "/annuler").expect("a cancellation link"))
        .collect();
    assert_ne!(links[0], links[1], "a token per mail");
    // Whichever came first in the mailbox, the two links are both live: the first used
    // cancels, the second then finds the registration cancelled (not an unknown token).
    let (status, cancelled) = cancel_with(&h, &links[0]).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    let (status, again) = cancel_with(&h, &links[1]).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("REGISTRATION_NOT_ACTIVE")),
        "{again}"
    );
    h.stop().await;
}

/// A reminder sent, then its row purged by the mail retention sweep while the session is
/// still within `events.reminder_hours`: the next sweep does not remind again (its links
/// say it was reminded).
async fn a_purged_reminder_is_not_sent_again(backend: Backend) {
    let mut h = start(backend, &["events.session.*"], None).await;
    let (session, _) = session_starting(&mut h, Utc::now() + Duration::hours(20), 10).await;
    let id = id_of(&session);
    let ana = address("ana");
    let (status, reg) = register_by_mail(&h, &id, &ana).await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    let db = database(&h).await;
    registration::Entity::update_many()
        .col_expr(
            registration::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::days(3)),
        )
        .filter(registration::Column::Email.eq(ana.as_str()))
        .exec(&db)
        .await
        .expect("update");
    let settings = EventsConfig::default();
    assert_eq!(
        notify::queue_reminders(&db, &settings, Utc::now())
            .await
            .expect("sweep"),
        1
    );
    drained(&db).await;
    mailed(&ana, "Rappel").await;
    // The retention sweep's cutoff, as if `mail_retention_days` had passed.
    let purged = cafeia_events::mail::purge_before(&db, Utc::now() + Duration::days(30))
        .await
        .expect("purge");
    assert!(purged >= 2, "the seat's and the reminder's rows: {purged}");
    let left = mail_message::Entity::find()
        .filter(mail_message::Column::Kind.eq(MailKind::Reminder))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(left, 0, "the reminder's row is gone");
    assert_eq!(
        notify::queue_reminders(&db, &settings, Utc::now())
            .await
            .expect("sweep"),
        0,
        "reminded already"
    );
    drained(&db).await;
    assert_eq!(count_with(&ana, "Rappel"), 1);
    h.stop().await;
}

/// The venue of a published session moves (the facilitators service announces its new
/// address): the session takes it, gets a new revision, is announced again, and its
/// registrants get the « changed » mail with the updated `.ics`. The same state again changes
/// nothing and mails nobody.
async fn a_venue_that_moves_mails_its_future_sessions_registrants(backend: Backend) {
    let mut h = start(backend, &["events.session.*"], None).await;
    let (session, net) = session_starting(&mut h, Utc::now() + Duration::days(5), 5).await;
    let id = id_of(&session);
    let db = database(&h).await;
    let cam = address("cam");
    register_signed_in(&h, &id, &citizen(&h, "cam", &cam)).await;
    let before = invitation(&mailed(&cam, "est réservée").await);
    let moved = json!({
        "id": net.venue, "name": "Médiathèque Jean-Macé", "address": "10 place Bellecour",
        "postcode": "69002", "insee": "69382", "departement": "69", "region": "84",
        "latitude": 45.757, "longitude": 4.832, "opening_hours": null,
        "accessibility": ["wheelchair"], "capacity": 30, "is_public": true,
    });
    h.publish(VENUE, "venue", moved.clone()).await;
    let mut announced = None;
    for _ in 0..10 {
        let (key, data) = h.next_message().await;
        if key == "events.session.updated" && data["id"] == id.as_str() {
            announced = Some(data);
            break;
        }
    }
    let announced = announced.expect("the session announced again");
    assert_eq!(announced["revision"], 2, "{announced}");
    assert_eq!(
        announced["place"]["address"], "10 place Bellecour, 69002",
        "{announced}"
    );
    // The coalescing minutes pass (as time would).
    mail_message::Entity::update_many()
        .col_expr(
            mail_message::Column::NextAttemptAt,
            Expr::value(Utc::now() - Duration::seconds(1)),
        )
        .filter(mail_message::Column::Kind.eq(MailKind::SessionChanged))
        .exec(&db)
        .await
        .expect("update");
    let changed = mailed(&cam, "Changement d'horaire ou de lieu").await;
    assert!(
        changed.text.contains("10 place Bellecour"),
        "{}",
        changed.text
    );
    let ics = invitation(&changed);
    assert_eq!(ics.uid, before.uid);
    assert_eq!(ics.sequence, before.sequence + 1);
    drained(&db).await;
    // The same state once more (a redelivery, a re-import): nothing new to tell.
    h.publish(VENUE, "venue", moved).await;
    tokio::time::sleep(StdDuration::from_millis(1_500)).await;
    let rows = mail_message::Entity::find()
        .filter(mail_message::Column::Kind.eq(MailKind::SessionChanged))
        .rows(&db)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(count_with(&cam, "Changement"), 1);
    h.stop().await;
}

backend_matrix!(
    seats_waiting_list_and_promotion_are_mailed_with_working_links,
    edits_close_together_make_one_change_mail,
    a_venue_that_moves_mails_its_future_sessions_registrants,
    a_cancelled_session_is_mailed_with_its_reason_and_method_cancel,
    reminders_go_once_per_seat_whoever_sweeps,
    unsubscribing_and_erasure_remove_pending_mail,
    every_change_mail_keeps_its_own_working_link,
    a_purged_reminder_is_not_sent_again,
);
