//! `cafeia`: the whole Café IA stack in one process, or one part of it.
//!
//! - `cafeia up`: every service and the gateway on the embedded backends (SQLite files in the
//!   data directory, in-process bus, in-memory cache), with demo data and dev tokens;
//! - `cafeia serve <service|gateway|web>`: one process on the backends its configuration names
//!   (`web`: the web app alone, over the gateway at `web.gateway_url`);
//! - `cafeia migrate [<service>]`: apply database migrations;
//! - `cafeia token --role … --sub …`: a token from the development issuer (embedded only);
//! - `cafeia schema`: print the GraphQL SDL.

use cafeia::{Failure, stack};

use cafeia_platform::{
    auth::{DevIssuer, Role, Territory},
    config::{self, PlatformConfig, Sources},
};
use clap::{Parser, Subcommand, ValueEnum};
use std::{path::PathBuf, process::ExitCode, time::Duration};

#[derive(Parser)]
#[command(
    name = "cafeia",
    version,
    about = "Café IA registry: the AI Café network platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service and the gateway in this process on the embedded backends.
    Up {
        /// Gateway port.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Where the SQLite files and the development key live.
        #[arg(long, default_value = ".cafeia-data")]
        data_dir: PathBuf,
        /// Start without loading the demonstration data.
        #[arg(long)]
        no_demo: bool,
    },
    /// Run one service (or the gateway) on its configured backends.
    Serve { target: Target },
    /// Apply database migrations (every service, or the one named).
    Migrate { service: Option<ServiceName> },
    /// Issue a development token (embedded mode only).
    Token {
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
        #[arg(long)]
        sub: String,
        /// Coordinator scope, e.g. region:84 or departement:69. Staff without it get the
        /// explicit national scope (the token says `territory: national`).
        #[arg(long, value_parser = parse_territory)]
        territory: Option<Territory>,
        /// Provider scope: the SIRET the provider acts for.
        #[arg(long)]
        siret: Option<String>,
        #[arg(long, default_value_t = 480)]
        ttl_minutes: u64,
        #[arg(long, default_value = ".cafeia-data")]
        data_dir: PathBuf,
    },
    /// Import an LHEO file into the catalogue (its configured database), with a progress bar.
    ImportLheo { file: PathBuf },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Exit 0 if `url` answers 2xx within 3 s (container health checks: the image has no curl).
    Probe { url: String },
}

#[derive(Clone, Copy, ValueEnum)]
enum Target {
    Catalogue,
    Facilitators,
    Events,
    Matching,
    Outreach,
    Gateway,
    /// The web app alone, calling the gateway over HTTP (`web.gateway_url`).
    Web,
}

#[derive(Clone, Copy, ValueEnum)]
enum ServiceName {
    Catalogue,
    Facilitators,
    Events,
    Matching,
    Outreach,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

fn parse_territory(s: &str) -> Result<Territory, String> {
    s.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cafeia: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command));
    // Background tasks (consumers, relays) were stopped already; don't wait on stragglers.
    runtime.shutdown_timeout(Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(e)) => {
            eprintln!("cafeia: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            eprintln!("cafeia: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Up {
            port,
            data_dir,
            no_demo,
        } => stack::up(port, data_dir, !no_demo).await,
        Command::Serve { target } => serve(target).await,
        Command::Migrate { service } => migrate(service).await,
        Command::Token {
            roles,
            sub,
            territory,
            siret,
            ttl_minutes,
            data_dir,
        } => {
            let config = PlatformConfig::load(&embedded_sources(&data_dir))?;
            if !config.is_embedded() {
                return Err(Failure::Other(
                    "token is a development tool for the embedded stack; production tokens come from the identity provider".into(),
                ));
            }
            let issuer = DevIssuer::load_or_create(&config.data_dir, &config.auth)?;
            let token = issuer.issue_scoped(
                &sub,
                &roles,
                territory.as_ref(),
                siret.as_deref(),
                Duration::from_secs(ttl_minutes * 60),
            )?;
            println!("{token}");
            Ok(())
        }
        Command::Probe { url } => {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()
                .map_err(|e| Failure::Other(e.to_string()))?;
            let response = client
                .get(&url)
                .send()
                .await
                .map_err(|e| Failure::Other(format!("{url}: {e}")))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(Failure::Other(format!("{url}: {}", response.status())))
            }
        }
        Command::ImportLheo { file } => import_lheo(&file).await,
        Command::Schema => {
            print!("{}", cafeia_gateway::sdl());
            Ok(())
        }
    }
}

