//! Starting a service: connect its backends from configuration, migrate, start the outbox
//! relay and the service's consumers, serve HTTP, and stop everything in order on shutdown.

use crate::{
    auth::Verifier,
    bus::{self, Bus},
    cache::{self, Cache},
    config::PlatformConfig,
    db,
    health::Readiness,
    http::{self, HttpState, RunningHttp},
    metrics::Metrics,
    outbox,
};
use actix_web::web;
use async_trait::async_trait;
use sea_orm::{DatabaseConnection, DbErr};
use std::{net::TcpListener, sync::Arc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What one service instance runs on. Handlers and consumers get it (or parts of it).
#[derive(Clone)]
pub struct Platform {
    pub service: &'static str,
    pub config: Arc<PlatformConfig>,
    pub db: DatabaseConnection,
    pub bus: Arc<dyn Bus>,
    pub cache: Arc<dyn Cache>,
    pub verifier: Verifier,
    pub metrics: Metrics,
    pub outbox: outbox::Waker,
    /// Fires on shutdown; background tasks stop when it does.
    pub shutdown: CancellationToken,
    tasks: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
    queues: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Platform {
    /// The queues this instance consumes (with the configured prefix).
    pub fn queues(&self) -> Vec<String> {
        self.queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many background tasks this instance holds (each kept until `stop`): it grows with
    /// each [`Platform::spawn`], so work started per request must not go through `spawn`.
    pub fn background_tasks(&self) -> usize {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Runs `task` in the background until shutdown; `stop` waits for it.
    pub fn spawn<F>(&self, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let handle = tokio::spawn(task);
        self.tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(handle);
    }

    /// Consumes `subscription` in batches (see [`bus::consume_batches`]) until shutdown.
    pub async fn consume_batches<H, Fut>(
        &self,
        subscription: bus::Subscription,
        max: usize,
        handler: H,
    ) -> Result<(), bus::BusError>
    where
        H: Fn(Vec<Arc<crate::envelope::Envelope>>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), bus::HandlerError>> + Send + 'static,
    {
        let mut subscription = subscription;
        subscription.queue = format!("{}{}", self.config.bus.queue_prefix, subscription.queue);
        self.queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(subscription.queue.clone());
        let subscriber = self.bus.subscribe(subscription).await?;
        self.spawn(bus::consume_batches(
            subscriber,
            self.shutdown.clone(),
            max,
            std::time::Duration::from_millis(5),
            handler,
        ));
        Ok(())
    }

    /// Consumes `subscription` with `handler` until shutdown (see [`bus::consume`]).
    pub async fn consume<H, Fut>(
        &self,
        subscription: bus::Subscription,
        handler: H,
    ) -> Result<(), bus::BusError>
    where
        H: Fn(Arc<crate::envelope::Envelope>, bus::Message) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), bus::HandlerError>> + Send + 'static,
    {
        let mut subscription = subscription;
        subscription.queue = format!("{}{}", self.config.bus.queue_prefix, subscription.queue);
        let queue = subscription.queue.clone();
        self.queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(queue.clone());
        let subscriber = self.bus.subscribe(subscription).await?;
        let cancel = self.shutdown.clone();
        let counter = self.metrics.messages.clone();
        let handler = Arc::new(handler);
        self.spawn(bus::consume(
            subscriber,
            cancel,
            move |envelope, message| {
                let (handler, counter, queue) = (handler.clone(), counter.clone(), queue.clone());
                async move {
                    let result = handler(envelope, message).await;
                    let outcome = match &result {
                        Ok(()) => "handled",
                        Err(bus::HandlerError::Transient(_)) => "retried",
                        Err(bus::HandlerError::Permanent(_)) => "rejected",
                    };
                    counter.with_label_values(&[queue.as_str(), outcome]).inc();
                    result
                }
            },
        ));
        Ok(())
    }
}

/// Backends shared by several services in one process (embedded mode): one in-process broker,
/// one memory cache, one verifier.
#[derive(Clone, Default)]
pub struct Shared {
    pub bus: Option<Arc<dyn Bus>>,
    pub cache: Option<Arc<dyn Cache>>,
    pub verifier: Option<Verifier>,
    /// Fired once every service sharing the in-process broker has bound its queues: a relay
    /// sends again what that broker lost with the last process ([`outbox::Relay::replay_sent`])
    /// only then, for it drops what no queue is bound for. None: at once.
    pub consumers_bound: Option<CancellationToken>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("bus: {0}")]
    Bus(#[from] bus::BusError),
    #[error("cache: {0}")]
    Cache(#[from] cache::CacheError),
    #[error("{0}")]
    Auth(String),
    #[error("http: {0}")]
    Http(#[from] std::io::Error),
    #[error("{0}")]
    Service(String),
    /// A setting of the service's own section is bad (the key is named).
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
}

/// One service's domain: its migrations, its start-up work, its routes.
#[async_trait]
pub trait Service: Clone + Send + Sync + Sized + 'static {
    const NAME: &'static str;

    /// Applies every migration (the platform's first, then the service's).
    async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr>;

    /// Builds the service state and starts its consumers (with `platform.consume`).
    async fn start(platform: &Platform) -> Result<Self, StartError>;

    /// Checks the service's own settings before anything starts (a bad one exits 2, naming
    /// the key); services without settings have nothing to check.
    fn check_config(_config: &PlatformConfig) -> Result<(), crate::config::ConfigError> {
        Ok(())
    }

    /// Registers the service's REST routes.
    fn routes(&self, cfg: &mut web::ServiceConfig);

    /// The service's OpenAPI document as derived from its handlers; the platform completes
    /// it with what its HTTP shell answers and serves it at `/openapi.json`
    /// ([`openapi::Document`](crate::openapi::Document)).
    fn openapi() -> utoipa::openapi::OpenApi;

    /// Loads demonstration data when the database is empty (embedded first run).
    async fn seed_demo(&self, _platform: &Platform) -> Result<(), StartError> {
        Ok(())
    }
}

/// Options of one service start.
pub struct Launch {
    pub config: PlatformConfig,
    pub shared: Shared,
    pub listener: TcpListener,
    pub demo_data: bool,
    pub workers: usize,
}

/// A started service.
pub struct Running {
    pub service: &'static str,
    pub platform: Platform,
    http: RunningHttp,
}

impl Running {
    pub fn port(&self) -> u16 {
        self.http.port
    }

    /// Stops HTTP first (in-flight requests finish), then background tasks.
    pub async fn stop(self) {
        self.http.stop().await;
        self.platform.shutdown.cancel();
        let tasks = std::mem::take(
            &mut *self
                .platform
                .tasks
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for task in tasks {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        }
    }
}

/// Connects `S`'s backends, migrates, starts its background work and serves it.
pub async fn start<S: Service>(launch: Launch) -> Result<Running, StartError> {
    let Launch {
        config,
        shared,
        listener,
        demo_data,
        workers,
    } = launch;
    let db = db::connect(
        &config.database_url(S::NAME),
        config.database.max_connections,
    )
    .await?;
    if config.database.migrate_on_start {
        S::migrate(&db).await?;
    }
    let bus = match shared.bus {
        Some(bus) => bus,
        None => bus::connect(&config.bus).await?,
    };
    let cache = match shared.cache {
        Some(cache) => cache,
        None => cache::connect(&config.cache).await?,
    };
    let verifier = match shared.verifier {
        Some(v) => v,
        None => Verifier::from_config(&config.auth, &config.data_dir)
            .await
            .map_err(StartError::Auth)?,
    };
    let platform = Platform {
        service: S::NAME,
        config: Arc::new(config),
        db: db.clone(),
        bus: bus.clone(),
        cache: cache.clone(),
        verifier: verifier.clone(),
        metrics: Metrics::new(S::NAME),
        outbox: outbox::Waker::default(),
        shutdown: CancellationToken::new(),
        tasks: Arc::default(),
        queues: Arc::default(),
    };
    let mut relay = outbox::Relay::new(db.clone(), bus.clone(), platform.outbox.clone())
        .with_metrics(platform.metrics.clone());
    relay.inbox_retention = platform.config.bus.inbox_retention();
    relay.replay_after = shared.consumers_bound.clone();
    platform.spawn(relay.run(platform.shutdown.clone()));
    let service = S::start(&platform).await?;
    if demo_data {
        service.seed_demo(&platform).await?;
    }
    let state = HttpState {
        service: S::NAME,
        metrics: platform.metrics.clone(),
        readiness: Readiness::new().database(db).bus(bus).cache(cache),
        verifier,
        max_body_bytes: platform.config.http.max_body_bytes,
        document: Some(Arc::new(crate::openapi::Document::new(S::openapi()))),
    };
    let routes = service.clone();
    let http = http::serve(listener, state, workers, move |cfg| routes.routes(cfg))?;
    tracing::info!(service = S::NAME, port = http.port, "service started");
    Ok(Running {
        service: S::NAME,
        platform,
        http,
    })
}

/// Binds `host:port` (port 0 picks a free one).
pub fn bind(host: &str, port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind((host, port))
}

/// Ctrl-C and SIGTERM, listened to from the moment this is created: create it before
/// announcing readiness, so a signal sent right after the announcement is not missed (the
/// default action would kill the process instead of stopping it cleanly).
pub struct ShutdownSignal {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignal {
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                terminate: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    pub async fn wait(mut self) {
        #[cfg(unix)]
        {
            async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                _ = next(&mut self.terminate) => {}
                _ = next(&mut self.interrupt) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Production processes must not trust the development issuer: it exists for the embedded
/// stack only, where its key sits in the local data directory.
pub fn refuse_dev_issuer_outside_embedded(
    config: &PlatformConfig,
) -> Result<(), crate::config::ConfigError> {
    if config.auth.dev_issuer && !config.is_embedded() {
        return Err(crate::config::ConfigError::single(
            "auth.dev_issuer",
            "the development issuer only exists in embedded mode; configure auth.jwks_url or auth.public_key_pem",
        ));
    }
    Ok(())
}

/// Configuration of a production process: the file named by `CAFEIA_CONFIG`, then `CAFEIA_*`.
pub fn production_config() -> Result<PlatformConfig, crate::config::ConfigError> {
    let config = PlatformConfig::load(&crate::config::Sources::process())?;
    refuse_dev_issuer_outside_embedded(&config)?;
    Ok(config)
}

/// Runs one service on the backends its configuration names until Ctrl-C or SIGTERM.
pub async fn serve<S: Service>(config: PlatformConfig) -> Result<(), StartError> {
    S::check_config(&config)?;
    crate::telemetry::init(&config.telemetry);
    let signal = ShutdownSignal::install();
    let listener = bind(&config.http.host, config.http.port)?;
    let running = start::<S>(Launch {
        config,
        shared: Shared::default(),
        listener,
        demo_data: false,
        workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
    })
    .await?;
    signal.wait().await;
    tracing::info!(service = S::NAME, "stopping");
    running.stop().await;
    Ok(())
}

/// The whole `main` of a service's thin binary.
pub fn main<S: Service>() -> std::process::ExitCode {
    let config = match production_config().and_then(|c| S::check_config(&c).map(|()| c)) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{}: {e}", S::NAME);
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}: cannot start the runtime: {e}", S::NAME);
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve::<S>(config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", S::NAME);
            std::process::ExitCode::FAILURE
        }
    }
}
