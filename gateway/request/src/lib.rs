//! A GraphQL request to the gateway before it reaches the schema: the JSON body read into one
//! operation (or refused with its code and a message saying why), and the shape of that
//! operation once parsed (its kind, the fields it selects at its root through fragments, how
//! deep it nests), which the gateway's limits hold before anything runs.
//!
//! Its own crate, without the gateway around it, so that the fuzz targets (`fuzz/`) build it
//! alone.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use cafeia_api::ErrorCode;
use std::collections::HashMap;

/// A request refused before it reached the schema.
#[derive(Debug)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// The body of a POST as one operation: `{"query": …, "operationName"?, "variables"?}`.
pub fn parse_body(body: &[u8]) -> Result<async_graphql::Request, Refusal> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        Refusal::new(
            ErrorCode::MalformedBody,
            format!("corps JSON illisible : {e}"),
        )
    })?;
    if value.is_array() {
        return Err(Refusal::new(
            ErrorCode::BatchNotSupported,
            "une seule opération par requête : envoyez-les l'une après l'autre",
        ));
    }
    if !value.get("query").is_some_and(serde_json::Value::is_string) {
        return Err(Refusal::new(
            ErrorCode::MalformedBody,
            "query : le texte de l'opération GraphQL est requis",
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        Refusal::new(
            ErrorCode::MalformedBody,
            format!("requête GraphQL attendue ({{\"query\": …}}) : {e}"),
        )
    })
}

/// The kind of the operation that will run (the named one, or the only one) and how many
/// fields it selects at its root, through fragments (`__typename` is no field of the root).
/// Each fragment is counted once and remembered, so a document nesting spreads costs its
/// size to count, never more.
pub fn root_fields(
    document: &ExecutableDocument,
    name: Option<&str>,
) -> Option<(OperationType, usize)> {
    let operation = operation(document, name)?;
    let mut fragments = HashMap::new();
    let n = count(document, &operation.selection_set.node, &mut fragments);
    Some((operation.ty, n))
}

/// How deep the operation that will run nests its fields (a root field is at depth 1),
/// through fragments: the data it asks for, and apart from it the schema it asks about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Depths {
    /// The deepest path that enters no `__schema` or `__type` field.
    pub data: usize,
    /// The deepest path through a `__schema` or `__type` field (0 without one): the standard
    /// introspection queries of GraphQL tools nest 15 deep to unwrap lists of non-null types,
    /// deeper than any data the API serves.
    pub introspection: usize,
}

/// The [`Depths`] of the operation that will run (`None`: no such operation). Each fragment is
/// measured once and remembered.
pub fn depths(document: &ExecutableDocument, name: Option<&str>) -> Option<Depths> {
    let operation = operation(document, name)?;
    let mut fragments = HashMap::new();
    Some(measure(
        document,
        &operation.selection_set.node,
        &mut fragments,
    ))
}

fn operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d async_graphql::parser::types::OperationDefinition> {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next()?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    Some(&operation.node)
}

fn measure<'d>(
    document: &'d ExecutableDocument,
    selection: &'d SelectionSet,
    fragments: &mut HashMap<&'d str, Depths>,
) -> Depths {
    let mut deepest = Depths::default();
    for item in &selection.items {
        let below = match &item.node {
            Selection::Field(field) => {
                let inner = measure(document, &field.node.selection_set.node, fragments);
                let name = field.node.name.node.as_str();
                if name == "__schema" || name == "__type" {
                    Depths {
                        data: 0,
                        introspection: 1 + inner.data.max(inner.introspection),
                    }
                } else {
                    Depths {
                        data: 1 + inner.data,
                        introspection: if inner.introspection > 0 {
                            1 + inner.introspection
                        } else {
                            0
                        },
                    }
                }
            }
            Selection::InlineFragment(inline) => {
                measure(document, &inline.node.selection_set.node, fragments)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                match fragments.get(name) {
                    Some(known) => *known,
                    None => {
                        // Nothing while it is being measured: a cycle (refused by validation
                        // anyway) adds no depth.
                        fragments.insert(name, Depths::default());
                        let measured = document
                            .fragments
                            .get(&spread.node.fragment_name.node)
                            .map(|f| measure(document, &f.node.selection_set.node, fragments))
                            .unwrap_or_default();
                        fragments.insert(name, measured);
                        measured
                    }
                }
            }
        };
        deepest.data = deepest.data.max(below.data);
        deepest.introspection = deepest.introspection.max(below.introspection);
    }
    deepest
}

