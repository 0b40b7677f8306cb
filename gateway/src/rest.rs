//! What every resolver that calls a service starts with.

use crate::clients::{CallContext, Services};
use async_graphql::{Context, Result};
use cafeia_api::client::Call;

/// The typed service clients and what this resolver's calls carry.
pub fn services<'a>(ctx: &'a Context<'_>) -> Result<(&'a Services, Call)> {
    Ok((ctx.data::<Services>()?, ctx.data::<CallContext>()?.call()))
}
