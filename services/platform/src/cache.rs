//! Cache and rate limiting: Redis through a connection manager in production, an in-process
//! map in embedded mode. Both honour TTLs and the same fixed-window rate-limit semantics.

use async_trait::async_trait;
use redis::{AsyncCommands, aio::ConnectionManager};
use secrecy::ExposeSecret;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::config::CacheConfig;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache unreachable: {0}")]
    Unreachable(String),
}

impl From<redis::RedisError> for CacheError {
    fn from(err: redis::RedisError) -> Self {
        CacheError::Unreachable(err.to_string())
    }
}

#[async_trait]
pub trait Cache: Send + Sync + 'static {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// Adds `n` to the counter `key` in one step, creating it with `ttl` if absent; returns
    /// the new value. Atomic: concurrent callers never lose a step.
    async fn increment_by(&self, key: &str, n: u64, ttl: Duration) -> Result<u64, CacheError>;
    /// Adds one to the counter `key`, creating it with `ttl` if absent; returns the new value.
    async fn increment(&self, key: &str, ttl: Duration) -> Result<u64, CacheError> {
        self.increment_by(key, 1, ttl).await
    }
    async fn check(&self) -> Result<(), CacheError>;
    fn kind(&self) -> &'static str;
}

/// Builds the cache named by `config.url`: `memory://` or `redis://…`.
pub async fn connect(config: &CacheConfig) -> Result<Arc<dyn Cache>, CacheError> {
    let url = config.url.expose_secret();
    if url.starts_with("memory:") {
        Ok(Arc::new(MemoryCache::default()))
    } else {
        Ok(Arc::new(
            RedisCache::connect(url, &config.key_prefix).await?,
        ))
    }
}

#[derive(Clone)]
pub struct RedisCache {
    connection: ConnectionManager,
    prefix: String,
}

impl RedisCache {
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, CacheError> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(3)))
            .set_response_timeout(Some(Duration::from_secs(3)))
            .set_number_of_retries(2);
        let connection = tokio::time::timeout(
            Duration::from_secs(5),
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| CacheError::Unreachable("connection timed out".into()))??;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut conn = self.connection.clone();
        Ok(conn.get(self.key(key)).await?)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let mut conn = self.connection.clone();
        let _: () = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(ttl_ms(ttl))
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let mut conn = self.connection.clone();
        let _: () = conn.del(self.key(key)).await?;
        Ok(())
    }

    async fn increment_by(&self, key: &str, n: u64, ttl: Duration) -> Result<u64, CacheError> {
        let mut conn = self.connection.clone();
        let key = self.key(key);
        // INCRBY then PEXPIRE NX in one round trip: the first hit of a window sets its expiry.
        let (count, _): (u64, i64) = redis::pipe()
            .atomic()
            .incr(&key, n)
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(ttl_ms(ttl))
            .arg("NX")
            .query_async(&mut conn)
            .await?;
        Ok(count)
    }

    async fn check(&self) -> Result<(), CacheError> {
        let mut conn = self.connection.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}

/// In-process cache for embedded mode. Expired entries are dropped on access and swept when
/// the map grows.
/// A value and the instant it expires.
type Entries = HashMap<String, (Vec<u8>, Instant)>;

#[derive(Default, Clone)]
pub struct MemoryCache {
    entries: Arc<Mutex<Entries>>,
}

const SWEEP_ABOVE: usize = 10_000;

impl MemoryCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn live(&self, key: &str) -> Option<Vec<u8>> {
        let mut entries = self.entries();
        match entries.get(key) {
            Some((value, expires)) if *expires > Instant::now() => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    fn store(&self, key: &str, value: Vec<u8>, ttl: Duration) {
        let mut entries = self.entries();
        if entries.len() >= SWEEP_ABOVE {
            let now = Instant::now();
            entries.retain(|_, (_, expires)| *expires > now);
        }
        entries.insert(key.to_owned(), (value, Instant::now() + ttl));
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.live(key))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.store(key, value.to_vec(), ttl);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.entries().remove(key);
        Ok(())
    }

    async fn increment_by(&self, key: &str, n: u64, ttl: Duration) -> Result<u64, CacheError> {
        let mut entries = self.entries();
        let now = Instant::now();
        let entry = entries
            .entry(key.to_owned())
            .or_insert_with(|| (0u64.to_be_bytes().to_vec(), now + ttl));
        if entry.1 <= now {
            *entry = (0u64.to_be_bytes().to_vec(), now + ttl);
        }
        let current = entry
            .0
            .as_slice()
            .try_into()
            .map(u64::from_be_bytes)
            .unwrap_or(0)
            .saturating_add(n);
        entry.0 = current.to_be_bytes().to_vec();
        Ok(current)
    }

    async fn check(&self) -> Result<(), CacheError> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

/// Fixed-window rate limiter: at most `limit` units per `window` for each key. A unit is
/// whatever the caller counts: one request ([`hit`](Self::hit)), or what a request costs
/// ([`hit_n`](Self::hit_n): the gateway spends each GraphQL operation's computed cost).
#[derive(Clone)]
pub struct RateLimiter {
    cache: Arc<dyn Cache>,
    pub limit: u64,
    pub window: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed { remaining: u64 },
    Limited { retry_after: Duration },
}

impl RateLimiter {
    pub fn new(cache: Arc<dyn Cache>, limit: u64, window: Duration) -> Self {
        Self {
            cache,
            limit,
            window: window.max(Duration::from_secs(1)),
        }
    }

    /// Counts one hit for `key`. The window opens at a key's first hit (its counter is created
    /// with the window as TTL), so a burst can never straddle two windows.
    pub async fn hit(&self, key: &str) -> Result<RateDecision, CacheError> {
        self.hit_n(key, 1).await
    }

    /// Spends `n` units of `key`'s budget at once. Allowed while the window's total stays
    /// within the limit; the units of a refused spend stay counted (the window is spent, the
    /// caller waits for the next one), so an expensive request cannot be retried for free.
    pub async fn hit_n(&self, key: &str, n: u64) -> Result<RateDecision, CacheError> {
        let count = self
            .cache
            .increment_by(&format!("ratelimit:{key}"), n, self.window)
            .await?;
        if count <= self.limit {
            Ok(RateDecision::Allowed {
                remaining: self.limit - count,
            })
        } else {
            Ok(RateDecision::Limited {
                retry_after: self.window,
            })
        }
    }
}
