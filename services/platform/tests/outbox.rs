//! Transactional outbox and idempotent consumer, on SQLite and PostgreSQL.

use cafeia_platform::{
    bus::{self, Bus, HandlerError, Subscription},
    db,
    envelope::{Envelope, MessageType},
    inbox::{self, Outcome},
    outbox::{self, Relay},
};
use cafeia_testkit::{Backend, TcpProxy, TestEnv, backend_matrix};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use std::{sync::Arc, time::Duration};

const PUBLISHED: MessageType = MessageType::new("events", "session", "published", 1);
const WAIT: Duration = Duration::from_secs(10);

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
        db::platform_migrations()
    }
}

/// A database with the platform tables and a counter the tests' effects increment.
async fn database(env: &TestEnv) -> DatabaseConnection {
    let conn = db::connect(&env.database_url(), 5).await.expect("database");
    Migrator::up(&conn, None).await.expect("migrations");
    conn.execute_unprepared(
        "CREATE TABLE effect_counter (name VARCHAR(50) PRIMARY KEY, hits INTEGER NOT NULL)",
    )
    .await
    .expect("counter table");
    conn.execute_unprepared("INSERT INTO effect_counter (name, hits) VALUES ('seats', 0)")
        .await
        .expect("counter row");
    conn
}

async fn hits(conn: &impl ConnectionTrait) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT hits FROM effect_counter WHERE name = 'seats'",
        ))
        .await
        .expect("query")
        .expect("row");
    let hits: i32 = row.try_get("", "hits").expect("hits");
    i64::from(hits)
}

async fn bump(txn: &sea_orm::DatabaseTransaction) -> Result<(), HandlerError> {
    txn.execute_unprepared("UPDATE effect_counter SET hits = hits + 1 WHERE name = 'seats'")
        .await?;
    Ok(())
}

fn envelope(n: u32) -> Envelope<serde_json::Value> {
    Envelope::new(
        PUBLISHED,
        format!("session/{n}"),
        serde_json::json!({ "n": n }),
    )
}

async fn rolled_back_transaction_publishes_nothing(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let conn = database(&env).await;
    let bus = bus::connect(&env.config.bus).await.expect("bus");
    let mut sub = bus
        .subscribe(Subscription::new(env.queue("watch"), &["events.#"]))
        .await
        .expect("subscribe");

    let txn = conn.begin().await.expect("begin");
    outbox::enqueue(&txn, PUBLISHED, &envelope(1))
        .await
        .expect("enqueue");
    txn.rollback().await.expect("rollback");

    let committed = envelope(2);
    let txn = conn.begin().await.expect("begin");
    outbox::enqueue(&txn, PUBLISHED, &committed)
        .await
        .expect("enqueue");
    txn.commit().await.expect("commit");

    let relay = Relay::new(conn.clone(), bus.clone(), outbox::Waker::default());
    assert_eq!(relay.publish_pending().await.expect("relay"), 1);
    let got = sub
        .next_within(WAIT)
        .await
        .expect("committed message arrives");
    assert_eq!(got.message.message_id, committed.id.to_string());
    assert_eq!(got.message.routing_key, "events.session.published");
    got.ack().await.expect("ack");
    assert!(
        sub.next_within(Duration::from_millis(300)).await.is_none(),
        "rolled-back one never sent"
    );
    assert_eq!(outbox::pending_count(&conn).await.expect("count"), 0);
}

/// A batch goes out with every message in flight at once: all confirmed, delivered in the
/// order written, none left pending.
async fn a_batch_is_published_whole_and_in_order(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let conn = database(&env).await;
    let bus = bus::connect(&env.config.bus).await.expect("bus");
    let mut sub = bus
        .subscribe(Subscription::new(env.queue("batch"), &["events.#"]))
        .await
        .expect("subscribe");
    let written: Vec<_> = (0..150).map(|n| (PUBLISHED, envelope(n))).collect();
    outbox::enqueue_many(&conn, &written)
        .await
        .expect("enqueue");
    let relay = Relay::new(conn.clone(), bus.clone(), outbox::Waker::default());
    assert_eq!(relay.publish_pending().await.expect("relay"), 150);
    for (_, sent) in &written {
        let got = sub.next_within(WAIT).await.expect("delivered");
        assert_eq!(got.message.message_id, sent.id.to_string());
        got.ack().await.expect("ack");
    }
    assert_eq!(outbox::pending_count(&conn).await.expect("count"), 0);
}

