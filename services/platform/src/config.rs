//! Layered configuration: built-in defaults → optional TOML file → `CAFEIA_*` environment.
//!
//! Nested keys use a double underscore in the environment (`CAFEIA_HTTP__PORT` is `http.port`).
//! Everything is validated at start-up; an error always names the offending key. Values that
//! may hold credentials are `SecretString`s so they never show up in `Debug` output or logs.

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, de::DeserializeOwned};
use std::{fmt, path::PathBuf};

/// Environment variable naming an optional TOML configuration file.
pub const CONFIG_FILE_ENV: &str = "CAFEIA_CONFIG";
pub const ENV_PREFIX: &str = "CAFEIA_";

/// A configuration problem, tied to the key that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub key: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub issues: Vec<ConfigIssue>,
}

impl ConfigError {
    pub fn single(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            issues: vec![ConfigIssue {
                key: key.into(),
                message: message.into(),
            }],
        }
    }

    pub fn keys(&self) -> Vec<&str> {
        self.issues.iter().map(|i| i.key.as_str()).collect()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration")?;
        for issue in &self.issues {
            write!(
                f,
                "\n  - {}: {} (set it in the config file or {})",
                issue.key,
                issue.message,
                env_name(&issue.key)
            )?;
        }
        Ok(())
    }
}

/// The environment variable that sets `key` (`http.port` → `CAFEIA_HTTP__PORT`).
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase())
}

/// Collects every problem found while validating, so one start-up names them all.
#[derive(Default, Debug)]
pub struct Violations(Vec<ConfigIssue>);

impl Violations {
    pub fn add(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigIssue {
            key: key.into(),
            message: message.into(),
        });
    }

    pub fn check(&mut self, ok: bool, key: &str, message: &str) {
        if !ok {
            self.add(key, message);
        }
    }

    /// `url` (at `key`) is where people open the web pages, as mailed links start:
    /// `https://cafe-ia.example.org`, no trailing slash, query or fragment.
    pub fn check_site_url(&mut self, key: &str, url: &str) {
        self.check(
            (url.starts_with("https://") || url.starts_with("http://"))
                && !url.ends_with('/')
                && !url.contains(['?', '#', ' ', '"', '<', '>']),
            key,
            "an http:// or https:// address without a trailing slash, query or fragment",
        );
    }

    fn into_result(self) -> Result<(), ConfigError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { issues: self.0 })
        }
    }
}

/// Semantic checks that serde cannot express (URL schemes, ranges, coherence).
pub trait Validate {
    fn validate(&self, violations: &mut Violations);
}

/// Where the layers come from. `Sources::process()` is what binaries use; tests build their own.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    pub file: Option<PathBuf>,
    pub env: bool,
    /// Key/value pairs applied first, under the file and the environment (launcher defaults).
    pub defaults: Vec<(String, String)>,
    /// Key/value pairs applied last, over everything (command-line flags, tests).
    pub overrides: Vec<(String, String)>,
}

impl Sources {
    pub fn process() -> Self {
        Self {
            file: std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from),
            env: true,
            defaults: Vec::new(),
            overrides: Vec::new(),
        }
    }

    pub fn with_default(mut self, key: &str, value: impl Into<String>) -> Self {
        self.defaults.push((key.to_owned(), value.into()));
        self
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.overrides.push((key.to_owned(), value.into()));
        self
    }
}

/// Loads `T` from defaults, the file, the environment and overrides, then validates it.
pub fn load<T: DeserializeOwned + Validate>(sources: &Sources) -> Result<T, ConfigError> {
    let value: T = layers(sources)?
        .extract()
        .map_err(|e| from_figment(e, None))?;
    let mut violations = Violations::default();
    value.validate(&mut violations);
    violations.into_result()?;
    Ok(value)
}

