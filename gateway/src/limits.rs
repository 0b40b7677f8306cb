//! The limits every GraphQL operation is held to once it is parsed and validated, over HTTP
//! and WebSocket alike (an async-graphql extension, so they hold whatever the transport):
//!
//! - fields nested at most `graphql.depth_limit` deep (`QUERY_TOO_DEEP`); introspection
//!   (`__schema`, `__type`) apart, held to [`INTROSPECTION_DEPTH`], so that GraphQL tools'
//!   standard introspection query (15 deep) works with the data's tighter bound;
//! - at most `graphql.max_mutations` mutation fields per operation, counted on the parsed
//!   operation (aliases and fragments count; `TOO_MANY_MUTATIONS`, nothing runs);
//! - the operation's cost (`cost`, async-graphql's complexity) spent from the caller's budget
//!   of `rate_limit.cost_per_minute` (`RATE_LIMITED` with `extensions.retryAfter`);
//! - at most `graphql.max_subscriptions` subscriptions running at once on one WebSocket
//!   (`TOO_MANY_SUBSCRIPTIONS`); each start is spent from the same budget;
//! - nothing outlives the token of a WebSocket: every subscription ends with an
//!   `UNAUTHENTICATED` error when the token given at `connection_init` expires, and any later
//!   operation on that connection is refused the same way (the client reconnects with a fresh
//!   token).

use crate::config::GraphqlConfig;
use async_graphql::{
    ErrorExtensionValues, Request, Response, ServerError, ServerResult, ValidationResult, Value,
    Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest,
        NextSubscribe, NextValidation,
    },
    parser::types::{ExecutableDocument, OperationType},
};
use cafeia_graphql_request::{Depths, depths, root_fields};
use cafeia_platform::{
    ErrorCode,
    cache::{RateDecision, RateLimiter},
};
use futures::{StreamExt, stream::BoxStream};
use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime},
};

/// Whose budget an operation spends, and where it is kept. Request data over HTTP,
/// connection data over WebSocket.
#[derive(Clone)]
pub struct Budget {
    limiter: RateLimiter,
    key: String,
}

impl Budget {
    /// The budget of `caller` (admission's rate key: `sub:<subject>`, or `ip:<address>` when
    /// anonymous), counted apart from the caller's count of requests.
    pub fn new(limiter: RateLimiter, caller: &str) -> Self {
        Self {
            limiter,
            key: format!("cost:{caller}"),
        }
    }
}

/// The subscriptions running on one WebSocket connection (connection data).
#[derive(Clone, Default)]
pub struct ConnectionSubscriptions(Arc<AtomicUsize>);

impl ConnectionSubscriptions {
    /// Takes `n` places if the connection has them left under `max`.
    fn take(&self, n: usize, max: usize) -> Option<Places> {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |running| {
                running.checked_add(n).filter(|total| *total <= max)
            })
            .ok()
            .map(|_| Places {
                running: self.0.clone(),
                n,
            })
    }

    /// How many run now.
    pub fn running(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

/// Places held by one subscription; given back when it ends, whichever way.
struct Places {
    running: Arc<AtomicUsize>,
    n: usize,
}

impl Drop for Places {
    fn drop(&mut self) {
        self.running.fetch_sub(self.n, Ordering::AcqRel);
    }
}

/// When the token of a WebSocket connection expires (connection data; absent when
/// anonymous).
#[derive(Clone, Copy, Debug)]
pub struct TokenExpiry(pub SystemTime);

impl TokenExpiry {
    /// The expiry of a token the verifier has just accepted (its `exp` claim).
    pub fn of(token: &str) -> Option<Self> {
        let claims =
            jsonwebtoken::dangerous::insecure_decode_claims::<cafeia_platform::auth::Claims>(token)
                .ok()?;
        Some(Self(
            SystemTime::UNIX_EPOCH + Duration::from_secs(claims.exp),
        ))
    }

    fn passed(self) -> bool {
        SystemTime::now() >= self.0
    }
}

/// How deep an introspection query may nest: what the standard ones need (15), with room for
/// tools that unwrap a few more wrapping types.
pub const INTROSPECTION_DEPTH: usize = 20;

/// The extension, installed on the schema with the configured limits.
#[derive(Clone, Copy)]
pub struct Limits {
    max_depth: usize,
    max_mutations: usize,
    max_subscriptions: usize,
}

impl Limits {
    pub fn new(config: &GraphqlConfig) -> Self {
        Self {
            max_depth: config.depth_limit,
            max_mutations: config.max_mutations,
            max_subscriptions: config.max_subscriptions,
        }
    }
}

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Guard {
            limits: *self,
            state: Arc::default(),
        })
    }
}

/// One per operation.
struct Guard {
    limits: Limits,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    operation_name: Option<String>,
    /// The root fields of the operation that will run, and its kind.
    root: Option<(OperationType, usize)>,
    /// How deep it nests.
    depths: Option<Depths>,
    /// The subscription places this operation holds while its stream lives.
    places: Option<Places>,
}

