//! The seat allocator, property-based: generated sequences of registrations (alone and in
//! concurrent bursts), cancellations and capacity changes, played through the API against a
//! model of what a session must be. After every step: the answer is the model's, the session's
//! counters are the model's, and its roll is — confirmed never above capacity, the waiting list
//! promoted first come first served, counters equal to rows. A failure is shrunk by proptest
//! to the shortest sequence that still fails.
//!
//! `CAFEIA_ALLOCATOR_CASES` sets how many sequences each backend plays (24 by default).

use crate::support;

use cafeia_events::Events;
use cafeia_platform::auth::Role;
use cafeia_testkit::{Backend, backend_matrix, service::ServiceHarness};
use chrono::{DateTime, Duration, Utc};
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::{
    collections::{HashSet, VecDeque},
    sync::atomic::{AtomicUsize, Ordering},
};
use support::{Net, network, published, session_at};

#[derive(Debug, Clone)]
enum Step {
    /// A new person registers.
    Register,
    /// Several new people register at once.
    Burst(usize),
    /// A registered person (the n-th of those registered, modulo their number) cancels.
    Cancel(usize),
    /// The facilitator sets the capacity.
    Capacity(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(Step::Register),
        1 => (2usize..=4).prop_map(Step::Burst),
        3 => any::<usize>().prop_map(Step::Cancel),
        2 => (1i64..=6).prop_map(Step::Capacity),
    ]
}

/// One person with their registration.
#[derive(Debug, Clone)]
struct Person {
    token: String,
    registration: String,
}

/// What the session must be.
struct Model {
    capacity: i64,
    confirmed: Vec<Person>,
    waiting: VecDeque<Person>,
}

impl Model {
    fn promote(&mut self) {
        while (self.confirmed.len() as i64) < self.capacity {
            let Some(next) = self.waiting.pop_front() else {
                break;
            };
            self.confirmed.push(next);
        }
    }
}

/// A session and the facilitator running it, for one sequence.
struct Case<'a> {
    h: &'a ServiceHarness,
    net: &'a Net,
    id: String,
    start: DateTime<Utc>,
}

static PEOPLE: AtomicUsize = AtomicUsize::new(0);