/// Loads one section (`[events]`, `CAFEIA_EVENTS__<KEY>`) from the same layers: a service's own
/// settings. An absent section is `T`'s defaults; a bad key is named with its section.
pub fn load_section<T: DeserializeOwned + Validate>(
    sources: &Sources,
    section: &str,
) -> Result<T, ConfigError> {
    let value: T = layers(sources)?
        .focus(section)
        .extract()
        .map_err(|e| from_figment(e, Some(section)))?;
    let mut violations = Violations::default();
    value.validate(&mut violations);
    violations.into_result()?;
    Ok(value)
}

fn layers(sources: &Sources) -> Result<Figment, ConfigError> {
    let mut figment = Figment::new();
    for (key, value) in &sources.defaults {
        figment = figment.merge(pair(key, value));
    }
    if let Some(file) = &sources.file {
        if !file.is_file() {
            return Err(ConfigError::single(
                "config",
                format!("file {} does not exist", file.display()),
            ));
        }
        figment = figment.merge(Toml::file(file));
    }
    if sources.env {
        figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__"));
    }
    for (key, value) in &sources.overrides {
        figment = figment.merge(pair(key, value));
    }
    Ok(figment)
}

/// One `key = value` layer, the value parsed like an environment value ("9100" is a number,
/// "true" a boolean).
fn pair(key: &str, value: &str) -> figment::providers::Serialized<figment::value::Value> {
    let value: figment::value::Value = value.parse().unwrap_or_else(|never| match never {});
    figment::providers::Serialized::default(key, value)
}

fn from_figment(err: figment::Error, section: Option<&str>) -> ConfigError {
    let issues = err
        .into_iter()
        .map(|e| {
            let path = section
                .into_iter()
                .map(str::to_owned)
                .chain(e.path.iter().cloned())
                .collect::<Vec<_>>();
            let key = if path.is_empty() {
                "(root)".to_owned()
            } else {
                path.join(".")
            };
            ConfigIssue {
                key,
                message: e.kind.to_string(),
            }
        })
        .collect();
    ConfigError { issues }
}

/// Settings every service and the gateway share.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PlatformConfig {
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub bus: BusConfig,
    pub cache: CacheConfig,
    pub auth: AuthConfig,
    pub telemetry: TelemetryConfig,
    /// Where mail goes (`[mail]`; a directory of `.eml` files in `data_dir` when unset).
    pub mail: crate::mail::MailConfig,
    /// Where embedded-mode files live (SQLite databases, the dev issuer key).
    pub data_dir: PathBuf,
    /// The layers this configuration was read from, so a service reads its own section
    /// (`[events]`) from the same ones: [`PlatformConfig::section`].
    #[serde(skip)]
    pub sources: Sources,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        Self {
            http: HttpConfig::default(),
            database: DatabaseConfig::default(),
            bus: BusConfig::default(),
            cache: CacheConfig::default(),
            auth: AuthConfig::default(),
            telemetry: TelemetryConfig::default(),
            mail: crate::mail::MailConfig::default(),
            data_dir: PathBuf::from(".cafeia-data"),
            sources: Sources::default(),
        }
    }
}

impl Validate for PlatformConfig {
    fn validate(&self, v: &mut Violations) {
        self.http.validate(v);
        self.database.validate(v);
        self.bus.validate(v);
        self.cache.validate(v);
        self.auth.validate(v);
        self.telemetry.validate(v);
        self.mail.validate(v);
    }
}

impl PlatformConfig {
    /// Loads and validates the platform keys, remembering the layers for the services'
    /// own sections.
    pub fn load(sources: &Sources) -> Result<Self, ConfigError> {
        let mut config: PlatformConfig = load(sources)?;
        config.sources = sources.clone();
        Ok(config)
    }

    /// A service's own settings, from the layers the platform's came from.
    pub fn section<T: DeserializeOwned + Validate>(&self, name: &str) -> Result<T, ConfigError> {
        load_section(&self.sources, name)
    }

