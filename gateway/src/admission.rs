//! What every public request goes through before it is served, GraphQL or a document: the
//! bearer token verified (when there is one), then the rate limit counted for the caller.
//! A token that fails verification is counted against its client address
//! (`rate_limit.failed_auth_per_minute`): past that budget the answer is `RATE_LIMITED`, so
//! guessing or replaying tokens is bounded like any other traffic. The client address is the
//! one [`client_address`](crate::client_address) finds behind trusted proxies.

use crate::{
    client_address::TrustedProxies, clients::CallContext, config::RateLimitConfig,
    routes::GatewayState,
};
use actix_web::HttpRequest;
use cafeia_platform::{
    auth::{AuthError, Caller},
    cache::{Cache, RateDecision, RateLimiter},
    telemetry,
};
use std::{net::IpAddr, sync::Arc, time::Duration};

/// How clients are told apart, and how many failed tokens each may present.
#[derive(Clone)]
pub struct Clients {
    proxies: TrustedProxies,
    failed_tokens: RateLimiter,
}

impl Clients {
    /// From validated configuration (`rate_limit.trusted_proxies` parses).
    pub fn new(config: &RateLimitConfig, cache: Arc<dyn Cache>) -> Result<Self, String> {
        Ok(Self {
            proxies: TrustedProxies::parse(&config.trusted_proxies)
                .map_err(|e| format!("rate_limit.trusted_proxies: {e}"))?,
            failed_tokens: RateLimiter::new(
                cache,
                config.failed_auth_per_minute,
                Duration::from_secs(60),
            ),
        })
    }

    /// The client's address (behind trusted proxies, the one they forward for).
    pub fn address(&self, req: &HttpRequest) -> Option<IpAddr> {
        self.proxies.client(req)
    }

    /// Counts one failed token from `address`; `Some(retry_after)` once over the budget.
    pub async fn failed_token(&self, address: Option<IpAddr>, quiet: bool) -> Option<Duration> {
        match self
            .failed_tokens
            .hit(&format!("authfail:{}", ip_key(address)))
            .await
        {
            Ok(RateDecision::Limited { retry_after }) => Some(retry_after),
            Ok(RateDecision::Allowed { .. }) => None,
            Err(e) => {
                if !quiet {
                    tracing::warn!(error = %e, "failed-token budget unavailable");
                }
                None
            }
        }
    }
}

/// Whose budget a request counts against: the token's subject, or the client address.
pub fn rate_key(caller: Option<&Caller>, address: Option<IpAddr>) -> String {
    match caller {
        Some(c) => format!("sub:{}", c.sub),
        None => ip_key(address),
    }
}

fn ip_key(address: Option<IpAddr>) -> String {
    match address {
        Some(ip) => format!("ip:{ip}"),
        None => "ip:unknown".into(),
    }
}

/// Why a request is turned away.
#[derive(Debug)]
pub enum Refused {
    /// The token does not verify; the reason is safe to show.
    Unauthenticated(String),
    /// Over the caller's budget; come back after this long.
    Limited(Duration),
}

/// An admitted request: who calls (if anyone) and what its service calls carry.
pub struct Admitted {
    pub caller: Option<Caller>,
    pub call: CallContext,
}

/// Verifies the caller and counts the request. `quiet` keeps the limiter's warnings out of
/// the log (a request whose URL is a secret logs nothing).
pub async fn admit(
    state: &GatewayState,
    req: &HttpRequest,
    quiet: bool,
) -> Result<Admitted, Refused> {
    let address = state.clients.address(req);
    let verified = state.verifier.from_request(req).await;
    admit_verified(state, verified, address, quiet).await
}

/// Admits a caller whose token (if any) is already read: the web app's pages call with the
/// person's token from their session, as the client at `address`.
pub async fn admit_token(
    state: &GatewayState,
    token: Option<&str>,
    address: Option<IpAddr>,
) -> Result<Admitted, Refused> {
    let verified = match token {
        Some(token) => state.verifier.verify(token).await.map(Some),
        None => Ok(None),
    };
    admit_verified(state, verified, address, false).await
}

async fn admit_verified(
    state: &GatewayState,
    verified: Result<Option<Caller>, AuthError>,
    address: Option<IpAddr>,
    quiet: bool,
) -> Result<Admitted, Refused> {
    let caller = match verified {
        Ok(caller) => caller,
        Err(e) => {
            return Err(match state.clients.failed_token(address, quiet).await {
                Some(retry_after) => Refused::Limited(retry_after),
                None => Refused::Unauthenticated(e.to_string()),
            });
        }
    };
    let key = rate_key(caller.as_ref(), address);
    match state.limiter.hit(&key).await {
        Ok(RateDecision::Limited { retry_after }) => return Err(Refused::Limited(retry_after)),
        Ok(RateDecision::Allowed { .. }) => {}
        // The cache being down must not take the API down with it.
        Err(e) if !quiet => tracing::warn!(error = %e, "rate limiter unavailable"),
        Err(_) => {}
    }
    let call = CallContext {
        token: caller.as_ref().map(|c| c.token().into()),
        request: telemetry::current(),
        client: address,
    };
    Ok(Admitted { caller, call })
}
