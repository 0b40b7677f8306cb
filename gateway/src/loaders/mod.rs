//! Per-request DataLoaders for the fields that cross services (`Session.venue`,
//! `Session.modules`, `Training.provider`, `SearchHit.session`, …): within one GraphQL request,
//! every look-up of one kind is gathered into one batch call to the owning service — never one
//! call per item. Loaders are built for each request because they carry its caller, which must
//! never leak into another request's batch.

pub mod catalogue;
pub mod events;
pub mod facilitators;

use crate::clients::{CallContext, Services};

/// Adds every loader to the data of a request about to be executed (or of a WebSocket
/// connection, for the operations sent over it).
pub fn attach(data: &mut async_graphql::Data, services: &Services, call: &CallContext) {
    catalogue::attach(data, services, call);
    events::attach(data, services, call);
    facilitators::attach(data, services, call);
}