    /// The database URL for `service`: the configured one, or a SQLite file in the data dir.
    pub fn database_url(&self, service: &str) -> SecretString {
        match &self.database.url {
            Some(url) => url.clone(),
            None => {
                let path = self.data_dir.join(format!("{service}.sqlite"));
                SecretString::from(format!("sqlite://{}?mode=rwc", path.display()))
            }
        }
    }

    /// True when every backend is the embedded one (no external database, broker or cache).
    pub fn is_embedded(&self) -> bool {
        let db_embedded = self
            .database
            .url
            .as_ref()
            .is_none_or(|u| u.expose_secret().starts_with("sqlite:"));
        db_embedded
            && self.bus.url.expose_secret().starts_with("memory:")
            && self.cache.url.expose_secret().starts_with("memory:")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    pub host: String,
    /// 0 asks the OS for a free port (tests read it back).
    pub port: u16,
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            max_body_bytes: 1024 * 1024,
        }
    }
}

impl Validate for HttpConfig {
    fn validate(&self, v: &mut Violations) {
        v.check(
            self.host.parse::<std::net::IpAddr>().is_ok() || self.host == "localhost",
            "http.host",
            "must be an IP address such as 127.0.0.1 or 0.0.0.0",
        );
        v.check(
            (1024..=64 * 1024 * 1024).contains(&self.max_body_bytes),
            "http.max_body_bytes",
            "must be between 1 KiB and 64 MiB",
        );
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseConfig {
    /// `sqlite://path?mode=rwc` or `postgres://user:pass@host/db`; unset means a SQLite file
    /// per service in `data_dir`.
    pub url: Option<SecretString>,
    pub max_connections: u32,
    /// Apply pending migrations when a service starts. Turn off where a migration job runs
    /// them before the rollout, so replicas never race on a schema change.
    pub migrate_on_start: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
            migrate_on_start: true,
        }
    }
}

impl Validate for DatabaseConfig {
    fn validate(&self, v: &mut Violations) {
        if let Some(url) = &self.url {
            let url = url.expose_secret();
            v.check(
                url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://"),
                "database.url",
                "must start with sqlite: or postgres://",
            );
        }
        v.check(
            (1..=500).contains(&self.max_connections),
            "database.max_connections",
            "must be between 1 and 500",
        );
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct BusConfig {
    /// `memory://` (in-process broker) or `amqp://user:pass@host:5672/%2f` (RabbitMQ).
    pub url: SecretString,
    /// Name of the topic exchange every service publishes to.
    pub exchange: String,
    /// Put before every consumer queue name (`staging.` gives `staging.events.facilitators`),
    /// so several deployments or test runs can share one broker.
    pub queue_prefix: String,
    /// Deliveries a consumer holds unacknowledged at once.
    pub prefetch: u16,
    /// Handler attempts before a message goes to the dead-letter queue.
    pub max_attempts: u32,
    /// First retry delay; each further attempt doubles it.
    pub retry_delay_ms: u64,
    /// Days a consumer remembers the ids of the messages it processed (the inbox's
    /// `processed_message`), then forgets them: longer than any redelivery (retries, a lost
    /// consumer's unacknowledged messages), so a duplicate still has no second effect.
    pub inbox_retention_days: u32,
}

impl BusConfig {
    /// [`BusConfig::inbox_retention_days`] as a duration.
    pub fn inbox_retention(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.inbox_retention_days) * 24 * 3600)
    }

    /// The longest a failing message keeps being retried: every delay before its last attempt.
    fn retry_window_ms(&self) -> u128 {
        let doublings = self.max_attempts.saturating_sub(1).min(100);
        u128::from(self.retry_delay_ms) * ((1u128 << doublings) - 1)
    }
}

impl Default for BusConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from("memory://"),
            exchange: "cafeia".into(),
            queue_prefix: String::new(),
            prefetch: 32,
            max_attempts: 5,
            retry_delay_ms: 1000,
            inbox_retention_days: 30,
        }
    }
}

