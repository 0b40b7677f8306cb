//! The in-process broker of embedded mode: topic bindings, durable-for-the-process queues,
//! bounded prefetch, redelivery of unacknowledged messages when a consumer goes away, delayed
//! retries and a dead-letter queue — the same behaviour the RabbitMQ implementation has.

use super::{
    ATTEMPT_HEADER, Bus, BusError, Delivery, ERROR_HEADER, Message, QueueKind, RetryPolicy, Settle,
    Subscriber, Subscription, dead_letter_queue, topic,
};
use async_trait::async_trait;
use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug)]
struct Stored {
    message: Message,
    attempt: u32,
    redelivered: bool,
}

#[derive(Default)]
struct Queue {
    items: Mutex<VecDeque<Stored>>,
    notify: Notify,
}

impl Queue {
    fn items(&self) -> MutexGuard<'_, VecDeque<Stored>> {
        // A panic while holding this lock cannot leave the deque half-updated.
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push_back(&self, item: Stored) {
        self.items().push_back(item);
        self.notify.notify_one();
    }

    fn push_front(&self, item: Stored) {
        self.items().push_front(item);
        self.notify.notify_one();
    }
}

#[derive(Default)]
struct State {
    bindings: Vec<(String, String)>,
    queues: HashMap<String, Arc<Queue>>,
}

/// Cheap to clone; clones share the same broker.
#[derive(Clone)]
pub struct MemoryBus {
    state: Arc<Mutex<State>>,
    policy: RetryPolicy,
    prefetch: usize,
}

impl MemoryBus {
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            state: Arc::default(),
            policy,
            prefetch: 32,
        }
    }

    pub fn with_prefetch(mut self, prefetch: usize) -> Self {
        self.prefetch = prefetch.max(1);
        self
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn queue(&self, name: &str) -> Arc<Queue> {
        self.state()
            .queues
            .entry(name.to_owned())
            .or_default()
            .clone()
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, message: &Message) -> Result<(), BusError> {
        let targets: Vec<Arc<Queue>> = {
            let state = self.state();
            let mut names: Vec<&String> = state
                .bindings
                .iter()
                .filter(|(pattern, _)| topic::matches(pattern, &message.routing_key))
                .map(|(_, queue)| queue)
                .collect();
            names.sort();
            names.dedup();
            names
                .into_iter()
                .filter_map(|n| state.queues.get(n).cloned())
                .collect()
        };
        for queue in targets {
            queue.push_back(Stored {
                message: message.clone(),
                attempt: 1,
                redelivered: false,
            });
        }
        Ok(())
    }

    async fn subscribe(&self, subscription: Subscription) -> Result<Subscriber, BusError> {
        subscription.validate()?;
        let name = subscription.queue_name();
        let queue = self.queue(&name);
        let dead_letters = self.queue(&dead_letter_queue(&subscription.queue));
        if subscription.kind != QueueKind::DeadLetters {
            let mut state = self.state();
            for pattern in &subscription.patterns {
                let binding = (pattern.clone(), name.clone());
                if !state.bindings.contains(&binding) {
                    state.bindings.push(binding);
                }
            }
        }
        let (tx, rx) = mpsc::channel(self.prefetch);
        let stop = CancellationToken::new();
        let pump = Pump {
            queue,
            dead_letters,
            policy: self.policy,
            credit: Arc::new(Semaphore::new(self.prefetch)),
            unacked: Arc::default(),
            next_tag: 0,
        };
        tokio::spawn(pump.run(tx, stop.clone()));
        Ok(Subscriber::new(rx, stop))
    }

    async fn check(&self) -> Result<(), BusError> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }

    fn outlives_process(&self) -> bool {
        false
    }
}

type Unacked = Arc<Mutex<HashMap<u64, Stored>>>;

fn lock(unacked: &Unacked) -> MutexGuard<'_, HashMap<u64, Stored>> {
    unacked.lock().unwrap_or_else(|e| e.into_inner())
}

/// Moves messages from a queue to one subscriber, at most `prefetch` unsettled at a time.
struct Pump {
    queue: Arc<Queue>,
    dead_letters: Arc<Queue>,
    policy: RetryPolicy,
    credit: Arc<Semaphore>,
    unacked: Unacked,
    next_tag: u64,
}