/// A write transaction that reads before it writes, while another connection writes: both
/// succeed, one after the other (on SQLite a deferred transaction would be refused "busy" at
/// its first write, whatever the busy timeout).
async fn a_write_transaction_that_reads_first_is_not_refused(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let conn = database(&env).await;
    let txn = db::begin(&conn).await.expect("begin");
    assert_eq!(hits(&txn).await, 0);
    let other = conn.clone();
    let concurrent = tokio::spawn(async move {
        other
            .execute_unprepared("UPDATE effect_counter SET hits = hits + 1 WHERE name = 'seats'")
            .await
    });
    // Let the other writer reach the database first.
    tokio::time::sleep(Duration::from_millis(200)).await;
    txn.execute_unprepared("UPDATE effect_counter SET hits = hits + 10 WHERE name = 'seats'")
        .await
        .expect("the transaction that read first may write");
    txn.commit().await.expect("commit");
    concurrent
        .await
        .expect("task")
        .expect("the other writer waited its turn");
    assert_eq!(hits(&conn).await, 11);
}

async fn messages_survive_a_process_restart(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let conn = database(&env).await;
    let sent = envelope(3);
    outbox::enqueue(&conn, PUBLISHED, &sent)
        .await
        .expect("enqueue");
    // The process stops before its relay ran.
    conn.close().await.expect("close");

    let conn = db::connect(&env.database_url(), 5).await.expect("reopen");
    let bus = bus::connect(&env.config.bus).await.expect("bus");
    let mut sub = bus
        .subscribe(Subscription::new(env.queue("after-restart"), &["events.#"]))
        .await
        .expect("subscribe");
    let cancel = tokio_util::sync::CancellationToken::new();
    let relay = tokio::spawn(
        Relay::new(conn.clone(), bus.clone(), outbox::Waker::default()).run(cancel.clone()),
    );
    let got = sub
        .next_within(WAIT)
        .await
        .expect("delivered after restart");
    assert_eq!(got.message.message_id, sent.id.to_string());
    got.ack().await.expect("ack");
    cancel.cancel();
    relay.await.expect("relay stops");
}

/// The in-process broker dies with the process, and the messages it held with it: sent and
/// marked, maybe not yet handled. The next process's relay sends them again (consumers'
/// inboxes absorb those handled already); RabbitMQ keeps what it took, so nothing is resent.
async fn what_a_broker_lost_with_the_process_is_sent_again(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let conn = database(&env).await;
    let sent = [envelope(5), envelope(6)];
    for e in &sent {
        outbox::enqueue(&conn, PUBLISHED, e).await.expect("enqueue");
    }
    let first = bus::connect(&env.config.bus).await.expect("bus");
    let relay = Relay::new(conn.clone(), first.clone(), outbox::Waker::default());
    assert_eq!(relay.publish_pending().await.expect("published"), 2);
    assert_eq!(outbox::pending_count(&conn).await.expect("pending"), 0);
    // Sent while no consumer's queue was bound: the broker kept nothing of them.
    drop(first);

    let bus = bus::connect(&env.config.bus)
        .await
        .expect("bus after restart");
    let mut sub = bus
        .subscribe(Subscription::new(env.queue("replayed"), &["events.#"]))
        .await
        .expect("subscribe");
    let cancel = tokio_util::sync::CancellationToken::new();
    let mut relay = Relay::new(conn.clone(), bus.clone(), outbox::Waker::default());
    // One row a page: the replay's paging is exercised too.
    relay.batch_size = 1;
    let relay = tokio::spawn(relay.run(cancel.clone()));
    let mut got = Vec::new();
    while let Some(delivery) = sub.next_within(Duration::from_secs(2)).await {
        got.push(delivery.message.message_id.clone());
        delivery.ack().await.expect("ack");
    }
    cancel.cancel();
    relay.await.expect("relay stops");
    let expected: Vec<String> = if bus.outlives_process() {
        Vec::new()
    } else {
        sent.iter().map(|e| e.id.to_string()).collect()
    };
    assert_eq!(got, expected, "{} broker", bus.kind());
    assert_eq!(outbox::pending_count(&conn).await.expect("pending"), 0);
}

