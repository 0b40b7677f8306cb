//! What every service's OpenAPI document shares, and the document as the platform serves it
//! at `/openapi.json`.
//!
//! A service derives its operations and schemas (utoipa, [`Service::openapi`]); the platform
//! completes the document with what the shared HTTP shell answers on every operation, so that
//! no service has to repeat it and none can forget it ([`Document::new`]):
//! - every error response is `application/problem+json` (RFC 9457, the `Problem` schema);
//! - the statuses the shell itself gives: 400 (an unreadable parameter or body), 401 (a token
//!   that fails verification), 403 (an operation that needs a role), 404 (a path naming
//!   nothing), 413 and 415 (a body too large, or not JSON), 503 (a backend down).
//!
//! It also lists the codes a field named for a territory or a word of the vocabulary takes
//! (`codes`), and gives each required text the pattern its handler enforces (`texts`).
//!
//! The same document routes what no handler took: a documented path asked with another
//! method is answered 405 with `Allow` ([`Document::allowed`]), anything else 404.
//!
//! [`Service::openapi`]: crate::runtime::Service::openapi

mod codes;
mod texts;

pub use texts::TEXT_PATTERN;

use actix_web::http::Method;
use serde_json::{Map, Value, json};
use utoipa::{
    Modify,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};

/// Adds the `bearer` (JWT) security scheme the operations refer to.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A service's document, completed, with the path templates it routes.
pub struct Document {
    json: Value,
    /// Each documented path as its segments (`None` for a `{parameter}`), with its methods.
    templates: Vec<(Vec<Option<String>>, Vec<Method>)>,
}

impl Document {
    pub fn new(document: utoipa::openapi::OpenApi) -> Self {
        Self::from_json(serde_json::to_value(document).unwrap_or_else(|_| json!({})))
    }

