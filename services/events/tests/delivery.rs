//! Mail delivery under faults (issue #18, must show), against the real test SMTP server
//! (aiosmtpd writing a Maildir, `CAFEIA_TEST_SMTP_URL`): every mail is counted by its
//! `Message-ID` in what the server received.
//!
//! - The server down during a burst of 500 registrations: all delivered once it is back,
//!   none lost, none twice.
//! - Two senders on one PostgreSQL database (two replicas): each mail once.
//! - A sender killed in the middle of a round: nothing lost; a mail sent again is the same
//!   message (same `Message-ID`), and only a mail whose sending the killed sender had not
//!   recorded is sent again.
//!
//! Each test mails addresses under a tag of its own and reads only the Maildir files that
//! appeared after it started, so tests running at once do not count each other's mail.

use cafeia_events::{
    Events,
    mail::{self, Outgoing, Sender, Waker},
    storage::{
        Migrator, mail_message,
        mail_message::{MailKind, MailStatus},
    },
};
use cafeia_platform::{
    mail::{Mail, MailConfig, MailMetrics, Transport},
    metrics::Metrics,
};
use cafeia_testkit::{
    Backend, TcpProxy, TestEnv, backend_matrix,
    mail::{parse, require_smtp, smtp_maildir},
    service::ServiceHarness,
};
use chrono::{Duration, Utc};
use futures::{StreamExt, stream};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use sea_orm_migration::MigratorTrait;
use serde_json::json;
use std::{
    collections::{HashMap, HashSet},
    ffi::OsString,
    path::PathBuf,
    time::Duration as StdDuration,
};
use support::{network, published, session_at};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

// Shared with the other suites; not every helper is needed here.
#[allow(dead_code)]
use crate::support;

/// The `i`-th address of the test tagged `tag`.
fn address(tag: &str, i: usize) -> String {
    format!("r{i}.{tag}@example.org")
}

/// What the SMTP server received for one test: `Message-ID`s by recipient.
struct Tally {
    dir: PathBuf,
    tag: String,
    seen: HashSet<OsString>,
    received: HashMap<String, Vec<String>>,
}

impl Tally {
    /// Starts counting: the files already in the Maildir are another time's.
    fn new() -> Self {
        let mut tally = Self {
            dir: smtp_maildir(),
            tag: format!("t{}", Uuid::now_v7().simple()),
            seen: HashSet::new(),
            received: HashMap::new(),
        };
        for (name, _) in tally.files() {
            tally.seen.insert(name);
        }
        tally
    }

    /// The `i`-th address of this test.
    fn address(&self, i: usize) -> String {
        address(&self.tag, i)
    }

    fn files(&self) -> Vec<(OsString, PathBuf)> {
        ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.dir.join(sub)).ok())
            .flat_map(|entries| entries.flatten())
            .map(|e| (e.file_name(), e.path()))
            .collect()
    }

    /// Reads what arrived since the last scan. (A Maildir file appears whole: it is written
    /// in `tmp` and renamed.)
    fn scan(&mut self) {
        for (name, path) in self.files() {
            // A message moved from `new` to `cur` keeps its unique name before the `:2,` info.
            let key = name
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or_default()
                .into();
            if !self.seen.insert(key) {
                continue;
            }
            let Ok(raw) = std::fs::read(&path) else {
                continue;
            };
            if !raw
                .windows(self.tag.len())
                .any(|w| w == self.tag.as_bytes())
            {
                continue;
            }
            let mail = parse(&raw).expect("the server received a parseable message");
            let id = mail.message_id.expect("every mail has a Message-ID");
            self.received
                .entry(mail.to.to_lowercase())
                .or_default()
                .push(id);
        }
    }

    fn recipients(&self) -> usize {
        self.received.len()
    }

    fn messages(&self) -> usize {
        self.received.values().map(Vec::len).sum()
    }

    /// Each of the `count` addresses received exactly one message, and no two share a
    /// `Message-ID`.
    fn assert_each_once(&self, count: usize) {
        let missing: Vec<String> = (0..count)
            .map(|i| self.address(i))
            .filter(|a| !self.received.contains_key(a))
            .collect();
        assert!(
            missing.is_empty(),
            "{} of {count} mails lost: {:?}…",
            missing.len(),
            &missing[..missing.len().min(3)]
        );
        let doubled: Vec<(&String, &Vec<String>)> = self
            .received
            .iter()
            .filter(|(_, ids)| ids.len() > 1)
            .collect();
        assert!(
            doubled.is_empty(),
            "{} mails received twice or more: {:?}",
            doubled.len(),
            doubled.first()
        );
        let ids: HashSet<&String> = self.received.values().flatten().collect();
        assert_eq!((self.recipients(), ids.len()), (count, count));
    }
}

