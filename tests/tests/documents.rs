//! What a client needs that is not JSON, through the gateway's own paths, on both backend
//! sets: the iCalendar feeds (one session, a facilitator's, the public one by département and
//! topic, a citizen's private one) and the schema.org JSON-LD of a session and a training.
//! Each `.ics` is parsed with the `icalendar` crate's parser.

use cafeia_e2e::TestStack;
use cafeia_platform::auth::Role;
use cafeia_testkit::{Backend, backend_matrix};
use icalendar::parser::{read_calendar, unfold};
use serde_json::{Value, json};
use std::time::Duration;

const PRODID: &str = "-//CNNum//Cafe IA//FR";
/// A topic no demo session has: the public feed by this topic holds only this test's sessions.
const TOPIC: &str = "programming_ai";

/// One event of a feed, as the parser read it.
#[derive(Debug)]
struct Event {
    uid: String,
    summary: String,
    status: String,
    start: String,
    dtstamp: String,
}

/// A parsed feed: its `PRODID` lines and its events.
#[derive(Debug)]
struct Feed {
    prodids: Vec<String>,
    events: Vec<Event>,
}

impl Feed {
    fn parse(text: &str) -> Feed {
        let unfolded = unfold(text);
        let cal = read_calendar(&unfolded).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let prodids = cal
            .properties
            .iter()
            .filter(|p| p.name.as_str() == "PRODID")
            .map(|p| p.val.as_str().to_owned())
            .collect();
        let events = cal
            .components
            .iter()
            .filter(|c| c.name.as_str() == "VEVENT")
            .map(|c| {
                let prop = |key: &str| {
                    c.find_prop(key)
                        .map(|p| p.val.as_str().to_owned())
                        .unwrap_or_default()
                };
                Event {
                    uid: prop("UID"),
                    summary: prop("SUMMARY"),
                    status: prop("STATUS"),
                    start: prop("DTSTART"),
                    dtstamp: prop("DTSTAMP"),
                }
            })
            .collect();
        Feed { prodids, events }
    }

    fn event(&self, session: &str) -> Option<&Event> {
        let uid = format!("{session}@cafe-ia.fr");
        self.events.iter().find(|e| e.uid == uid)
    }
}

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("gateway answers")
    }

    /// A feed that must be served: checks the answer's headers, parses it, and checks what
    /// every feed must hold.
    async fn feed(&self, path: &str, token: Option<&str>, cache: &str) -> Feed {
        let response = self.get(path, token).await;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("text");
        assert_eq!(status, 200, "{path}: {text}");
        assert_eq!(
            headers["content-type"], "text/calendar; charset=utf-8",
            "{path}"
        );
        assert_eq!(headers["cache-control"], cache, "{path}");
        assert!(headers.contains_key("x-request-id"), "{path}");
        let feed = Feed::parse(&text);
        assert_eq!(feed.prodids, [PRODID], "{path}: {text}");
        for e in &feed.events {
            assert!(e.uid.ends_with("@cafe-ia.fr"), "{path}: {e:?}");
            assert!(e.dtstamp.ends_with('Z'), "{path}: {e:?}");
            assert!(e.start.ends_with('Z'), "times in UTC: {path}: {e:?}");
        }
        feed
    }

    /// A refusal: its status, and a JSON problem document with its code.
    async fn problem(&self, path: &str, token: Option<&str>, status: u16, code: &str) -> Value {
        let response = self.get(path, token).await;
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        assert_eq!(
            response.headers()["cache-control"],
            "private, no-store",
            "{path}"
        );
        let problem: Value = response.json().await.expect("JSON problem");
        assert_eq!(problem["code"], code, "{path}: {problem}");
        assert_eq!(problem["status"], status, "{path}: {problem}");
        problem
    }

    async fn jsonld(&self, path: &str) -> Value {
        let response = self.get(path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/ld+json",
            "{path}"
        );
        let text = response.text().await.expect("text");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    }
}

/// Creates a published online session run by `facilitator`; returns (id, facilitator id).
async fn online_session(
    stack: &TestStack,
    facilitator: &str,
    title: &str,
    day: u32,
) -> (String, String) {
    let created = stack
        .graphql(
            "mutation($input: SessionInput!) { createSession(input: $input, publish: true) { id status facilitator { id } } }",
            json!({"input": {
                "title": title, "format": "ONLINE", "onlineUrl": "https://visio.example.org/cafe-ia",
                "startsAt": format!("2027-02-{day:02}T18:00:00"),
                "endsAt": format!("2027-02-{day:02}T19:30:00"),
                "capacity": 30, "topics": [TOPIC],
            }}),
            Some(facilitator),
        )
        .await;
    let session = &created["data"]["createSession"];
    assert_eq!(session["status"], "PUBLISHED", "{created}");
    (
        session["id"].as_str().expect("id").to_owned(),
        session["facilitator"]["id"]
            .as_str()
            .expect("facilitator")
            .to_owned(),
    )
}

