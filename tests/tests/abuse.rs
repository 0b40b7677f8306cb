//! Issue 14, defect 3 (alias amplification) end to end, on both backend sets (the cost
//! budget lives in the memory cache or in Redis): one request could carry ~500 aliased
//! `register` calls or cache-busting searches, and the rate limit counted requests. Now a
//! field costs what it makes the services do, at most `graphql.max_mutations` mutations run
//! per operation, and each caller spends a budget of cost per minute.

use cafeia_e2e::TestStack;
use cafeia_platform::auth::Role;
use cafeia_testkit::{Backend, backend_matrix};
use serde_json::{Value, json};
use std::time::Duration;

/// `count` aliased copies of `field`.
fn aliased(count: usize, field: &str) -> String {
    (0..count).map(|i| format!("a{i}: {field} ")).collect()
}

/// The code of an answer's first error.
fn code(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// POSTs an operation; the status and the body.
async fn post(stack: &TestStack, query: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/graphql", stack.base))
        .json(&json!({ "query": query }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("gateway answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

const PAGE: &str = "{ sessions(first: 20) { totalCount pageInfo { hasNextPage endCursor } \
    edges { cursor node { id title startsAt seatsLeft capacity confirmed registrationOpen \
    registrationMode venue { name } facilitators { displayName } } } } }";

/// The first page of demo sessions, once the events service has seeded them: an ordinary
/// page query, which passes.
async fn demo_page(stack: &TestStack) -> Vec<Value> {
    for _ in 0..200 {
        let (status, page) = post(stack, PAGE, None).await;
        assert_eq!(status, 200, "{page}");
        assert!(
            page["errors"].is_null(),
            "an ordinary page query passes: {page}"
        );
        let nodes: Vec<Value> = page["data"]["sessions"]["edges"]
            .as_array()
            .map(|edges| edges.iter().map(|e| e["node"].clone()).collect())
            .unwrap_or_default();
        if nodes.len() >= 10 {
            return nodes;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no demo sessions");
}

async fn confirmed(stack: &TestStack, id: &str) -> i64 {
    let answer = stack
        .graphql(
            "query($id: UUID!) { session(id: $id) { confirmed waitlisted } }",
            json!({ "id": id }),
            None,
        )
        .await;
    answer["data"]["session"]["confirmed"]
        .as_i64()
        .unwrap_or_else(|| panic!("{answer}"))
}

/// 500 aliased `register` calls in one request (a 5,000-seat session filled in ten
/// requests): refused, and no registration is made; nor with six, one over the limit. One
/// registration still goes through.
async fn alias_amplification_500_registers_make_no_registration(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let sessions = demo_page(&stack).await;
    let open = sessions
        .iter()
        .find(|s| {
            s["registrationOpen"] == true
                && s["registrationMode"] == "OPEN"
                && s["seatsLeft"].as_i64() > Some(0)
        })
        .unwrap_or_else(|| panic!("a demo session with free seats: {sessions:?}"));
    let id = open["id"].as_str().expect("id").to_owned();
    let before = confirmed(&stack, &id).await;
    let citizen = stack.token("citizen-amplifier", &[Role::Citizen], None);
    let register = format!("register(sessionId: \"{id}\") {{ ... on Registration {{ status }} }}");
    for count in [500, 6] {
        let (_, answer) = post(
            &stack,
            &format!("mutation {{ {} }}", aliased(count, &register)),
            Some(&citizen),
        )
        .await;
        assert_eq!(code(&answer), "TOO_MANY_MUTATIONS", "{count}: {answer}");
        assert!(answer["data"].is_null(), "{answer}");
        assert_eq!(
            confirmed(&stack, &id).await,
            before,
            "{count} aliased registers"
        );
    }
    let (_, answer) = post(
        &stack,
        &format!("mutation {{ {register} }}"),
        Some(&citizen),
    )
    .await;
    assert_eq!(
        answer["data"]["register"]["status"], "CONFIRMED",
        "{answer}"
    );
    assert_eq!(confirmed(&stack, &id).await, before + 1);
    stack.stop().await;
}

/// 50 aliased searches cost more than one operation may; ten a request, a caller runs out of
/// budget after a few requests (the count is kept in Redis on the real backend set), while
/// others' ordinary page queries still pass.
async fn alias_amplification_searches_spend_the_cost_budget(backend: Backend) {
    let stack = TestStack::start(backend).await;
    demo_page(&stack).await;
    let search =
        "search(input: {q: \"intelligence artificielle\"}, first: 20) { hits { totalCount } }";
    let (_, answer) = post(&stack, &format!("{{ {} }}", aliased(50, search)), None).await;
    assert_eq!(code(&answer), "QUERY_TOO_COMPLEX", "{answer}");

    let searcher = stack.token("citizen-searcher", &[Role::Citizen], None);
    let ten = format!("{{ {} }}", aliased(10, search));
    let mut served = 0;
    let retry_after = loop {
        let (status, answer) = post(&stack, &ten, Some(&searcher)).await;
        if status == 429 {
            assert_eq!(code(&answer), "RATE_LIMITED", "{answer}");
            break answer["errors"][0]["extensions"]["retryAfter"].clone();
        }
        assert!(answer["errors"].is_null(), "{answer}");
        assert!(answer["data"]["a9"]["hits"]["totalCount"].as_u64() > Some(0));
        served += 1;
        assert!(served < 100, "the budget never ran out");
    };
    assert_eq!(retry_after, 60);
    // The default budget (10,000 a minute) over the cost of ten searches: 14 requests.
    let per_request = 10 * cafeia_gateway::cost::search(Some(20), 2);
    assert_eq!(served, 10_000 / per_request);
    let (status, _) = post(&stack, "{ me { sub } }", Some(&searcher)).await;
    assert_eq!(status, 429, "the searcher's budget is spent for everything");
    let (status, page) = post(&stack, PAGE, None).await;
    assert_eq!(status, 200, "{page}");
    assert!(page["errors"].is_null(), "{page}");
    stack.stop().await;
}

backend_matrix!(
    alias_amplification_500_registers_make_no_registration,
    alias_amplification_searches_spend_the_cost_budget
);