fn count<'d>(
    document: &'d ExecutableDocument,
    selection: &'d SelectionSet,
    fragments: &mut HashMap<&'d str, usize>,
) -> usize {
    let mut n: usize = 0;
    for item in &selection.items {
        let more = match &item.node {
            Selection::Field(field) => usize::from(!field.node.name.node.starts_with("__")),
            Selection::InlineFragment(inline) => {
                count(document, &inline.node.selection_set.node, fragments)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                match fragments.get(name) {
                    Some(known) => *known,
                    None => {
                        // Zero while it is being counted: a cycle (refused by validation
                        // anyway) adds nothing.
                        fragments.insert(name, 0);
                        let counted = document
                            .fragments
                            .get(&spread.node.fragment_name.node)
                            .map(|f| count(document, &f.node.selection_set.node, fragments))
                            .unwrap_or(0);
                        fragments.insert(name, counted);
                        counted
                    }
                }
            }
        };
        n = n.saturating_add(more);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::{Depths, depths, parse_body, root_fields};
    use async_graphql::parser::{parse_query, types::OperationType};
    use cafeia_api::ErrorCode;

    fn root(query: &str, name: Option<&str>) -> Option<(OperationType, usize)> {
        root_fields(&parse_query(query).expect("parses"), name)
    }

    #[test]
    fn aliases_and_fragments_count_as_the_fields_they_run() {
        assert_eq!(
            root(
                "mutation { a: register(x: 1) b: register(x: 2) __typename }",
                None
            ),
            Some((OperationType::Mutation, 2))
        );
        assert_eq!(
            root(
                "mutation { ...F ...F ... on Mutation { c: register } } \
                 fragment F on Mutation { a: register b: register }",
                None
            ),
            Some((OperationType::Mutation, 5))
        );
        assert_eq!(
            root("query A { a b } mutation B { c }", Some("B")),
            Some((OperationType::Mutation, 1))
        );
        assert_eq!(root("query A { a } mutation B { c }", None), None);
        assert_eq!(
            root("subscription { a: seats b: seats }", None),
            Some((OperationType::Subscription, 2))
        );
    }

    #[test]
    fn nested_spreads_are_counted_once_each() {
        // 2^30 paths through the spreads; each fragment is counted once.
        let mut query = String::from("mutation { ...F0 ...F0 } ");
        for i in 0..30 {
            query.push_str(&format!(
                "fragment F{i} on Mutation {{ ...F{} ...F{} }} ",
                i + 1,
                i + 1
            ));
        }
        query.push_str("fragment F30 on Mutation { a }");
        let (_, n) = root(&query, None).expect("counted");
        assert_eq!(n, 1 << 31);
    }

    fn depth(query: &str) -> Depths {
        depths(&parse_query(query).expect("parses"), None).expect("measured")
    }

    #[test]
    fn depth_counts_data_and_introspection_apart_through_fragments() {
        assert_eq!(
            depth("{ a { b { c } } d }"),
            Depths {
                data: 3,
                introspection: 0
            }
        );
        assert_eq!(
            depth("{ a { ...F } } fragment F on T { b { ... on T { c { d } } } }"),
            Depths {
                data: 4,
                introspection: 0
            }
        );
        // A data field inside `__type` is the schema's, not data: it counts as introspection.
        assert_eq!(
            depth(
                "{ x { y } __schema { types { ...T } } } fragment T on __Type { ofType { name } }"
            ),
            Depths {
                data: 2,
                introspection: 4
            }
        );
        assert_eq!(
            depth("{ a { __type(name: \"A\") { name } } }"),
            Depths {
                data: 1,
                introspection: 3
            }
        );
    }

    #[test]
    fn bodies_are_refused_with_their_own_codes() {
        assert_eq!(parse_body(b"{").unwrap_err().code, ErrorCode::MalformedBody);
        assert_eq!(
            parse_body(br#"[{"query":"{__typename}"}]"#)
                .unwrap_err()
                .code,
            ErrorCode::BatchNotSupported
        );
        assert_eq!(
            parse_body(br#"{"variables":{}}"#).unwrap_err().code,
            ErrorCode::MalformedBody
        );
        assert!(parse_body(br#"{"query":"{__typename}"}"#).is_ok());
    }
}
