//! `cafeia up`: the whole stack in one process on the embedded backends.

use crate::Failure;
use cafeia_gateway::GatewayConfig;
use cafeia_platform::{
    auth::{DevIssuer, Role, Territory, Verifier},
    bus::{RetryPolicy, memory::MemoryBus},
    cache::MemoryCache,
    config::{DatabaseConfig, Sources, Validate, Violations},
    runtime::{self, Launch, Running, Service, Shared},
};
use secrecy::SecretString;
use serde::Deserialize;
use std::{path::PathBuf, sync::Arc, time::Duration};
use tokio_util::sync::CancellationToken;

/// What `migrate` needs: where the databases are, nothing else.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct DatabaseOnly {
    pub database: DatabaseConfig,
    pub data_dir: Option<PathBuf>,
}

impl DatabaseOnly {
    pub fn database_url(&self, service: &str) -> SecretString {
        let platform = cafeia_platform::config::PlatformConfig {
            database: self.database.clone(),
            data_dir: self
                .data_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(".cafeia-data")),
            ..Default::default()
        };
        platform.database_url(service)
    }
}

impl Validate for DatabaseOnly {
    fn validate(&self, v: &mut Violations) {
        self.database.validate(v);
    }
}

const TOKEN_TTL: Duration = Duration::from_secs(8 * 3600);

/// Every service and the gateway, started in this process.
pub struct Stack {
    /// The gateway's configuration, with the services' actual addresses.
    pub config: GatewayConfig,
    gateway: cafeia_gateway::Gateway,
    services: Vec<Running>,
}

impl Stack {
    /// Starts the services (each on a free loopback port) and the gateway on
    /// `config.platform.http`. In embedded mode they share one in-process broker and cache;
    /// otherwise each connects to the configured ones. `database_for` may give a service its
    /// own database URL (tests give each a fresh PostgreSQL database).
    pub async fn start(
        config: GatewayConfig,
        demo: bool,
        database_for: &dyn Fn(&str) -> Option<SecretString>,
    ) -> Result<Stack, Failure> {
        let config = with_client_address_key(config)?;
        let platform = &config.platform;
        let verifier = Verifier::from_config(&platform.auth, &platform.data_dir).await?;
        let shared = if platform.is_embedded() {
            let bus = MemoryBus::new(RetryPolicy::from_config(&platform.bus))
                .with_prefetch(usize::from(platform.bus.prefetch));
            Shared {
                bus: Some(Arc::new(bus)),
                cache: Some(Arc::new(MemoryCache::default())),
                verifier: Some(verifier.clone()),
                consumers_bound: Some(CancellationToken::new()),
            }
        } else {
            Shared {
                verifier: Some(verifier.clone()),
                ..Shared::default()
            }
        };
        let mut services: Vec<Running> = Vec::new();
        if let Err(e) = start_services(&config, &shared, demo, database_for, &mut services).await {
            stop_all(services).await;
            return Err(e);
        }
        // Every queue of the in-process broker is bound: what it lost can be sent again.
        if let Some(bound) = &shared.consumers_bound {
            bound.cancel();
        }
        let mut gateway_config = config.clone();
        for running in &services {
            let url = format!("http://127.0.0.1:{}", running.port());
            match running.service {
                "catalogue" => gateway_config.services.catalogue = url,
                "facilitators" => gateway_config.services.facilitators = url,
                "events" => gateway_config.services.events = url,
                "matching" => gateway_config.services.matching = url,
                "outreach" => gateway_config.services.outreach = url,
                _ => {}
            }
        }
        let listener = match runtime::bind(&platform.http.host, platform.http.port) {
            Ok(l) => l,
            Err(e) => {
                stop_all(services).await;
                return Err(Failure::Other(format!(
                    "http.port: cannot listen on {}:{}: {e}",
                    platform.http.host, platform.http.port
                )));
            }
        };
        let gateway = match cafeia_gateway::start(
            gateway_config.clone(),
            cafeia_gateway::Shared {
                bus: shared.bus.clone(),
                cache: shared.cache.clone(),
                verifier: Some(verifier),
                // The web app's demo sign-in, where the development issuer is on.
                dev_issuer: platform
                    .auth
                    .dev_issuer
                    .then(|| DevIssuer::load_or_create(&platform.data_dir, &platform.auth).ok())
                    .flatten()
                    .map(Arc::new),
            },
            listener,
            2,
        )
        .await
        {
            Ok(g) => g,
            Err(e) => {
                stop_all(services).await;
                return Err(e.into());
            }
        };
        Ok(Stack {
            config: gateway_config,
            gateway,
            services,
        })
    }

