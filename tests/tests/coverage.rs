//! Every root query, mutation and subscription of the schema is called by at least one
//! end-to-end test (the tests in this folder run through the gateway on both backend sets).
//! The root fields come from the schema itself; the fields the tests call come from the
//! GraphQL documents written in this folder's sources, parsed as GraphQL.

use async_graphql::parser::{
    parse_query, parse_schema,
    types::{DocumentOperations, OperationType, Selection, TypeKind, TypeSystemDefinition},
};
use std::collections::BTreeSet;

type RootField = (&'static str, String);

fn schema_root_fields() -> BTreeSet<RootField> {
    let sdl = cafeia_gateway::sdl();
    let doc = parse_schema(&sdl).expect("the SDL parses");
    let mut roots = BTreeSet::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let root = match t.node.name.node.as_str() {
            "Query" => "query",
            "Mutation" => "mutation",
            "Subscription" => "subscription",
            _ => continue,
        };
        if let TypeKind::Object(object) = &t.node.kind {
            for field in &object.fields {
                roots.insert((root, field.node.name.node.to_string()));
            }
        }
    }
    roots
}

/// The string literals of a Rust source file, unescaped (plain and raw strings).
fn string_literals(source: &str) -> Vec<String> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => {
                // A char literal ('"', '\'') or a lifetime: step over it without reading a
                // string into it.
                if bytes.get(i + 1) == Some(&b'\\') {
                    i += 4;
                } else if bytes.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            b'r' if matches!(bytes.get(i + 1), Some(b'"') | Some(b'#'))
                && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')) =>
            {
                let mut hashes = 0;
                let mut j = i + 1;
                while bytes.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if bytes.get(j) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let end = format!("\"{}", "#".repeat(hashes));
                let start = j + 1;
                let close = source[start..]
                    .find(&end)
                    .map_or(bytes.len(), |c| start + c);
                out.push(source[start..close].to_owned());
                i = close + end.len();
            }
            b'"' => {
                let mut text = String::new();
                let mut j = i + 1;
                let mut chars = source[j..].char_indices();
                while let Some((k, c)) = chars.next() {
                    match c {
                        '"' => {
                            j += k + 1;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((_, 'n')) => text.push('\n'),
                            Some((_, 't')) => text.push('\t'),
                            Some((_, '\n')) => {
                                // A line continuation: the next line's indentation goes too.
                                for (_, c) in chars.by_ref() {
                                    if !c.is_whitespace() {
                                        text.push(c);
                                        break;
                                    }
                                }
                            }
                            Some((_, other)) => text.push(other),
                            None => {}
                        },
                        c => text.push(c),
                    }
                }
                out.push(text);
                i = j.max(i + 1);
            }
            _ => i += 1,
        }
    }
    out
}

/// The root fields a GraphQL document calls (aliases resolved to the field's name).
fn called_root_fields(document: &str, into: &mut BTreeSet<RootField>) {
    // Documents written for `format!` double their braces.
    let text = document.replace("{{", "{").replace("}}", "}");
    let Ok(doc) = parse_query(&text) else {
        return;
    };
    let operations: Vec<_> = match &doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(map) => map.values().collect(),
    };
    for op in operations {
        let root = match op.node.ty {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        };
        for selection in &op.node.selection_set.node.items {
            if let Selection::Field(field) = &selection.node {
                into.insert((root, field.node.name.node.to_string()));
            }
        }
    }
}

#[test]
fn every_root_field_is_called_by_an_end_to_end_test() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut called = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("tests folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).expect("read");
            for literal in string_literals(&source) {
                called_root_fields(&literal, &mut called);
            }
        }
    }
    let roots = schema_root_fields();
    assert!(
        roots.len() > 40,
        "the schema has its root fields: {roots:?}"
    );
    let missing: Vec<String> = roots
        .difference(&called)
        .map(|(root, field)| format!("{root} {field}"))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} root fields are called by no end-to-end test:\n  {}",
        missing.len(),
        roots.len(),
        missing.join("\n  ")
    );
}

#[test]
fn the_scanner_reads_documents_as_tests_write_them() {
    let source = r####"
        let a = "{ sessions { items { id } } }";
        let b = format!("mutation {{ publishSession(id: \"{id}\") {{ id }} }}");
        let c = r#"subscription { seats(sessionId: "x") { confirmed } }"#;
        // "{ commented }"
        let d = 'x';
        let e = "query { a: me { sub } \
                 b: services { name } }";
    "####;
    let mut called = BTreeSet::new();
    for literal in string_literals(source) {
        called_root_fields(&literal, &mut called);
    }
    let expected: BTreeSet<RootField> = [
        ("query", "sessions"),
        ("mutation", "publishSession"),
        ("subscription", "seats"),
        ("query", "me"),
        ("query", "services"),
    ]
    .into_iter()
    .map(|(r, f)| (r, f.to_owned()))
    .collect();
    assert_eq!(called, expected);
}
