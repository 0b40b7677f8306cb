//! Cache and rate limiter, on the in-memory store and on Redis.

use cafeia_platform::cache::{self, RateDecision, RateLimiter};
use cafeia_testkit::{Backend, TestEnv, backend_matrix};
use std::time::Duration;

async fn values_expire_and_can_be_deleted(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let cache = cache::connect(&env.config.cache).await.expect("cache");
    cache.check().await.expect("reachable");
    assert_eq!(cache.get("absent").await.expect("get"), None);
    cache
        .set("k", b"valeur", Duration::from_millis(300))
        .await
        .expect("set");
    assert_eq!(
        cache.get("k").await.expect("get").as_deref(),
        Some(&b"valeur"[..])
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(cache.get("k").await.expect("get"), None, "expired");
    cache
        .set("d", b"x", Duration::from_secs(60))
        .await
        .expect("set");
    cache.delete("d").await.expect("delete");
    assert_eq!(cache.get("d").await.expect("get"), None);
}

async fn rate_limiter_allows_up_to_the_limit(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let cache = cache::connect(&env.config.cache).await.expect("cache");
    let limiter = RateLimiter::new(cache, 3, Duration::from_secs(60));
    let mut decisions = Vec::new();
    for _ in 0..4 {
        decisions.push(limiter.hit("ip:203.0.113.7").await.expect("hit"));
    }
    assert_eq!(decisions[0], RateDecision::Allowed { remaining: 2 });
    assert_eq!(decisions[2], RateDecision::Allowed { remaining: 0 });
    assert!(
        matches!(decisions[3], RateDecision::Limited { retry_after } if retry_after <= Duration::from_secs(60))
    );
    assert_eq!(
        limiter.hit("ip:198.51.100.1").await.expect("hit"),
        RateDecision::Allowed { remaining: 2 },
        "keys are counted separately"
    );
}

backend_matrix!(
    values_expire_and_can_be_deleted,
    rate_limiter_allows_up_to_the_limit
);

#[tokio::test]
async fn an_unreachable_redis_is_a_clear_error() {
    let config = cafeia_platform::config::CacheConfig {
        url: secrecy::SecretString::from("redis://127.0.0.1:1"),
        key_prefix: "x:".into(),
    };
    let err = cache::connect(&config).await.err().expect("must fail");
    assert!(err.to_string().contains("unreachable"), "{err}");
}
