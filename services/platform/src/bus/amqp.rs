//! RabbitMQ through lapin.
//!
//! Topology per consumer queue `Q` bound to the topic exchange:
//! - `Q`: durable quorum queue, the consumer's inbox;
//! - `Q.retry.<k>`: durable holding queues with a message TTL of `base × 2^k` whose dead-letter
//!   target is `Q` (through the default exchange), which is how retries are delayed without the
//!   delayed-message plugin;
//! - `Q.dlq`: durable quorum queue holding messages that used up their attempts.
//!
//! Connections are not recovered by lapin on their own: any failure drops the link, the next
//! publish reconnects and re-declares, and each consumer loop re-opens its channel with backoff.

use super::{
    ATTEMPT_HEADER, Bus, BusError, Delivery, ERROR_HEADER, Message, QueueKind, ROUTING_KEY_HEADER,
    RetryPolicy, Settle, Subscriber, Subscription, dead_letter_queue, retry_queue,
};
use crate::config::BusConfig;
use async_trait::async_trait;
use futures::StreamExt;
use lapin::{
    BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions,
        BasicQosOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
        QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable, LongString, ShortString},
};
use secrecy::ExposeSecret;
use std::{collections::BTreeMap, sync::Arc, time::Duration};
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Opening a channel, declaring the topology, starting a consumer: a connection that died
/// without a FIN (or a broker that stopped answering) would otherwise hold these forever, and
/// with them the link's lock every publisher and consumer waits on.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// An ack or nack is written to the socket, not answered; one that takes longer means the
/// socket is stuck, and the delivery will come back once the channel is reopened.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a consumer looks whether its channel is still connected.
const CHANNEL_CHECK: Duration = Duration::from_secs(1);
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);
const PUBLISH_TRIES: u32 = 4;
const MAX_BACKOFF: Duration = Duration::from_secs(5);

fn protocol(err: lapin::Error) -> BusError {
    BusError::Protocol(err.to_string())
}

/// Bounds a broker round trip; running out of time counts as the broker being unreachable.
async fn within<T>(
    limit: Duration,
    what: &str,
    operation: impl std::future::Future<Output = Result<T, BusError>>,
) -> Result<T, BusError> {
    tokio::time::timeout(limit, operation)
        .await
        .map_err(|_| BusError::Unreachable(format!("{what} timed out")))?
}

#[derive(Clone)]
struct Link {
    connection: Arc<Connection>,
    publisher: Channel,
}

impl Link {
    fn usable(&self) -> bool {
        self.connection.status().connected() && self.publisher.status().connected()
    }
}

struct Inner {
    url: String,
    exchange: String,
    prefetch: u16,
    policy: RetryPolicy,
    link: Mutex<Option<Link>>,
}

/// A RabbitMQ-backed [`Bus`]. Cheap to clone.
#[derive(Clone)]
pub struct AmqpBus {
    inner: Arc<Inner>,
}

impl AmqpBus {
    /// Connects once to fail fast on a wrong URL; later outages are survived by reconnecting.
    pub async fn connect(config: &BusConfig) -> Result<Self, BusError> {
        let bus = Self {
            inner: Arc::new(Inner {
                url: config.url.expose_secret().to_owned(),
                exchange: config.exchange.clone(),
                prefetch: config.prefetch,
                policy: RetryPolicy::from_config(config),
                link: Mutex::new(None),
            }),
        };
        bus.inner.link().await?;
        Ok(bus)
    }

    pub fn exchange(&self) -> &str {
        &self.inner.exchange
    }
}

impl Inner {
    async fn link(&self) -> Result<Link, BusError> {
        let mut guard = self.link.lock().await;
        if let Some(link) = guard.as_ref().filter(|l| l.usable()) {
            return Ok(link.clone());
        }
        let link = self.open().await?;
        *guard = Some(link.clone());
        Ok(link)
    }

