//! The codes a field takes, said in the document: a field named `departement` (or
//! `departements`, a list of them) anywhere in the API holds a code of the gazetteer, one named
//! `region` a région's, `topic`, `language` and `licence` a word of the shared vocabulary. The handlers
//! refuse any other value (`BAD_USER_INPUT`), so the document lists them as an `enum`, taken
//! from the same gazetteer and vocabulary the handlers check against.

use crate::{
    territory::Gazetteer,
    vocabulary::{LANGUAGES, LICENCES, TOPICS},
};
use serde_json::Value;

/// The codes a field of this name takes, for one value and for a list of them.
fn codes_of(name: &str) -> Option<Vec<String>> {
    let gazetteer = Gazetteer::get();
    let mut codes: Vec<String> = match name {
        "departement" | "departements" => {
            gazetteer.departements().map(|d| d.code.clone()).collect()
        }
        "region" | "regions" => gazetteer.regions().map(|r| r.code.clone()).collect(),
        "topic" | "topics" | "interests" => TOPICS.iter().map(|t| (*t).to_owned()).collect(),
        "language" | "languages" => LANGUAGES.iter().map(|l| (*l).to_owned()).collect(),
        "licence" => LICENCES.iter().map(|l| (*l).to_owned()).collect(),
        _ => return None,
    };
    // The gazetteer is a map: sorted, every replica serves the same document.
    codes.sort_unstable();
    Some(codes)
}

/// Sets the `enum` of every query parameter and schema property named for a code.
pub(super) fn declare(document: &mut Value) {
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for operation in item.values_mut() {
                let Some(parameters) = operation
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut)
                else {
                    continue;
                };
                for parameter in parameters {
                    let name = parameter["name"].as_str().unwrap_or_default().to_owned();
                    if let (Some(codes), Some(schema)) =
                        (codes_of(&name), parameter.get_mut("schema"))
                    {
                        restrict(schema, &codes);
                    }
                }
            }
        }
    }
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut)
            else {
                continue;
            };
            for (name, property) in properties.iter_mut() {
                if let Some(codes) = codes_of(name) {
                    restrict(property, &codes);
                }
            }
        }
    }
}

/// A string (or a nullable one) takes the codes; an array of them, through its `items`.
fn restrict(schema: &mut Value, codes: &[String]) {
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return,
    };
    if types.contains(&"array") {
        if let Some(items) = schema.get_mut("items") {
            restrict(items, codes);
        }
        return;
    }
    if !types.contains(&"string") {
        return;
    }
    let mut values: Vec<Value> = codes.iter().cloned().map(Value::String).collect();
    if types.contains(&"null") {
        values.push(Value::Null);
    }
    schema["enum"] = Value::Array(values);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_named_for_codes_list_them() {
        let mut document = json!({
            "paths": { "/v1/x": { "get": { "parameters": [
                { "name": "departement", "in": "query", "schema": { "type": ["string", "null"] } },
                { "name": "q", "in": "query", "schema": { "type": "string" } }
            ] } } },
            "components": { "schemas": { "Input": { "properties": {
                "regions": { "type": "array", "items": { "type": "string" } },
                "topic": { "type": "string" },
                "limit": { "type": "integer" }
            } } } }
        });
        declare(&mut document);
        let departements = document["paths"]["/v1/x"]["get"]["parameters"][0]["schema"]["enum"]
            .as_array()
            .expect("an enum");
        assert!(departements.contains(&json!("2A")));
        assert!(departements.contains(&json!("69")));
        assert!(!departements.contains(&json!("20")));
        assert!(departements.contains(&Value::Null));
        assert!(document["paths"]["/v1/x"]["get"]["parameters"][1]["schema"]["enum"].is_null());
        let input = &document["components"]["schemas"]["Input"]["properties"];
        assert!(
            input["regions"]["items"]["enum"]
                .as_array()
                .is_some_and(|r| r.contains(&json!("84")))
        );
        assert_eq!(
            input["topic"]["enum"].as_array().map(Vec::len),
            Some(TOPICS.len())
        );
        assert!(input["limit"]["enum"].is_null());
    }
}
