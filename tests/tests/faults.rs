//! Faults injected under a running stack, on the real backends: the answers people get while a
//! part is down, and the recovery once it is back. Each scenario prints its figures
//! (operations attempted / answered / 5xx, recovery time) for the README.

use cafeia_e2e::TestStack;
use cafeia_platform::auth::Role;
use cafeia_testkit::{Backend, TcpProxy, endpoints, host_port};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

const PAGE: &str = "{ sessions(first: 20) { totalCount edges { node { id title seatsLeft \
    venue { name } facilitators { displayName } } } } }";
const SEARCH: &str = "{ search(input: { q: \"intelligence artificielle\" }, first: 10) { \
    hits { totalCount edges { node { id kind title } } } } }";

/// What one operation got: the HTTP status, and the first error's code if any.
struct Answer {
    status: u16,
    code: Option<String>,
    body: Value,
}

async fn post(stack: &TestStack, query: &str, variables: Value, token: Option<&str>) -> Answer {
    let mut req = reqwest::Client::new()
        .post(format!("{}/graphql", stack.base))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("the gateway answers");
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        code: body["errors"][0]["extensions"]["code"]
            .as_str()
            .map(str::to_owned),
        body,
    }
}

async fn get(stack: &TestStack, path: &str) -> u16 {
    reqwest::get(format!("{}{path}", stack.base))
        .await
        .expect("the gateway answers")
        .status()
        .as_u16()
}

/// `host:port` of a backend's URL, for a proxy in front of it.
fn address_of(url: &str) -> String {
    let (host, port) = host_port(url).unwrap_or_else(|| panic!("no host:port in {url}"));
    format!("{host}:{port}")
}