async fn duplicate_delivery_has_one_effect(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let conn = database(&env).await;
    let bus = bus::connect(&env.config.bus).await.expect("bus");
    let mut sub = bus
        .subscribe(Subscription::new(env.queue("seats"), &["events.#"]))
        .await
        .expect("subscribe");
    let message = bus::Message::event(PUBLISHED.routing_key(), &envelope(4)).expect("message");
    // The relay crashed after publishing but before marking: the same message goes out twice.
    bus.publish(&message).await.expect("publish");
    bus.publish(&message).await.expect("publish again");

    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let delivery = sub.next_within(WAIT).await.expect("delivered");
        let outcome = inbox::handle_once(&conn, "seats", &delivery.message.message_id, |txn| {
            Box::pin(bump(txn))
        })
        .await
        .expect("handled");
        outcomes.push(outcome);
        delivery.ack().await.expect("ack");
    }
    assert_eq!(outcomes, vec![Outcome::Applied, Outcome::Duplicate]);
    assert_eq!(hits(&conn).await, 1);
}

async fn failed_effect_is_not_recorded_as_processed(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let conn = database(&env).await;
    let id = uuid::Uuid::now_v7().to_string();
    let failed = inbox::handle_once(&conn, "seats", &id, |txn| {
        Box::pin(async move {
            bump(txn).await?;
            Err(HandlerError::Transient("panne".into()))
        })
    })
    .await;
    assert!(failed.is_err());
    assert_eq!(
        hits(&conn).await,
        0,
        "the effect rolled back with the failure"
    );
    let retried = inbox::handle_once(&conn, "seats", &id, |txn| Box::pin(bump(txn)))
        .await
        .expect("retry");
    assert_eq!(
        retried,
        Outcome::Applied,
        "a failed attempt does not count as processed"
    );
    assert_eq!(hits(&conn).await, 1);
    // Another consumer keeps its own record of the same message.
    let other = inbox::handle_once(&conn, "outreach", &id, |_| Box::pin(async { Ok(()) }))
        .await
        .expect("other consumer");
    assert_eq!(other, Outcome::Applied);
}

async fn a_poison_row_is_parked_and_does_not_block_the_rest(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let conn = database(&env).await;
    let bus = bus::connect(&env.config.bus).await.expect("bus");
    let mut sub = bus
        .subscribe(Subscription::new(env.queue("after-poison"), &["events.#"]))
        .await
        .expect("subscribe");
    let poison = envelope(7);
    outbox::enqueue(&conn, PUBLISHED, &poison)
        .await
        .expect("enqueue");
    // The broker refused it again and again.
    conn.execute_unprepared(&format!(
        "UPDATE outbox_message SET attempts = {} WHERE routing_key = 'events.session.published'",
        outbox::MAX_PUBLISH_ATTEMPTS
    ))
    .await
    .expect("mark as refused");
    let next = envelope(8);
    outbox::enqueue(&conn, PUBLISHED, &next)
        .await
        .expect("enqueue");
    let relay = Relay::new(conn.clone(), bus.clone(), outbox::Waker::default());
    assert_eq!(relay.publish_pending().await.expect("relay"), 1);
    let got = sub
        .next_within(WAIT)
        .await
        .expect("the next message still goes out");
    assert_eq!(got.message.message_id, next.id.to_string());
    got.ack().await.expect("ack");
    assert_eq!(
        outbox::parked_count(&conn).await.expect("count"),
        1,
        "the poison row is kept for operators"
    );
}

