//! Per-request DataLoaders for the fields that cross services (`Session.venue`,
//! `Session.modules`, `Training.provider`, `SearchHit.session`, …): within one GraphQL request,
//! every look-up of one kind is gathered into one batch call to the owning service — never one
//! call per item. Loaders are built for each request because they carry its caller, which must
//! never leak into another request's batch.

pub mod catalogue;
pub mod events;
pub mod facilitators;

use crate::clients::{CallContext, Services};

/// Adds every loader to a request about to be executed.
pub fn attach(
    request: async_graphql::Request,
    services: &Services,
    call: &CallContext,
) -> async_graphql::Request {
    let request = catalogue::attach(request, services, call);
    let request = events::attach(request, services, call);
    facilitators::attach(request, services, call)
}
