//! The stack, end to end, on both backend sets.

use cafeia_e2e::{SERVICES, TestStack};
use cafeia_platform::auth::{Role, Territory};
use cafeia_testkit::{Backend, backend_matrix};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

async fn every_service_is_ready_behind_the_gateway(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let staff = stack.token("cnnum-1", &[Role::Staff], None);
    let body = stack
        .graphql(
            "{ me { sub roles } services { name ready checks { name status } } }",
            json!({}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        body["data"]["me"],
        json!({"sub": "cnnum-1", "roles": ["STAFF"]}),
        "{body}"
    );
    let services = body["data"]["services"].as_array().expect("services list");
    let names: Vec<String> = services
        .iter()
        .filter_map(|s| s["name"].as_str())
        .map(str::to_lowercase)
        .collect();
    assert_eq!(names, SERVICES);
    for service in services {
        assert_eq!(service["ready"], true, "{service}");
        assert_eq!(
            service["checks"],
            json!([{"name": "bus", "status": "ok"}, {"name": "cache", "status": "ok"}, {"name": "database", "status": "ok"}])
        );
    }
    stack.stop().await;
}

async fn roles_and_scope_reach_the_api(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let coordinator = stack.token(
        "coord-84",
        &[Role::Staff],
        Some(Territory::Region("84".into())),
    );
    let body = stack
        .graphql("{ me { territory } }", json!({}), Some(&coordinator))
        .await;
    assert_eq!(body["data"]["me"]["territory"], "region:84");
    let national = stack.token("cnnum-2", &[Role::Staff], None);
    let body = stack
        .graphql("{ me { territory } }", json!({}), Some(&national))
        .await;
    assert_eq!(body["data"]["me"]["territory"], "national");
    let citizen = stack.token("c-1", &[Role::Citizen], None);
    let body = stack
        .graphql("{ services { name } }", json!({}), Some(&citizen))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    stack.stop().await;
}

/// Staff watch a service's readiness live over the WebSocket (graphql-transport-ws).
async fn service_status_streams_over_websocket(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let url = format!("{}/graphql", stack.base.replace("http://", "ws://"));
    let mut request = url.as_str().into_client_request().expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    let staff = stack.token("cnnum-ws", &[Role::Staff], None);
    ws.send(Message::text(
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {staff}")}})
            .to_string(),
    ))
    .await
    .expect("init");
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    ws.send(Message::text(
        json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription { serviceStatus(service: EVENTS, everySeconds: 1) { name ready checks { name status } } }",
        }})
        .to_string(),
    ))
    .await
    .expect("subscribe");
    for _ in 0..2 {
        let next = next_json(&mut ws).await;
        let status = &next["payload"]["data"]["serviceStatus"];
        assert_eq!(status["name"], "EVENTS", "{next}");
        assert_eq!(status["ready"], true, "{next}");
        assert_eq!(status["checks"].as_array().map(Vec::len), Some(3), "{next}");
    }
    stack.stop().await;
}

async fn next_json<S>(ws: &mut S) -> Value
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("message in time")
            .expect("stream open")
            .expect("frame");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).expect("json frame");
        }
    }
}

backend_matrix!(
    every_service_is_ready_behind_the_gateway,
    roles_and_scope_reach_the_api,
    service_status_streams_over_websocket
);
