//! The shared HTTP shell, served by a real service runtime on both backend sets.

use actix_web::{HttpResponse, web};
use async_trait::async_trait;
use cafeia_platform::{
    AppError,
    auth::{Caller, Role},
    errors::{ErrorCode, Problem},
    health::ReadinessReport,
    http::Json,
    runtime::{self, Launch, Platform, Service, Shared, StartError},
};
use cafeia_testkit::{Backend, TestEnv, backend_matrix};
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;
use serde::Deserialize;

struct Migrator;
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
        cafeia_platform::db::platform_migrations()
    }
}

/// A tiny service exercising the shell: a validated JSON body and a role check.
#[derive(Clone)]
struct Probe;

#[derive(Deserialize, utoipa::ToSchema)]
struct NewCafe {
    #[allow(dead_code)]
    title: String,
    capacity: u32,
}

#[utoipa::path(post, path = "/v1/cafes", request_body = NewCafe, responses((status = 201, description = "Créé")))]
async fn create(caller: Caller, body: Json<NewCafe>) -> Result<HttpResponse, AppError> {
    caller.require(Role::Facilitator)?;
    if body.0.capacity == 0 {
        return Err(AppError::invalid("capacity", "doit être supérieure à zéro"));
    }
    Ok(HttpResponse::Created().finish())
}

#[async_trait]
impl Service for Probe {
    const NAME: &'static str = "probe";
    async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
        Migrator::up(db, None).await
    }
    async fn start(_: &Platform) -> Result<Self, StartError> {
        Ok(Probe)
    }
    fn routes(&self, cfg: &mut web::ServiceConfig) {
        cfg.route("/v1/cafes", web::post().to(create));
    }
    fn openapi() -> utoipa::openapi::OpenApi {
        #[derive(utoipa::OpenApi)]
        #[openapi(paths(create))]
        struct Doc;
        <Doc as utoipa::OpenApi>::openapi()
    }
}

async fn start_probe(env: &TestEnv) -> runtime::Running {
    runtime::start::<Probe>(Launch {
        config: env.config.clone(),
        shared: Shared::default(),
        listener: runtime::bind("127.0.0.1", 0).expect("bind"),
        demo_data: false,
        workers: 1,
    })
    .await
    .expect("service starts")
}

async fn shell_serves_health_metrics_and_problem_errors(backend: Backend) {
    let env = TestEnv::new(backend).await;
    let running = start_probe(&env).await;
    let base = format!("http://127.0.0.1:{}", running.port());
    let http = reqwest::Client::new();

    let live = http
        .get(format!("{base}/livez"))
        .send()
        .await
        .expect("livez");
    assert_eq!(live.status(), 200);
    assert!(live.headers().contains_key("x-request-id"));
    assert!(live.headers().contains_key("traceparent"));

    let ready: ReadinessReport = http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert!(ready.ready, "{ready:?}");
    assert_eq!(
        ready.checks.keys().cloned().collect::<Vec<_>>(),
        vec!["bus", "cache", "database"]
    );

    let issuer =
        cafeia_platform::auth::DevIssuer::load_or_create(&env.config.data_dir, &env.config.auth)
            .expect("issuer");
    let token = issuer
        .issue(
            "f1",
            &[Role::Facilitator],
            None,
            std::time::Duration::from_secs(60),
        )
        .expect("token");

    // A bad field is named, with the problem+json content type and the caller's request id.
    let resp = http
        .post(format!("{base}/v1/cafes"))
        .bearer_auth(&token)
        .header("x-request-id", "test-req-1")
        .json(&serde_json::json!({"title": "Café IA", "capacity": "vingt"}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    assert_eq!(resp.headers()["x-request-id"], "test-req-1");
    let problem: Problem = resp.json().await.expect("problem");
    assert_eq!(problem.code, ErrorCode::BadUserInput);
    assert_eq!(problem.errors[0].field, "capacity");
    assert_eq!(problem.request_id.as_deref(), Some("test-req-1"));

    let missing = http
        .post(format!("{base}/v1/cafes"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"capacity": 3}))
        .send()
        .await
        .expect("post");
    let problem: Problem = missing.json().await.expect("problem");
    assert_eq!(problem.errors[0].field, "title");

    let not_json = http
        .post(format!("{base}/v1/cafes"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .expect("post");
    assert_eq!(not_json.status(), 400);

    let too_big = http
        .post(format!("{base}/v1/cafes"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .expect("post");
    assert_eq!(too_big.status(), 413);

    let unknown = http
        .get(format!("{base}/v1/nothing"))
        .send()
        .await
        .expect("get");
    assert_eq!(unknown.status(), 404);
    let problem: Problem = unknown.json().await.expect("problem");
    assert_eq!(problem.code, ErrorCode::NotFound);

    // A documented path asked with a method it does not answer.
    let wrong_method = http
        .get(format!("{base}/v1/cafes"))
        .send()
        .await
        .expect("get");
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(
        wrong_method
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let problem: Problem = wrong_method.json().await.expect("problem");
    assert_eq!(problem.code, ErrorCode::MethodNotAllowed);

    // The document declares what the shell answers, as problem documents.
    let document: serde_json::Value = http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    let responses = &document["paths"]["/v1/cafes"]["post"]["responses"];
    for status in ["201", "400", "401", "413", "415", "503"] {
        assert!(
            responses.get(status).is_some(),
            "{status} undeclared: {responses}"
        );
    }
    assert!(
        responses["400"]["content"]
            .get("application/problem+json")
            .is_some()
    );

    let ok = http
        .post(format!("{base}/v1/cafes"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"title": "Café IA", "capacity": 12}))
        .send()
        .await
        .expect("post");
    assert_eq!(ok.status(), 201);
    // JSON has one kind of number: 12.0 is the integer 12; 12.5 is not one, and is named.
    for (capacity, status) in [
        (serde_json::json!(12.0), 201),
        (serde_json::json!(12.5), 400),
    ] {
        let answer = http
            .post(format!("{base}/v1/cafes"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(format!(r#"{{"title": "Café IA", "capacity": {capacity}}}"#))
            .send()
            .await
            .expect("post");
        assert_eq!(answer.status(), status, "capacity {capacity}");
        if status == 400 {
            let problem: Problem = answer.json().await.expect("problem");
            assert_eq!(problem.errors[0].field, "capacity");
        }
    }

    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("route=\"/v1/cafes\""), "{metrics}");
    assert!(metrics.contains("service=\"probe\""), "{metrics}");
    assert!(metrics.contains("cafeia_outbox_pending"), "{metrics}");
    assert!(metrics.contains("cafeia_outbox_parked"), "{metrics}");
    running.stop().await;
}

backend_matrix!(shell_serves_health_metrics_and_problem_errors);

/// One GET on `stream`, read to the end of its answer (`/livez` answers with an empty body).
async fn livez_on(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /livez HTTP/1.1\r\nHost: probe\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.expect("read");
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

// A pooled client connection the server closes while the client picks it up fails that
// request: servers keep idle connections longer than the clients pool them
// (`api::client::POOL_IDLE`), not actix's 5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_kept_longer_than_clients_pool_it() {
    let env = TestEnv::new(Backend::Embedded).await;
    let running = start_probe(&env).await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", running.port()))
        .await
        .expect("connect");
    let first = livez_on(&mut stream).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    let again = livez_on(&mut stream).await;
    assert!(
        again.starts_with("HTTP/1.1 200"),
        "the server closed a connection idle for 7 s: {again:?}"
    );
    running.stop().await;
}