/// Processed message ids are kept for `bus.inbox_retention_days` (30 by default), then the
/// relay's sweep forgets them; a redelivery within the period is still a duplicate.
async fn processed_messages_older_than_the_retention_are_purged(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let conn = database(&env).await;
    let bus = bus::connect(&env.config.bus).await.expect("bus");
    for id in ["old", "recent", "new"] {
        let outcome = inbox::handle_once(&conn, "seats", id, |txn| Box::pin(bump(txn)))
            .await
            .expect("handled");
        assert_eq!(outcome, Outcome::Applied);
    }
    let processed_days_ago = |id: &'static str, days: i64| {
        let conn = conn.clone();
        async move {
            use sea_orm::{ActiveModelTrait, ActiveValue::Set};
            inbox::entity::ActiveModel {
                consumer: Set("seats".into()),
                message_id: Set(id.into()),
                processed_at: Set(chrono::Utc::now() - chrono::Duration::days(days)),
            }
            .update(&conn)
            .await
            .expect("processed_at");
        }
    };
    processed_days_ago("old", 31).await;
    processed_days_ago("recent", 29).await;

    let mut relay = Relay::new(conn.clone(), bus, outbox::Waker::default());
    relay.inbox_retention = env.config.bus.inbox_retention();
    assert_eq!(
        relay.inbox_retention,
        Duration::from_secs(30 * 24 * 3600),
        "30 days unless configured"
    );
    assert_eq!(relay.purge_processed().await.expect("purged"), 1);
    use sea_orm::{EntityTrait, QueryOrder};
    let kept: Vec<String> = inbox::entity::Entity::find()
        .order_by_asc(inbox::entity::Column::MessageId)
        .all(&conn)
        .await
        .expect("processed")
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(kept, ["new", "recent"]);
    let again = inbox::handle_once(&conn, "seats", "recent", |txn| Box::pin(bump(txn)))
        .await
        .expect("handled");
    assert_eq!(again, Outcome::Duplicate, "still known within the period");
    assert_eq!(hits(&conn).await, 3);
}

backend_matrix!(
    processed_messages_older_than_the_retention_are_purged,
    a_poison_row_is_parked_and_does_not_block_the_rest,
    a_write_transaction_that_reads_first_is_not_refused,
    a_batch_is_published_whole_and_in_order,
    rolled_back_transaction_publishes_nothing,
    messages_survive_a_process_restart,
    what_a_broker_lost_with_the_process_is_sent_again,
    duplicate_delivery_has_one_effect,
    failed_effect_is_not_recorded_as_processed,
);

/// Broker outage with the outbox on either database; the broker is RabbitMQ behind a proxy
/// the test can cut.
async fn outbox_keeps_messages_while_broker_is_unreachable(db_backend: Backend) {
    let env = TestEnv::new(db_backend).await;
    let conn = database(&env).await;
    let ends = cafeia_testkit::endpoints().await;
    let mut real = env.config.clone();
    real.bus.url = secrecy::SecretString::from(ends.amqp.clone());
    let direct = bus::connect(&real.bus).await.expect("direct bus");
    let mut sub = direct
        .subscribe(Subscription::new(env.queue("outage"), &["events.#"]))
        .await
        .expect("subscribe");
    let host_port = ends
        .amqp
        .split('@')
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("host:port");
    let proxy = TcpProxy::start(host_port).await;
    let mut via_proxy = real.clone();
    via_proxy.bus.url = secrecy::SecretString::from(proxy.url_for(&ends.amqp));
    let bus: Arc<dyn Bus> = bus::connect(&via_proxy.bus)
        .await
        .expect("bus through proxy");

    proxy.cut();
    let sent = envelope(5);
    let txn = conn.begin().await.expect("begin");
    outbox::enqueue(&txn, PUBLISHED, &sent)
        .await
        .expect("enqueue");
    txn.commit().await.expect("commit");
    let relay = Relay::new(conn.clone(), bus.clone(), outbox::Waker::default());
    assert!(
        relay.publish_pending().await.is_err(),
        "broker is unreachable"
    );
    assert_eq!(
        outbox::pending_count(&conn).await.expect("count"),
        1,
        "message kept"
    );

    proxy.restore();
    assert_eq!(relay.publish_pending().await.expect("broker back"), 1);
    let got = sub
        .next_within(WAIT)
        .await
        .expect("delivered once the broker is back");
    assert_eq!(got.message.message_id, sent.id.to_string());
    got.ack().await.expect("ack");
    assert_eq!(outbox::pending_count(&conn).await.expect("count"), 0);
    let backend = conn.get_database_backend();
    assert!(matches!(
        (db_backend, backend),
        (Backend::Embedded, DbBackend::Sqlite) | (Backend::Real, DbBackend::Postgres)
    ));
}

backend_matrix!(outbox_keeps_messages_while_broker_is_unreachable);
