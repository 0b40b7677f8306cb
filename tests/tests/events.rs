//! AI Café sessions end to end through the gateway, on both backend sets: the demo sessions,
//! publishing and registering through GraphQL, and the live seat count over a WebSocket —
//! served by a second gateway replica, so the update crosses the bus, not process memory.

use cafeia_e2e::TestStack;
use cafeia_platform::auth::Role;
use cafeia_testkit::Backend;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const SESSIONS: &str = "query($d: String) { sessions(departement: $d, limit: 100) { items { id title status seatsLeft capacity confirmed waitlisted place { venueId departement } facilitator { id } } } }";

/// The demo sessions, once the events service has heard of the demo network and seeded.
async fn demo_sessions(stack: &TestStack) -> Vec<Value> {
    for _ in 0..200 {
        let page = stack.graphql(SESSIONS, json!({}), None).await;
        let items = page["data"]["sessions"]["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if items.len() >= 10 {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no demo sessions");
}

async fn next_json<S>(ws: &mut S) -> Value
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("open")
            .expect("frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("json");
        }
    }
}

async fn sessions_end_to_end(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let demo = demo_sessions(&stack).await;
    // Some demo sessions are full with a waiting list.
    assert!(
        demo.iter()
            .any(|s| s["seatsLeft"] == 0 && s["waitlisted"].as_i64() > Some(0)),
        "{demo:?}"
    );
    let venue = demo
        .iter()
        .find_map(|s| s["place"]["venueId"].as_str())
        .expect("a demo venue")
        .to_owned();

    // The verified demo facilitator publishes a small session.
    let facilitator = stack.token("demo-animatrice", &[Role::Facilitator], None);
    let created = stack
        .graphql(
            "mutation($input: SessionInput!) { createSession(input: $input, publish: true) { id status seatsLeft startsAt } }",
            json!({"input": {
                "title": "Café IA : premiers pas", "format": "IN_PERSON", "venueId": venue,
                "startsAt": "2027-02-10T18:00:00", "endsAt": "2027-02-10T19:30:00",
                "capacity": 2, "topics": ["what_is_ai"], "accessibility": ["WHEELCHAIR"],
            }}),
            Some(&facilitator),
        )
        .await;
    let session = &created["data"]["createSession"];
    assert_eq!(session["status"], "PUBLISHED", "{created}");
    assert_eq!(session["startsAt"], "2027-02-10T18:00:00+01:00");
    let id = session["id"].as_str().expect("id").to_owned();
    // A citizen may not publish.
    let citizen = stack.token("citizen-e2e", &[Role::Citizen], None);
    let refused = stack
        .graphql(
            "mutation($id: ID!) { publishSession(id: $id) { id } }",
            json!({"id": id}),
            Some(&citizen),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );

    // A subscriber on another gateway replica (its own bus connection when real).
    let mut config = stack.gateway_config();
    config.platform.http.port = 0;
    let second = match backend {
        Backend::Real => Some(
            cafeia_gateway::start(
                config.clone(),
                cafeia_gateway::Shared::default(),
                cafeia_platform::runtime::bind("127.0.0.1", 0).expect("bind"),
                1,
            )
            .await
            .expect("second gateway"),
        ),
        Backend::Embedded => None,
    };
    let ws_base = match &second {
        Some(gw) => format!("ws://127.0.0.1:{}/graphql", gw.port()),
        None => format!("{}/graphql", stack.base.replace("http://", "ws://")),
    };
    let mut request = ws_base.as_str().into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    ws.send(Message::text(
        json!({"type": "connection_init", "payload": {}}).to_string(),
    ))
    .await
    .expect("init");
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    ws.send(Message::text(
        json!({"id": "s", "type": "subscribe", "payload": {
            "query": "subscription($id: ID!) { seats(sessionId: $id) { sessionId seatsLeft confirmed waitlisted } }",
            "variables": {"id": id},
        }})
        .to_string(),
    ))
    .await
    .expect("subscribe");
    let first = next_json(&mut ws).await;
    assert_eq!(first["payload"]["data"]["seats"]["seatsLeft"], 2, "{first}");

    // Three people register through the first gateway: two seats, then the waiting list.
    let mut tokens = Vec::new();
    for (i, expected) in ["CONFIRMED", "CONFIRMED", "WAITLISTED"].iter().enumerate() {
        let reg = stack
            .graphql(
                "mutation($id: ID!, $email: String) { register(sessionId: $id, email: $email, consent: true) { status waitlistPosition cancellationToken } }",
                json!({"id": id, "email": format!("e2e{i}@example.org")}),
                None,
            )
            .await;
        assert_eq!(reg["data"]["register"]["status"], *expected, "{reg}");
        tokens.push(
            reg["data"]["register"]["cancellationToken"]
                .as_str()
                .expect("token")
                .to_owned(),
        );
        let update = next_json(&mut ws).await;
        let seats = &update["payload"]["data"]["seats"];
        assert_eq!(seats["confirmed"], (i.min(1) + 1) as i64, "{update}");
    }
    // A cancellation promotes the waiting person; the subscriber sees the counts.
    let cancelled = stack
        .graphql(
            "mutation($t: String!) { cancelRegistrationWithToken(token: $t) { status } }",
            json!({"t": tokens[0]}),
            None,
        )
        .await;
    assert_eq!(
        cancelled["data"]["cancelRegistrationWithToken"]["status"], "CANCELLED",
        "{cancelled}"
    );
    let update = next_json(&mut ws).await;
    assert_eq!(
        update["payload"]["data"]["seats"]["waitlisted"], 0,
        "{update}"
    );
    assert_eq!(
        update["payload"]["data"]["seats"]["confirmed"], 2,
        "{update}"
    );
    // Bad input gets a field and a code, not a 500.
    let bad = stack
        .graphql(
            "mutation($id: ID!) { register(sessionId: $id, email: \"not-an-email\", consent: true) { status } }",
            json!({"id": id}),
            None,
        )
        .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{bad}"
    );
    assert_eq!(bad["errors"][0]["extensions"]["field"], "email", "{bad}");
    // The facilitator sees the roll; "my sessions" lists the new one.
    let roll = stack
        .graphql(
            "query($id: ID!) { mySessions { id } sessionRoll(sessionId: $id) { status email } }",
            json!({"id": id}),
            Some(&facilitator),
        )
        .await;
    assert!(
        roll["data"]["mySessions"]
            .as_array()
            .expect("list")
            .iter()
            .any(|s| s["id"] == id.as_str()),
        "{roll}"
    );
    assert_eq!(
        roll["data"]["sessionRoll"].as_array().map(Vec::len),
        Some(3),
        "{roll}"
    );
    if let Some(gw) = second {
        gw.stop().await;
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_to_end_embedded() {
    sessions_end_to_end(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_to_end_real() {
    sessions_end_to_end(Backend::Real).await;
}
