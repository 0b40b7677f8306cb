//! The live seat counts of the `seats` subscription, fed from `events.seats.changed` on both
//! backend sets: messages retried or redelivered out of order never show older counts over
//! newer ones.

use cafeia_events_api::messages::{SEATS_CHANGED, SeatsChanged};
use cafeia_gateway::seats::{self, SeatsHub};
use cafeia_platform::{
    bus::{self, Message},
    envelope::Envelope,
};
use cafeia_testkit::{Backend, TestEnv, backend_matrix};
use futures::StreamExt;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn counts(session_id: Uuid, arrivals: i64, confirmed: i32) -> SeatsChanged {
    SeatsChanged {
        session_id,
        capacity: Some(20),
        confirmed,
        waitlisted: 0,
        seats_left: Some(20 - confirmed),
        revision: SeatsChanged::revision_of(2, arrivals, confirmed, 0),
    }
}

async fn older_seats_changed_does_not_overwrite_newer_in_subscription(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let bus = bus::connect(&env.config.bus).await.expect("bus");
    let stop = CancellationToken::new();
    let hub = SeatsHub::start(bus.clone(), &env.config.bus.queue_prefix, stop.clone())
        .await
        .expect("hub");
    let id = Uuid::now_v7();
    // What the subscription reads first: the session as it stands at revision 2.
    let first = SeatsChanged {
        revision: SeatsChanged::revision_floor(2),
        ..counts(id, 0, 0)
    };
    let mut stream = Box::pin(seats::follow(first.clone(), hub.watch()));
    let send = |seats: SeatsChanged| {
        let bus = bus.clone();
        async move {
            let envelope = Envelope::new(SEATS_CHANGED, format!("session/{id}"), seats);
            let message = Message::event(SEATS_CHANGED.routing_key(), &envelope).expect("message");
            bus.publish(&message).await.expect("published");
        }
    };
    let older_state = SeatsChanged {
        revision: SeatsChanged::revision_of(1, 40, 20, 0),
        ..counts(id, 40, 20)
    };
    let (newer, older, newest) = (counts(id, 5, 5), counts(id, 2, 2), counts(id, 6, 6));
    for seats in [
        older_state,
        newer.clone(),
        older,
        newer.clone(),
        newest.clone(),
    ] {
        send(seats).await;
    }
    let mut seen = Vec::new();
    for _ in 0..3 {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("a count within 10 s")
            .expect("the stream goes on");
        seen.push(next);
    }
    // The counts of an older revision of the session, the older count delivered after the
    // newer one and the newer one delivered again are all dropped.
    assert_eq!(seen, vec![first, newer, newest]);
    stop.cancel();
}

backend_matrix!(older_seats_changed_does_not_overwrite_newer_in_subscription);