/// Mail rows of `status` in `db`.
async fn rows(db: &DatabaseConnection, status: MailStatus) -> u64 {
    mail_message::Entity::find()
        .filter(mail_message::Column::Status.eq(status))
        .count(db)
        .await
        .expect("count")
}

/// Waits (45 s at most, then fails) until no mail row is queued any more.
async fn until_all_sent(db: &DatabaseConnection) {
    for _ in 0..450 {
        if rows(db, MailStatus::Queued).await == 0 {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!(
        "{} mails still queued after 45 s",
        rows(db, MailStatus::Queued).await
    );
}

/// The SMTP server behind a proxy the test can cut.
async fn smtp_behind_proxy() -> (String, TcpProxy) {
    let url = require_smtp().await;
    let address = url.split("://").nth(1).unwrap_or_default().to_owned();
    let proxy = TcpProxy::start(&address).await;
    (proxy.url_for(&url), proxy)
}

/// While the SMTP server cannot be reached, 500 people ask to register (each request queues
/// its confirmation mail in its own transaction); nothing arrives, nothing is parked. Once the
/// server is back, each of them gets exactly one mail.
async fn smtp_down_during_a_burst_of_500_registrations(backend: Backend) {
    const BURST: usize = 500;
    let (url, proxy) = smtp_behind_proxy().await;
    proxy.cut();
    let mut h = ServiceHarness::start_with::<Events>(backend, &["events.session.*"], |config| {
        let mail: MailConfig = serde_json::from_value(json!({ "url": url })).expect("mail");
        config.mail.url = mail.url;
        config
            .sources
            .overrides
            .push(("events.mail_poll_ms".into(), "100".into()));
    })
    .await;
    let net = network(&mut h).await;
    // Requests by mail hold no seat until confirmed: the capacity does not limit them.
    let created = published(
        &h,
        &net.alice.1,
        session_at(net.venue, Utc::now() + Duration::days(5), 10),
    )
    .await;
    let session = created["id"].as_str().expect("id").to_owned();
    let mut tally = Tally::new();
    let tag = tally.tag.clone();
    let ask = |i: usize| {
        let (http, url, email) = (
            h.http.clone(),
            format!("{}/v1/sessions/{session}/registrations", h.base),
            address(&tag, i),
        );
        async move {
            http.post(url)
                .json(&json!({"email": email, "consent": true}))
                .send()
                .await
                .expect("request")
                .status()
        }
    };
    let statuses: Vec<StatusCode> = stream::iter(0..BURST)
        .map(ask)
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::ACCEPTED),
        "{:?}",
        statuses.iter().find(|s| **s != StatusCode::ACCEPTED)
    );
    let db = cafeia_platform::db::connect(&h.env.database_url(), 2)
        .await
        .expect("database");
    tally.scan();
    assert_eq!(tally.messages(), 0, "the server was unreachable");
    assert_eq!(
        (
            rows(&db, MailStatus::Queued).await,
            rows(&db, MailStatus::Parked).await
        ),
        (BURST as u64, 0),
        "every mail waits, none given up on"
    );

    proxy.restore();
    // The sender backs off (up to a minute) while the server is unreachable, and a newly
    // queued mail wakes it at once: the burst's last request, after the server is back.
    assert_eq!(ask(BURST).await, StatusCode::ACCEPTED);
    until_all_sent(&db).await;
    assert_eq!(rows(&db, MailStatus::Sent).await, BURST as u64 + 1);
    tally.scan();
    tally.assert_each_once(BURST + 1);
    h.stop().await;
}

/// A migrated database of the test's backend.
async fn outbox_database(env: &TestEnv) -> DatabaseConnection {
    let db = cafeia_platform::db::connect(&env.database_url(), 2)
        .await
        .expect("database");
    Migrator::up(&db, None).await.expect("migrated");
    db
}

/// A sender of its own (its own connections, transport and counters), like a replica's.
async fn replica_sender(env: &TestEnv, url: &str) -> (Sender, MailMetrics, DatabaseConnection) {
    let db = cafeia_platform::db::connect(&env.database_url(), 2)
        .await
        .expect("database");
    let config: MailConfig = serde_json::from_value(json!({ "url": url })).expect("config");
    let transport = Transport::from_config(&config, &env.config.data_dir).expect("transport");
    let metrics = MailMetrics::register(&Metrics::new("events"));
    let sender = Sender::new(
        db.clone(),
        transport,
        metrics.clone(),
        Waker::default(),
        StdDuration::from_millis(50),
    );
    (sender, metrics, db)
}

