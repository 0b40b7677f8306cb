//! The gateway: the one public API. GraphQL (async-graphql on actix-web) over HTTP and
//! WebSocket; each resolver calls the owning service over REST, forwarding the caller's token
//! and trace context. It keeps no data of its own.

pub mod admission;
pub mod body;
pub mod catalogue;
pub mod client_address;
pub mod clients;
pub mod config;
pub mod connection;
pub mod cost;
pub mod documents;
pub mod error_codes;
pub mod errors;
pub mod events;
pub mod facilitators;
pub mod limits;
pub mod loaders;
pub mod matching;
pub mod outreach;
pub mod public_answers;
pub mod rest;
pub mod routes;
pub mod schema;
pub mod seats;
pub mod system;
pub mod web_app;

use cafeia_platform::{
    auth::Verifier,
    cache::{self, Cache, RateLimiter},
    health::Readiness,
    http::{self, HttpState, RunningHttp},
    metrics::Metrics,
    runtime::StartError,
};
use std::{net::TcpListener, sync::Arc, time::Duration};

pub use config::GatewayConfig;
pub use schema::{AppSchema, build_schema, sdl};

/// A running gateway.
pub struct Gateway {
    http: RunningHttp,
    stop: tokio_util::sync::CancellationToken,
}

impl Gateway {
    pub fn port(&self) -> u16 {
        self.http.port
    }

    pub async fn stop(self) {
        self.http.stop().await;
        self.stop.cancel();
    }
}

/// Shared backends when the gateway runs inside the embedded stack.
#[derive(Clone, Default)]
pub struct Shared {
    pub bus: Option<Arc<dyn cafeia_platform::bus::Bus>>,
    pub cache: Option<Arc<dyn Cache>>,
    pub verifier: Option<Verifier>,
    /// The development issuer, for the web app's demo sign-in (embedded run only).
    pub dev_issuer: Option<Arc<cafeia_platform::auth::DevIssuer>>,
}

pub async fn start(
    config: GatewayConfig,
    shared: Shared,
    listener: TcpListener,
    workers: usize,
) -> Result<Gateway, StartError> {
    let cache = match shared.cache {
        Some(c) => c,
        None => cache::connect(&config.platform.cache).await?,
    };
    let verifier = match shared.verifier {
        Some(v) => v,
        None => Verifier::from_config(&config.platform.auth, &config.platform.data_dir)
            .await
            .map_err(StartError::Auth)?,
    };
    let bus = match shared.bus {
        Some(b) => b,
        None => cafeia_platform::bus::connect(&config.platform.bus).await?,
    };
    let stop = tokio_util::sync::CancellationToken::new();
    let seats =
        seats::SeatsHub::start(bus.clone(), &config.platform.bus.queue_prefix, stop.clone())
            .await?;
    let metrics = Metrics::new("gateway");
    let schema = build_schema(&config.graphql);
    let state = routes::GatewayState {
        schema,
        verifier: verifier.clone(),
        services: clients::Services::new(&config.services)
            .map_err(|e| StartError::Service(e.to_string()))?
            .sealing_addresses(config.client_address.seal()),
        limiter: RateLimiter::new(
            cache.clone(),
            config.rate_limit.requests_per_minute,
            Duration::from_secs(60),
        ),
        budget: RateLimiter::new(
            cache.clone(),
            config.rate_limit.cost_per_minute,
            Duration::from_secs(60),
        ),
        clients: admission::Clients::new(&config.rate_limit, cache.clone())
            .map_err(StartError::Service)?,
        graphiql: config.graphql.graphiql,
        seats,
        max_body_bytes: config.platform.http.max_body_bytes,
        public_answers: config.graphql.public_answers.then(Default::default),
    };
    let http_state = HttpState {
        service: "gateway",
        metrics,
        // Services come and go independently; the gateway is ready when it can rate-limit
        // (cache) and hear seat changes for its subscriptions (bus).
        readiness: Readiness::new().cache(cache).bus(bus),
        verifier,
        max_body_bytes: config.platform.http.max_body_bytes,
        document: None,
    };
    let web = if config.web.enabled {
        let key = session_key(&config)?;
        let sign_in = cafeia_web::SignIn::from_config(&config.web, shared.dev_issuer)
            .map_err(StartError::Service)?;
        let graph = Arc::new(web_app::InProcess {
            state: state.clone(),
        });
        Some(
            cafeia_web::Web::new(graph, sign_in, config.web.clone(), key)
                .with_upload_limit(config.platform.http.max_body_bytes)
                // The services under `up` write mail where the gateway's own settings say.
                .with_dev_mailbox(secrecy::ExposeSecret::expose_secret(
                    &config.platform.mail.url_in(&config.platform.data_dir),
                )),
        )
    } else {
        None
    };
    let http = http::serve(listener, http_state, workers, move |cfg| {
        routes::configure(cfg, state.clone());
        // Last: the app's pages answer every path the API does not.
        if let Some(web) = &web {
            cafeia_web::configure(cfg, web.clone());
        }
    })?;
    tracing::info!(port = http.port, "gateway started");
    Ok(Gateway { http, stop })
}

/// The key of the web app's session cookie: configured, or in the embedded run generated once
/// and kept in the data directory (sessions then survive a restart).
fn session_key(config: &GatewayConfig) -> Result<actix_web::cookie::Key, StartError> {
    use secrecy::ExposeSecret;
    if let Some(key) = &config.web.session_key {
        return Ok(actix_web::cookie::Key::derive_from(
            key.expose_secret().as_bytes(),
        ));
    }
    if !config.platform.is_embedded() {
        return Err(StartError::Service(
            "web.session_key: required outside the embedded run (64 bytes or more), or set web.enabled = false".into(),
        ));
    }
    let path = config.platform.data_dir.join("web-session.key");
    let key = match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= 64 => text.trim().to_owned(),
        _ => {
            let fresh = cafeia_web::csrf::random_token() + &cafeia_web::csrf::random_token();
            std::fs::create_dir_all(&config.platform.data_dir)
                .and_then(|_| std::fs::write(&path, &fresh))
                .map_err(|e| {
                    StartError::Service(format!(
                        "web.session_key: cannot keep one in {}: {e}",
                        path.display()
                    ))
                })?;
            fresh
        }
    };
    Ok(actix_web::cookie::Key::derive_from(key.as_bytes()))
}
