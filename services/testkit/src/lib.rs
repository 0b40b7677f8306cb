//! Test harness shared by every crate's tests.
//!
//! A test asks for a [`Backend`] and gets a [`TestEnv`]: a configuration pointing at its own
//! fresh database (a new PostgreSQL database, or a new SQLite file), its own exchange and
//! queue names, and its own Redis key prefix, all removed when the env is dropped.
//!
//! Real backends are found from `CAFEIA_TEST_POSTGRES_URL`, `CAFEIA_TEST_AMQP_URL` and
//! `CAFEIA_TEST_REDIS_URL` (local defaults otherwise). When one is unreachable and a Docker
//! engine answers, a pinned container is started instead; otherwise the test fails and says
//! what to start. Nothing is ever skipped.

pub mod contracts;
mod endpoints;
pub mod mail;
mod proxy;
pub mod service;

pub use endpoints::{Endpoints, endpoints, host_port};
pub use proxy::TcpProxy;

/// A suite's size from the environment (`CAFEIA_STREAM_MESSAGES`…), `default` when unset or
/// not a number: the test command runs the short form, `scripts/faults` the long one.
pub fn size_from_env<T: std::str::FromStr>(var: &str, default: T) -> T {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A loopback port nothing listens on now, for a process the test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

use cafeia_platform::config::{PlatformConfig, Sources};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use std::{path::PathBuf, sync::Mutex};

/// Which set of backends a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file, in-process broker, in-memory cache.
    Embedded,
    /// PostgreSQL, RabbitMQ, Redis.
    Real,
}

/// Runs each named `async fn(Backend)` once per backend, as `<name>::embedded` and
/// `<name>::real`.
#[macro_export]
macro_rules! backend_matrix {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn embedded() {
                    super::$name($crate::Backend::Embedded).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn real() {
                    super::$name($crate::Backend::Real).await
                }
            }
        )*
    };
}

/// One test's private slice of the backends.
pub struct TestEnv {
    pub backend: Backend,
    /// Unique per test: prefix for exchange, queues and cache keys.
    pub id: String,
    pub config: PlatformConfig,
    database: Option<PgDatabase>,
    extra_databases: Mutex<Vec<PgDatabase>>,
    sqlite_dir: Option<PathBuf>,
    queues: Mutex<Vec<String>>,
}

impl TestEnv {
    pub async fn new(backend: Backend) -> Self {
        let id = format!("t{}", uuid::Uuid::now_v7().simple());
        let data_dir = std::env::temp_dir().join(format!("cafeia-test-{id}"));
        std::fs::create_dir_all(&data_dir).expect("create test data dir");
        let mut sources = Sources::default()
            .with("auth.dev_issuer", "true")
            .with("data_dir", data_dir.display().to_string())
            .with("bus.exchange", format!("{id}.exchange"))
            .with("bus.queue_prefix", format!("{id}."))
            .with("bus.retry_delay_ms", "100")
            .with("bus.max_attempts", "3")
            .with("cache.key_prefix", format!("{id}:"));
        let mut database = None;
        match backend {
            Backend::Embedded => {
                let path = data_dir.join("test.sqlite");
                sources = sources.with(
                    "database.url",
                    format!("sqlite://{}?mode=rwc", path.display()),
                );
            }
            Backend::Real => {
                let ends = endpoints().await;
                let db = PgDatabase::create(&ends.postgres, &id).await;
                sources = sources
                    .with("database.url", db.url.clone())
                    .with("bus.url", ends.amqp.clone())
                    .with("cache.url", ends.redis.clone());
                database = Some(db);
            }
        }
        let config = cafeia_platform::config::load(&sources).expect("test configuration is valid");
        Self {
            backend,
            id,
            config,
            database,
            extra_databases: Mutex::new(Vec::new()),
            sqlite_dir: Some(data_dir),
            queues: Mutex::new(Vec::new()),
        }
    }

    /// A queue name private to this test; it (and its retry and dead-letter queues) is deleted
    /// when the env is dropped.
    pub fn queue(&self, name: &str) -> String {
        let queue = format!("{}.{name}", self.id);
        self.queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(queue.clone());
        queue
    }

    /// Deletes `queue` (named by a service under test, already prefixed) with this env.
    pub fn adopt_queue(&self, queue: String) {
        self.queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(queue);
    }

    pub fn database_url(&self) -> SecretString {
        self.config.database_url("test")
    }

    /// Another database of this test, for one service of a multi-service stack: a new
    /// PostgreSQL database, or a new SQLite file in this test's directory.
    pub async fn database_for(&self, service: &str) -> SecretString {
        match self.backend {
            Backend::Embedded => {
                let path = self.config.data_dir.join(format!("{service}.sqlite"));
                SecretString::from(format!("sqlite://{}?mode=rwc", path.display()))
            }
            Backend::Real => {
                let ends = endpoints().await;
                let db =
                    PgDatabase::create(&ends.postgres, &format!("{}_{service}", self.id)).await;
                let url = SecretString::from(db.url.clone());
                self.extra_databases
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(db);
                url
            }
        }
    }

    /// This env's configuration with the bus pointed at `amqp_url` (e.g. through a proxy).
    pub fn config_with_bus(&self, amqp_url: &str) -> PlatformConfig {
        let mut config = self.config.clone();
        config.bus.url = SecretString::from(amqp_url.to_owned());
        config
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let queues = std::mem::take(&mut *self.queues.lock().unwrap_or_else(|e| e.into_inner()));
        let exchange = self.config.bus.exchange.clone();
        let levels = self.config.bus.max_attempts;
        let mut databases: Vec<PgDatabase> = std::mem::take(
            &mut *self
                .extra_databases
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        databases.extend(self.database.take());
        let amqp = (self.backend == Backend::Real).then(|| {
            use secrecy::ExposeSecret;
            self.config.bus.url.expose_secret().to_owned()
        });
        if let Some(dir) = self.sqlite_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        // Async clean-up from a destructor: run it on a thread with its own runtime.
        let cleanup = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                for db in databases {
                    db.drop_now().await;
                }
                if let Some(url) = amqp {
                    delete_amqp(&url, &exchange, &queues, levels).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

async fn delete_amqp(url: &str, exchange: &str, queues: &[String], levels: u32) {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let Ok(conn) = lapin::Connection::connect(url, lapin::ConnectionProperties::default()).await
    else {
        return;
    };
    let Ok(channel) = conn.create_channel().await else {
        return;
    };
    for queue in queues {
        let mut names = vec![queue.clone(), format!("{queue}.dlq")];
        names.extend((0..levels).map(|l| format!("{queue}.retry.{l}")));
        for name in names {
            let _ = channel
                .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
    }
    let _ = channel
        .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
        .await;
    let _ = conn.close(200, "test done".into()).await;
}

/// A PostgreSQL database created for one test.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create(admin_url: &str, id: &str) -> Self {
        let name = format!("cafeia_{id}");
        let admin = Database::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {admin_url}: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = admin.close().await;
        let url = with_database(admin_url, &name);
        Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        }
    }

    async fn drop_now(self) {
        if let Ok(admin) = Database::connect(&self.admin_url).await {
            let _ = admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name
                ))
                .await;
            let _ = admin.close().await;
        }
    }
}

/// `postgres://u@h:5432/postgres?x` → `postgres://u@h:5432/<name>?x`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_swapped_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://h:1/db?sslmode=disable", "y"),
            "postgres://h:1/y?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "z"), "postgres://h:1/z");
    }
}
