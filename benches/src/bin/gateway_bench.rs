//! Gateway load bench: the operations of the web app's pages (the session list, a search
//! around a commune, recommendations, a session's page with its venue, facilitators and
//! modules, a signed-in registration) driven at a fixed concurrency through the gateway
//! (GraphQL, the web app's own documents) and against the services directly (their typed
//! clients, making the calls the gateway makes for the same answer), in the same run: each
//! operation alone on both sides (the gateway's overhead is the ratio of the two throughputs),
//! then a mix of them as a day of visits would weigh them.
//!
//! ```sh
//! cargo run --release -p cafeia-bench --bin gateway-bench -- --backend embedded
//! cargo run --release -p cafeia-bench --bin gateway-bench -- --backend real
//! ```
//! The whole stack runs in this process with its demo data, on the embedded backends or on
//! the machine's PostgreSQL, RabbitMQ and Redis (databases, queues and keys of its own, as the
//! tests make them). The load comes from the same process, on the same two cores: the figures
//! include the client's share of the machine, as `wrk` on the same machine would.

use cafeia_api::client::{Call, ClientError, ClientResult, Http};
use cafeia_bench::{Latencies, Report, Target};
use cafeia_catalogue_api::CatalogueClient;
use cafeia_e2e::TestStack;
use cafeia_events_api::{EventsClient, ListQuery, RegisterAnswer, RegistrationInput};
use cafeia_facilitators_api::FacilitatorsClient;
use cafeia_matching_api::{MatchingClient, OfferKind, Profile, SearchQuery};
use cafeia_testkit::Backend;
use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use uuid::Uuid;

/// The gateway load bench.
#[derive(clap::Parser)]
struct Args {
    /// `embedded` (SQLite, in-process broker and cache) or `real` (PostgreSQL, RabbitMQ,
    /// Redis).
    #[arg(long, default_value = "embedded")]
    backend: String,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Requests of each operation alone, on each side.
    #[arg(long, default_value_t = 5_000)]
    requests: usize,
    /// Requests of the mix, on each side.
    #[arg(long, default_value_t = 10_000)]
    mix: usize,
}

/// What a visitor does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Operation {
    SessionList,
    /// The same list asked by a signed-in citizen: never a kept answer, the data path.
    SessionListSignedIn,
    Search,
    Recommendations,
    SessionPage,
    Registration,
}

impl Operation {
    const ALL: [Operation; 6] = [
        Operation::SessionList,
        Operation::SessionListSignedIn,
        Operation::Search,
        Operation::Recommendations,
        Operation::SessionPage,
        Operation::Registration,
    ];

    fn name(self) -> &'static str {
        match self {
            Operation::SessionList => "session list (20)",
            Operation::SessionListSignedIn => "session list (20), signed in",
            Operation::Search => "search around a commune",
            Operation::Recommendations => "recommendations",
            Operation::SessionPage => "session page",
            Operation::Registration => "registration",
        }
    }

    /// Its share of the mix, in twentieths: people browse and search far more than they
    /// register.
    fn weight(self) -> usize {
        match self {
            Operation::SessionList => 5,
            // The mix keeps its shares: a list is asked anonymously there.
            Operation::SessionListSignedIn => 0,
            Operation::Search => 6,
            Operation::Recommendations => 3,
            Operation::SessionPage => 5,
            Operation::Registration => 1,
        }
    }
}

/// Where requests go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Gateway,
    Direct,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Gateway => "through the gateway",
            Side::Direct => "services directly",
        }
    }
}

const SESSION_LIST: &str = "query($first: Int) { sessions(first: $first) { totalCount edges { node { id title format startsAt endsAt timezone seatsLeft registrationOpen place { name address } } } } }";

/// What every request draws on: both sides' clients, the demo data's sessions and communes,
/// and the citizens' tokens (one registration each).
struct Load {
    http: reqwest::Client,
    graphql: String,
    events: EventsClient,
    facilitators: FacilitatorsClient,
    catalogue: CatalogueClient,
    matching: MatchingClient,
    search_document: String,
    session_document: String,
    recommendations_document: String,
    register_document: String,
    sessions: Vec<Uuid>,
    /// Sessions that take every registration (open, with a waiting list).
    open_sessions: Vec<Uuid>,
    communes: Vec<String>,
    citizens: Vec<Arc<str>>,
    /// A signed-in citizen who only reads (the list that is never a kept answer).
    reader: Arc<str>,
    next_citizen: AtomicUsize,
}

