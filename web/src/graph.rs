//! How pages reach the public GraphQL API: one operation at a time, as the signed-in person
//! (or anonymously), with the visitor's address so rate limits see people, not the app.

use actix_web::HttpRequest;
use async_trait::async_trait;
use graphql_client::{GraphQLQuery, Response};
use serde_json::Value;
use std::time::Duration;

/// One GraphQL operation: its document, name and variables.
pub struct Operation {
    pub query: &'static str,
    pub operation_name: &'static str,
    pub variables: Value,
}

/// Runs operations against the gateway's schema. The gateway implements it in process; when
/// the app runs alone, [`HttpGraph`] posts to the gateway.
#[async_trait(?Send)]
pub trait Graph: Send + Sync {
    /// The whole GraphQL response (`data`, `errors`). `bearer` is the person's access token.
    async fn execute(&self, req: &HttpRequest, bearer: Option<&str>, operation: Operation)
    -> Value;
}

/// A GraphQL error as the pages use it: the stable code and, for bad input, the field.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    pub code: String,
    pub field: Option<String>,
    pub message: String,
}

impl GraphError {
    fn from_response(error: &graphql_client::Error) -> Self {
        let ext = error.extensions.as_ref();
        let text = |key: &str| {
            ext.and_then(|e| e.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            code: text("code").unwrap_or_else(|| "INTERNAL".into()),
            field: text("field"),
            message: error.message.clone(),
        }
    }

    /// One error per bad field when the API lists them (`extensions.fields`), so a form
    /// shows each next to its field; otherwise the error as it is.
    fn all_from_response(error: &graphql_client::Error) -> Vec<Self> {
        let first = Self::from_response(error);
        let listed = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("fields"))
            .and_then(Value::as_array);
        let each: Vec<Self> = listed
            .into_iter()
            .flatten()
            .filter_map(|item| {
                Some(Self {
                    code: first.code.clone(),
                    field: Some(item.get("field")?.as_str()?.to_owned()),
                    message: item.get("message")?.as_str()?.to_owned(),
                })
            })
            .collect();
        if each.is_empty() { vec![first] } else { each }
    }

    pub fn unavailable(why: impl Into<String>) -> Self {
        Self {
            code: "UNAVAILABLE".into(),
            field: None,
            message: why.into(),
        }
    }

    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }
}

/// Runs the typed operation `Q`; its data, or every error the API gave.
pub async fn run<Q: GraphQLQuery>(
    graph: &dyn Graph,
    req: &HttpRequest,
    bearer: Option<&str>,
    variables: Q::Variables,
) -> Result<Q::ResponseData, Vec<GraphError>> {
    let body = Q::build_query(variables);
    let variables = serde_json::to_value(&body.variables).unwrap_or(Value::Null);
    let answer = graph
        .execute(
            req,
            bearer,
            Operation {
                query: body.query,
                operation_name: body.operation_name,
                variables,
            },
        )
        .await;
    let response: Response<Q::ResponseData> = match serde_json::from_value(answer) {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(operation = body.operation_name, error = %e, "unreadable answer");
            return Err(vec![GraphError::unavailable(
                "réponse illisible du service, réessayez plus tard",
            )]);
        }
    };
    match (response.data, response.errors) {
        (Some(data), None) => Ok(data),
        (Some(data), Some(errors)) if errors.is_empty() => Ok(data),
        (_, Some(errors)) if !errors.is_empty() => Err(errors
            .iter()
            .flat_map(GraphError::all_from_response)
            .collect()),
        _ => Err(vec![GraphError::unavailable("réponse vide du service")]),
    }
}

/// The gateway over HTTP, for the app running on its own. The visitor's address goes in
/// `X-Forwarded-For`; the gateway trusts it only if this app's address is a configured proxy.
pub struct HttpGraph {
    url: String,
    http: reqwest::Client,
}

impl HttpGraph {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }
}

#[async_trait(?Send)]
impl Graph for HttpGraph {
    async fn execute(
        &self,
        req: &HttpRequest,
        bearer: Option<&str>,
        operation: Operation,
    ) -> Value {
        let body = serde_json::json!({
            "query": operation.query,
            "operationName": operation.operation_name,
            "variables": operation.variables,
        });
        let mut call = self.http.post(&self.url).json(&body);
        if let Some(token) = bearer {
            call = call.bearer_auth(token);
        }
        if let Some(peer) = req.peer_addr() {
            call = call.header("x-forwarded-for", peer.ip().to_string());
        }
        match call.send().await {
            Ok(answer) => answer
                .json()
                .await
                .unwrap_or_else(|e| unavailable(&e.to_string())),
            Err(e) => unavailable(&e.to_string()),
        }
    }
}

fn unavailable(why: &str) -> Value {
    tracing::warn!(error = why, "gateway unreachable");
    serde_json::json!({
        "data": null,
        "errors": [{ "message": "service indisponible, réessayez plus tard",
                     "extensions": { "code": "UNAVAILABLE" } }]
    })
}
