//! Where the real backends are: the configured or local services, or pinned containers.

use std::{net::ToSocketAddrs, time::Duration};
use tokio::sync::OnceCell;

pub const POSTGRES_ENV: &str = "CAFEIA_TEST_POSTGRES_URL";
pub const AMQP_ENV: &str = "CAFEIA_TEST_AMQP_URL";
pub const REDIS_ENV: &str = "CAFEIA_TEST_REDIS_URL";

const POSTGRES_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const AMQP_DEFAULT: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const REDIS_DEFAULT: &str = "redis://127.0.0.1:6379";

// Pinned tags: the defaults of testcontainers-modules are old or floating.
const POSTGRES_TAG: &str = "15-alpine";
const RABBITMQ_TAG: &str = "3.13-management-alpine";
const REDIS_TAG: &str = "7.2-alpine";

#[derive(Clone, Debug)]
pub struct Endpoints {
    /// An admin URL; tests create their own databases through it.
    pub postgres: String,
    pub amqp: String,
    pub redis: String,
}

static ENDPOINTS: OnceCell<Endpoints> = OnceCell::const_new();

/// Resolves the three backends once per test process.
pub async fn endpoints() -> &'static Endpoints {
    ENDPOINTS
        .get_or_init(|| async {
            let postgres = resolve(POSTGRES_ENV, POSTGRES_DEFAULT, Kind::Postgres).await;
            let amqp = resolve(AMQP_ENV, AMQP_DEFAULT, Kind::RabbitMq).await;
            let redis = resolve(REDIS_ENV, REDIS_DEFAULT, Kind::Redis).await;
            Endpoints {
                postgres,
                amqp,
                redis,
            }
        })
        .await
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Postgres,
    RabbitMq,
    Redis,
}

impl Kind {
    fn how_to_start(self) -> &'static str {
        match self {
            Kind::Postgres => {
                "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
            }
            Kind::RabbitMq => "rabbitmq-server -detached",
            Kind::Redis => {
                "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no"
            }
        }
    }
}

async fn resolve(env: &str, default: &str, kind: Kind) -> String {
    let url = std::env::var(env).unwrap_or_else(|_| default.to_owned());
    if reachable(&url).await {
        return url;
    }
    if docker_available().await {
        tracing::warn!(?kind, %url, "backend unreachable, starting a container");
        return start_container(kind).await;
    }
    panic!(
        "{kind:?} is not reachable at {url} and no Docker engine is available.\n\
         Start it (`{}`) or point {env} at a running instance.",
        kind.how_to_start()
    );
}

/// host:port out of a URL such as `scheme://user:pass@host:port/path`.
pub fn host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = host_port.rsplit_once(':')?;
    Some((host.trim_matches(['[', ']']).to_owned(), port.parse().ok()?))
}

async fn reachable(url: &str) -> bool {
    let Some((host, port)) = host_port(url) else {
        return false;
    };
    let Some(addr) = (host.as_str(), port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
    else {
        return false;
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

async fn docker_available() -> bool {
    matches!(
        tokio::process::Command::new("docker")
            .arg("info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .await,
        Ok(status) if status.success()
    )
}

async fn start_container(kind: Kind) -> String {
    use testcontainers::{ImageExt, runners::AsyncRunner};
    use testcontainers_modules::{postgres::Postgres, rabbitmq::RabbitMq, redis::Redis};
    // Containers live as long as the test process; the Docker reaper removes them after.
    match kind {
        Kind::Postgres => {
            let c = Postgres::default()
                .with_tag(POSTGRES_TAG)
                .start()
                .await
                .unwrap_or_else(|e| panic!("cannot start PostgreSQL container: {e}"));
            let port = c
                .get_host_port_ipv4(5432)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            Box::leak(Box::new(c));
            format!("postgres://postgres:postgres@127.0.0.1:{port}/postgres")
        }
        Kind::RabbitMq => {
            let c = RabbitMq::default()
                .with_tag(RABBITMQ_TAG)
                .start()
                .await
                .unwrap_or_else(|e| panic!("cannot start RabbitMQ container: {e}"));
            let port = c
                .get_host_port_ipv4(5672)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            Box::leak(Box::new(c));
            format!("amqp://guest:guest@127.0.0.1:{port}/%2f")
        }
        Kind::Redis => {
            let c = Redis::default()
                .with_tag(REDIS_TAG)
                .start()
                .await
                .unwrap_or_else(|e| panic!("cannot start Redis container: {e}"));
            let port = c
                .get_host_port_ipv4(6379)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            Box::leak(Box::new(c));
            format!("redis://127.0.0.1:{port}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn host_and_port_are_read_from_urls() {
        assert_eq!(
            host_port("amqp://guest:guest@127.0.0.1:5672/%2f"),
            Some(("127.0.0.1".into(), 5672))
        );
        assert_eq!(
            host_port("redis://127.0.0.1:6379"),
            Some(("127.0.0.1".into(), 6379))
        );
        assert_eq!(
            host_port("postgres://postgres@localhost:5432/postgres"),
            Some(("localhost".into(), 5432))
        );
        assert_eq!(host_port("postgres://h/db"), None);
    }
}