/// A session of the demo data with seats, once the events service has seeded them.
async fn open_session(stack: &TestStack) -> String {
    for _ in 0..200 {
        let page = post(stack, PAGE, json!({}), None).await;
        let open = page.body["data"]["sessions"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| &e["node"])
            .find(|n| n["seatsLeft"].as_i64().unwrap_or(0) >= 10);
        if let Some(node) = open {
            return node["id"].as_str().expect("id").to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no demo session with seats");
}

#[derive(Default, Debug)]
struct Tally {
    attempted: u32,
    answered: u32,
    server_errors: u32,
}

impl Tally {
    /// Counts a GraphQL answer that must carry its data, without an error.
    fn data(&mut self, round: u32, what: &str, answer: &Answer) {
        self.count(answer.status, what, &answer.body);
        assert!(
            answer.body["errors"].is_null(),
            "round {round}, {what}: {}",
            answer.body
        );
    }

    fn count(&mut self, status: u16, what: &str, detail: &dyn std::fmt::Debug) {
        self.attempted += 1;
        if status < 500 {
            self.answered += 1;
        } else {
            self.server_errors += 1;
            eprintln!("{what}: {status} {detail:?}");
        }
    }
}

/// With Redis unreachable (its connections cut under the stack, new ones refused), the
/// gateway and the services go on answering: pages, search, a session, a registration, the
/// web app's pages; no 5xx and no error in the data the people asked for. Rate limits fail
/// open and caches are skipped (README, « Fault and property tests »). Once Redis is back,
/// everything answers as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_nothing_answers_5xx() {
    let proxy = TcpProxy::start(&address_of(&endpoints().await.redis)).await;
    let redis = proxy.url_for(&endpoints().await.redis);
    let stack = TestStack::start_with(Backend::Real, |config| {
        config.platform.cache.url = redis.clone().into();
    })
    .await;
    let session = open_session(&stack).await;

    proxy.cut();
    // Really cut: the gateway says it cannot reach its cache (and still answers the rest).
    let mut unready = false;
    for _ in 0..100 {
        if get(&stack, "/readyz").await == 503 {
            unready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(unready, "/readyz never saw Redis gone");
    let mut tally = Tally::default();
    for round in 0..5 {
        let page = post(&stack, PAGE, json!({}), None).await;
        tally.data(round, "sessions", &page);
        let search = post(&stack, SEARCH, json!({}), None).await;
        tally.data(round, "search", &search);
        let one = post(
            &stack,
            "query($id: UUID!) { session(id: $id) { title seatsLeft venue { name } } }",
            json!({ "id": session }),
            None,
        )
        .await;
        tally.data(round, "session", &one);
        let citizen = stack.token(&format!("redis-down-{round}"), &[Role::Citizen], None);
        let registered = post(
            &stack,
            "mutation($id: UUID!) { register(sessionId: $id) { ... on Registration { status } } }",
            json!({ "id": session }),
            Some(&citizen),
        )
        .await;
        tally.count(registered.status, "register", &registered.body);
        assert_eq!(
            registered.body["data"]["register"]["status"], "CONFIRMED",
            "round {round}: {:?} {}",
            registered.code, registered.body
        );
        for path in ["/", &format!("/sessions/{session}")] {
            let status = get(&stack, path).await;
            tally.count(status, path, &status);
            assert_eq!(status, 200, "round {round}: {path}");
        }
    }
    assert_eq!(tally.server_errors, 0, "{tally:?}");

    proxy.restore();
    let back = Instant::now();
    let recovered = loop {
        let page = post(&stack, PAGE, json!({}), None).await;
        if page.status == 200 && page.body["errors"].is_null() {
            let ready = reqwest::get(format!("{}/readyz", stack.base))
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            if ready == 200 {
                break back.elapsed();
            }
        }
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "not ready 30 s after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    println!(
        "redis down: {} operations attempted, {} answered, {} 5xx; ready again {} ms after Redis was back",
        tally.attempted,
        tally.answered,
        tally.server_errors,
        recovered.as_millis()
    );
    stack.stop().await;
}

const REGISTER: &str =
    "mutation($id: UUID!) { register(sessionId: $id) { ... on Registration { id status } } }";

async fn seats(stack: &TestStack, id: &str) -> (i64, i64) {
    let answer = post(
        stack,
        "query($id: UUID!) { session(id: $id) { confirmed waitlisted } }",
        json!({ "id": id }),
        None,
    )
    .await;
    let s = &answer.body["data"]["session"];
    (
        s["confirmed"]
            .as_i64()
            .unwrap_or_else(|| panic!("{}", answer.body)),
        s["waitlisted"].as_i64().unwrap_or_default(),
    )
}

/// How the database goes away under the registrations.
enum Outage {
    /// The events service's database behind a proxy, cut for 3 s: connections closed under
    /// the pool, new ones refused.
    Cut(Arc<TcpProxy>),
    /// The machine's PostgreSQL server restarted (`pg_ctlcluster … restart`): every service
    /// loses its connections at once.
    Restart,
}

impl Outage {
    fn name(&self) -> &'static str {
        match self {
            Self::Cut(_) => "postgresql cut 3 s",
            Self::Restart => "postgresql restarted",
        }
    }

    /// Takes the database away and brings it back; answers when it went and when it was back.
    async fn play(&self) -> (Instant, Instant) {
        let went = Instant::now();
        match self {
            Self::Cut(proxy) => {
                proxy.cut();
                tokio::time::sleep(Duration::from_secs(3)).await;
                proxy.restore();
            }
            Self::Restart => {
                let before = postmaster_started().await;
                let restarted = tokio::process::Command::new("pg_ctlcluster")
                    .args([
                        "--skip-systemctl-redirect",
                        &pg_version(),
                        "main",
                        "restart",
                    ])
                    .status()
                    .await
                    .expect(
                        "pg_ctlcluster restarts the machine's PostgreSQL (Debian's \
                         postgresql-common; run this test as the server's owner or root)",
                    );
                assert!(restarted.success(), "pg_ctlcluster restart: {restarted}");
                assert_ne!(
                    postmaster_started().await,
                    before,
                    "the server did not restart"
                );
            }
        }
        (went, Instant::now())
    }
}

/// When the machine's PostgreSQL server started, as it says.
async fn postmaster_started() -> String {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
    let url = endpoints().await.postgres.clone();
    let db = Database::connect(url.as_str())
        .await
        .expect("PostgreSQL answers");
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_postmaster_start_time()::text AS at",
        ))
        .await
        .expect("query")
        .expect("a row");
    let at: String = row.try_get("", "at").expect("at");
    db.close().await.expect("closed");
    at
}

/// The version of the machine's one PostgreSQL cluster (`/etc/postgresql/<version>`).
fn pg_version() -> String {
    let mut versions: Vec<String> = std::fs::read_dir("/etc/postgresql")
        .expect("/etc/postgresql lists the machine's PostgreSQL clusters")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a PostgreSQL cluster in /etc/postgresql")
}

