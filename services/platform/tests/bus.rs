//! The bus contract, run on the in-process broker and on RabbitMQ.

use cafeia_platform::bus::{
    self, Bus, ERROR_HEADER, FailOutcome, HandlerError, Message, RetryPolicy, Subscription,
};
use cafeia_testkit::{Backend, TcpProxy, TestEnv, backend_matrix};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

async fn bus_for(env: &TestEnv) -> Arc<dyn Bus> {
    bus::connect(&env.config.bus).await.expect("bus connects")
}

fn message(routing_key: &str) -> Message {
    Message {
        message_id: uuid::Uuid::now_v7().to_string(),
        routing_key: routing_key.to_owned(),
        body: br#"{"hello":"monde"}"#.to_vec(),
        headers: Default::default(),
    }
}

async fn fan_out_by_topic(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let bus = bus_for(&env).await;
    let mut sessions = bus
        .subscribe(Subscription::new(
            env.queue("matching"),
            &["events.session.*"],
        ))
        .await
        .expect("subscribe matching");
    let mut everything = bus
        .subscribe(Subscription::new(env.queue("outreach"), &["events.#"]))
        .await
        .expect("subscribe outreach");
    let mut other = bus
        .subscribe(Subscription::new(env.queue("other"), &["facilitators.#"]))
        .await
        .expect("subscribe other");

    let sent = message("events.session.published");
    bus.publish(&sent).await.expect("publish is confirmed");

    for sub in [&mut sessions, &mut everything] {
        let got = sub.next_within(WAIT).await.expect("delivered by topic");
        assert_eq!(got.message.message_id, sent.message_id);
        assert_eq!(got.message.routing_key, "events.session.published");
        assert_eq!(got.message.body, sent.body);
        assert_eq!(got.attempt, 1);
        got.ack().await.expect("ack");
    }
    assert!(
        other
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "a queue bound to another topic must not receive it"
    );
}

async fn unacked_message_is_redelivered_after_consumer_dies(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let bus = bus_for(&env).await;
    let queue = env.queue("events-consumer");
    let mut first = bus
        .subscribe(Subscription::new(queue.clone(), &["events.#"]))
        .await
        .expect("subscribe");
    let sent = message("events.session.cancelled");
    bus.publish(&sent).await.expect("publish");
    let got = first.next_within(WAIT).await.expect("first delivery");
    assert_eq!(got.message.message_id, sent.message_id);
    // The consumer crashes: no ack, no nack, its channel goes away.
    std::mem::forget(got);
    drop(first);

    let mut second = bus
        .subscribe(Subscription::new(queue, &["events.#"]))
        .await
        .expect("resubscribe");
    let again = second.next_within(WAIT).await.expect("redelivered");
    assert_eq!(again.message.message_id, sent.message_id);
    assert!(again.redelivered, "broker marks it as redelivered");
    again.ack().await.expect("ack");
    assert!(
        second
            .next_within(Duration::from_millis(300))
            .await
            .is_none()
    );
}

async fn failing_handler_dead_letters_after_max_attempts(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let bus = bus_for(&env).await;
    let max_attempts = env.config.bus.max_attempts;
    let queue = env.queue("always-fails");
    let subscriber = bus
        .subscribe(Subscription::new(queue.clone(), &["catalogue.training.*"]))
        .await
        .expect("subscribe");
    let calls = Arc::new(AtomicU32::new(0));
    let cancel = CancellationToken::new();
    let counted = calls.clone();
    let consumer = tokio::spawn(bus::consume(subscriber, cancel.clone(), move |_, _| {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            Err(HandlerError::Transient("la base est indisponible".into()))
        }
    }));
    let mut dead = bus
        .subscribe(Subscription::dead_letters_of(queue))
        .await
        .expect("subscribe to dead letters");

    let envelope = cafeia_platform::envelope::Envelope::new(
        cafeia_platform::envelope::MessageType::new("catalogue", "training", "published", 1),
        "training/1",
        serde_json::json!({"id": 1}),
    );
    let sent = Message::event("catalogue.training.published", &envelope).expect("message");
    bus.publish(&sent).await.expect("publish");

    let dead_letter = dead
        .next_within(Duration::from_secs(20))
        .await
        .expect("dead-lettered");
    assert_eq!(dead_letter.message.message_id, sent.message_id);
    assert_eq!(
        dead_letter.message.routing_key,
        "catalogue.training.published"
    );
    assert_eq!(
        dead_letter
            .message
            .headers
            .get(ERROR_HEADER)
            .map(String::as_str),
        Some("la base est indisponible")
    );
    assert_eq!(dead_letter.attempt, max_attempts);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        max_attempts,
        "one handler call per attempt"
    );
    dead_letter.ack().await.expect("ack");
    cancel.cancel();
    consumer.await.expect("consumer stops");
}