impl Case<'_> {
    async fn register(&self) -> (String, StatusCode, Value) {
        let n = PEOPLE.fetch_add(1, Ordering::Relaxed);
        let token = self.h.token(&format!("allocator-{n}"), Role::Citizen, None);
        let (status, body) = self
            .h
            .call(
                Method::POST,
                &format!("/v1/sessions/{}/registrations", self.id),
                Some(&token),
                Some(json!({})),
            )
            .await;
        (token, status, body)
    }

    /// The session's counters, and its roll (one page: a sequence makes at most 19 × 4
    /// registrations): the confirmed registrations, and the waiting
    /// ones in the order of their positions (which must run 1, 2, 3…).
    async fn observed(&self) -> Result<((i64, i64, i64), HashSet<String>, Vec<String>), String> {
        let (_, view) = self
            .h
            .call(
                Method::GET,
                &format!("/v1/sessions/{}", self.id),
                None,
                None,
            )
            .await;
        let counter = |k: &str| view[k].as_i64().ok_or(format!("{k} in {view}"));
        let counters = (
            counter("confirmed")?,
            counter("waitlisted")?,
            counter("seats_left")?,
        );
        let (status, roll) = self
            .h
            .call(
                Method::GET,
                &format!("/v1/sessions/{}/registrations?limit=100", self.id),
                Some(&self.net.alice.1),
                None,
            )
            .await;
        if status != StatusCode::OK || !roll["next_cursor"].is_null() {
            return Err(format!("the roll in one page: {status} {roll}"));
        }
        let mut confirmed = HashSet::new();
        let mut waiting = Vec::new();
        for line in roll["items"].as_array().into_iter().flatten() {
            let id = line["id"].as_str().unwrap_or_default().to_owned();
            match line["status"].as_str() {
                Some("confirmed") => {
                    confirmed.insert(id);
                }
                Some("waitlisted") => {
                    let position = line["waitlist_position"].as_i64().unwrap_or(0);
                    waiting.push((position, id));
                }
                _ => {}
            }
        }
        waiting.sort();
        let positions: Vec<i64> = waiting.iter().map(|(p, _)| *p).collect();
        if positions != (1..=waiting.len() as i64).collect::<Vec<_>>() {
            return Err(format!("waiting-list positions {positions:?}"));
        }
        Ok((
            counters,
            confirmed,
            waiting.into_iter().map(|(_, id)| id).collect(),
        ))
    }

    async fn play(&self, capacity: i64, steps: Vec<Step>) -> Result<(), TestCaseError> {
        let mut model = Model {
            capacity,
            confirmed: Vec::new(),
            waiting: VecDeque::new(),
        };
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Register => {
                    let (token, status, body) = self.register().await;
                    prop_assert_eq!(status, StatusCode::CREATED, "step {}: {}", i, body);
                    let person = Person {
                        token,
                        registration: body["id"].as_str().unwrap_or_default().to_owned(),
                    };
                    if (model.confirmed.len() as i64) < model.capacity {
                        prop_assert_eq!(&body["status"], "confirmed", "step {}", i);
                        model.confirmed.push(person);
                    } else {
                        prop_assert_eq!(&body["status"], "waitlisted", "step {}", i);
                        prop_assert_eq!(
                            body["waitlist_position"].as_i64(),
                            Some(model.waiting.len() as i64 + 1),
                            "step {}: the end of the waiting list",
                            i
                        );
                        model.waiting.push_back(person);
                    }
                }
                Step::Burst(k) => {
                    let answers = futures::future::join_all((0..*k).map(|_| self.register())).await;
                    let free = (model.capacity - model.confirmed.len() as i64).max(0) as usize;
                    let mut seated = 0;
                    let mut queued = Vec::new();
                    for (token, status, body) in answers {
                        prop_assert_eq!(status, StatusCode::CREATED, "step {}: {}", i, body);
                        let person = Person {
                            token,
                            registration: body["id"].as_str().unwrap_or_default().to_owned(),
                        };
                        match body["status"].as_str() {
                            Some("confirmed") => {
                                seated += 1;
                                model.confirmed.push(person);
                            }
                            Some("waitlisted") => {
                                let position = body["waitlist_position"].as_i64().unwrap_or(0);
                                queued.push((position, person));
                            }
                            _ => prop_assert!(false, "step {}: {}", i, body),
                        }
                    }
                    prop_assert_eq!(seated, free.min(*k), "step {}: seats taken at once", i);
                    // Arrival among simultaneous requests is the service's to decide; the
                    // positions it gave must extend the list without a gap or a repeat.
                    queued.sort_by_key(|(p, _)| *p);
                    let expected: Vec<i64> = (1..=queued.len() as i64)
                        .map(|p| p + model.waiting.len() as i64)
                        .collect();
                    let given: Vec<i64> = queued.iter().map(|(p, _)| *p).collect();
                    prop_assert_eq!(given, expected, "step {}: positions", i);
                    model.waiting.extend(queued.into_iter().map(|(_, p)| p));
                }
                Step::Cancel(n) => {
                    let total = model.confirmed.len() + model.waiting.len();
                    if total == 0 {
                        continue;
                    }
                    let n = n % total;
                    let person = if n < model.confirmed.len() {
                        model.confirmed.remove(n)
                    } else {
                        model
                            .waiting
                            .remove(n - model.confirmed.len())
                            .expect("in range")
                    };
                    let (status, body) = self
                        .h
                        .call(
                            Method::DELETE,
                            &format!("/v1/registrations/{}", person.registration),
                            Some(&person.token),
                            None,
                        )
                        .await;
                    prop_assert_eq!(status, StatusCode::OK, "step {}: {}", i, body);
                    prop_assert_eq!(&body["status"], "cancelled", "step {}", i);
                    model.promote();
                }
                Step::Capacity(c) => {
                    let (status, body) = self
                        .h
                        .call(
                            Method::PUT,
                            &format!("/v1/sessions/{}", self.id),
                            Some(&self.net.alice.1),
                            Some(session_at(self.net.venue, self.start, *c as i32)),
                        )
                        .await;
                    if *c < model.confirmed.len() as i64 {
                        prop_assert_eq!(status, StatusCode::CONFLICT, "step {}: {}", i, body);
                        prop_assert_eq!(&body["code"], "CAPACITY_BELOW_CONFIRMED", "step {}", i);
                    } else {
                        prop_assert_eq!(status, StatusCode::OK, "step {}: {}", i, body);
                        model.capacity = *c;
                        model.promote();
                    }
                }
            }
            let (counters, confirmed, waiting) =
                self.observed().await.map_err(TestCaseError::fail)?;
            let confirmed_count = model.confirmed.len() as i64;
            prop_assert!(counters.2 >= 0, "step {}: confirmed above capacity", i);
            prop_assert_eq!(
                counters,
                (
                    confirmed_count,
                    model.waiting.len() as i64,
                    model.capacity - confirmed_count
                ),
                "step {} {:?}: counters (confirmed, waitlisted, seats left)",
                i,
                step
            );
            let expected: HashSet<String> = model
                .confirmed
                .iter()
                .map(|p| p.registration.clone())
                .collect();
            prop_assert_eq!(confirmed, expected, "step {} {:?}: who is seated", i, step);
            let expected: Vec<String> = model
                .waiting
                .iter()
                .map(|p| p.registration.clone())
                .collect();
            prop_assert_eq!(waiting, expected, "step {} {:?}: the waiting list", i, step);
        }
        Ok(())
    }
}

async fn seats_follow_the_model_whatever_the_sequence(backend: Backend) {
    let mut h = ServiceHarness::start::<Events>(backend, &["events.session.*"]).await;
    let net = network(&mut h).await;
    let cases = cafeia_testkit::size_from_env("CAFEIA_ALLOCATOR_CASES", 24);
    let mut runner = TestRunner::new(Config {
        cases,
        max_shrink_iters: 200,
        failure_persistence: None,
        ..Config::default()
    });
    let sequences = ((1i64..=4), proptest::collection::vec(step(), 1..20));
    let handle = tokio::runtime::Handle::current();
    let outcome = tokio::task::block_in_place(|| {
        runner.run(&sequences, |(capacity, steps)| {
            handle.block_on(async {
                let start = Utc::now() + Duration::days(30);
                let session = published(
                    &h,
                    &net.alice.1,
                    session_at(net.venue, start, capacity as i32),
                )
                .await;
                let case = Case {
                    h: &h,
                    net: &net,
                    id: session["id"].as_str().expect("id").to_owned(),
                    start,
                };
                case.play(capacity, steps).await
            })
        })
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    h.stop().await;
}

backend_matrix!(seats_follow_the_model_whatever_the_sequence);