impl Guard {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait::async_trait]
impl Extension for Guard {
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let stream = next.run(ctx, stream);
        // The places are given back when the stream is dropped: when it ends, when the client
        // completes it, when the connection closes.
        let held = self.state.clone();
        let stream = stream.map(move |response| {
            let _ = &held;
            response
        });
        match ctx.data_opt::<TokenExpiry>() {
            Some(expiry) => until_expiry(stream.boxed(), *expiry),
            None => stream.boxed(),
        }
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        if ctx.data_opt::<TokenExpiry>().is_some_and(|e| e.passed()) {
            return Err(expired());
        }
        self.state().operation_name = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut state = self.state();
        state.root = root_fields(&document, state.operation_name.as_deref());
        state.depths = depths(&document, state.operation_name.as_deref());
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let validated = next.run(ctx).await;
        let (root, depths) = {
            let state = self.state();
            (state.root, state.depths)
        };
        // Too many mutations is the reason to give, even when they also cost too much.
        if let Some((OperationType::Mutation, n)) = root
            && n > self.limits.max_mutations
            && validated.as_ref().err().is_none_or(|errors| {
                errors
                    .iter()
                    .all(|e| code_of(e) == Some(ErrorCode::QueryTooComplex))
            })
        {
            return Err(vec![refusal(
                ErrorCode::TooManyMutations,
                &format!(
                    "{n} mutations dans une seule requête, {} au plus : envoyez-les en \
                     plusieurs fois",
                    self.limits.max_mutations
                ),
            )]);
        }
        // So is too deep: a deep operation costs much because it is deep.
        if let Some(depths) = depths
            && validated.as_ref().err().is_none_or(|errors| {
                errors
                    .iter()
                    .all(|e| code_of(e) == Some(ErrorCode::QueryTooComplex))
            })
        {
            too_deep(depths, self.limits.max_depth)?;
        }
        let validated = validated?;
        if let Some((OperationType::Subscription, n)) = root
            && let Some(running) = ctx.data_opt::<ConnectionSubscriptions>()
        {
            let Some(places) = running.take(n, self.limits.max_subscriptions) else {
                return Err(vec![refusal(
                    ErrorCode::TooManySubscriptions,
                    &format!(
                        "{} abonnements au plus sur une connexion : terminez-en un d'abord",
                        self.limits.max_subscriptions
                    ),
                )]);
            };
            self.state().places = Some(places);
        }
        if let Some(budget) = ctx.data_opt::<Budget>() {
            let cost = u64::try_from(validated.complexity).unwrap_or(u64::MAX);
            match budget.limiter.hit_n(&budget.key, cost).await {
                Ok(RateDecision::Allowed { .. }) => {}
                Ok(RateDecision::Limited { retry_after }) => {
                    // A refused subscription holds no place.
                    self.state().places = None;
                    return Err(vec![over_budget(cost, retry_after)]);
                }
                // The cache being down must not take the API down with it.
                Err(e) => tracing::warn!(error = %e, "cost budget unavailable"),
            }
        }
        Ok(validated)
    }
}

/// `QUERY_TOO_DEEP` when the data, or the introspection, nests deeper than it may.
fn too_deep(depths: Depths, max_depth: usize) -> Result<(), Vec<ServerError>> {
    let refused = |what: &str, depth: usize, max: usize| {
        vec![refusal(
            ErrorCode::QueryTooDeep,
            &format!("{what} imbriquée sur {depth} niveaux, {max} au plus"),
        )]
    };
    if depths.data > max_depth {
        return Err(refused("requête", depths.data, max_depth));
    }
    if depths.introspection > INTROSPECTION_DEPTH {
        return Err(refused(
            "introspection",
            depths.introspection,
            INTROSPECTION_DEPTH,
        ));
    }
    Ok(())
}

/// The stream until `expiry`, then one `UNAUTHENTICATED` error and its end.
fn until_expiry(stream: BoxStream<'_, Response>, expiry: TokenExpiry) -> BoxStream<'_, Response> {
    let left = expiry
        .0
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    let timer = Box::pin(tokio::time::sleep(left));
    futures::stream::unfold(Some((stream, timer)), |running| async move {
        let (mut stream, mut timer) = running?;
        tokio::select! {
            biased;
            () = &mut timer => Some((Response::from_errors(vec![expired()]), None)),
            next = stream.next() => next.map(|response| (response, Some((stream, timer)))),
        }
    })
    .boxed()
}

fn expired() -> ServerError {
    refusal(
        ErrorCode::Unauthenticated,
        "jeton expiré : reconnectez-vous avec un nouveau jeton",
    )
}

fn over_budget(cost: u64, retry_after: Duration) -> ServerError {
    let mut error = refusal(
        ErrorCode::RateLimited,
        &format!("budget de requêtes épuisé (cette opération coûte {cost}) : réessayez plus tard"),
    );
    if let Some(ext) = error.extensions.as_mut() {
        ext.set("retryAfter", Value::from(retry_after.as_secs()));
    }
    error
}

fn refusal(code: ErrorCode, message: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", code.as_str());
    error.extensions = Some(ext);
    error
}

fn code_of(error: &ServerError) -> Option<ErrorCode> {
    match error.extensions.as_ref()?.get("code")? {
        Value::String(code) => ErrorCode::parse(code),
        _ => None,
    }
}