/// One of the web app's GraphQL documents (`web/graphql/`), as its pages send it.
fn document(file: &str) -> String {
    let path = format!("{}/../web/graphql/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

impl Load {
    fn pick<T>(list: &[T], i: usize) -> &T {
        &list[i % list.len()]
    }

    async fn run(&self, side: Side, op: Operation, i: usize) -> Result<(), String> {
        match side {
            Side::Gateway => self.through_gateway(op, i).await,
            Side::Direct => self.direct(op, i).await.map_err(|e| e.to_string()),
        }
    }

    async fn through_gateway(&self, op: Operation, i: usize) -> Result<(), String> {
        let commune = Self::pick(&self.communes, i);
        let (document, operation, variables, token) = match op {
            Operation::SessionList => (SESSION_LIST, None, json!({"first": 20}), None),
            Operation::SessionListSignedIn => (
                SESSION_LIST,
                None,
                json!({"first": 20}),
                Some(self.reader.clone()),
            ),
            Operation::Search => (
                self.search_document.as_str(),
                Some("SearchOffers"),
                json!({"input": {"commune": commune, "radiusKm": 30}, "first": 20}),
                None,
            ),
            Operation::Recommendations => (
                self.recommendations_document.as_str(),
                Some("ForYou"),
                json!({"profile": {"commune": commune, "interests": ["generative_ai"], "limit": 10}}),
                None,
            ),
            Operation::SessionPage => (
                self.session_document.as_str(),
                Some("SessionPage"),
                json!({"id": Self::pick(&self.sessions, i)}),
                None,
            ),
            Operation::Registration => (
                self.register_document.as_str(),
                Some("Register"),
                json!({"sessionId": Self::pick(&self.open_sessions, i), "consent": false}),
                Some(self.citizen()?),
            ),
        };
        let mut request = self.http.post(&self.graphql).json(&json!({
            "query": document, "operationName": operation, "variables": variables,
        }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if !status.is_success() || body.get("errors").is_some() || body["data"].is_null() {
            return Err(format!("{status}: {body}"));
        }
        Ok(())
    }

    fn citizen(&self) -> Result<Arc<str>, String> {
        let i = self.next_citizen.fetch_add(1, Ordering::Relaxed);
        self.citizens
            .get(i)
            .cloned()
            .ok_or_else(|| "no citizen left to register".to_owned())
    }

    /// The calls the gateway makes for the same answer, with the same batching.
    async fn direct(&self, op: Operation, i: usize) -> ClientResult<()> {
        let call = Call::default();
        let commune = Self::pick(&self.communes, i).clone();
        match op {
            Operation::SessionList | Operation::SessionListSignedIn => {
                let query = ListQuery {
                    limit: Some(20),
                    ..Default::default()
                };
                self.events.sessions(&call, &query).await?;
            }
            Operation::Search => {
                let query = SearchQuery {
                    commune: Some(commune),
                    radius_km: Some(30.0),
                    limit: Some(20),
                    ..Default::default()
                };
                let found = self.matching.search(&call, &query).await?;
                let hits = found.page.items.iter().map(|h| (h.kind, h.id));
                self.offers(&call, hits.collect()).await?;
            }
            Operation::Recommendations => {
                let profile = Profile {
                    commune: Some(commune),
                    interests: vec!["generative_ai".into()],
                    limit: Some(10),
                    ..Default::default()
                };
                let found = self.matching.recommendations(&call, &profile).await?;
                self.offers(&call, found.iter().map(|r| (r.kind, r.id)).collect())
                    .await?;
            }
            Operation::SessionPage => {
                let id = *Self::pick(&self.sessions, i);
                let Some(session) = self.events.session(&call, id).await? else {
                    return Err(missing("session"));
                };
                let venues: Vec<Uuid> = session.place.iter().map(|p| p.venue_id).collect();
                let people: Vec<Uuid> = std::iter::once(session.facilitator.id)
                    .chain(session.co_facilitators.iter().copied())
                    .collect();
                let (venue, profiles, modules, jsonld) = futures::join!(
                    self.facilitators.venues_by_ids(&call, &venues),
                    self.facilitators.facilitator_profiles(&call, &people),
                    self.catalogue.modules_by_ids(&call, &session.modules),
                    self.events.session_jsonld(&call, id),
                );
                venue?;
                profiles?;
                modules?;
                jsonld?;
            }
            Operation::Registration => {
                let token = self.citizen().map_err(|_| missing("citizen"))?;
                let call = Call {
                    token: Some(token),
                    headers: Vec::new(),
                };
                let session = *Self::pick(&self.open_sessions, i);
                let answer = self
                    .events
                    .register(&call, session, &RegistrationInput::default())
                    .await?;
                if !matches!(answer, RegisterAnswer::Registered(_)) {
                    return Err(missing("registration"));
                }
            }
        }
        Ok(())
    }

    /// The sessions and trainings of a list of offers, and the trainings' providers: the
    /// gateway's loaders, one batch per kind.
    async fn offers(&self, call: &Call, offers: Vec<(OfferKind, Uuid)>) -> ClientResult<()> {
        let of = |kind: OfferKind| -> Vec<Uuid> {
            offers
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, id)| *id)
                .collect()
        };
        let (sessions, trainings) = (of(OfferKind::Session), of(OfferKind::Training));
        let (sessions, trainings) = futures::join!(
            self.events.sessions_by_ids(call, &sessions),
            self.catalogue.trainings_by_ids(call, &trainings),
        );
        sessions?;
        let providers: Vec<Uuid> = trainings?.iter().map(|t| t.provider_id).collect();
        self.catalogue.providers_by_ids(call, &providers).await?;
        Ok(())
    }
}

fn missing(what: &str) -> ClientError {
    ClientError::BadAnswer(format!("no {what} in the answer"))
}

/// Each operation's latencies and failures over one run, and its wall time.
struct Run {
    latencies: BTreeMap<Operation, Vec<Duration>>,
    failures: BTreeMap<Operation, (usize, String)>,
    wall: Duration,
}

/// `requests` requests, `concurrency` at a time, the `i`-th doing `plan[i % plan.len()]`.
async fn drive(
    load: &Arc<Load>,
    side: Side,
    plan: &[Operation],
    requests: usize,
    concurrency: usize,
) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let plan: Arc<[Operation]> = plan.into();
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (load, next, plan) = (load.clone(), next.clone(), plan.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        return done;
                    }
                    let op = plan[i % plan.len()];
                    let t = Instant::now();
                    let outcome = load.run(side, op, i).await;
                    done.push((op, t.elapsed(), outcome));
                }
            })
        })
        .collect();
    let mut run = Run {
        latencies: BTreeMap::new(),
        failures: BTreeMap::new(),
        wall: Duration::ZERO,
    };
    for worker in workers {
        for (op, took, outcome) in worker.await.expect("worker") {
            match outcome {
                Ok(()) => run.latencies.entry(op).or_default().push(took),
                Err(why) => {
                    let failed = run.failures.entry(op).or_insert((0, why));
                    failed.0 += 1;
                }
            }
        }
    }
    run.wall = started.elapsed();
    run
}

