//! The message bus: one trait, two brokers with the same semantics.
//!
//! - [`amqp::AmqpBus`]: RabbitMQ through lapin — topic exchange, one durable quorum queue per
//!   consumer, publisher confirms, manual acks, bounded prefetch, delayed retries through TTL +
//!   dead-letter retry queues, a dead-letter queue after N attempts, reconnect and re-declare.
//! - [`memory::MemoryBus`]: the in-process broker of embedded mode, with the same
//!   topic/queue/ack/redelivery/retry/dead-letter behaviour.
//!
//! Both hand deliveries to a [`Subscriber`]; a [`Delivery`] must be settled with `ack`, `fail`
//! (retry later, then dead-letter) or `reject` (dead-letter now). One that is dropped unsettled
//! goes back to its queue, like an unacked message on a closed AMQP channel.

pub mod amqp;
pub mod memory;
pub mod topic;

use async_trait::async_trait;
use std::{collections::BTreeMap, sync::Arc, time::Duration};
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::config::BusConfig;
use crate::envelope::Envelope;
use secrecy::ExposeSecret;

/// Header carrying the attempt number of a retried message (1 for the first delivery).
pub const ATTEMPT_HEADER: &str = "x-cafeia-attempt";
/// Header keeping the original routing key when a message travels through retry queues.
pub const ROUTING_KEY_HEADER: &str = "x-cafeia-routing-key";
/// Header explaining why a message was dead-lettered.
pub const ERROR_HEADER: &str = "x-cafeia-error";

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("broker unreachable: {0}")]
    Unreachable(String),
    #[error("broker refused the message: {0}")]
    Refused(String),
    #[error("broker protocol error: {0}")]
    Protocol(String),
    #[error("invalid message: {0}")]
    Invalid(String),
}

/// A message as published and as delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub message_id: String,
    pub routing_key: String,
    pub body: Vec<u8>,
    pub headers: BTreeMap<String, String>,
}

impl Message {
    /// Wraps a CloudEvent; the trace context travels in the headers too, for AMQP tooling.
    pub fn event<T: serde::Serialize>(
        routing_key: impl Into<String>,
        envelope: &Envelope<T>,
    ) -> Result<Self, BusError> {
        let body = envelope
            .to_json()
            .map_err(|e| BusError::Invalid(e.to_string()))?;
        let mut headers = BTreeMap::new();
        if let Some(tp) = &envelope.traceparent {
            headers.insert(crate::telemetry::TRACEPARENT.to_owned(), tp.clone());
        }
        if let Some(ts) = &envelope.tracestate {
            headers.insert(crate::telemetry::TRACESTATE.to_owned(), ts.clone());
        }
        if let Some(request_id) = crate::telemetry::current_request_id() {
            headers.insert(crate::telemetry::REQUEST_ID.to_owned(), request_id);
        }
        Ok(Self {
            message_id: envelope.id.to_string(),
            routing_key: routing_key.into(),
            body,
            headers,
        })
    }
}

/// Which queue to consume and what it is bound to.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub queue: String,
    /// Topic patterns (`*` one word, `#` any number of words).
    pub patterns: Vec<String>,
    pub kind: QueueKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueKind {
    /// A consumer's queue, with its retry queues and dead-letter queue.
    Main,
    /// The dead-letter queue of a consumer's queue, for inspection or replay.
    DeadLetters,
    /// A live feed for one process (e.g. each gateway replica hearing every seat change): not
    /// durable, deleted when its consumer goes, no retries. What it misses while away is lost,
    /// which is right for notifications that are superseded by the next one.
    Transient,
}

impl Subscription {
    pub fn new(queue: impl Into<String>, patterns: &[&str]) -> Self {
        Self {
            queue: queue.into(),
            patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
            kind: QueueKind::Main,
        }
    }

    pub fn transient(queue: impl Into<String>, patterns: &[&str]) -> Self {
        Self {
            kind: QueueKind::Transient,
            ..Self::new(queue, patterns)
        }
    }

    pub fn dead_letters_of(queue: impl Into<String>) -> Self {
        Self {
            queue: queue.into(),
            patterns: Vec::new(),
            kind: QueueKind::DeadLetters,
        }
    }

    /// The queue actually consumed.
    pub fn queue_name(&self) -> String {
        match self.kind {
            QueueKind::Main | QueueKind::Transient => self.queue.clone(),
            QueueKind::DeadLetters => dead_letter_queue(&self.queue),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), BusError> {
        if self.queue.is_empty() || self.queue.len() > 200 {
            return Err(BusError::Invalid(
                "queue name must be 1 to 200 characters".into(),
            ));
        }
        for pattern in &self.patterns {
            topic::validate_pattern(pattern).map_err(BusError::Invalid)?;
        }
        Ok(())
    }
}

pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}.dlq")
}

