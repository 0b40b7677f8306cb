//! Answers to anonymous queries of public data, kept a few seconds in this gateway's memory.
//!
//! The list of cafés is what everybody opens first: under load most requests ask the same few
//! questions (the first page, a département's page) of data that changes a few times a
//! minute. An anonymous caller's answer depends on the request alone (there is no viewer for a
//! field to depend on), so one answer serves every anonymous caller asking the same request
//! until it is as old as its root fields allow (`PUBLIC`). Answers to signed-in callers, to
//! mutations, to requests naming a field not listed, and answers carrying an error are never
//! kept. Each gateway keeps its own (no shared store to reach, nothing to lose when it
//! restarts); an answer kept says so to HTTP caches too (`Cache-Control: public, max-age`).
//!
//! What a registration changes (seats left) shows in a kept list up to its age later; the
//! registration itself is always answered from the events service.

use actix_web::HttpResponse;
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
use std::{
    num::NonZeroUsize,
    sync::Mutex,
    time::{Duration, Instant},
};

/// The root fields whose anonymous answers may be kept, and for how long. Sessions: seats
/// left move with registrations, so a list is kept only as long as a person would not notice.
/// The gazetteer changes with a release.
const PUBLIC: &[(&str, Duration)] = &[
    ("sessions", Duration::from_secs(2)),
    ("commune", Duration::from_secs(3600)),
    ("communes", Duration::from_secs(3600)),
    ("communesByPostcode", Duration::from_secs(3600)),
    ("__typename", Duration::from_secs(3600)),
];

/// Distinct requests kept at most (the least recently asked go first).
const ENTRIES: usize = 1024;
/// An answer larger than this is not kept (a few large lists would push out every other).
const MAX_BODY: usize = 256 * 1024;

/// The answer's media type, as async-graphql's actix integration sends it.
pub const CONTENT_TYPE: &str = "application/graphql-response+json";

/// What tells two requests apart: the document, the operation chosen and the variables.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    query: String,
    operation: Option<String>,
    variables: String,
}

impl Key {
    pub fn of(request: &async_graphql::Request) -> Option<Self> {
        Some(Self {
            query: request.query.clone(),
            operation: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).ok()?,
        })
    }
}

struct Kept {
    body: actix_web::web::Bytes,
    max_age: Duration,
    kept_at: Instant,
}

/// The kept answers.
pub struct PublicAnswers {
    entries: Mutex<lru::LruCache<Key, Kept>>,
}

impl Default for PublicAnswers {
    fn default() -> Self {
        Self {
            entries: Mutex::new(lru::LruCache::new(
                NonZeroUsize::new(ENTRIES).expect("ENTRIES > 0"),
            )),
        }
    }
}

impl PublicAnswers {
    /// The answer kept for `key`, if it is not too old.
    pub fn answer(&self, key: &Key) -> Option<HttpResponse> {
        let mut entries = self.entries.lock().ok()?;
        let kept = entries.get(key)?;
        let age = kept.kept_at.elapsed();
        if age >= kept.max_age {
            entries.pop(key);
            return None;
        }
        Some(response(kept.body.clone(), kept.max_age - age))
    }

    /// Keeps `response`, the answer to `key`, when every root field allows it and nothing
    /// went wrong, and gives the HTTP answer to send; none when it is not kept.
    pub fn keep(&self, key: Key, response: &async_graphql::Response) -> Option<HttpResponse> {
        // Headers a resolver set (a cookie, say) are someone's own.
        let keepable = response.is_ok()
            && response.data != async_graphql::Value::Null
            && response.http_headers.iter().next().is_none();
        let max_age = keepable.then(|| max_age(&key)).flatten()?;
        let body = serde_json::to_vec(response).ok()?;
        let body = actix_web::web::Bytes::from(body);
        if body.len() <= MAX_BODY
            && let Ok(mut entries) = self.entries.lock()
        {
            entries.put(
                key,
                Kept {
                    body: body.clone(),
                    max_age,
                    kept_at: Instant::now(),
                },
            );
        }
        Some(response_of(body, max_age))
    }
}

fn response(body: actix_web::web::Bytes, left: Duration) -> HttpResponse {
    // Whole seconds, rounded down: an HTTP cache never keeps it longer than the gateway does.
    response_of(body, Duration::from_secs(left.as_secs()))
}

fn response_of(body: actix_web::web::Bytes, max_age: Duration) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            format!("public, max-age={}", max_age.as_secs()),
        ))
        .body(body)
}

