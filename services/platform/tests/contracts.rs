//! What the platform publishes conforms to the envelope contract in `schema/events/`.

use cafeia_platform::{
    bus::{self, Subscription},
    envelope::{Envelope, MessageType},
    telemetry::{RequestContext, scope},
};
use cafeia_testkit::{Backend, TestEnv, backend_matrix, contracts};
use std::time::Duration;

const KIND: MessageType = MessageType::new("events", "session", "published", 1);

async fn published_envelopes_match_the_contract(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let bus = bus::connect(&env.config.bus).await.expect("bus");
    let mut sub = bus
        .subscribe(Subscription::new(env.queue("contract"), &["events.#"]))
        .await
        .expect("subscribe");
    let ctx = RequestContext::from_headers(
        Some("req-42"),
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        None,
    );
    let message = scope(ctx, async {
        let envelope = Envelope::new(KIND, "session/1", serde_json::json!({"title": "Café IA"}));
        bus::Message::event(KIND.routing_key(), &envelope).expect("message")
    })
    .await;
    bus.publish(&message).await.expect("publish");
    let got = sub
        .next_within(Duration::from_secs(10))
        .await
        .expect("delivered");
    contracts::validate(&got.message.body, false).expect("envelope conforms");
    let envelope = got.envelope().expect("parses");
    let traceparent = envelope
        .traceparent
        .as_deref()
        .expect("trace context travels");
    assert!(traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    assert_eq!(
        got.message.headers.get("traceparent").map(String::as_str),
        Some(traceparent)
    );
    assert_eq!(
        got.message.headers.get("x-request-id").map(String::as_str),
        Some("req-42")
    );
    got.ack().await.expect("ack");
}

backend_matrix!(published_envelopes_match_the_contract);

#[test]
fn the_contract_rejects_a_broken_envelope() {
    let bad = serde_json::json!({
        "specversion": "0.3",
        "id": "not-a-uuid",
        "source": "/cafeia/events",
        "type": "session.published",
        "time": "yesterday",
        "datacontenttype": "application/json",
        "data": {}
    });
    let err = contracts::validate(bad.to_string().as_bytes(), false).expect_err("must fail");
    for field in ["/specversion", "/id", "/type", "/time"] {
        assert!(err.contains(field), "{field} not reported in {err}");
    }
}