pub fn retry_queue(queue: &str, level: u32) -> String {
    format!("{queue}.retry.{level}")
}

/// How failures are retried: attempt `n` (n ≥ 1) that fails waits `base × 2^(n-1)`, capped.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    pub fn from_config(config: &BusConfig) -> Self {
        Self {
            max_attempts: config.max_attempts,
            base_delay: Duration::from_millis(config.retry_delay_ms),
            max_delay: Duration::from_secs(3600),
        }
    }

    /// Retry level (and so delay) used after a failed `attempt`.
    pub fn level_after(&self, attempt: u32) -> u32 {
        attempt
            .saturating_sub(1)
            .min(self.levels().saturating_sub(1))
    }

    /// How many distinct delays exist (one retry queue each on RabbitMQ).
    pub fn levels(&self) -> u32 {
        self.max_attempts.saturating_sub(1).max(1)
    }

    pub fn delay_for_level(&self, level: u32) -> Duration {
        let factor = 1u32.checked_shl(level.min(20)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// The broker-specific half of settling a delivery.
#[async_trait]
pub(crate) trait Settle: Send + Sync {
    async fn ack(&mut self) -> Result<(), BusError>;
    /// Back to the queue now (e.g. the consumer is shutting down).
    async fn requeue(&mut self) -> Result<(), BusError>;
    /// Redeliver `message` after the delay of `level`, as attempt `next_attempt`.
    async fn retry_later(
        &mut self,
        message: &Message,
        next_attempt: u32,
        level: u32,
    ) -> Result<(), BusError>;
    async fn dead_letter(&mut self, message: &Message, reason: &str) -> Result<(), BusError>;
    /// Dropped unsettled: give it back without waiting.
    fn abandon(&mut self);
}

/// One message handed to a consumer. Settle it exactly once.
pub struct Delivery {
    pub message: Message,
    /// 1 on first delivery; grows with each retry.
    pub attempt: u32,
    /// The broker delivered it before and it was not acknowledged.
    pub redelivered: bool,
    policy: RetryPolicy,
    settle: Option<Box<dyn Settle>>,
}

/// What became of a failed delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOutcome {
    RetryScheduled { next_attempt: u32, delay: Duration },
    DeadLettered,
}

impl Delivery {
    pub(crate) fn new(
        message: Message,
        attempt: u32,
        redelivered: bool,
        policy: RetryPolicy,
        settle: Box<dyn Settle>,
    ) -> Self {
        Self {
            message,
            attempt,
            redelivered,
            policy,
            settle: Some(settle),
        }
    }

    pub fn envelope(&self) -> Result<Envelope, serde_json::Error> {
        Envelope::from_slice(&self.message.body)
    }

    pub async fn ack(mut self) -> Result<(), BusError> {
        match self.settle.take() {
            Some(s) => settled(s, |s| Box::pin(async move { s.ack().await })).await,
            None => Ok(()),
        }
    }

    pub async fn requeue(mut self) -> Result<(), BusError> {
        match self.settle.take() {
            Some(mut s) => s.requeue().await,
            None => Ok(()),
        }
    }

    /// The handler failed but might succeed later: retry with backoff, or dead-letter once
    /// the attempts are used up.
    pub async fn fail(mut self, reason: &str) -> Result<FailOutcome, BusError> {
        let Some(mut settle) = self.settle.take() else {
            return Ok(FailOutcome::DeadLettered);
        };
        if self.attempt >= self.policy.max_attempts {
            if let Err(e) = settle.dead_letter(&self.message, reason).await {
                settle.abandon();
                return Err(e);
            }
            return Ok(FailOutcome::DeadLettered);
        }
        let level = self.policy.level_after(self.attempt);
        let next_attempt = self.attempt + 1;
        if let Err(e) = settle.retry_later(&self.message, next_attempt, level).await {
            // Could not schedule the retry: hand the message back rather than hold it.
            settle.abandon();
            return Err(e);
        }
        Ok(FailOutcome::RetryScheduled {
            next_attempt,
            delay: self.policy.delay_for_level(level),
        })
    }

    /// The message can never succeed (malformed, unknown version): dead-letter it now.
    pub async fn reject(mut self, reason: &str) -> Result<(), BusError> {
        match self.settle.take() {
            Some(mut s) => {
                let result = s.dead_letter(&self.message, reason).await;
                if result.is_err() {
                    s.abandon();
                }
                result
            }
            None => Ok(()),
        }
    }
}

/// Runs a settlement; if it fails the message is handed back (nack with requeue) instead of
/// staying unacknowledged and holding a prefetch slot.
async fn settled<F>(mut settle: Box<dyn Settle>, op: F) -> Result<(), BusError>
where
    F: for<'a> FnOnce(
        &'a mut Box<dyn Settle>,
    ) -> futures::future::BoxFuture<'a, Result<(), BusError>>,
{
    let result = op(&mut settle).await;
    if result.is_err() {
        settle.abandon();
    }
    result
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if let Some(mut settle) = self.settle.take() {
            settle.abandon();
        }
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("message_id", &self.message.message_id)
            .field("routing_key", &self.message.routing_key)
            .field("attempt", &self.attempt)
            .field("redelivered", &self.redelivered)
            .finish()
    }
}

