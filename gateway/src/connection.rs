//! The one pagination convention of the graph: Relay connections (`edges { cursor node }`,
//! `pageInfo`, `totalCount`), with `first` / `after` arguments. Services answer pages
//! (`cafeia_api::Page`: items, the cursor of the next page, the total); this turns one into a
//! connection.

use crate::errors::gql;
use async_graphql::{
    OutputType, Result, SimpleObject,
    connection::{Connection, Edge, EmptyFields},
};
use cafeia_api::page::MAX_LIMIT;
use cafeia_platform::AppError;

/// What every connection says besides its edges.
#[derive(SimpleObject)]
pub struct Totals {
    /// How many items the whole list holds, over every page.
    pub total_count: u64,
}

/// A page of `T` as a Relay connection; its GraphQL name is `<T>Connection`.
pub type Page<T> = Connection<String, T, Totals, EmptyFields>;

/// The page size a client asked for with `first`, checked (1 to 100, 20 when absent).
pub fn first(first: Option<i32>) -> Result<Option<u64>> {
    match first {
        None => Ok(None),
        Some(n) if n >= 1 && u64::try_from(n).is_ok_and(|n| n <= MAX_LIMIT) => {
            Ok(u64::try_from(n).ok())
        }
        Some(_) => Err(gql(AppError::invalid(
            "first",
            format!("de 1 à {MAX_LIMIT} éléments par page"),
        ))),
    }
}

/// Builds the connection. `cursor` gives each item's own cursor (where the next page would
/// start after it), so a client may resume after any edge; the service's `next_cursor` is the
/// last edge's.
pub fn connection<T, N: OutputType>(
    page: cafeia_api::Page<T>,
    after: Option<&str>,
    cursor: impl Fn(usize, &T) -> String,
    node: impl Fn(T) -> N,
) -> Page<N> {
    let has_next = page.next_cursor.is_some();
    let total = page.total.unwrap_or(page.items.len() as u64);
    let mut connection = Connection::with_additional_fields(
        after.is_some(),
        has_next,
        Totals { total_count: total },
    );
    let last = page.items.len().saturating_sub(1);
    let next_cursor = page.next_cursor;
    connection.edges = page
        .items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let c = match (&next_cursor, i == last) {
                (Some(next), true) => next.clone(),
                _ => cursor(i, &item),
            };
            Edge::new(c, node(item))
        })
        .collect();
    connection
}