/// The events service's PostgreSQL cut (connections closed under the pool, new ones refused)
/// for 3 s while 8 clients register without pause (and 8 s after): every answer is a
/// registration or an error with its code (`UNAVAILABLE`), never a 5xx or `INTERNAL`; the
/// service recovers by itself; every registration answered is on the session, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_cut_under_registrations_answers_unavailable() {
    let postgres = endpoints().await.postgres.clone();
    let proxy = Arc::new(TcpProxy::start(&address_of(&postgres)).await);
    registrations_through(Outage::Cut(proxy)).await;
}

/// The same with the machine's PostgreSQL server really restarted. It stops every other
/// test's database too, so it runs alone, in `scripts/faults` (not in `scripts/test`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restarted_under_registrations_answers_unavailable() {
    registrations_through(Outage::Restart).await;
}

async fn registrations_through(outage: Outage) {
    let routed = match &outage {
        Outage::Cut(proxy) => Some(proxy.clone()),
        Outage::Restart => None,
    };
    let stack = TestStack::start_routed(
        Backend::Real,
        |_| {},
        move |service, url: SecretString| match &routed {
            Some(proxy) if service == "events" => {
                SecretString::from(proxy.url_for(url.expose_secret()))
            }
            _ => url,
        },
    )
    .await;
    let stack = Arc::new(stack);
    let session = open_session(&stack).await;
    let before = seats(&stack, &session).await;

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|client| {
            let (stack, session, stop) = (stack.clone(), session.clone(), stop.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let citizen =
                        stack.token(&format!("pg-cut-{client}-{n}"), &[Role::Citizen], None);
                    let at = Instant::now();
                    let answer =
                        post(&stack, REGISTER, json!({ "id": session }), Some(&citizen)).await;
                    answers.push((at, at.elapsed(), answer));
                }
                answers
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (went, restored) = outage.play().await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    stop.store(true, Ordering::Relaxed);
    let mut answers = Vec::new();
    for client in clients {
        answers.extend(client.await.expect("client"));
    }

    let mut codes: HashMap<String, u32> = HashMap::new();
    let (mut registered, mut server_errors) = (0i64, 0);
    let mut first_after: Option<Duration> = None;
    let slowest = answers.iter().map(|(_, took, _)| *took).max();
    for (at, _, answer) in &answers {
        if answer.status >= 500 {
            server_errors += 1;
        }
        match &answer.code {
            Some(code) => *codes.entry(code.clone()).or_default() += 1,
            None => {
                let status = &answer.body["data"]["register"]["status"];
                assert!(
                    status == "CONFIRMED" || status == "WAITLISTED",
                    "{}",
                    answer.body
                );
                registered += 1;
                if *at >= restored {
                    let since = at.duration_since(restored);
                    first_after = Some(first_after.map_or(since, |f| f.min(since)));
                }
            }
        }
    }
    let unavailable = codes.get("UNAVAILABLE").copied().unwrap_or(0);
    println!(
        "{}: {} registrations attempted, {registered} answered as taken, \
         {unavailable} UNAVAILABLE, other codes {codes:?}, {server_errors} 5xx; first taken \
         registration {} ms after the database was back; slowest answer {} ms",
        outage.name(),
        answers.len(),
        first_after.map_or(-1, |d| d.as_millis() as i64),
        slowest.map_or(-1, |d| d.as_millis() as i64),
    );
    assert_eq!(server_errors, 0, "5xx answers: {codes:?}");
    if matches!(outage, Outage::Cut(_)) {
        // A restart is short enough for the pool to wait it out; a 3 s cut is not.
        assert!(unavailable > 0, "the cut was seen: {codes:?}");
    } else {
        assert!(
            answers
                .iter()
                .any(|(at, took, _)| *at < restored && *at + *took > went),
            "no registration was under way while the server restarted"
        );
    }
    assert_eq!(
        codes.keys().filter(|c| *c != "UNAVAILABLE").count(),
        0,
        "only UNAVAILABLE while the database is gone: {codes:?}"
    );
    assert!(
        first_after.is_some_and(|d| d < Duration::from_secs(6)),
        "the service took registrations again by itself ({first_after:?} after)"
    );
    // Every registration answered is there; one whose answer was lost in the cut may be
    // there too (its commit may have landed), but nothing is there twice.
    let after = seats(&stack, &session).await;
    let taken = (after.0 - before.0) + (after.1 - before.1);
    assert!(
        taken >= registered && taken <= registered + i64::from(unavailable),
        "{taken} on the session, {registered} answered, {unavailable} unknown"
    );
    match Arc::try_unwrap(stack) {
        Ok(stack) => stack.stop().await,
        Err(_) => panic!("a client still holds the stack"),
    }
}
