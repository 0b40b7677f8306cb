//! Reading a GraphQL request off HTTP ourselves rather than through async-graphql-actix-web's
//! extractor, which reads any size of body and answers refusals in `text/plain`: here the body
//! is held to `http.max_body_bytes` while it streams in, and every refusal is a GraphQL error
//! document with its code.

use crate::errors;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use cafeia_graphql_request::{Refusal, parse_body};
use cafeia_platform::ErrorCode;
use futures::StreamExt;
use serde::Deserialize;

/// Answers a refusal as a GraphQL error document with its code, under its HTTP status.
pub fn refused(refusal: &Refusal) -> HttpResponse {
    let status =
        StatusCode::from_u16(refusal.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    HttpResponse::build(status).json(errors::response(refusal.code, &refusal.message))
}

/// The body of a POST: one operation as JSON.
pub async fn post(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<async_graphql::Request, Refusal> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(Refusal::new(
            ErrorCode::UnsupportedMediaType,
            "content-type : application/json attendu",
        ));
    }
    let too_large = || {
        Refusal::new(
            ErrorCode::PayloadTooLarge,
            format!("le corps de la requête dépasse {limit} octets"),
        )
    };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| Refusal::new(ErrorCode::MalformedBody, "corps interrompu"))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    parse_body(&body)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: String,
    operation_name: Option<String>,
    variables: Option<String>,
}

/// The query string of a GET: `query`, `operationName`, `variables` (JSON).
pub fn get(req: &HttpRequest) -> Result<async_graphql::Request, Refusal> {
    let params = web::Query::<GetParams>::from_query(req.query_string())
        .map_err(|e| Refusal::new(ErrorCode::MalformedBody, e.to_string()))?
        .into_inner();
    let mut request = async_graphql::Request::new(params.query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        let variables: serde_json::Value = serde_json::from_str(&variables).map_err(|e| {
            Refusal::new(
                ErrorCode::MalformedBody,
                format!("variables : JSON illisible ({e})"),
            )
        })?;
        request = request.variables(async_graphql::Variables::from_json(variables));
    }
    Ok(request)
}
