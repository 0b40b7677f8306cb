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

/// Issue 14, defect 3: the limiter counts cost, not requests — one expensive request spends
/// as much of the budget as many cheap ones, on Redis as in memory.
async fn alias_amplification_rate_limiter_counts_cost(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let cache = cache::connect(&env.config.cache).await.expect("cache");
    let limiter = RateLimiter::new(cache.clone(), 100, Duration::from_secs(60));
    let key = "sub:amplifier";
    assert_eq!(
        limiter.hit_n(key, 60).await.expect("hit"),
        RateDecision::Allowed { remaining: 40 }
    );
    assert_eq!(
        limiter.hit(key).await.expect("hit"),
        RateDecision::Allowed { remaining: 39 },
        "a plain hit spends one unit of the same budget"
    );
    assert_eq!(
        limiter.hit_n(key, 39).await.expect("hit"),
        RateDecision::Allowed { remaining: 0 }
    );
    assert!(
        matches!(
            limiter.hit_n(key, 1).await.expect("hit"),
            RateDecision::Limited { .. }
        ),
        "the budget is spent"
    );
    // One request costing more than what is left is refused, even early in the window.
    let other = "ip:192.0.2.8";
    assert!(matches!(
        limiter.hit_n(other, 101).await.expect("hit"),
        RateDecision::Limited { .. }
    ));
    // Concurrent spends are never lost.
    let fresh = RateLimiter::new(cache, 10_000, Duration::from_secs(60));
    let spends = (0..20).map(|_| {
        let fresh = fresh.clone();
        tokio::spawn(async move { fresh.hit_n("sub:concurrent", 7).await.expect("hit") })
    });
    for spend in spends {
        spend.await.expect("task");
    }
    assert_eq!(
        fresh.hit_n("sub:concurrent", 0).await.expect("hit"),
        RateDecision::Allowed {
            remaining: 10_000 - 140
        }
    );
}

backend_matrix!(
    values_expire_and_can_be_deleted,
    rate_limiter_allows_up_to_the_limit,
    alias_amplification_rate_limiter_counts_cost
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