/// How long the answer to `key` may be kept: the shortest age of its root fields, none when
/// it is not a query or names a root field (or a fragment) not in `PUBLIC`.
fn max_age(key: &Key) -> Option<Duration> {
    let document = async_graphql::parser::parse_query(&key.query).ok()?;
    let selection = operation(&document, key.operation.as_deref())?;
    let mut shortest: Option<Duration> = None;
    for item in &selection.items {
        let Selection::Field(field) = &item.node else {
            return None;
        };
        let name = field.node.name.node.as_str();
        let (_, age) = PUBLIC.iter().find(|(public, _)| *public == name)?;
        shortest = Some(shortest.map_or(*age, |s| s.min(*age)));
    }
    shortest
}

/// The selection of the query operation the request runs.
fn operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d async_graphql::parser::types::SelectionSet> {
    let mut operations = document.operations.iter();
    let (_, operation) = match name {
        Some(name) => operations.find(|(n, _)| n.map(|n| n.as_str()) == Some(name))?,
        None => {
            let only = operations.next()?;
            if operations.next().is_some() {
                return None;
            }
            only
        }
    };
    (operation.node.ty == OperationType::Query).then_some(&operation.node.selection_set.node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(query: &str, operation: Option<&str>) -> Key {
        Key {
            query: query.to_owned(),
            operation: operation.map(str::to_owned),
            variables: "{}".to_owned(),
        }
    }

    #[test]
    fn only_queries_of_public_root_fields_are_kept_for_the_shortest_age() {
        assert_eq!(
            max_age(&key("{ sessions(first: 20) { totalCount } }", None)),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            max_age(&key(
                "{ communes(search: \"Lyon\") { name } sessions { totalCount } }",
                None
            )),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            max_age(&key(
                "{ communesByPostcode(postcode: \"69001\") { name } }",
                None
            )),
            Some(Duration::from_secs(3600))
        );
        // A field not listed, a fragment at the root, a mutation, an unknown operation.
        assert_eq!(
            max_age(&key("{ sessions { totalCount } me { id } }", None)),
            None
        );
        assert_eq!(
            max_age(&key(
                "{ ...F } fragment F on Query { sessions { totalCount } }",
                None
            )),
            None
        );
        assert_eq!(max_age(&key("mutation { sessions }", None)), None);
        assert_eq!(
            max_age(&key("query A { sessions { totalCount } }", Some("B"))),
            None
        );
        assert_eq!(
            max_age(&key(
                "query A { me { id } } query B { sessions { totalCount } }",
                Some("B")
            )),
            Some(Duration::from_secs(2))
        );
        // Two operations and none chosen: the request fails, nothing is kept.
        assert_eq!(
            max_age(&key(
                "query A { sessions { totalCount } } query B { sessions { totalCount } }",
                None
            )),
            None
        );
        assert_eq!(max_age(&key("{ sessions {", None)), None);
    }

    fn answer(data: serde_json::Value) -> async_graphql::Response {
        async_graphql::Response::new(async_graphql::Value::from_json(data).expect("value"))
    }

    #[test]
    fn a_kept_answer_is_served_until_it_is_too_old_and_an_error_is_never_kept() {
        let answers = PublicAnswers::default();
        let list = key("{ sessions { totalCount } }", None);
        assert!(answers.answer(&list).is_none());
        let sent = answers
            .keep(
                list.clone(),
                &answer(serde_json::json!({"sessions": {"totalCount": 3}})),
            )
            .expect("kept");
        assert_eq!(
            sent.headers()
                .get(actix_web::http::header::CACHE_CONTROL)
                .expect("Cache-Control"),
            "public, max-age=2"
        );
        let again = answers.answer(&list).expect("served again");
        assert_eq!(again.status(), actix_web::http::StatusCode::OK);
        assert_eq!(
            again
                .headers()
                .get(actix_web::http::header::CONTENT_TYPE)
                .expect("Content-Type"),
            CONTENT_TYPE
        );

        // Too old: gone.
        answers
            .entries
            .lock()
            .expect("entries")
            .get_mut(&list)
            .expect("entry")
            .kept_at -= Duration::from_secs(2);
        assert!(answers.answer(&list).is_none());

        // An answer with an error, or to a field not public, is not kept.
        let mut failed = answer(serde_json::json!({"sessions": null}));
        failed
            .errors
            .push(async_graphql::ServerError::new("indisponible", None));
        assert!(answers.keep(list.clone(), &failed).is_none());
        assert!(answers.answer(&list).is_none());
        let me = key("{ me { id } }", None);
        assert!(
            answers
                .keep(me.clone(), &answer(serde_json::json!({"me": null})))
                .is_none()
        );
        assert!(answers.answer(&me).is_none());
    }
}