impl Validate for BusConfig {
    fn validate(&self, v: &mut Violations) {
        let url = self.url.expose_secret();
        v.check(
            url.starts_with("memory:") || url.starts_with("amqp://") || url.starts_with("amqps://"),
            "bus.url",
            "must start with memory:, amqp:// or amqps://",
        );
        v.check(
            !self.exchange.is_empty() && self.exchange.len() <= 200,
            "bus.exchange",
            "must be a non-empty name of at most 200 characters",
        );
        v.check(
            self.queue_prefix.len() <= 100,
            "bus.queue_prefix",
            "must be at most 100 characters",
        );
        v.check(self.prefetch >= 1, "bus.prefetch", "must be at least 1");
        v.check(
            (1..=50).contains(&self.max_attempts),
            "bus.max_attempts",
            "must be between 1 and 50",
        );
        v.check(
            (1..=3_600_000).contains(&self.retry_delay_ms),
            "bus.retry_delay_ms",
            "must be between 1 ms and one hour",
        );
        if (1..=3650).contains(&self.inbox_retention_days) {
            // A message id forgotten while the message is still being retried would apply twice.
            v.check(
                u128::from(self.inbox_retention_days) * 24 * 3600 * 1000 > self.retry_window_ms(),
                "bus.inbox_retention_days",
                "must be longer than the retries of a message (retry_delay_ms × 2^(max_attempts − 1))",
            );
        } else {
            v.add(
                "bus.inbox_retention_days",
                "must be between 1 and 3650 days",
            );
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CacheConfig {
    /// `memory://` or `redis://host:6379`.
    pub url: SecretString,
    /// Prefix of every key this process writes, so several deployments can share a Redis.
    pub key_prefix: String,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from("memory://"),
            key_prefix: "cafeia:".into(),
        }
    }
}

impl Validate for CacheConfig {
    fn validate(&self, v: &mut Violations) {
        let url = self.url.expose_secret();
        v.check(
            url.starts_with("memory:")
                || url.starts_with("redis://")
                || url.starts_with("rediss://"),
            "cache.url",
            "must start with memory:, redis:// or rediss://",
        );
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    /// The one accepted signing algorithm (asymmetric only): EdDSA, RS256, ES256, PS256…
    pub algorithm: String,
    /// Verification key as PEM text.
    pub public_key_pem: Option<String>,
    /// Verification key as a PEM file.
    pub public_key_file: Option<PathBuf>,
    /// JWKS endpoint of the identity provider (Keycloak, ProConnect…).
    pub jwks_url: Option<String>,
    /// Local development issuer (embedded mode only): keys are generated in `data_dir`.
    pub dev_issuer: bool,
    /// Accepted clock skew for `exp`/`nbf`, in seconds.
    pub leeway_secs: u64,
    /// Least time between two fetches of the JWKS, in seconds: a token with an unknown key id
    /// triggers at most one fetch per interval (the first after a rotation), and the others
    /// within it are refused without an outbound call, whether the fetch worked or not.
    pub jwks_min_refresh_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: "https://auth.cafe-ia.local".into(),
            audience: "cafeia".into(),
            algorithm: "EdDSA".into(),
            public_key_pem: None,
            public_key_file: None,
            jwks_url: None,
            dev_issuer: false,
            leeway_secs: 30,
            jwks_min_refresh_secs: 30,
        }
    }
}

pub const ALLOWED_ALGORITHMS: [&str; 7] = [
    "EdDSA", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256",
];