    pub fn gateway_port(&self) -> u16 {
        self.gateway.port()
    }

    pub fn services(&self) -> &[Running] {
        &self.services
    }

    /// Gateway first (no new requests), then the services in reverse start order.
    pub async fn stop(self) {
        self.gateway.stop().await;
        stop_all(self.services).await;
    }
}

/// The gateway seals the client address it forwards to matching with a key both read
/// (`client_address.key`): the configured one, or else one made for this run and given to
/// both, so that unmet demand tells anonymous people apart here too.
fn with_client_address_key(mut config: GatewayConfig) -> Result<GatewayConfig, Failure> {
    if config.client_address.key.is_some() {
        return Ok(config);
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Failure::Other(format!("client_address.key: no randomness: {e}")))?;
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    config.platform.sources = config
        .platform
        .sources
        .clone()
        .with("client_address.key", key.clone());
    config.client_address.key = Some(SecretString::from(key));
    Ok(config)
}

/// `cafeia up`.
pub async fn up(port: u16, data_dir: PathBuf, demo: bool) -> Result<(), Failure> {
    let sources = Sources::process()
        .with_default("auth.dev_issuer", "true")
        .with_default("graphql.graphiql", "true")
        .with_default("telemetry.log_format", "pretty")
        // Mailed links open the pages behind this gateway (mail goes to `.eml` files in
        // `<data dir>/mail` unless `mail.url` says otherwise).
        .with_default("events.web_base_url", format!("http://127.0.0.1:{port}"))
        .with_default(
            "facilitators.web_base_url",
            format!("http://127.0.0.1:{port}"),
        )
        .with("data_dir", data_dir.display().to_string())
        .with("http.port", port.to_string());
    let config = GatewayConfig::load(&sources)?;
    if !config.platform.is_embedded() {
        return Err(Failure::Other(
            "`up` runs the embedded stack: leave database.url, bus.url and cache.url unset, or run each part with `cafeia serve <service>`".into(),
        ));
    }
    cafeia_platform::telemetry::init(&config.platform.telemetry);
    let signal = runtime::ShutdownSignal::install();
    let stack = Stack::start(config, demo, &|_| None).await?;
    announce(&stack)?;
    signal.wait().await;
    eprintln!("Arrêt en cours…");
    stack.stop().await;
    eprintln!("Arrêté.");
    Ok(())
}

async fn start_services(
    config: &GatewayConfig,
    shared: &Shared,
    demo: bool,
    database_for: &dyn Fn(&str) -> Option<SecretString>,
    started: &mut Vec<Running>,
) -> Result<(), Failure> {
    // Every service's own settings are checked before any starts: a bad one stops start-up
    // naming its key, with nothing left half started.
    cafeia_outreach::Outreach::check_config(&config.platform)?;
    cafeia_matching::Matching::check_config(&config.platform)?;
    cafeia_events::Events::check_config(&config.platform)?;
    cafeia_facilitators::Facilitators::check_config(&config.platform)?;
    cafeia_catalogue::Catalogue::check_config(&config.platform)?;
    let one = StartOne {
        config,
        shared,
        demo,
        database_for,
    };
    // Events asks the facilitators service for names (at read time, never at start), and
    // starts first: the facilitators' port is taken now, so events is told where it will be.
    let facilitators = loopback::<cafeia_facilitators::Facilitators>()?;
    let facilitators_url = format!(
        "http://127.0.0.1:{}",
        facilitators
            .local_addr()
            .map_err(|e| Failure::Other(format!("facilitators: {e}")))?
            .port()
    );
    // Consumers first: a broker drops messages published before a queue is bound, and the
    // demo data of the producers is announced as soon as they start.
    started.push(one.start::<cafeia_outreach::Outreach>(None, None).await?);
    started.push(one.start::<cafeia_matching::Matching>(None, None).await?);
    started.push(
        one.start::<cafeia_events::Events>(None, Some(("services.facilitators", facilitators_url)))
            .await?,
    );
    started.push(
        one.start::<cafeia_facilitators::Facilitators>(Some(facilitators), None)
            .await?,
    );
    started.push(one.start::<cafeia_catalogue::Catalogue>(None, None).await?);
    Ok(())
}