/// A live consumption of one queue. Dropping it stops consuming; unsettled deliveries return
/// to the queue.
pub struct Subscriber {
    rx: mpsc::Receiver<Delivery>,
    _stop: DropGuard,
}

impl Subscriber {
    pub(crate) fn new(rx: mpsc::Receiver<Delivery>, stop: CancellationToken) -> Self {
        Self {
            rx,
            _stop: stop.drop_guard(),
        }
    }

    /// The next delivery; `None` once the subscription has ended.
    pub async fn next(&mut self) -> Option<Delivery> {
        self.rx.recv().await
    }

    /// The next delivery, or `None` if none arrives within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Delivery> {
        tokio::time::timeout(wait, self.rx.recv())
            .await
            .ok()
            .flatten()
    }
}

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes and returns once the broker has taken responsibility (publisher confirm).
    async fn publish(&self, message: &Message) -> Result<(), BusError>;
    /// Publishes in order; returns how many were confirmed before the first failure, and
    /// that failure. The ones after it may have been published too (at least once).
    async fn publish_all(&self, messages: &[Message]) -> (usize, Option<BusError>) {
        for (done, message) in messages.iter().enumerate() {
            if let Err(e) = self.publish(message).await {
                return (done, Some(e));
            }
        }
        (messages.len(), None)
    }
    /// Declares the queue (and its retry and dead-letter queues) and starts consuming.
    async fn subscribe(&self, subscription: Subscription) -> Result<Subscriber, BusError>;
    /// Readiness: can we talk to the broker right now?
    async fn check(&self) -> Result<(), BusError>;
    fn kind(&self) -> &'static str;
    /// Whether what the broker holds outlives this process: RabbitMQ's durable queues do, the
    /// in-process broker's die with it (the outbox relay then sends again what was sent).
    fn outlives_process(&self) -> bool {
        true
    }
}

/// Builds the bus named by `config.bus.url`: `memory://` or `amqp://…`.
pub async fn connect(config: &BusConfig) -> Result<Arc<dyn Bus>, BusError> {
    let url = config.url.expose_secret();
    if url.starts_with("memory:") {
        Ok(Arc::new(memory::MemoryBus::new(RetryPolicy::from_config(
            config,
        ))))
    } else {
        Ok(Arc::new(amqp::AmqpBus::connect(config).await?))
    }
}

/// Why a handler failed, which decides what happens to the message.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Might work later (database down, dependency busy): retry with backoff.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Will never work (malformed payload): dead-letter at once.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

impl From<sea_orm::DbErr> for HandlerError {
    fn from(err: sea_orm::DbErr) -> Self {
        HandlerError::Transient(err.to_string())
    }
}

/// A failure of shared domain code run by a consumer: the database or a dependency being away
/// may pass, anything else (the message itself is wrong) will not.
impl From<crate::errors::AppError> for HandlerError {
    fn from(err: crate::errors::AppError) -> Self {
        use crate::errors::ErrorCode;
        match err.code {
            ErrorCode::Internal | ErrorCode::Unavailable => HandlerError::Transient(err.detail),
            _ => HandlerError::Permanent(err.detail),
        }
    }
}

impl From<serde_json::Error> for HandlerError {
    fn from(err: serde_json::Error) -> Self {
        HandlerError::Permanent(format!("malformed message: {err}"))
    }
}