    fn from_json(mut json: Value) -> Self {
        complete(&mut json);
        codes::declare(&mut json);
        texts::declare(&mut json);
        let templates = json["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .iter()
                    .map(|(path, item)| {
                        let segments = path
                            .split('/')
                            .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                            .collect();
                        let methods = METHODS
                            .iter()
                            .filter(|m| item.get(**m).is_some())
                            .filter_map(|m| Method::from_bytes(m.to_uppercase().as_bytes()).ok())
                            .collect();
                        (segments, methods)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self { json, templates }
    }

    pub fn json(&self) -> &Value {
        &self.json
    }

    /// The methods documented for `path` when it is a documented path, `None` otherwise. A
    /// path several templates fit is the most specific one's, as OpenAPI reads them (a fixed
    /// segment before a `{parameter}`): `/v1/trainings/export` is not `/v1/trainings/{id}`.
    pub fn allowed(&self, path: &str) -> Option<&[Method]> {
        let asked: Vec<&str> = path.split('/').collect();
        self.templates
            .iter()
            .filter(|(segments, _)| {
                segments.len() == asked.len()
                    && segments.iter().zip(&asked).all(|(s, a)| match s {
                        Some(fixed) => fixed == a,
                        None => !a.is_empty(),
                    })
            })
            .max_by_key(|(segments, _)| segments.iter().map(Option::is_some).collect::<Vec<_>>())
            .map(|(_, methods)| methods.as_slice())
    }
}

/// Declares the `{parameters}` of `path` an operation leaves undeclared: every `{id}` of the
/// platform is a UUID; any other is a non-empty segment.
fn declare_path_parameters(path: &str, operation: &mut Value) {
    let names: Vec<&str> = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect();
    if names.is_empty() {
        return;
    }
    let Some(object) = operation.as_object_mut() else {
        return;
    };
    let parameters = object.entry("parameters").or_insert_with(|| json!([]));
    let Some(parameters) = parameters.as_array_mut() else {
        return;
    };
    for name in names {
        if parameters
            .iter()
            .any(|p| p["in"] == "path" && p["name"] == name)
        {
            continue;
        }
        let schema = if name == "id" {
            json!({ "type": "string", "format": "uuid" })
        } else {
            json!({ "type": "string", "minLength": 1 })
        };
        parameters.push(json!({ "name": name, "in": "path", "required": true, "schema": schema }));
    }
}

/// The statuses the HTTP shell gives an operation, by what the operation takes.
fn shell_statuses(operation: &Value) -> Vec<(&'static str, &'static str)> {
    let parameters = operation["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let in_path = parameters.iter().any(|p| p["in"] == "path");
    let body = operation.get("requestBody").is_some();
    let secured = operation["security"].as_array().is_some_and(|s| {
        !s.is_empty()
            && s.iter()
                .all(|r| r.as_object().is_some_and(|r| !r.is_empty()))
    });
    let mut statuses = vec![("401", "Jeton invalide ou expiré")];
    if !parameters.is_empty() || body {
        statuses.push((
            "400",
            "Paramètre ou corps invalide (`errors[].field` dit lequel)",
        ));
    }
    if secured {
        statuses.push(("403", "Rôle ou territoire insuffisant"));
    }
    if in_path {
        statuses.push(("404", "Introuvable"));
    }
    if body {
        statuses.push(("413", "Corps trop volumineux"));
        statuses.push(("415", "Corps attendu en JSON"));
    }
    statuses.push(("503", "Base de données ou bus momentanément indisponible"));
    statuses
}

fn problem_content() -> Value {
    json!({ "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } })
}

/// Completes every operation of `document` (see the module's documentation).
fn complete(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            let Some(operation) = item.get_mut(method) else {
                continue;
            };
            declare_path_parameters(path, operation);
            let statuses = shell_statuses(operation);
            let responses = operation.as_object_mut().map(|o| {
                o.entry("responses")
                    .or_insert_with(|| Value::Object(Map::new()))
            });
            let Some(responses) = responses.and_then(Value::as_object_mut) else {
                continue;
            };
            for (status, description) in statuses {
                responses
                    .entry(status)
                    .or_insert_with(|| json!({ "description": description }));
            }
            for (status, response) in responses.iter_mut() {
                if status.as_str() >= "400" && status.len() == 3 {
                    response["content"] = problem_content();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Document {
        Document::from_json(json!({
            "openapi": "3.1.0",
            "paths": {
                "/v1/things": {
                    "get": {
                        "parameters": [{ "name": "limit", "in": "query" }],
                        "responses": { "200": { "description": "ok" } }
                    },
                    "post": {
                        "requestBody": {},
                        "security": [{ "bearer": [] }],
                        "responses": {
                            "409": { "description": "déjà là", "content": { "application/json": {} } }
                        }
                    }
                },
                "/v1/things/{id}": {
                    "get": { "parameters": [{ "name": "id", "in": "path" }], "responses": {} }
                },
                "/v1/things/export": { "delete": { "responses": {} } },
                "/v1/things/{id}/notes/{slug}": { "get": { "responses": {} } }
            }
        }))
    }

    #[test]
    fn operations_declare_what_the_shell_answers_as_problem_documents() {
        let doc = document();
        let list = &doc.json()["paths"]["/v1/things"]["get"]["responses"];
        assert!(
            list.get("400").is_some() && list.get("401").is_some() && list.get("503").is_some()
        );
        assert!(list.get("403").is_none(), "a public operation gets no 403");
        assert!(list.get("404").is_none(), "no path parameter, no 404");
        let create = &doc.json()["paths"]["/v1/things"]["post"]["responses"];
        for status in ["403", "413", "415"] {
            assert!(create.get(status).is_some(), "{status} missing");
        }
        assert_eq!(
            create["409"]["description"], "déjà là",
            "a service's own response is kept"
        );
        assert!(create["409"]["content"].get("application/json").is_none());
        assert!(
            create["409"]["content"]
                .get("application/problem+json")
                .is_some()
        );
        let one = &doc.json()["paths"]["/v1/things/{id}"]["get"]["responses"];
        assert!(one.get("404").is_some());
    }

    #[test]
    fn a_documented_path_knows_its_methods() {
        let doc = document();
        assert_eq!(
            doc.allowed("/v1/things"),
            Some(&[Method::GET, Method::POST][..])
        );
        assert_eq!(doc.allowed("/v1/things/abc"), Some(&[Method::GET][..]));
        assert_eq!(
            doc.allowed("/v1/things/export"),
            Some(&[Method::DELETE][..]),
            "a fixed segment is more specific than a parameter"
        );
        assert_eq!(
            doc.allowed("/v1/things/"),
            None,
            "an empty segment names nothing"
        );
        assert_eq!(doc.allowed("/v1/other"), None);
    }

    #[test]
    fn path_parameters_are_declared() {
        let doc = document();
        let parameters = &doc.json()["paths"]["/v1/things/{id}"]["get"]["parameters"];
        assert_eq!(
            parameters.as_array().map(Vec::len),
            Some(1),
            "declared once"
        );
        let parameters = &doc.json()["paths"]["/v1/things/{id}/notes/{slug}"]["get"]["parameters"];
        assert_eq!(parameters[0]["schema"]["format"], "uuid");
        assert_eq!(parameters[1]["name"], "slug");
        assert_eq!(parameters[1]["required"], true);
    }
}