impl Validate for AuthConfig {
    fn validate(&self, v: &mut Violations) {
        v.check(!self.issuer.is_empty(), "auth.issuer", "must not be empty");
        v.check(
            !self.audience.is_empty(),
            "auth.audience",
            "must not be empty",
        );
        v.check(
            ALLOWED_ALGORITHMS.contains(&self.algorithm.as_str()),
            "auth.algorithm",
            "must be one of EdDSA, RS256, RS384, RS512, ES256, ES384, PS256 (shared-secret HS* is refused)",
        );
        let sources = [
            self.public_key_pem.is_some(),
            self.public_key_file.is_some(),
            self.jwks_url.is_some(),
            self.dev_issuer,
        ]
        .iter()
        .filter(|s| **s)
        .count();
        if sources == 0 {
            v.add(
                "auth.jwks_url",
                "no verification key: set auth.jwks_url, auth.public_key_pem or auth.public_key_file",
            );
        } else if sources > 1 {
            v.add(
                "auth.dev_issuer",
                "choose exactly one key source among dev_issuer, public_key_pem, public_key_file, jwks_url",
            );
        }
        if let Some(url) = &self.jwks_url {
            v.check(
                url.starts_with("https://") || url.starts_with("http://"),
                "auth.jwks_url",
                "must be an http(s) URL",
            );
        }
        v.check(
            self.leeway_secs <= 300,
            "auth.leeway_secs",
            "must be at most 300",
        );
        v.check(
            (1..=3600).contains(&self.jwks_min_refresh_secs),
            "auth.jwks_min_refresh_secs",
            "must be between 1 and 3600 seconds",
        );
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TelemetryConfig {
    pub log_format: LogFormat,
    /// `tracing` filter directive, e.g. `info,sqlx=warn`.
    pub log_filter: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Json,
            log_filter: "info,sqlx=warn,lapin=warn,sea_orm_migration=warn,actix_server=warn".into(),
        }
    }
}