    async fn forget_link(&self) {
        if let Some(link) = self.link.lock().await.take() {
            // Best effort: the socket may already be gone.
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                link.connection.close(320, "reconnecting".into()),
            )
            .await;
        }
    }

    async fn open(&self) -> Result<Link, BusError> {
        let properties = ConnectionProperties::default()
            .with_connection_name(format!("cafeia-{}", std::process::id()).into());
        let connection =
            tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(&self.url, properties))
                .await
                .map_err(|_| BusError::Unreachable("connection timed out".into()))?
                .map_err(|e| BusError::Unreachable(e.to_string()))?;
        let publisher = within(SETUP_TIMEOUT, "opening the publishing channel", async {
            let publisher = connection.create_channel().await.map_err(protocol)?;
            publisher
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(protocol)?;
            declare_exchange(&publisher, &self.exchange).await?;
            Ok(publisher)
        })
        .await?;
        tracing::info!(exchange = %self.exchange, "connected to RabbitMQ");
        Ok(Link {
            connection: Arc::new(connection),
            publisher,
        })
    }

    /// Publishes with a confirm, reconnecting and retrying a few times on connection loss.
    async fn publish_to(
        &self,
        exchange: &str,
        routing_key: &str,
        message: &Message,
    ) -> Result<(), BusError> {
        let mut last_error = BusError::Unreachable("not attempted".into());
        for attempt in 0..PUBLISH_TRIES {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            let link = match self.link().await {
                Ok(link) => link,
                Err(e) => {
                    last_error = e;
                    continue;
                }
            };
            match publish_once(&link.publisher, exchange, routing_key, message).await {
                Ok(()) => return Ok(()),
                Err(e @ BusError::Refused(_)) => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "publish failed, reconnecting");
                    last_error = e;
                    self.forget_link().await;
                }
            }
        }
        Err(last_error)
    }

    async fn open_consumer(
        &self,
        subscription: &Subscription,
    ) -> Result<(Channel, lapin::Consumer), BusError> {
        let link = self.link().await?;
        within(SETUP_TIMEOUT, "opening the consumer", async {
            let channel = link.connection.create_channel().await.map_err(protocol)?;
            channel
                .basic_qos(self.prefetch, BasicQosOptions::default())
                .await
                .map_err(protocol)?;
            self.declare_topology(&channel, subscription).await?;
            let consumer = channel
                .basic_consume(
                    subscription.queue_name().into(),
                    format!("cafeia-{}", uuid::Uuid::now_v7()).into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(protocol)?;
            Ok((channel, consumer))
        })
        .await
    }

    async fn declare_topology(
        &self,
        channel: &Channel,
        subscription: &Subscription,
    ) -> Result<(), BusError> {
        let queue = &subscription.queue;
        if subscription.kind == QueueKind::Transient {
            declare_exchange(channel, &self.exchange).await?;
            channel
                .queue_declare(
                    queue.as_str().into(),
                    QueueDeclareOptions {
                        exclusive: true,
                        auto_delete: true,
                        ..QueueDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await
                .map_err(protocol)?;
            return self.bind(channel, subscription).await;
        }
        declare_quorum(channel, &dead_letter_queue(queue)).await?;
        if subscription.kind == QueueKind::DeadLetters {
            return Ok(());
        }
        declare_exchange(channel, &self.exchange).await?;
        declare_quorum(channel, queue).await?;
        for level in 0..self.policy.levels() {
            let mut args = FieldTable::default();
            let ttl = self.policy.delay_for_level(level).as_millis();
            args.insert(
                "x-message-ttl".into(),
                AMQPValue::LongLongInt(i64::try_from(ttl).unwrap_or(i64::MAX)),
            );
            args.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString("".into()),
            );
            args.insert(
                "x-dead-letter-routing-key".into(),
                AMQPValue::LongString(queue.as_str().into()),
            );
            channel
                .queue_declare(
                    retry_queue(queue, level).into(),
                    QueueDeclareOptions {
                        durable: true,
                        ..QueueDeclareOptions::default()
                    },
                    args,
                )
                .await
                .map_err(protocol)?;
        }
        self.bind(channel, subscription).await
    }

    async fn bind(&self, channel: &Channel, subscription: &Subscription) -> Result<(), BusError> {
        let queue = &subscription.queue;
        for pattern in &subscription.patterns {
            channel
                .queue_bind(
                    queue.as_str().into(),
                    self.exchange.as_str().into(),
                    pattern.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(protocol)?;
        }
        Ok(())
    }
}

async fn declare_exchange(channel: &Channel, exchange: &str) -> Result<(), BusError> {
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(protocol)
}

async fn declare_quorum(channel: &Channel, queue: &str) -> Result<(), BusError> {
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            args,
        )
        .await
        .map_err(protocol)?;
    Ok(())
}

async fn publish_once(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    message: &Message,
) -> Result<(), BusError> {
    let confirm = send(channel, exchange, routing_key, message).await?;
    confirmed(confirm).await
}

/// Hands the message to the broker; the returned confirm resolves when it has taken it.
async fn send(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    message: &Message,
) -> Result<lapin::PublisherConfirm, BusError> {
    let mut headers = FieldTable::default();
    for (key, value) in &message.headers {
        headers.insert(
            ShortString::from(key.as_str()),
            AMQPValue::LongString(LongString::from(value.as_str())),
        );
    }
    let properties = BasicProperties::default()
        .with_message_id(message.message_id.as_str().into())
        .with_content_type("application/cloudevents+json".into())
        .with_delivery_mode(2)
        .with_headers(headers);
    tokio::time::timeout(
        PUBLISH_TIMEOUT,
        channel.basic_publish(
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            &message.body,
            properties,
        ),
    )
    .await
    .map_err(|_| BusError::Unreachable("the broker did not take the message in time".into()))?
    .map_err(protocol)
}

async fn confirmed(confirm: lapin::PublisherConfirm) -> Result<(), BusError> {
    let confirm = tokio::time::timeout(PUBLISH_TIMEOUT, confirm)
        .await
        .map_err(|_| BusError::Unreachable("no publisher confirm in time".into()))?
        .map_err(protocol)?;
    if confirm.is_ack() {
        Ok(())
    } else {
        Err(BusError::Refused("broker nacked the message".into()))
    }
}

fn to_message(delivery: &lapin::message::Delivery) -> (Message, u32) {
    let mut headers = BTreeMap::new();
    if let Some(table) = delivery.properties.headers() {
        for (key, value) in table.inner() {
            let text = match value {
                AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
                AMQPValue::ShortString(s) => s.as_str().to_owned(),
                AMQPValue::LongLongInt(n) => n.to_string(),
                AMQPValue::LongInt(n) => n.to_string(),
                AMQPValue::LongUInt(n) => n.to_string(),
                _ => continue,
            };
            headers.insert(key.as_str().to_owned(), text);
        }
    }
    let attempt = headers
        .get(ATTEMPT_HEADER)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let routing_key = headers
        .get(ROUTING_KEY_HEADER)
        .cloned()
        .unwrap_or_else(|| delivery.routing_key.as_str().to_owned());
    let message_id = delivery
        .properties
        .message_id()
        .as_ref()
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default();
    (
        Message {
            message_id,
            routing_key,
            body: delivery.data.clone(),
            headers,
        },
        attempt,
    )
}

#[async_trait]
impl Bus for AmqpBus {
    async fn publish(&self, message: &Message) -> Result<(), BusError> {
        self.inner
            .publish_to(&self.inner.exchange, &message.routing_key, message)
            .await
    }

    /// Every message in flight at once, confirms awaited in order: a batch costs about one
    /// round trip to the broker instead of one per message.
    async fn publish_all(&self, messages: &[Message]) -> (usize, Option<BusError>) {
        if messages.is_empty() {
            return (0, None);
        }
        let link = match self.inner.link().await {
            Ok(link) => link,
            Err(e) => return (0, Some(e)),
        };
        let mut confirms = Vec::with_capacity(messages.len());
        let mut failure = None;
        for message in messages {
            match send(
                &link.publisher,
                &self.inner.exchange,
                &message.routing_key,
                message,
            )
            .await
            {
                Ok(confirm) => confirms.push(confirm),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let mut done = 0;
        for confirm in confirms {
            if let Err(e) = confirmed(confirm).await {
                failure = Some(e);
                break;
            }
            done += 1;
        }
        if matches!(
            failure,
            Some(BusError::Unreachable(_) | BusError::Protocol(_))
        ) {
            self.inner.forget_link().await;
        }
        (done, failure)
    }

    async fn subscribe(&self, subscription: Subscription) -> Result<Subscriber, BusError> {
        subscription.validate()?;
        // Declare once up front so a bad subscription fails the caller, not a background loop.
        let (channel, consumer) = self.inner.open_consumer(&subscription).await?;
        let (tx, rx) = mpsc::channel(usize::from(self.inner.prefetch));
        let stop = CancellationToken::new();
        tokio::spawn(pump(
            self.inner.clone(),
            subscription,
            Some((channel, consumer)),
            tx,
            stop.clone(),
        ));
        Ok(Subscriber::new(rx, stop))
    }

    async fn check(&self) -> Result<(), BusError> {
        self.inner.link().await.map(|_| ())
    }

    fn kind(&self) -> &'static str {
        "amqp"
    }
}

/// Keeps one subscription consuming across connection losses.
async fn pump(
    inner: Arc<Inner>,
    subscription: Subscription,
    mut opened: Option<(Channel, lapin::Consumer)>,
    tx: mpsc::Sender<Delivery>,
    stop: CancellationToken,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let current = match opened.take() {
            Some(c) => Ok(c),
            None => inner.open_consumer(&subscription).await,
        };
        match current {
            Ok((channel, mut consumer)) => {
                backoff = Duration::from_millis(100);
                let stuck = CancellationToken::new();
                let finished = forward(
                    &inner,
                    &subscription,
                    (&channel, &mut consumer),
                    &tx,
                    &stop,
                    &stuck,
                )
                .await;
                // Closing the channel hands every unacked delivery back to the queue.
                let _ = tokio::time::timeout(
                    Duration::from_secs(2),
                    channel.close(200, "consumer stopped".into()),
                )
                .await;
                if finished {
                    return;
                }
                tracing::warn!(queue = %subscription.queue, "consumer lost its channel, reconnecting");
            }
            Err(e) => {
                tracing::warn!(queue = %subscription.queue, error = %e, "cannot consume yet");
                if matches!(e, BusError::Unreachable(_)) {
                    // A connection that cannot open a channel in time is no use to anyone.
                    inner.forget_link().await;
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tx.closed() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Forwards deliveries until the subscriber stops (true) or the channel breaks (false): the
/// consumer ends, its channel is no longer connected, or a settlement of one of its deliveries
/// could not reach the broker (`stuck`). The last two are watched as well as the consumer's
/// end because a consumer whose connection died is not always ended by lapin, and one left
/// waiting would stop the subscription for good.
async fn forward(
    inner: &Arc<Inner>,
    subscription: &Subscription,
    (channel, consumer): (&Channel, &mut lapin::Consumer),
    tx: &mpsc::Sender<Delivery>,
    stop: &CancellationToken,
    stuck: &CancellationToken,
) -> bool {
    let mut health = tokio::time::interval(CHANNEL_CHECK);
    health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => return true,
            _ = tx.closed() => return true,
            _ = stuck.cancelled() => {
                tracing::warn!(queue = %subscription.queue, "a settlement timed out");
                return false;
            }
            _ = health.tick() => {
                if channel.status().connected() {
                    continue;
                }
                return false;
            }
            next = consumer.next() => next,
        };
        let raw = match next {
            Some(Ok(raw)) => raw,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "consumer error");
                return false;
            }
            None => return false,
        };
        let (message, attempt) = to_message(&raw);
        let delivery = Delivery::new(
            message,
            attempt,
            raw.redelivered,
            inner.policy,
            Box::new(AmqpSettle {
                acker: raw.acker,
                inner: inner.clone(),
                queue: subscription.queue.clone(),
                stuck: stuck.clone(),
            }),
        );
        tokio::select! {
            _ = stop.cancelled() => return true,
            _ = stuck.cancelled() => return false,
            sent = tx.send(delivery) => if sent.is_err() { return true },
        }
    }
}

struct AmqpSettle {
    acker: lapin::Acker,
    inner: Arc<Inner>,
    queue: String,
    /// Cancelled when a settlement times out, so that the pump reopens the channel.
    stuck: CancellationToken,
}

impl AmqpSettle {
    async fn bounded(
        &self,
        operation: impl std::future::Future<Output = lapin::Result<bool>>,
    ) -> Result<(), BusError> {
        let result = within(SETTLE_TIMEOUT, "settling a delivery", async {
            operation.await.map(|_| ()).map_err(protocol)
        })
        .await;
        if matches!(result, Err(BusError::Unreachable(_))) {
            self.stuck.cancel();
        }
        result
    }
}

#[async_trait]
impl Settle for AmqpSettle {
    async fn ack(&mut self) -> Result<(), BusError> {
        self.bounded(self.acker.ack(BasicAckOptions::default()))
            .await
    }

    async fn requeue(&mut self) -> Result<(), BusError> {
        self.bounded(self.acker.nack(BasicNackOptions {
            requeue: true,
            ..BasicNackOptions::default()
        }))
        .await
    }

    async fn retry_later(
        &mut self,
        message: &Message,
        next_attempt: u32,
        level: u32,
    ) -> Result<(), BusError> {
        let mut message = message.clone();
        message
            .headers
            .insert(ATTEMPT_HEADER.into(), next_attempt.to_string());
        message
            .headers
            .insert(ROUTING_KEY_HEADER.into(), message.routing_key.clone());
        // Publish the copy first, then ack: a crash in between duplicates, never loses.
        self.inner
            .publish_to("", &retry_queue(&self.queue, level), &message)
            .await?;
        self.ack().await
    }

    async fn dead_letter(&mut self, message: &Message, reason: &str) -> Result<(), BusError> {
        let mut message = message.clone();
        message.headers.insert(ERROR_HEADER.into(), reason.into());
        message
            .headers
            .insert(ROUTING_KEY_HEADER.into(), message.routing_key.clone());
        self.inner
            .publish_to("", &dead_letter_queue(&self.queue), &message)
            .await?;
        self.ack().await
    }

    fn abandon(&mut self) {
        let acker = self.acker.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let nack = acker.nack(BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                });
                let _ = tokio::time::timeout(SETTLE_TIMEOUT, nack).await;
            });
        }
    }
}