/// A free loopback port for `S`.
fn loopback<S: Service>() -> Result<std::net::TcpListener, Failure> {
    runtime::bind("127.0.0.1", 0).map_err(|e| Failure::Other(format!("{}: {e}", S::NAME)))
}

struct StartOne<'a> {
    config: &'a GatewayConfig,
    shared: &'a Shared,
    demo: bool,
    database_for: &'a dyn Fn(&str) -> Option<SecretString>,
}

impl StartOne<'_> {
    /// Starts `S` on `listener` (a free loopback port when `None`), with `setting` (a key and
    /// its value) over its configuration.
    async fn start<S: Service>(
        &self,
        listener: Option<std::net::TcpListener>,
        setting: Option<(&str, String)>,
    ) -> Result<Running, Failure> {
        let listener = match listener {
            Some(l) => l,
            None => loopback::<S>()?,
        };
        let mut config = self.config.platform.clone();
        if let Some(url) = (self.database_for)(S::NAME) {
            config.database.url = Some(url);
        }
        if let Some((key, value)) = setting {
            config.sources = config.sources.with(key, value);
        }
        Ok(runtime::start::<S>(Launch {
            config,
            shared: self.shared.clone(),
            listener,
            demo_data: self.demo,
            workers: 1,
        })
        .await?)
    }
}

async fn stop_all(services: Vec<Running>) {
    for running in services.into_iter().rev() {
        running.stop().await;
    }
}

#[allow(clippy::print_stdout)]
fn announce(stack: &Stack) -> Result<(), Failure> {
    let (config, port, services) = (&stack.config, stack.gateway_port(), stack.services());
    let platform = &config.platform;
    let host = if platform.http.host == "0.0.0.0" {
        "127.0.0.1"
    } else {
        platform.http.host.as_str()
    };
    let issuer = DevIssuer::load_or_create(&platform.data_dir, &platform.auth)?;
    let token = |sub: &str, roles: &[Role], territory: Option<Territory>| {
        issuer.issue(sub, roles, territory.as_ref(), TOKEN_TTL)
    };
    println!();
    println!(
        "Café IA est démarré (mode embarqué, données dans {})",
        platform.data_dir.display()
    );
    if config.web.enabled {
        println!("  Site web  http://{host}:{port}/   (connexion de démonstration : /connexion)");
        let mail_url = platform.mail.url_in(&platform.data_dir);
        if platform.auth.dev_issuer
            && config.web.oidc.is_none()
            && cafeia_web::mailbox::DevMailbox::from_mail_url(secrecy::ExposeSecret::expose_secret(
                &mail_url,
            ))
            .is_some()
        {
            println!("  Courriels http://{host}:{port}/dev/courriels   (rien n'est envoyé)");
        }
    }
    println!("  GraphQL   http://{host}:{port}/graphql");
    if config.graphql.graphiql {
        println!("  GraphiQL  http://{host}:{port}/graphiql");
    }
    for running in services {
        println!(
            "  {:<13} http://127.0.0.1:{}",
            running.service,
            running.port()
        );
    }
    println!();
    println!("Jetons de développement (8 h, en-tête « Authorization: Bearer <jeton> ») :");
    println!(
        "  citizen      {}",
        token("demo-citoyen", &[Role::Citizen], None)?
    );
    println!(
        "  facilitator  {}",
        token("demo-animatrice", &[Role::Facilitator], None)?
    );
    let siret = cafeia_catalogue::demo::demo_provider_siret();
    println!(
        "  provider     {}  (SIRET {siret})",
        issuer.issue_scoped(
            "demo-organisme",
            &[Role::Provider],
            None,
            Some(&siret),
            TOKEN_TTL
        )?
    );
    println!(
        "  staff        {}",
        token("demo-cnnum", &[Role::Staff], None)?
    );
    println!(
        "  coordinator  {}  (staff, région 84)",
        token(
            "demo-coord-ara",
            &[Role::Staff],
            Some(Territory::Region("84".into()))
        )?
    );
    println!();
    println!("Ctrl-C pour arrêter.");
    Ok(())
}
