//! Any bytes as a GraphQL request to the gateway, up to the schema: the body read into one
//! operation (or refused with a code), the operation parsed, and its root fields counted
//! through fragments as the mutation limit does. Nothing panics or overflows the stack,
//! fragments spread in cycles included; a refusal always carries a code and a message.
//! The bytes that are not a JSON request are tried as the query text itself, so that the
//! fuzzer reaches the operation's shape without having to learn JSON first.
#![no_main]

use async_graphql::parser::{
    parse_query,
    types::{ExecutableDocument, Selection, SelectionSet},
};
use cafeia_graphql_request::{parse_body, root_fields};
use libfuzzer_sys::fuzz_target;

/// The root fields counted the plain way, every spread expanded again; `None` for a cycle
/// (validation refuses those) or a document too costly to expand.
fn expanded<'d>(
    document: &'d ExecutableDocument,
    selection: &'d SelectionSet,
    spreading: &mut Vec<&'d str>,
    steps: &mut u32,
) -> Option<usize> {
    let mut n = 0usize;
    for item in &selection.items {
        *steps = steps.checked_sub(1)?;
        n = n.checked_add(match &item.node {
            Selection::Field(field) => usize::from(!field.node.name.node.starts_with("__")),
            Selection::InlineFragment(inline) => {
                expanded(document, &inline.node.selection_set.node, spreading, steps)?
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if spreading.contains(&name) {
                    return None;
                }
                match document.fragments.get(&spread.node.fragment_name.node) {
                    Some(fragment) => {
                        spreading.push(name);
                        let inner = expanded(
                            document,
                            &fragment.node.selection_set.node,
                            spreading,
                            steps,
                        );
                        spreading.pop();
                        inner?
                    }
                    None => 0,
                }
            }
        })?;
    }
    Some(n)
}

fuzz_target!(|data: &[u8]| {
    let query = match parse_body(data) {
        Ok(request) => request.query,
        Err(refusal) => {
            assert!(!refusal.message.is_empty(), "a refusal without a message");
            String::from_utf8_lossy(data).into_owned()
        }
    };
    let Ok(document) = parse_query(&query) else {
        return;
    };
    for (name, operation) in document.operations.iter() {
        let Some((kind, counted)) = root_fields(&document, name.map(|n| n.as_str())) else {
            // Only an anonymous pick among several operations has no answer.
            assert!(name.is_none(), "a named operation was not found");
            continue;
        };
        assert_eq!(kind, operation.node.ty, "the operation's kind was misread");
        let mut steps = 100_000;
        if let Some(plain) = expanded(
            &document,
            &operation.node.selection_set.node,
            &mut Vec::new(),
            &mut steps,
        ) {
            assert_eq!(counted, plain, "root fields miscounted through fragments");
        }
    }
});