/// Queues a mail to each of the tally's first `count` addresses, due now.
async fn queue(db: &DatabaseConnection, tally: &Tally, count: usize) {
    let outs = (0..count)
        .map(|i| Outgoing {
            kind: MailKind::Reminder,
            dedupe_key: format!("delivery/{}/{i}", tally.tag),
            registration_id: None,
            mail: Mail {
                to: tally.address(i),
                subject: format!("Rappel : Café IA demain ({i})"),
                text: format!("Bonjour,\nÀ demain au café.\n{}", tally.tag),
                html: None,
                attachments: Vec::new(),
                list_unsubscribe: None,
                message_id: None,
            },
        })
        .collect();
    let queued = mail::queue_once(db, outs, Utc::now())
        .await
        .expect("queued");
    assert_eq!(queued, count as u64);
}

fn sent(metrics: &MailMetrics) -> u64 {
    metrics
        .sent
        .with_label_values(&[MailKind::Reminder.as_str()])
        .get()
}

/// Two replicas' senders on one PostgreSQL database share the outbox (`FOR UPDATE SKIP
/// LOCKED`): both send, and each mail reaches its reader once. (SQLite is the one-process
/// embedded run: one sender per file, so this is PostgreSQL's.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_send_each_mail_once() {
    const COUNT: usize = 300;
    let url = require_smtp().await;
    let env = TestEnv::new(Backend::Real).await;
    let db = outbox_database(&env).await;
    let mut tally = Tally::new();
    queue(&db, &tally, COUNT).await;
    let (first, first_metrics, _) = replica_sender(&env, &url).await;
    let (second, second_metrics, _) = replica_sender(&env, &url).await;
    let stop = CancellationToken::new();
    let running = [
        tokio::spawn(first.run(stop.clone())),
        tokio::spawn(second.run(stop.clone())),
    ];
    until_all_sent(&db).await;
    stop.cancel();
    for task in running {
        task.await.expect("sender stops");
    }
    let shares = (sent(&first_metrics), sent(&second_metrics));
    assert_eq!(shares.0 + shares.1, COUNT as u64, "handed over once each");
    assert!(
        shares.0 > 0 && shares.1 > 0,
        "both replicas sent: {shares:?}"
    );
    tally.scan();
    tally.assert_each_once(COUNT);
}

/// A sender killed in the middle of its work (its task aborted between two mails, its
/// connections closed, as a killed process's are): another sender delivers the rest. Every
/// mail arrives; one whose sending was not recorded before the kill arrives again, as the
/// same message (its `Message-ID`) — on PostgreSQL the killed round's marks roll back with its
/// transaction (at most one round of mails again), on SQLite only the mail in flight.
async fn a_sender_killed_mid_send_loses_nothing(backend: Backend) {
    const COUNT: usize = 200;
    let url = require_smtp().await;
    let env = TestEnv::new(backend).await;
    let db = outbox_database(&env).await;
    let mut tally = Tally::new();
    queue(&db, &tally, COUNT).await;
    let (doomed, _, doomed_db) = replica_sender(&env, &url).await;
    let task = tokio::spawn(doomed.run(CancellationToken::new()));
    loop {
        tally.scan();
        if tally.messages() >= 10 {
            break;
        }
        assert!(!task.is_finished(), "the sender stopped by itself");
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    task.abort();
    assert!(task.await.is_err_and(|e| e.is_cancelled()), "killed");
    tokio::time::timeout(StdDuration::from_secs(10), doomed_db.close())
        .await
        .expect("the killed sender's connections close")
        .expect("closed");
    tally.scan();
    let before_kill = tally.messages();
    assert!(
        before_kill < COUNT,
        "killed after all {COUNT} mails went: nothing was cut short"
    );

    let (survivor, _, _) = replica_sender(&env, &url).await;
    let stop = CancellationToken::new();
    let running = tokio::spawn(survivor.run(stop.clone()));
    until_all_sent(&db).await;
    stop.cancel();
    running.await.expect("sender stops");
    assert_eq!(rows(&db, MailStatus::Sent).await, COUNT as u64);

    tally.scan();
    let missing = (0..COUNT)
        .filter(|i| !tally.received.contains_key(&tally.address(*i)))
        .count();
    assert_eq!(missing, 0, "mails lost");
    let mut again = 0;
    for (to, ids) in &tally.received {
        assert!(ids.len() <= 2, "{to} received {} copies", ids.len());
        assert!(
            ids.iter().all(|id| *id == ids[0]),
            "a mail sent again is the same message: {ids:?}"
        );
        again += ids.len() - 1;
    }
    let bound = if backend == Backend::Real { 50 } else { 1 };
    assert!(
        again <= bound,
        "{again} mails sent again (at most {bound}: what the killed sender had not recorded)"
    );
    eprintln!("killed after {before_kill} of {COUNT} mails; {again} sent again");
}

backend_matrix!(
    smtp_down_during_a_burst_of_500_registrations,
    a_sender_killed_mid_send_loses_nothing,
);
