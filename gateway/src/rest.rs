//! Helpers for resolvers that call a service's REST API.

use crate::{
    clients::{CallContext, ServiceClient, Services},
    errors::gql,
};
use async_graphql::{Context, Result};
use cafeia_api::client::Call;
use cafeia_platform::AppError;
use serde::Serialize;

/// The typed service clients and what this resolver's calls carry.
pub fn services<'a>(ctx: &'a Context<'_>) -> Result<(&'a Services, Call)> {
    Ok((ctx.data::<Services>()?, ctx.data::<CallContext>()?.call()))
}

pub fn client<'a>(ctx: &'a Context<'_>) -> Result<(&'a ServiceClient, &'a CallContext)> {
    Ok((ctx.data::<ServiceClient>()?, ctx.data::<CallContext>()?))
}

pub fn to_value<T: Serialize>(input: &T) -> Result<serde_json::Value> {
    serde_json::to_value(input).map_err(|e| gql(AppError::internal(e)))
}

/// Encodes a path segment coming from a client (ids, INSEE codes, postcodes).
pub fn segment(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

pub fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", urlencode(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn enum_text<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// A mutation's answer, which the service must send.
pub fn required<T>(result: Result<Option<T>, AppError>) -> Result<T> {
    result.map_err(gql)?.ok_or_else(|| {
        gql(AppError::internal(std::io::Error::other(
            "empty answer from a service",
        )))
    })
}

/// A GraphQL enum that travels as the services' snake_case text.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }
    };
}
pub(crate) use wire_enum;
