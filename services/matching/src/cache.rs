//! Answers cached in the platform cache (Redis in production, memory when embedded). The key
//! carries the engine's generation, which moves with every change applied, so a change
//! anywhere invalidates every cached answer at once; old keys simply expire.

use crate::engine::Engine;
use cafeia_platform::runtime::Platform;
use serde::{Serialize, de::DeserializeOwned};
use std::{sync::atomic::Ordering, time::Duration};

const TTL: Duration = Duration::from_secs(60);

pub fn key<Q: Serialize>(kind: &str, query: &Q, engine: &Engine) -> String {
    let body = serde_json::to_string(query).unwrap_or_default();
    let digest = cafeia_platform::auth::sha256_hex(&body);
    format!(
        "matching:{kind}:{}:{digest}",
        engine.generation.load(Ordering::Acquire)
    )
}

/// A cached answer; a cache that is away is a miss, not a failure.
pub async fn get<T: DeserializeOwned>(platform: &Platform, key: &str) -> Option<T> {
    match platform.cache.get(key).await {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).ok(),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "cache unavailable; answering without it");
            None
        }
    }
}

pub async fn put<T: Serialize>(platform: &Platform, key: &str, value: &T) {
    if let Ok(bytes) = serde_json::to_vec(value)
        && let Err(e) = platform.cache.set(key, &bytes, TTL).await
    {
        tracing::warn!(error = %e, "cache unavailable; answer not cached");
    }
}
