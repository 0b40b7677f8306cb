//! AI Café sessions: publication, registration with hard capacity, waiting list, attendance,
//! calendars.
//!
//! Shape shared by every service: `config`, `storage` (tables and migrations), `domain`
//! (rules), `messages` (what it publishes), `routes` (REST) and one module per resource
//! (`sessions`, `registrations` with `admission` deciding seats in batches, `attendance`, `calendar`, `jsonld`); `replicas` keeps the
//! facilitators' announcements, `names` reads their names when a view shows them; `mail` queues mail in the transaction that causes it and
//! sends it (`mail_text` and `notice_text` say what it says, `notify` which change mails whom);
//! `demo` loads the embedded demo data.

pub mod admission;
pub mod attendance;
pub mod calendar;
pub mod config;
pub mod demo;
pub mod domain;
pub mod jsonld;
pub mod mail;
pub mod mail_text;
pub mod messages;
pub mod names;
pub mod notice_text;
pub mod notify;
pub mod openapi;
pub mod registrations;
pub mod replicas;
pub mod routes;
pub mod sessions;
pub mod storage;

use async_trait::async_trait;
use cafeia_platform::runtime::{Platform, Service, StartError};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

/// What handlers share.
pub struct State {
    pub platform: Platform,
    pub admissions: admission::Admissions,
    pub settings: config::EventsConfig,
    /// Where facilitators' names are read.
    pub names: names::Directory,
    /// Wakes the mail sender after a commit that queued mail.
    pub mail: mail::Waker,
}

#[derive(Clone)]
pub struct Events {
    state: actix_web::web::Data<State>,
}

#[async_trait]
impl Service for Events {
    const NAME: &'static str = "events";

    async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
        storage::Migrator::up(db, None).await
    }

    fn check_config(
        config: &cafeia_platform::config::PlatformConfig,
    ) -> Result<(), cafeia_platform::config::ConfigError> {
        config
            .section::<config::EventsConfig>(config::SECTION)
            .map(drop)?;
        config
            .section::<config::ServiceUrls>(config::SERVICES)
            .map(drop)
    }

    async fn start(platform: &Platform) -> Result<Self, StartError> {
        let mut settings: config::EventsConfig = platform.config.section(config::SECTION)?;
        settings.organizer = platform.config.mail.sender_address();
        let services: config::ServiceUrls = platform.config.section(config::SERVICES)?;
        let names = names::Directory::new(&services.facilitators)
            .map_err(|e| StartError::Service(format!("facilitators client: {e}")))?;
        let transport = cafeia_platform::mail::Transport::from_config(
            &platform.config.mail,
            &platform.config.data_dir,
        )
        .map_err(StartError::Service)?;
        if transport.is_file() && !platform.config.is_embedded() {
            tracing::warn!(
                "mail.url is not set: mail is written to files in the data directory, not sent"
            );
        }
        let waker = mail::Waker::default();
        let sender = mail::Sender::new(
            platform.db.clone(),
            transport,
            cafeia_platform::mail::MailMetrics::register(&platform.metrics),
            waker.clone(),
            std::time::Duration::from_millis(settings.mail_poll_ms),
        );
        platform.spawn(sender.run(platform.shutdown.clone()));
        replicas::start(platform, settings.clone(), waker.clone()).await?;
        platform.spawn(retention(platform.clone(), settings.clone()));
        platform.spawn(reminders(platform.clone(), settings.clone(), waker.clone()));
        Ok(Self {
            state: actix_web::web::Data::new(State {
                platform: platform.clone(),
                admissions: admission::Admissions::new(
                    platform.db.clone(),
                    platform.outbox.clone(),
                    settings.clone(),
                    waker.clone(),
                ),
                settings,
                names,
                mail: waker,
            }),
        })
    }

    fn routes(&self, cfg: &mut actix_web::web::ServiceConfig) {
        cfg.app_data(self.state.clone());
        routes::configure(cfg);
    }

    fn openapi() -> utoipa::openapi::OpenApi {
        <openapi::ApiDoc as utoipa::OpenApi>::openapi()
    }

    async fn seed_demo(&self, platform: &Platform) -> Result<(), StartError> {
        // The demo needs the facilitators' announcements first: wait for them off the start path.
        let (db, waker) = (platform.db.clone(), platform.outbox.clone());
        platform.spawn(async move {
            match demo::seed(&db).await {
                Ok(true) => {
                    waker.wake();
                    tracing::info!("events: demo sessions loaded");
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "events: demo sessions not loaded"),
            }
        });
        Ok(())
    }
}

/// Erases registrants' personal data `retention_days` after their session, the requests
/// nobody confirmed in time, and the mail sent or parked `mail_retention_days` ago,
/// periodically.
async fn retention(platform: Platform, settings: config::EventsConfig) {
    let mut every = tokio::time::interval(settings.sweep_every());
    loop {
        tokio::select! {
            _ = platform.shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        // First: the bulk erasure below expects no unconfirmed row left in ended sessions.
        match expire(&platform.db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                erased = n,
                "unconfirmed registrations erased at their deadline"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "unconfirmed registrations sweep failed; next sweep retries")
            }
        }
        let sent_before = chrono::Utc::now() - settings.mail_retention();
        if let Err(e) = mail::purge_before(&platform.db, sent_before).await {
            tracing::warn!(error = %e, "mail outbox purge failed; next sweep retries");
        }
        let cutoff =
            chrono::Utc::now() - chrono::Duration::days(i64::from(settings.retention_days));
        match registrations::erase_before(&platform.db, cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                erased = n,
                "registrants' personal data erased after retention"
            ),
            Err(e) => tracing::warn!(error = %e, "retention sweep failed; next sweep retries"),
        }
    }
}

/// Queues the reminders due, every `events.reminder_sweep_seconds`, on every replica (each
/// reminder is queued once whoever sweeps: [`notify::queue_reminders`]).
async fn reminders(platform: Platform, settings: config::EventsConfig, mail: mail::Waker) {
    let mut every = tokio::time::interval(settings.reminder_every());
    loop {
        tokio::select! {
            _ = platform.shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        match notify::queue_reminders(&platform.db, &settings, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => {
                mail.wake();
                tracing::info!(queued = n, "session reminders queued");
            }
            Err(e) => tracing::warn!(error = %e, "reminder sweep failed; next sweep retries"),
        }
    }
}

/// [`registrations::expire_unconfirmed`] in one transaction (the mail and the rows together).
async fn expire(db: &DatabaseConnection) -> Result<u64, cafeia_platform::AppError> {
    let txn = cafeia_platform::db::begin(db).await?;
    let erased = registrations::expire_unconfirmed(&txn, chrono::Utc::now()).await?;
    txn.commit().await?;
    Ok(erased)
}