/// Runs `handler` on every delivery until `cancel` fires, settling each one from its result.
/// Each delivery runs inside the trace context it carries.
pub async fn consume<H, Fut>(mut subscriber: Subscriber, cancel: CancellationToken, handler: H)
where
    H: Fn(Arc<Envelope>, Message) -> Fut + Send + Sync,
    Fut: std::future::Future<Output = Result<(), HandlerError>> + Send,
{
    loop {
        let delivery = tokio::select! {
            _ = cancel.cancelled() => return,
            next = subscriber.next() => match next {
                Some(d) => d,
                None => return,
            },
        };
        let headers = &delivery.message.headers;
        let ctx = crate::telemetry::RequestContext::from_headers(
            headers
                .get(crate::telemetry::REQUEST_ID)
                .map(String::as_str),
            headers
                .get(crate::telemetry::TRACEPARENT)
                .map(String::as_str),
            headers
                .get(crate::telemetry::TRACESTATE)
                .map(String::as_str),
        );
        let span = tracing::info_span!(
            "bus.consume",
            routing_key = %delivery.message.routing_key,
            message_id = %delivery.message.message_id,
            attempt = delivery.attempt,
            request_id = %ctx.request_id,
            trace_id = %ctx.trace.trace_id_hex(),
        );
        let outcome = crate::telemetry::scope(ctx, async {
            let envelope = match delivery.envelope() {
                Ok(e) => Arc::new(e),
                Err(e) => return Err(HandlerError::from(e)),
            };
            handler(envelope, delivery.message.clone()).await
        });
        let outcome = tracing::Instrument::instrument(outcome, span.clone()).await;
        let _entered = span.enter();
        settle(delivery, outcome).await;
    }
}

/// Settles one delivery from its handler's outcome (ack, retry later, or dead-letter).
async fn settle(delivery: Delivery, outcome: Result<(), HandlerError>) {
    let settled = match outcome {
        Ok(()) => delivery.ack().await,
        Err(HandlerError::Permanent(reason)) => {
            tracing::warn!(%reason, "message dead-lettered");
            delivery.reject(&reason).await
        }
        Err(HandlerError::Transient(reason)) => match delivery.fail(&reason).await {
            Ok(FailOutcome::DeadLettered) => {
                tracing::warn!(%reason, "message dead-lettered after its last attempt");
                Ok(())
            }
            Ok(FailOutcome::RetryScheduled {
                next_attempt,
                delay,
            }) => {
                tracing::info!(%reason, next_attempt, ?delay, "message will be retried");
                Ok(())
            }
            Err(e) => Err(e),
        },
    };
    if let Err(e) = settled {
        // The broker will redeliver what we could not settle; the inbox absorbs duplicates.
        tracing::warn!(error = %e, "could not settle delivery");
    }
}

/// Like [`consume`], but hands the handler what has arrived together (up to `max`, gathered
/// for at most `linger` after the first), so a consumer of a heavy stream can apply a batch in
/// one transaction. A failed batch is retried one message at a time, so one bad message only
/// affects itself. Malformed messages are dead-lettered before the batch is formed.
pub async fn consume_batches<H, Fut>(
    mut subscriber: Subscriber,
    cancel: CancellationToken,
    max: usize,
    linger: Duration,
    handler: H,
) where
    H: Fn(Vec<Arc<Envelope>>) -> Fut + Send + Sync,
    Fut: std::future::Future<Output = Result<(), HandlerError>> + Send,
{
    loop {
        let first = tokio::select! {
            _ = cancel.cancelled() => return,
            next = subscriber.next() => match next {
                Some(d) => d,
                None => return,
            },
        };
        let mut deliveries = vec![first];
        let deadline = tokio::time::Instant::now() + linger;
        while deliveries.len() < max {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match subscriber.next_within(left).await {
                Some(d) => deliveries.push(d),
                None => break,
            }
        }
        let mut batch = Vec::with_capacity(deliveries.len());
        let mut envelopes = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            match delivery.envelope() {
                Ok(e) => {
                    envelopes.push(Arc::new(e));
                    batch.push(delivery);
                }
                Err(e) => settle(delivery, Err(HandlerError::from(e))).await,
            }
        }
        if batch.is_empty() {
            continue;
        }
        match handler(envelopes.clone()).await {
            Ok(()) => {
                futures::future::join_all(batch.into_iter().map(|d| settle(d, Ok(())))).await;
            }
            Err(e) if batch.len() == 1 => {
                if let Some(delivery) = batch.pop() {
                    settle(delivery, Err(e)).await;
                }
            }
            Err(e) => {
                tracing::info!(error = %e, size = batch.len(), "batch failed; handling its messages one by one");
                for (delivery, envelope) in batch.into_iter().zip(envelopes) {
                    let outcome = handler(vec![envelope]).await;
                    settle(delivery, outcome).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_and_are_capped() {
        let policy = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(250),
        };
        assert_eq!(policy.levels(), 3);
        assert_eq!(policy.level_after(1), 0);
        assert_eq!(policy.level_after(3), 2);
        assert_eq!(policy.level_after(9), 2);
        assert_eq!(policy.delay_for_level(0), Duration::from_millis(100));
        assert_eq!(policy.delay_for_level(1), Duration::from_millis(200));
        assert_eq!(policy.delay_for_level(2), Duration::from_millis(250));
    }
}
