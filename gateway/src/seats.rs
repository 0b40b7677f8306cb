//! Live seat counts for GraphQL subscriptions. Every gateway replica listens to
//! `events.seats.changed` on its own transient queue (so each replica hears every change,
//! whichever replica a subscriber is connected to) and fans the updates out in process.

use cafeia_events_api::messages::{SEATS_CHANGED, SeatsChanged};
use cafeia_platform::bus::{Bus, BusError, Subscription};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Clone)]
pub struct SeatsHub {
    tx: broadcast::Sender<SeatsChanged>,
}

impl SeatsHub {
    /// Starts listening; stops when `stop` fires.
    pub async fn start(
        bus: Arc<dyn Bus>,
        queue_prefix: &str,
        stop: CancellationToken,
    ) -> Result<Self, BusError> {
        let queue = format!("{queue_prefix}gateway.seats.{}", Uuid::now_v7().simple());
        let routing_key = SEATS_CHANGED.routing_key();
        let mut subscriber = bus
            .subscribe(Subscription::transient(queue, &[routing_key.as_str()]))
            .await?;
        // A slow subscriber skips to the newest counts rather than holding the others back.
        let (tx, _) = broadcast::channel(4_096);
        let hub = Self { tx: tx.clone() };
        tokio::spawn(async move {
            loop {
                let delivery = tokio::select! {
                    _ = stop.cancelled() => return,
                    d = subscriber.next() => match d { Some(d) => d, None => return },
                };
                #[derive(Deserialize)]
                struct Body {
                    data: SeatsChanged,
                }
                match serde_json::from_slice::<Body>(&delivery.message.body) {
                    Ok(body) => {
                        let _ = tx.send(body.data);
                    }
                    Err(e) => tracing::warn!(error = %e, "malformed seats.changed ignored"),
                }
                let _ = delivery.ack().await;
            }
        });
        Ok(hub)
    }

    pub fn watch(&self) -> broadcast::Receiver<SeatsChanged> {
        self.tx.subscribe()
    }
}

/// The counts of session `first.session_id`: `first`, then each change heard on `updates`
/// that is newer than the last sent. Messages are retried and redelivered out of order, so an
/// older count arriving late is dropped rather than shown over a newer one (each subscriber
/// keeps its own mark: a hub-wide map would grow with every session ever announced).
pub fn follow(
    first: SeatsChanged,
    updates: broadcast::Receiver<SeatsChanged>,
) -> impl Stream<Item = SeatsChanged> + Send + 'static {
    let id = first.session_id;
    let changes = futures::stream::unfold(
        (updates, first.revision),
        move |(mut rx, mut last)| async move {
            loop {
                match rx.recv().await {
                    // Counts without a revision (sent before revisions) go out as they come.
                    Ok(seats)
                        if seats.session_id == id
                            && (seats.revision == 0 || seats.revision > last) =>
                    {
                        last = last.max(seats.revision);
                        return Some((seats, (rx, last)));
                    }
                    // Another session, counts no newer than those sent, or this subscriber
                    // fell behind: the next change carries the full counts anyway.
                    Ok(_) | Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    futures::stream::once(async move { first }).chain(changes)
}