impl Pump {
    async fn run(mut self, tx: mpsc::Sender<Delivery>, stop: CancellationToken) {
        loop {
            let permit = tokio::select! {
                _ = stop.cancelled() => break,
                _ = tx.closed() => break,
                permit = self.credit.clone().acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let item = loop {
                let notified = self.queue.notify.notified();
                if let Some(item) = self.queue.items().pop_front() {
                    break Some(item);
                }
                tokio::select! {
                    _ = stop.cancelled() => break None,
                    _ = tx.closed() => break None,
                    _ = notified => {}
                }
            };
            let Some(item) = item else { break };
            self.next_tag += 1;
            let tag = self.next_tag;
            lock(&self.unacked).insert(tag, item.clone());
            let delivery = Delivery::new(
                item.message,
                item.attempt,
                item.redelivered,
                self.policy,
                Box::new(MemorySettle {
                    tag,
                    queue: self.queue.clone(),
                    dead_letters: self.dead_letters.clone(),
                    unacked: self.unacked.clone(),
                    policy: self.policy,
                    _permit: permit,
                }),
            );
            if tx.send(delivery).await.is_err() {
                break;
            }
        }
        // Like a closed AMQP channel: whatever this consumer held unacknowledged goes back.
        let mut held: Vec<(u64, Stored)> = lock(&self.unacked).drain().collect();
        held.sort_by_key(|(tag, _)| std::cmp::Reverse(*tag));
        for (_, mut item) in held {
            item.redelivered = true;
            self.queue.push_front(item);
        }
    }
}

struct MemorySettle {
    tag: u64,
    queue: Arc<Queue>,
    dead_letters: Arc<Queue>,
    unacked: Unacked,
    policy: RetryPolicy,
    _permit: OwnedSemaphorePermit,
}

impl MemorySettle {
    /// Takes the message out of the unacked set; `None` if the consumer already gave it back.
    fn settle(&mut self) -> Option<Stored> {
        lock(&self.unacked).remove(&self.tag)
    }
}

#[async_trait]
impl Settle for MemorySettle {
    async fn ack(&mut self) -> Result<(), BusError> {
        self.settle();
        Ok(())
    }

    async fn requeue(&mut self) -> Result<(), BusError> {
        self.abandon();
        Ok(())
    }

    async fn retry_later(
        &mut self,
        message: &Message,
        next_attempt: u32,
        level: u32,
    ) -> Result<(), BusError> {
        if self.settle().is_none() {
            return Ok(());
        }
        let mut message = message.clone();
        message
            .headers
            .insert(ATTEMPT_HEADER.into(), next_attempt.to_string());
        let delay = self.policy.delay_for_level(level);
        let queue = self.queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.push_back(Stored {
                message,
                attempt: next_attempt,
                redelivered: false,
            });
        });
        Ok(())
    }

    async fn dead_letter(&mut self, message: &Message, reason: &str) -> Result<(), BusError> {
        let Some(stored) = self.settle() else {
            return Ok(());
        };
        let mut message = message.clone();
        message.headers.insert(ERROR_HEADER.into(), reason.into());
        self.dead_letters.push_back(Stored {
            message,
            attempt: stored.attempt,
            redelivered: false,
        });
        Ok(())
    }

    fn abandon(&mut self) {
        if let Some(mut item) = self.settle() {
            item.redelivered = true;
            self.queue.push_front(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn bus() -> MemoryBus {
        MemoryBus::new(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        })
    }

    fn msg(key: &str, id: &str) -> Message {
        Message {
            message_id: id.into(),
            routing_key: key.into(),
            body: b"{}".to_vec(),
            headers: Default::default(),
        }
    }

    #[tokio::test]
    async fn unbound_routing_keys_reach_no_queue() {
        let bus = bus();
        let mut sub = bus
            .subscribe(Subscription::new("q", &["a.b.*"]))
            .await
            .expect("subscribe");
        bus.publish(&msg("x.y.z", "1")).await.expect("publish");
        assert!(sub.next_within(Duration::from_millis(50)).await.is_none());
    }

    #[tokio::test]
    async fn prefetch_bounds_unsettled_deliveries() {
        let bus = bus().with_prefetch(2);
        let mut sub = bus
            .subscribe(Subscription::new("q", &["k"]))
            .await
            .expect("subscribe");
        for i in 0..5 {
            bus.publish(&msg("k", &i.to_string()))
                .await
                .expect("publish");
        }
        let a = sub
            .next_within(Duration::from_secs(1))
            .await
            .expect("first");
        let _b = sub
            .next_within(Duration::from_secs(1))
            .await
            .expect("second");
        assert!(sub.next_within(Duration::from_millis(50)).await.is_none());
        a.ack().await.expect("ack");
        assert!(sub.next_within(Duration::from_secs(1)).await.is_some());
    }
}
