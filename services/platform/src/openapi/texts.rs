//! What a text accepts, said in the document: every string the document bounds with a
//! `minLength` or a `maxLength` (and no pattern, format or enum of its own) is a text the
//! handlers read with [`Problems::text`] — no control character but tabs and line breaks;
//! with a `minLength`, required: trimmed, not blank — so the document gives it
//! [`TEXT_PATTERN`], or [`OPTIONAL_TEXT_PATTERN`] when it may be blank (a blank optional
//! text counts as none).
//!
//! [`Problems::text`]: crate::validation::Problems::text

use serde_json::Value;

// Character-class pieces, spelled out rather than `\s`: ECMA-262's `\s` also takes U+FEFF,
// which Rust's `trim` (the handlers') keeps as a character.
/// Blanks outside the control ranges (Unicode White_Space, as `char::is_whitespace`).
macro_rules! blank {
    () => {
        r"\u0020\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}
/// Control characters: C0, DEL, C1.
macro_rules! control {
    () => {
        r"\u0000-\u001F\u007F-\u009F"
    };
}
/// Control characters a text may not hold: C0 but tab and line breaks, DEL, C1.
macro_rules! forbidden {
    () => {
        r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F"
    };
}

/// [`Problems::text`](crate::validation::Problems::text) as an ECMA-262 pattern: control
/// characters (C0 but tab and line breaks, DEL, C1) nowhere, and at least one character that is
/// neither blank nor a control character.
pub const TEXT_PATTERN: &str = concat!(
    "^[^",
    forbidden!(),
    "]*",
    "[^",
    blank!(),
    control!(),
    "]",
    "[^",
    forbidden!(),
    "]*$",
);

/// A text that may be blank: no control character but tabs and line breaks.
pub const OPTIONAL_TEXT_PATTERN: &str = concat!("^[^", forbidden!(), "]*$");

/// [`validation::email`](crate::validation::email) as an ECMA-262 pattern: something, `@`, then
/// a domain with a dot neither first nor last; no blank nor control character anywhere.
pub const EMAIL_PATTERN: &str = concat!(
    "^[^@",
    blank!(),
    control!(),
    "]+@",
    "[^.",
    blank!(),
    control!(),
    "]",
    "[^",
    blank!(),
    control!(),
    "]*\\.",
    "[^",
    blank!(),
    control!(),
    "]*",
    "[^.",
    blank!(),
    control!(),
    "]$",
);

/// Gives [`TEXT_PATTERN`] or [`OPTIONAL_TEXT_PATTERN`] to every text property of the
/// document's schemas, and [`EMAIL_PATTERN`] to the `email` of every input.
pub(super) fn declare(document: &mut Value) {
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (schema_name, schema) in schemas.iter_mut() {
        let input = schema_name.ends_with("Input");
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (name, property) in properties.iter_mut() {
            let is_string = match &property["type"] {
                Value::String(t) => t == "string",
                Value::Array(ts) => ts.iter().any(|t| t == "string"),
                _ => false,
            };
            let own_rule = ["pattern", "format", "enum"]
                .iter()
                .any(|k| property.get(*k).is_some());
            if !is_string || own_rule {
                continue;
            }
            if input && name == "email" {
                property["pattern"] = Value::String(EMAIL_PATTERN.to_owned());
                property["maxLength"] = Value::from(254);
            } else if property.get("minLength").is_some() {
                property["pattern"] = Value::String(TEXT_PATTERN.to_owned());
            } else if property.get("maxLength").is_some() {
                property["pattern"] = Value::String(OPTIONAL_TEXT_PATTERN.to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn required_texts_get_the_pattern_and_nothing_else_does() {
        let mut document = json!({ "components": { "schemas": { "Input": { "properties": {
            "title": { "type": "string", "minLength": 1, "maxLength": 200 },
            "name": { "type": ["string", "null"], "minLength": 1 },
            "siret": { "type": "string", "minLength": 14, "pattern": "^[0-9 ]+$" },
            "reason": { "type": ["string", "null"], "maxLength": 1000 },
            "email": { "type": "string" }
        } }, "View": { "properties": { "email": { "type": "string" } } } } } });
        declare(&mut document);
        let input = &document["components"]["schemas"]["Input"]["properties"];
        assert_eq!(input["title"]["pattern"], TEXT_PATTERN);
        assert_eq!(input["name"]["pattern"], TEXT_PATTERN);
        assert_eq!(input["siret"]["pattern"], "^[0-9 ]+$");
        assert_eq!(input["reason"]["pattern"], OPTIONAL_TEXT_PATTERN);
        assert_eq!(input["email"]["pattern"], EMAIL_PATTERN);
        let email = json!({ "type": "string", "pattern": EMAIL_PATTERN });
        for (address, valid) in [
            ("léa@exemple.fr", true),
            ("léa@exemple", false),
            ("@a.fr", false),
        ] {
            assert_eq!(
                jsonschema::is_valid(&email, &json!(address)),
                valid,
                "{address}"
            );
        }
        let view = &document["components"]["schemas"]["View"]["properties"];
        assert!(
            view["email"]["pattern"].is_null(),
            "only inputs are checked"
        );
    }

    /// Characters on both sides of the rule: letters, blanks (ASCII and not), the control
    /// characters a text may hold and some it may not. Vertical tab, form feed and NEL are left
    /// out: the handlers trim them from the edges (they are blanks) where the pattern refuses
    /// them anywhere, the one place the document is stricter than the handlers.
    const CHARS: &[char] = &[
        'a', 'é', '1', ' ', '\t', '\n', '\r', '\u{a0}', '\u{2003}', '\u{0}', '\u{8}', '\u{1f}',
        '\u{7f}', '\u{9f}', '\u{feff}',
    ];

    /// For addresses: the parts of one, and what may not be in one.
    const EMAIL_CHARS: &[char] = &['a', 'É', '@', '.', ' ', '\u{a0}', '\u{0}', '\u{9f}'];

    proptest::proptest! {
        /// The document's patterns accept exactly the texts the handlers accept: a required
        /// text (`Problems::text`), an optional one (`validation::reason`).
        #[test]
        fn the_patterns_say_what_the_handlers_accept(
            picks in proptest::collection::vec(0..CHARS.len(), 0..8)
        ) {
            let text: String = picks.iter().map(|&i| CHARS[i]).collect();
            let required = json!({ "type": "string", "pattern": TEXT_PATTERN });
            let mut problems = crate::validation::Problems::default();
            problems.text("title", &text, 200);
            proptest::prop_assert_eq!(
                jsonschema::is_valid(&required, &json!(text)),
                problems.into_result().is_ok(),
                "{:?}",
                text
            );
            let optional = json!({ "type": "string", "pattern": OPTIONAL_TEXT_PATTERN });
            proptest::prop_assert_eq!(
                jsonschema::is_valid(&optional, &json!(text)),
                crate::validation::reason(Some(text.clone()), None).is_ok(),
                "{:?}",
                text
            );
        }

        /// The same for an email address (the handlers trim it first: no blank at the edges).
        #[test]
        fn the_email_pattern_says_what_the_handlers_accept(
            picks in proptest::collection::vec(0..EMAIL_CHARS.len(), 0..9)
        ) {
            let text: String = picks.iter().map(|&i| EMAIL_CHARS[i]).collect();
            proptest::prop_assume!(text.trim() == text);
            let schema = json!({ "type": "string", "pattern": EMAIL_PATTERN });
            let mut problems = crate::validation::Problems::default();
            crate::validation::email(&text, &mut problems);
            proptest::prop_assert_eq!(
                jsonschema::is_valid(&schema, &json!(text)),
                problems.into_result().is_ok(),
                "{:?}",
                text
            );
        }
    }
}