impl Run {
    /// Prints and reports each operation's figures; the failures fail the bench.
    fn record(&self, report: &mut Report, label: &str) -> Result<BTreeMap<Operation, f64>, String> {
        let mut throughput = BTreeMap::new();
        for (op, latencies) in &self.latencies {
            let l = Latencies::new(latencies.clone(), self.wall);
            println!(
                "{label}, {}: {} requests, {:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
                op.name(),
                l.count(),
                l.per_second(),
                l.p50(),
                l.p99()
            );
            report.latencies(&format!("{label}, {}", op.name()), &l, None);
            throughput.insert(*op, l.per_second());
        }
        if let Some((op, (count, why))) = self.failures.iter().next() {
            return Err(format!(
                "{label}: {count} {} requests failed, the first: {why}",
                op.name()
            ));
        }
        Ok(throughput)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Args = clap::Parser::parse();
    let backend = match args.backend.as_str() {
        "embedded" => Backend::Embedded,
        "real" => Backend::Real,
        other => return Err(format!("--backend: embedded or real, not {other}").into()),
    };
    // Many visitors from one address: lift the per-address limits that would (rightly)
    // slow them down; the web pages are web-bench's.
    let stack = TestStack::start_with(backend, |config| {
        config.rate_limit.requests_per_minute = 100_000_000;
        config.rate_limit.cost_per_minute = 1_000_000_000_000;
        config.web.enabled = false;
        // As deployed: anonymous public answers kept (the test stack turns them off).
        config.graphql.public_answers = true;
    })
    .await;
    let result = bench(&stack, backend, &args).await;
    stack.stop().await;
    result
}

async fn bench(
    stack: &TestStack,
    backend: Backend,
    args: &Args,
) -> Result<(), Box<dyn std::error::Error>> {
    // The demo sessions are seeded once the facilitators' announcements arrived, and reach
    // matching over the bus: wait for both.
    stack
        .first_session("commune: \"69123\", radiusKm: 30, kind: SESSION")
        .await;
    let mut nodes: Vec<Value> = Vec::new();
    for _ in 0..300 {
        let listed = stack
            .graphql(
                "{ sessions(first: 100) { edges { node { id registrationOpen waitlistEnabled place { insee } } } } }",
                json!({}),
                None,
            )
            .await;
        nodes = listed["data"]["sessions"]["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["node"].clone())
            .collect();
        if nodes.len() >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let id = |n: &Value| n["id"].as_str().and_then(|s| s.parse::<Uuid>().ok());
    let sessions: Vec<Uuid> = nodes.iter().filter_map(id).collect();
    let open_sessions: Vec<Uuid> = nodes
        .iter()
        .filter(|n| n["registrationOpen"] == true && n["waitlistEnabled"] == true)
        .filter_map(id)
        .collect();
    let mut communes: Vec<String> = nodes
        .iter()
        .filter_map(|n| n["place"]["insee"].as_str().map(str::to_owned))
        .collect();
    communes.sort();
    communes.dedup();
    if sessions.len() < 20 || open_sessions.is_empty() || communes.is_empty() {
        return Err(format!("the demo data is not all there: {nodes:?}").into());
    }
    // One registration per citizen: the registration runs alone, its twentieth of the mixes,
    // a fifth of the warm-ups, on both sides.
    let registrations = 2 * (args.requests + args.mix / 20 + 10) + 2;
    let citizens = (0..registrations)
        .map(|i| {
            Arc::from(stack.citizen_token(
                &format!("gateway-bench-{i}"),
                &format!("visitor{i}@example.org"),
            ))
        })
        .collect();
    let pool = Http::pool()?;
    let client = |service: &str| Http::new(pool.clone(), &stack.service_base(service));
    let load = Arc::new(Load {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(args.concurrency)
            .build()?,
        graphql: format!("{}/graphql", stack.base),
        events: EventsClient::new(client("events")),
        facilitators: FacilitatorsClient::new(client("facilitators")),
        catalogue: CatalogueClient::new(client("catalogue")),
        matching: MatchingClient::new(client("matching")),
        search_document: document("search.graphql"),
        session_document: document("session.graphql"),
        recommendations_document: document("recommendations.graphql"),
        register_document: document("registration.graphql"),
        sessions,
        open_sessions,
        communes,
        citizens,
        reader: Arc::from(stack.citizen_token("gateway-bench-reader", "reader@example.org")),
        next_citizen: AtomicUsize::new(0),
    });
    let backend_name = format!("{backend:?}").to_lowercase();
    println!(
        "{backend_name}: {} sessions, {} open to registration, {} communes; {} clients",
        load.sessions.len(),
        load.open_sessions.len(),
        load.communes.len(),
        args.concurrency
    );
    let mut report = Report::new("gateway-bench");

    // Connections opened, caches and replicas warm, on both sides, before any clock runs.
    for side in [Side::Gateway, Side::Direct] {
        drive(&load, side, &Operation::ALL, 50, args.concurrency)
            .await
            .record(&mut Report::new("warm-up"), "warm-up")?;
    }

    for op in Operation::ALL {
        let mut throughput = [0.0; 2];
        for (k, side) in [Side::Gateway, Side::Direct].into_iter().enumerate() {
            let label = format!("{backend_name}, alone, {}", side.name());
            let run = drive(&load, side, &[op], args.requests, args.concurrency).await;
            throughput[k] = run.record(&mut report, &label)?[&op];
            let listing = matches!(op, Operation::SessionList | Operation::SessionListSignedIn);
            if listing && side == Side::Gateway {
                // The targets: ≥ 5,000 req/s with p99 < 20 ms through the gateway. Held to
                // the list as deployed (anonymous: kept answers) and to the data path alone
                // (signed in).
                let l = Latencies::new(run.latencies[&op].clone(), run.wall);
                let name = format!("{backend_name}, {} through the gateway", op.name());
                report.add(
                    format!("{name} p99"),
                    l.p99(),
                    "ms",
                    Some(Target::Below(20.0)),
                );
                report.add(
                    format!("{name} throughput"),
                    l.per_second(),
                    "/s",
                    Some(Target::AtLeast(5_000.0)),
                );
            }
        }
        let overhead = throughput[1] / throughput[0];
        println!(
            "{backend_name}, {}: gateway overhead {overhead:.2}×",
            op.name()
        );
        report.add(
            format!(
                "{backend_name}, {}: gateway overhead (direct / gateway throughput)",
                op.name()
            ),
            overhead,
            "×",
            // Like for like: the signed-in list makes the same calls on both sides (an
            // anonymous one is a kept answer through the gateway, never directly).
            (op == Operation::SessionListSignedIn).then_some(Target::Below(1.3)),
        );
    }

    let plan: Vec<Operation> = Operation::ALL
        .iter()
        .flat_map(|op| std::iter::repeat_n(*op, op.weight()))
        .collect();
    for side in [Side::Gateway, Side::Direct] {
        let label = format!("{backend_name}, mix, {}", side.name());
        let run = drive(&load, side, &plan, args.mix, args.concurrency).await;
        run.record(&mut report, &label)?;
        let all: usize = run.latencies.values().map(Vec::len).sum();
        let rate = all as f64 / run.wall.as_secs_f64();
        println!("{label}: {rate:.0} requests/s in all");
        report.add(format!("{label}, every operation"), rate, "/s", None);
    }
    report.finish()?;
    Ok(())
}
