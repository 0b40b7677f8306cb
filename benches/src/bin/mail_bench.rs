//! Mail benchmark: how many mails per second the events service's outbox takes (each queued
//! in its own transaction, as a registration queues its mail) and its sender delivers to the
//! local SMTP sink (aiosmtpd on 127.0.0.1:2525, `.ci/run` starts it; `--smtp` overrides).
//!
//! ```sh
//! cargo run -p cafeia-bench --bin mail-bench -- --quick            # smoke: 300 mails
//! cargo run --release -p cafeia-bench --bin mail-bench -- --mails 5000 --backend real
//! ```
//! The outbox is a fresh database of `--backend` (`embedded`: SQLite; `real`: PostgreSQL, the
//! test defaults). Queuing and sending are timed apart: first every mail is queued, then one
//! sender sends rounds until none is due (the rate of one replica; replicas share the work).

use cafeia_bench::Report;
use cafeia_events::{
    mail::{self, Outgoing, Sender, Waker},
    storage::{Migrator, mail_message::MailKind},
};
use cafeia_platform::{
    mail::{Mail, MailConfig, MailMetrics, Transport},
    metrics::Metrics,
};
use cafeia_testkit::{Backend, TestEnv};
use sea_orm::TransactionTrait;
use sea_orm_migration::MigratorTrait;
use serde_json::json;
use std::time::{Duration, Instant};

/// The mail benchmark.
#[derive(clap::Parser)]
struct Args {
    /// Mails to queue and send.
    #[arg(long, default_value_t = 5_000)]
    mails: usize,
    /// A smoke run: 300 mails.
    #[arg(long)]
    quick: bool,
    /// `embedded` (SQLite) or `real` (PostgreSQL).
    #[arg(long, default_value = "embedded")]
    backend: String,
    /// The SMTP server.
    #[arg(long, default_value = "smtp://127.0.0.1:2525")]
    smtp: String,
}

/// A mail the size of a seat confirmation: text, HTML and an `.ics`.
fn mail(i: usize, run: &str) -> Mail {
    Mail {
        to: format!("bench{i}.{run}@example.org"),
        subject: "Votre place est réservée : Café IA « Découvrir l'IA »".into(),
        text: "Bonjour,\n\nVotre place est réservée.\n".repeat(20),
        html: Some("<p>Bonjour,</p><p>Votre place est réservée.</p>".repeat(20)),
        attachments: vec![cafeia_platform::mail::Attachment {
            filename: "cafe-ia.ics".into(),
            content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
            content: "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nEND:VCALENDAR\r\n".into(),
        }],
        list_unsubscribe: None,
        message_id: None,
    }
}

#[tokio::main]
async fn main() {
    let args: Args = clap::Parser::parse();
    let count = if args.quick { 300 } else { args.mails };
    let backend = match args.backend.as_str() {
        "real" => Backend::Real,
        _ => Backend::Embedded,
    };
    let env = TestEnv::new(backend).await;
    let db = cafeia_platform::db::connect(&env.database_url(), 4)
        .await
        .expect("database");
    Migrator::up(&db, None).await.expect("migrated");
    let run = env.id.clone();

    let started = Instant::now();
    for i in 0..count {
        let txn = db.begin().await.expect("transaction");
        let queued = mail::queue_once(
            &txn,
            vec![Outgoing {
                kind: MailKind::SeatConfirmed,
                dedupe_key: format!("bench/{run}/{i}"),
                registration_id: None,
                mail: mail(i, &run),
            }],
            chrono::Utc::now(),
        )
        .await
        .expect("queued");
        assert_eq!(queued, 1);
        txn.commit().await.expect("committed");
    }
    let queuing = started.elapsed();

    let config: MailConfig = serde_json::from_value(json!({ "url": args.smtp })).expect("url");
    let transport = Transport::from_config(&config, &env.config.data_dir).expect("transport");
    let sender = Sender::new(
        db.clone(),
        transport,
        MailMetrics::register(&Metrics::new("events")),
        Waker::default(),
        Duration::from_millis(100),
    );
    let started = Instant::now();
    let mut sent = 0;
    loop {
        let round = sender.send_due().await.expect("round");
        assert!(!round.unavailable, "no SMTP server at {}", args.smtp);
        if round.handled == 0 {
            break;
        }
        sent += round.handled;
    }
    let sending = started.elapsed();
    assert_eq!(sent, count, "every mail sent once");
    let rate = |d: Duration| count as f64 / d.as_secs_f64();
    println!(
        "{count} mails, {backend:?} outbox, {}: queued {:.0}/s ({:.2} s), sent {:.0}/s ({:.2} s)",
        args.smtp,
        rate(queuing),
        queuing.as_secs_f64(),
        rate(sending),
        sending.as_secs_f64()
    );
    let mut report = Report::new("mail-bench");
    let outbox = format!("{backend:?} outbox").to_lowercase();
    report.add(format!("mails queued, {outbox}"), rate(queuing), "/s", None);
    report.add(
        format!("mails sent by one sender, {outbox}"),
        rate(sending),
        "/s",
        None,
    );
    report.finish().expect("bench report");
}