/// A published training programme (a provider submits, staff publish); returns its id.
async fn published_training(stack: &TestStack) -> String {
    let siret = "73282932000074";
    let provider = stack.token_with_siret("org-documents", siret);
    let created = stack
        .graphql(
            "mutation($p: ProviderInput!) { createProvider(input: $p) { id } }",
            json!({"p": {"siret": siret, "name": "Université de Bordeaux", "kind": "UNIVERSITY"}}),
            Some(&provider),
        )
        .await;
    assert!(
        created["data"]["createProvider"]["id"].is_string(),
        "{created}"
    );
    let submitted = stack
        .graphql(
            "mutation($t: TrainingInput!) { submitTraining(input: $t) { id } }",
            json!({"t": {
                "providerSiret": siret,
                "title": "L'IA au travail, premiers usages",
                "summary": "Une journée pour découvrir les usages de l'IA au bureau.",
                "objectives": "Utiliser un assistant conversationnel avec discernement.",
                "level": "BEGINNER", "audiences": ["EMPLOYEES"], "format": "IN_PERSON",
                "pace": "SCHEDULED", "durationHours": 7, "free": true,
                "topics": ["ai_at_work"], "places": ["33063"],
                "sessions": [{"startDate": "2027-02-02", "endDate": "2027-02-02", "enrolment": "OPEN"}],
            }}),
            Some(&provider),
        )
        .await;
    let id = submitted["data"]["submitTraining"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{submitted}"))
        .to_owned();
    let staff = stack.token("cnnum-documents", &[Role::Staff], None);
    let published = stack
        .graphql(
            &format!("mutation {{ reviewTraining(id: \"{id}\", decision: PUBLISH) {{ status }} }}"),
            json!({}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        published["data"]["reviewTraining"]["status"], "PUBLISHED",
        "{published}"
    );
    id
}

async fn feeds_and_documents(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let client = Client {
        base: stack.base.clone(),
        http: reqwest::Client::new(),
    };

    // The verified demo facilitator publishes two online sessions and cancels the second.
    let facilitator = stack.token("demo-animatrice", &[Role::Facilitator], None);
    let (held, facilitator_id) =
        online_session(&stack, &facilitator, "Café IA : coder avec l'IA", 10).await;
    let (cancelled, _) =
        online_session(&stack, &facilitator, "Café IA : le code et nous", 17).await;
    // A citizen signs in and registers to both, before the cancellation.
    let citizen = stack.token("citizen-documents", &[Role::Citizen], None);
    for id in [&held, &cancelled] {
        let reg = stack
            .graphql(
                &format!(
                    "mutation {{ register(sessionId: \"{id}\") {{ ... on Registration {{ status }} }} }}"
                ),
                json!({}),
                Some(&citizen),
            )
            .await;
        assert_eq!(reg["data"]["register"]["status"], "CONFIRMED", "{reg}");
    }
    let cancel = stack
        .graphql(
            &format!(
                "mutation {{ cancelSession(id: \"{cancelled}\", reason: \"Animatrice malade\") {{ status }} }}"
            ),
            json!({}),
            Some(&facilitator),
        )
        .await;
    assert_eq!(
        cancel["data"]["cancelSession"]["status"], "CANCELLED",
        "{cancel}"
    );

    // One session's file: its UID, its start as a UTC instant (18:00 in Paris in winter).
    let one = client
        .feed(
            &format!("/calendars/sessions/{held}.ics"),
            None,
            "public, max-age=300",
        )
        .await;
    assert_eq!(one.events.len(), 1, "{one:?}");
    let event = one.event(&held).expect("the session");
    assert_eq!(event.summary, "Café IA : coder avec l'IA");
    assert_eq!(event.start, "20270210T170000Z");
    assert_eq!(event.status, "CONFIRMED");
    let gone = client
        .feed(
            &format!("/calendars/sessions/{cancelled}.ics"),
            None,
            "public, max-age=300",
        )
        .await;
    assert_eq!(
        gone.event(&cancelled).map(|e| e.status.as_str()),
        Some("CANCELLED")
    );
    // Fetched with a token, the file is the same, but no shared cache keeps it.
    let signed = client
        .feed(
            &format!("/calendars/sessions/{held}.ics"),
            Some(&citizen),
            "private, max-age=60",
        )
        .await;
    assert_eq!(signed.events[0].dtstamp, event.dtstamp, "stable DTSTAMP");

    // The facilitator's feed holds both, the cancelled one marked so.
    let theirs = client
        .feed(
            &format!("/calendars/facilitators/{facilitator_id}.ics"),
            None,
            "public, max-age=300",
        )
        .await;
    assert_eq!(
        theirs.event(&held).map(|e| e.status.as_str()),
        Some("CONFIRMED")
    );
    assert_eq!(
        theirs.event(&cancelled).map(|e| e.status.as_str()),
        Some("CANCELLED")
    );

    // The public feed, by topic: exactly this test's two sessions.
    let by_topic = client
        .feed(
            &format!("/calendars/public.ics?topic={TOPIC}"),
            None,
            "public, max-age=300",
        )
        .await;
    let mut uids: Vec<&str> = by_topic.events.iter().map(|e| e.uid.as_str()).collect();
    uids.sort_unstable();
    let mut expected = [
        format!("{held}@cafe-ia.fr"),
        format!("{cancelled}@cafe-ia.fr"),
    ];
    expected.sort_unstable();
    assert_eq!(uids, expected, "{by_topic:?}");
    assert_eq!(
        by_topic.event(&cancelled).map(|e| e.status.as_str()),
        Some("CANCELLED")
    );
    // By département: the demo's sessions in the Rhône (once loaded), not the online ones.
    let mut rhone = None;
    for _ in 0..200 {
        let feed = client
            .feed(
                "/calendars/public.ics?departement=69",
                None,
                "public, max-age=300",
            )
            .await;
        if !feed.events.is_empty() {
            rhone = Some(feed);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rhone = rhone.expect("demo sessions in the Rhône");
    assert!(rhone.event(&held).is_none(), "{rhone:?}");
    // Both filters at once, and the whole feed.
    let both = client
        .feed(
            &format!("/calendars/public.ics?departement=69&topic={TOPIC}"),
            None,
            "public, max-age=300",
        )
        .await;
    assert!(both.events.is_empty(), "{both:?}");
    let all = client
        .feed("/calendars/public.ics", None, "public, max-age=300")
        .await;
    assert!(all.event(&held).is_some() && all.event(&cancelled).is_some());
    // The service's refusal of a filter comes back as its problem, naming the field.
    let bad_topic = client
        .problem(
            "/calendars/public.ics?topic=astrology",
            None,
            400,
            "BAD_USER_INPUT",
        )
        .await;
    assert_eq!(bad_topic["errors"][0]["field"], "topic", "{bad_topic}");

    // The private feed: created through GraphQL, served at the gateway's path, only with its
    // token; it holds the citizen's sessions, the cancelled one marked so.
    let create = "mutation { createPrivateCalendar { path } }";
    let made = stack.graphql(create, json!({}), Some(&citizen)).await;
    let path = made["data"]["createPrivateCalendar"]["path"]
        .as_str()
        .unwrap_or_else(|| panic!("{made}"))
        .to_owned();
    assert!(
        path.starts_with("/calendars/private/") && path.ends_with(".ics"),
        "{path}"
    );
    let mine = client.feed(&path, None, "private, no-store").await;
    assert_eq!(mine.events.len(), 2, "{mine:?}");
    assert_eq!(
        mine.event(&held).map(|e| e.status.as_str()),
        Some("CONFIRMED")
    );
    assert_eq!(
        mine.event(&cancelled).map(|e| e.status.as_str()),
        Some("CANCELLED")
    );
    let token = &path["/calendars/private/".len()..path.len() - ".ics".len()];
    let wrong: String = token
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();
    client
        .problem(
            &format!("/calendars/private/{wrong}.ics"),
            None,
            404,
            "NOT_FOUND",
        )
        .await;
    client
        .problem("/calendars/private/not-a-token.ics", None, 404, "NOT_FOUND")
        .await;
    // Asking again replaces the feed: the old path stops working.
    let again = stack.graphql(create, json!({}), Some(&citizen)).await;
    let new_path = again["data"]["createPrivateCalendar"]["path"]
        .as_str()
        .unwrap_or_else(|| panic!("{again}"))
        .to_owned();
    assert_ne!(new_path, path);
    client.problem(&path, None, 404, "NOT_FOUND").await;
    client.feed(&new_path, None, "private, no-store").await;

    // JSON-LD of a session: schema.org Event / EducationEvent, its status.
    let doc = client.jsonld(&format!("/jsonld/sessions/{held}")).await;
    assert_eq!(doc["@context"], "https://schema.org", "{doc}");
    let types = doc["@type"].as_array().expect("types");
    assert!(
        types.contains(&json!("Event")) && types.contains(&json!("EducationEvent")),
        "{doc}"
    );
    assert_eq!(doc["name"], "Café IA : coder avec l'IA");
    assert_eq!(doc["@id"], format!("urn:uuid:{held}"));
    let doc = client
        .jsonld(&format!("/jsonld/sessions/{cancelled}"))
        .await;
    assert_eq!(doc["eventStatus"], "https://schema.org/EventCancelled");
    // JSON-LD of a published training: schema.org Course.
    let training = published_training(&stack).await;
    let course = client
        .jsonld(&format!("/jsonld/trainings/{training}"))
        .await;
    assert_eq!(course["@context"], "https://schema.org", "{course}");
    assert_eq!(course["@type"], "Course", "{course}");
    assert_eq!(course["name"], "L'IA au travail, premiers usages");

    // Unknown ids are 404 problems, malformed ones 400 naming `id`, on every route.
    let unknown = "00000000-0000-4000-8000-000000000000";
    for template in [
        "/calendars/sessions/{}.ics",
        "/calendars/facilitators/{}.ics",
        "/jsonld/sessions/{}",
        "/jsonld/trainings/{}",
    ] {
        client
            .problem(&template.replace("{}", unknown), None, 404, "NOT_FOUND")
            .await;
        let bad = client
            .problem(
                &template.replace("{}", "not-a-uuid"),
                None,
                400,
                "BAD_USER_INPUT",
            )
            .await;
        assert_eq!(bad["errors"][0]["field"], "id", "{template}: {bad}");
    }
    // A bad token is refused like on /graphql.
    client
        .problem(
            &format!("/calendars/sessions/{held}.ics"),
            Some("not.a.token"),
            401,
            "UNAUTHENTICATED",
        )
        .await;

    // A gateway whose events service does not answer: 503, as a problem document.
    let mut config = stack.gateway_config();
    config.platform.http.port = 0;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    config.services.events = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let lonely = cafeia_gateway::start(
        config,
        cafeia_gateway::Shared::default(),
        cafeia_platform::runtime::bind("127.0.0.1", 0).expect("bind"),
        1,
    )
    .await
    .expect("second gateway");
    let cut_off = Client {
        base: format!("http://127.0.0.1:{}", lonely.port()),
        http: reqwest::Client::new(),
    };
    cut_off
        .problem(
            &format!("/calendars/sessions/{held}.ics"),
            None,
            503,
            "UNAVAILABLE",
        )
        .await;
    cut_off.problem(&new_path, None, 503, "UNAVAILABLE").await;
    lonely.stop().await;

    stack.stop().await;
}

/// The one-click `List-Unsubscribe` addresses (RFC 8058) — a reminder's
/// (`/mail/unsubscribe/{token}`, the events service) and a facilitator's digest's
/// (`/mail/digests/unsubscribe/{token}`, the facilitators service) — take the mail reader's
/// POST without sign-in and ask their service: a token it does not know is its 404, never
/// cached; a GET is not served (a link scanner stops nothing); a token that cannot be one is
/// refused without asking. (The services' suites follow a real mail's address to the end:
/// `services/events/tests/notifications.rs`, `services/facilitators/tests/digest.rs`.)
async fn one_click_unsubscriptions_reach_their_service(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let http = reqwest::Client::new();
    for prefix in ["/mail/unsubscribe", "/mail/digests/unsubscribe"] {
        let url = format!("{}{prefix}/{}", stack.base, "0".repeat(64));
        let response = http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .expect("gateway answers");
        assert_eq!(response.status(), 404, "{prefix}");
        assert_eq!(response.headers()["cache-control"], "private, no-store");
        let problem: Value = response.json().await.expect("a problem document");
        assert_eq!(
            problem["detail"], "lien de désabonnement inconnu",
            "{prefix}: {problem}"
        );
        let scanned = http.get(&url).send().await.expect("gateway answers");
        assert_ne!(scanned.status(), 200, "{prefix}");
        let forged = http
            .post(format!("{}{prefix}/%3Cscript%3E", stack.base))
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .expect("gateway answers");
        assert_eq!(forged.status(), 404, "{prefix}");
        let problem: Value = forged.json().await.expect("a problem document");
        assert_eq!(
            problem["detail"], "lien de désabonnement invalide",
            "{prefix}: {problem}"
        );
    }
    stack.stop().await;
}

backend_matrix!(
    feeds_and_documents,
    one_click_unsubscriptions_reach_their_service
);