/// The embedded defaults, under whatever the file and environment say.
fn embedded_sources(data_dir: &std::path::Path) -> Sources {
    Sources::process()
        .with_default("auth.dev_issuer", "true")
        .with_default("data_dir", data_dir.display().to_string())
}

async fn serve(target: Target) -> Result<(), Failure> {
    use cafeia_platform::runtime::{production_config, refuse_dev_issuer_outside_embedded, serve};
    match target {
        Target::Web => serve_web().await,
        Target::Gateway => {
            let config = cafeia_gateway::GatewayConfig::load(&Sources::process())?;
            refuse_dev_issuer_outside_embedded(&config.platform)?;
            cafeia_platform::telemetry::init(&config.platform.telemetry);
            let signal = cafeia_platform::runtime::ShutdownSignal::install();
            let listener = cafeia_platform::runtime::bind(
                &config.platform.http.host,
                config.platform.http.port,
            )
            .map_err(|e| Failure::Other(format!("http.port: {e}")))?;
            let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
            let gateway =
                cafeia_gateway::start(config, Default::default(), listener, workers).await?;
            signal.wait().await;
            gateway.stop().await;
            Ok(())
        }
        other => {
            let config = production_config()?;
            match other {
                Target::Catalogue => serve::<cafeia_catalogue::Catalogue>(config).await?,
                Target::Facilitators => serve::<cafeia_facilitators::Facilitators>(config).await?,
                Target::Events => serve::<cafeia_events::Events>(config).await?,
                Target::Matching => serve::<cafeia_matching::Matching>(config).await?,
                Target::Outreach => serve::<cafeia_outreach::Outreach>(config).await?,
                Target::Gateway | Target::Web => unreachable!("handled above"),
            }
            Ok(())
        }
    }
}

/// `cafeia serve web`: the pages on their own (a deployment that scales them apart from the
/// API); the ingress still sends `/graphql`, `/calendars` and `/jsonld` to the gateway, so the
/// pages' links and the live seat count keep one origin.
async fn serve_web() -> Result<(), Failure> {
    use secrecy::ExposeSecret;
    let sources = Sources::process();
    // Only what the pages need: no database, bus or token verifier of their own.
    let http: cafeia_platform::config::HttpConfig = config::load_section(&sources, "http")?;
    let telemetry: cafeia_platform::config::TelemetryConfig =
        config::load_section(&sources, "telemetry")?;
    let web: cafeia_web::WebConfig = config::load_section(&sources, "web")?;
    cafeia_platform::telemetry::init(&telemetry);
    let key = web
        .session_key
        .as_ref()
        .map(|k| actix_web::cookie::Key::derive_from(k.expose_secret().as_bytes()))
        .ok_or_else(|| Failure::Other("web.session_key: required (64 bytes or more)".into()))?;
    // Tokens come from the identity provider: the development issuer is the embedded run's.
    let sign_in = cafeia_web::SignIn::from_config(&web, None).map_err(Failure::Other)?;
    let app = cafeia_web::Web::new(
        std::sync::Arc::new(cafeia_web::HttpGraph::new(web.gateway_url.clone())),
        sign_in,
        web,
        key,
    )
    .with_upload_limit(http.max_body_bytes);
    let listener = cafeia_platform::runtime::bind(&http.host, http.port)
        .map_err(|e| Failure::Other(format!("http.port: {e}")))?;
    let signal = cafeia_platform::runtime::ShutdownSignal::install();
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .route(
                "/livez",
                actix_web::web::get().to(actix_web::HttpResponse::Ok),
            )
            .configure(|cfg| cafeia_web::configure(cfg, app.clone()))
    })
    // As every server of the platform (`platform::http::serve`): no Nagle under compressed
    // pages, idle connections kept longer than any client pools them.
    .tcp_nodelay(true)
    .keep_alive(cafeia_platform::http::KEEP_ALIVE)
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(10)
    .run();
    let handle = server.handle();
    let running = tokio::spawn(server);
    tracing::info!(port = http.port, "web app started");
    signal.wait().await;
    handle.stop(true).await;
    let _ = running.await;
    Ok(())
}

