//! Facilitator network: facilitators, organisations, venues and their verification.
//!
//! Shape shared by every service: `storage` (tables and migrations), `domain` (rules),
//! `messages` (what it publishes), `routes` (REST), one module per resource
//! (`facilitators`, `organisations`, `venues`, `territories`), `lieux` (the national venue
//! standard), `demo` (embedded demo data), `config` (the `[facilitators]` settings), `mail`
//! (the mail telling facilitators of the staff's decisions, sent by the platform's mail
//! outbox), `digests` (the digest of a session's registrations the day before, from the
//! events service's messages).

pub mod config;
pub mod demo;
pub mod digests;
pub mod domain;
pub mod facilitators;
pub mod lieux;
pub mod mail;
pub mod messages;
pub mod openapi;
pub mod organisations;
pub mod proximity;
pub mod routes;
pub mod storage;
pub mod territories;
pub mod venues;

use async_trait::async_trait;
use cafeia_platform::runtime::{Platform, Service, StartError};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

/// What handlers share.
pub struct State {
    pub platform: Platform,
    /// Wakes the mail sender after a commit that queued mail.
    pub mail: cafeia_platform::mail::outbox::Waker,
}

/// How often the mail sender looks for due mail when nothing wakes it (deferred mail).
const MAIL_POLL: std::time::Duration = std::time::Duration::from_secs(1);
/// How often sent and parked mail rows older than [`mail::RETENTION`] are deleted.
const MAIL_PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3_600);

#[derive(Clone)]
pub struct Facilitators {
    state: actix_web::web::Data<State>,
}

#[async_trait]
impl Service for Facilitators {
    const NAME: &'static str = "facilitators";

    async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
        storage::Migrator::up(db, None).await
    }

    fn check_config(
        config: &cafeia_platform::config::PlatformConfig,
    ) -> Result<(), cafeia_platform::config::ConfigError> {
        config
            .section::<config::FacilitatorsConfig>(config::SECTION)
            .map(drop)
    }

    async fn start(platform: &Platform) -> Result<Self, StartError> {
        let settings: config::FacilitatorsConfig = platform.config.section(config::SECTION)?;
        // Decode the gazetteer now rather than on the first request.
        let _ = cafeia_platform::territory::Gazetteer::get();
        // Mail goes where events' goes (`mail.url`, `mail.from`: the platform's `[mail]`).
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
        let waker = cafeia_platform::mail::outbox::Waker::default();
        let sender = cafeia_platform::mail::outbox::Sender::new(
            platform.db.clone(),
            transport,
            cafeia_platform::mail::MailMetrics::register(&platform.metrics),
            waker.clone(),
            MAIL_POLL,
        );
        platform.spawn(sender.run(platform.shutdown.clone()));
        platform.spawn(purge_mail(platform.clone()));
        digests::replica::start(platform).await?;
        platform.spawn(digests::sweep::run(
            platform.clone(),
            settings,
            waker.clone(),
        ));
        Ok(Self {
            state: actix_web::web::Data::new(State {
                platform: platform.clone(),
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
        if demo::seed(&platform.db)
            .await
            .map_err(|e| StartError::Service(e.to_string()))?
        {
            platform.outbox.wake();
            tracing::info!("facilitators: demo network loaded");
        }
        Ok(())
    }
}

/// Deletes the mail rows sent or parked [`mail::RETENTION`] ago and the digests' unused
/// unsubscription tokens older than [`digests::LINK_LIFETIME`], every hour until shut down.
async fn purge_mail(platform: Platform) {
    loop {
        let now = chrono::Utc::now();
        if let Err(e) =
            cafeia_platform::mail::outbox::purge_before(&platform.db, now - mail::RETENTION).await
        {
            tracing::warn!(error = %e, "mail outbox purge failed; next sweep retries");
        }
        if let Err(e) = digests::purge_links(&platform.db, now - digests::LINK_LIFETIME).await {
            tracing::warn!(error = %e, "digest link purge failed; next sweep retries");
        }
        tokio::select! {
            _ = platform.shutdown.cancelled() => return,
            _ = tokio::time::sleep(MAIL_PURGE_EVERY) => {}
        }
    }
}