impl Validate for TelemetryConfig {
    fn validate(&self, v: &mut Violations) {
        v.check(
            tracing_subscriber::EnvFilter::try_new(&self.log_filter).is_ok(),
            "telemetry.log_filter",
            "is not a valid tracing filter directive",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Sources {
        Sources::default().with("auth.dev_issuer", "true")
    }

    #[test]
    fn defaults_are_embedded() {
        let cfg: PlatformConfig = load(&base()).expect("defaults load");
        assert!(cfg.is_embedded());
        assert_eq!(cfg.http.port, 8080);
        assert!(
            cfg.database_url("events")
                .expose_secret()
                .ends_with("events.sqlite?mode=rwc")
        );
    }

    #[test]
    fn a_wrongly_typed_value_names_its_key() {
        let err =
            load::<PlatformConfig>(&base().with("http.port", "not-a-port")).expect_err("must fail");
        assert_eq!(err.keys(), vec!["http.port"]);
        assert!(err.to_string().contains("CAFEIA_HTTP__PORT"), "{err}");
    }

    #[test]
    fn a_service_section_comes_from_the_same_layers_and_names_its_keys() {
        #[derive(Debug, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        struct Own {
            days: u32,
        }
        impl Default for Own {
            fn default() -> Self {
                Self { days: 92 }
            }
        }
        impl Validate for Own {
            fn validate(&self, v: &mut Violations) {
                v.check(self.days >= 1, "own.days", "at least 1");
            }
        }
        let config = PlatformConfig::load(&base()).expect("platform");
        assert_eq!(config.section::<Own>("own").expect("defaults").days, 92);
        let config = PlatformConfig::load(&base().with("own.days", "7")).expect("platform");
        assert_eq!(config.section::<Own>("own").expect("set").days, 7);
        let config = PlatformConfig::load(&base().with("own.days", "many")).expect("platform");
        let err = config.section::<Own>("own").expect_err("a bad value");
        assert_eq!(err.keys(), vec!["own.days"]);
        let config = PlatformConfig::load(&base().with("own.days", "0")).expect("platform");
        assert_eq!(
            config
                .section::<Own>("own")
                .expect_err("out of range")
                .keys(),
            vec!["own.days"]
        );
        let config = PlatformConfig::load(&base().with("own.dayz", "3")).expect("platform");
        assert_eq!(
            config
                .section::<Own>("own")
                .expect_err("unknown key")
                .keys(),
            vec!["own.dayz"]
        );
    }

    #[test]
    fn a_semantic_violation_names_its_key() {
        let err = load::<PlatformConfig>(&base().with("bus.url", "kafka://broker"))
            .expect_err("must fail");
        assert_eq!(err.keys(), vec!["bus.url"]);
    }

    #[test]
    fn the_inbox_retention_outlasts_the_retries() {
        let config = load::<PlatformConfig>(&base()).expect("defaults");
        assert_eq!(config.bus.inbox_retention_days, 30);
        let err = load::<PlatformConfig>(&base().with("bus.inbox_retention_days", "0"))
            .expect_err("must fail");
        assert_eq!(err.keys(), vec!["bus.inbox_retention_days"]);
        // An hour doubled 29 times is far beyond a day: ids would be forgotten mid-retries.
        let err = load::<PlatformConfig>(
            &base()
                .with("bus.inbox_retention_days", "1")
                .with("bus.retry_delay_ms", "3600000")
                .with("bus.max_attempts", "30"),
        )
        .expect_err("must fail");
        assert_eq!(err.keys(), vec!["bus.inbox_retention_days"]);
    }

    #[test]
    fn several_problems_are_all_reported() {
        let err = load::<PlatformConfig>(
            &Sources::default()
                .with("cache.url", "memcached://x")
                .with("bus.max_attempts", "0"),
        )
        .expect_err("must fail");
        let keys = err.keys();
        assert!(keys.contains(&"cache.url"), "{keys:?}");
        assert!(keys.contains(&"bus.max_attempts"), "{keys:?}");
        assert!(keys.contains(&"auth.jwks_url"), "{keys:?}");
    }

    #[test]
    fn shared_secret_algorithms_are_refused() {
        let err =
            load::<PlatformConfig>(&base().with("auth.algorithm", "HS256")).expect_err("must fail");
        assert_eq!(err.keys(), vec!["auth.algorithm"]);
    }

    #[test]
    fn file_layer_is_read_and_env_style_keys_override_it() {
        let dir = std::env::temp_dir().join(format!("cafeia-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let file = dir.join("cafeia.toml");
        std::fs::write(
            &file,
            "[http]\nport = 9000\nhost = \"0.0.0.0\"\n[auth]\ndev_issuer = true\n",
        )
        .expect("write");
        let sources = Sources {
            file: Some(file.clone()),
            env: false,
            defaults: vec![
                ("http.port".into(), "8000".into()),
                ("http.max_body_bytes".into(), "2048".into()),
            ],
            overrides: vec![("http.port".into(), "9100".into())],
        };
        let cfg: PlatformConfig = load(&sources).expect("loads");
        assert_eq!(cfg.http.host, "0.0.0.0");
        assert_eq!(cfg.http.port, 9100);
        assert_eq!(
            cfg.http.max_body_bytes, 2048,
            "defaults layer applies under the file"
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let sources = Sources {
            file: Some(PathBuf::from("/nonexistent/cafeia.toml")),
            ..Sources::default()
        };
        let err = load::<PlatformConfig>(&sources).expect_err("must fail");
        assert!(err.to_string().contains("/nonexistent/cafeia.toml"));
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let cfg: PlatformConfig = load(
            &base()
                .with("database.url", "postgres://cafe:hunter2@db/cafe")
                .with("bus.url", "amqp://guest:rabbitpw@mq:5672/%2f")
                .with("cache.url", "redis://:redispw@cache:6379"),
        )
        .expect("loads");
        let debug = format!("{cfg:?}");
        for secret in ["hunter2", "rabbitpw", "redispw"] {
            assert!(!debug.contains(secret), "{secret} leaked in {debug}");
        }
        assert!(!cfg.is_embedded());
    }
}