async fn migrate_one<S: cafeia_platform::runtime::Service>(
    config: &stack::DatabaseOnly,
) -> Result<(), Failure> {
    let conn = cafeia_platform::db::connect(&config.database_url(S::NAME), 2).await?;
    S::migrate(&conn).await?;
    println!("{}: migrations applied", S::NAME);
    Ok(())
}

async fn migrate(service: Option<ServiceName>) -> Result<(), Failure> {
    let config: stack::DatabaseOnly = config::load(&Sources::process())?;
    let names = match service {
        Some(one) => vec![one],
        None if config.database.url.is_some() => {
            return Err(Failure::Other(
                "database.url names one database: run `cafeia migrate <service>` for the service it belongs to".into(),
            ));
        }
        None => vec![
            ServiceName::Catalogue,
            ServiceName::Facilitators,
            ServiceName::Events,
            ServiceName::Matching,
            ServiceName::Outreach,
        ],
    };
    for name in names {
        match name {
            ServiceName::Catalogue => migrate_one::<cafeia_catalogue::Catalogue>(&config).await?,
            ServiceName::Facilitators => {
                migrate_one::<cafeia_facilitators::Facilitators>(&config).await?
            }
            ServiceName::Events => migrate_one::<cafeia_events::Events>(&config).await?,
            ServiceName::Matching => migrate_one::<cafeia_matching::Matching>(&config).await?,
            ServiceName::Outreach => migrate_one::<cafeia_outreach::Outreach>(&config).await?,
        }
    }
    Ok(())
}

async fn import_lheo(file: &std::path::Path) -> Result<(), Failure> {
    use cafeia_platform::runtime::Service;
    use std::sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    };
    let config: stack::DatabaseOnly = config::load(&Sources::process())?;
    let size = std::fs::metadata(file)
        .map_err(|e| Failure::Other(format!("{}: {e}", file.display())))?
        .len();
    let conn =
        cafeia_platform::db::connect(&config.database_url(cafeia_catalogue::Catalogue::NAME), 2)
            .await?;
    cafeia_catalogue::Catalogue::migrate(&conn).await?;
    let source = tokio::fs::File::open(file)
        .await
        .map_err(|e| Failure::Other(format!("{}: {e}", file.display())))?;
    let progress = Arc::new(AtomicU64::new(0));
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ({eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let ticker = {
        let (bar, progress) = (bar.clone(), progress.clone());
        tokio::spawn(async move {
            loop {
                bar.set_position(progress.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let result = cafeia_catalogue::lheo::import(
        &conn,
        "cli",
        tokio::io::BufReader::with_capacity(64 * 1024, source),
        progress.clone(),
    )
    .await;
    ticker.abort();
    bar.set_position(progress.load(Ordering::Relaxed));
    bar.finish();
    let summary =
        result.map_err(|e| Failure::Other(format!("{}: {}", file.display(), e.detail)))?;
    println!(
        "{} offres : {} créées, {} mises à jour, {} inchangées, {} refusées",
        summary.offers, summary.created, summary.updated, summary.unchanged, summary.rejected
    );
    for p in &summary.problems {
        println!(
            "  offre n°{} ({}) — {} : {}",
            p.position,
            p.offer.as_deref().unwrap_or("sans numéro"),
            p.element,
            p.message
        );
    }
    Ok(())
}