async fn fail_schedules_growing_delays(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let bus = bus_for(&env).await;
    let policy = RetryPolicy::from_config(&env.config.bus);
    let mut sub = bus
        .subscribe(Subscription::new(env.queue("retry"), &["x.y.z"]))
        .await
        .expect("subscribe");
    bus.publish(&message("x.y.z")).await.expect("publish");
    let first = sub.next_within(WAIT).await.expect("first");
    let started = tokio::time::Instant::now();
    let outcome = first.fail("not yet").await.expect("fail");
    assert_eq!(
        outcome,
        FailOutcome::RetryScheduled {
            next_attempt: 2,
            delay: policy.delay_for_level(0)
        }
    );
    let second = sub.next_within(WAIT).await.expect("retried");
    assert_eq!(second.attempt, 2);
    assert!(
        started.elapsed() >= policy.delay_for_level(0),
        "the retry waited its delay"
    );
    second.ack().await.expect("ack");
}

async fn malformed_message_is_dead_lettered_at_once(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let bus = bus_for(&env).await;
    let queue = env.queue("strict");
    let subscriber = bus
        .subscribe(Subscription::new(queue.clone(), &["a.b.c"]))
        .await
        .expect("subscribe");
    let calls = Arc::new(AtomicU32::new(0));
    let counted = calls.clone();
    let cancel = CancellationToken::new();
    let consumer = tokio::spawn(bus::consume(subscriber, cancel.clone(), move |_, _| {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Ok(()) }
    }));
    let mut dead = bus
        .subscribe(Subscription::dead_letters_of(queue))
        .await
        .expect("dead letters");
    let mut poison = message("a.b.c");
    poison.body = b"not json".to_vec();
    bus.publish(&poison).await.expect("publish");
    let got = dead.next_within(WAIT).await.expect("dead-lettered");
    assert_eq!(got.message.message_id, poison.message_id);
    assert_eq!(
        got.attempt, 1,
        "no retries for a message that can never succeed"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "handler never sees malformed JSON"
    );
    got.ack().await.expect("ack");
    cancel.cancel();
    consumer.await.expect("stops");
}

backend_matrix!(
    fan_out_by_topic,
    unacked_message_is_redelivered_after_consumer_dies,
    failing_handler_dead_letters_after_max_attempts,
    fail_schedules_growing_delays,
    malformed_message_is_dead_lettered_at_once,
);

/// Connection drops only exist with a real broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_publishing_survives_a_connection_drop() {
    let env = TestEnv::new(Backend::Real).await;
    let direct = bus_for(&env).await;
    let mut sub = direct
        .subscribe(Subscription::new(env.queue("survivor"), &["events.#"]))
        .await
        .expect("subscribe");

    let ends = cafeia_testkit::endpoints().await;
    let target = amqp_host_port(&ends.amqp);
    let proxy = TcpProxy::start(&target).await;
    let proxied = bus::connect(&env.config_with_bus(&proxy.url_for(&ends.amqp)).bus)
        .await
        .expect("connect through proxy");

    let before = message("events.session.published");
    proxied
        .publish(&before)
        .await
        .expect("publish before the drop");
    proxy.drop_connections();
    let after = message("events.session.updated");
    proxied
        .publish(&after)
        .await
        .expect("publish reconnects after the drop");

    let mut seen = Vec::new();
    for _ in 0..2 {
        let got = sub.next_within(WAIT).await.expect("delivered");
        seen.push(got.message.message_id.clone());
        got.ack().await.expect("ack");
    }
    assert!(seen.contains(&before.message_id));
    assert!(seen.contains(&after.message_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_consumer_resumes_after_a_connection_drop() {
    let env = TestEnv::new(Backend::Real).await;
    let direct = bus_for(&env).await;
    let ends = cafeia_testkit::endpoints().await;
    let proxy = TcpProxy::start(&amqp_host_port(&ends.amqp)).await;
    let proxied = bus::connect(&env.config_with_bus(&proxy.url_for(&ends.amqp)).bus)
        .await
        .expect("connect through proxy");
    let mut sub = proxied
        .subscribe(Subscription::new(env.queue("resilient"), &["events.#"]))
        .await
        .expect("subscribe through proxy");
    proxy.drop_connections();
    let sent = message("events.session.published");
    direct.publish(&sent).await.expect("publish");
    let got = sub
        .next_within(Duration::from_secs(20))
        .await
        .expect("consumer reconnected and received");
    assert_eq!(got.message.message_id, sent.message_id);
    got.ack().await.expect("ack");
}

fn amqp_host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, hp)| hp)
        .to_owned()
}
