//! Batch look-ups: many entities by id in one call, so that the gateway resolves a field of
//! every item of a list with one request (its DataLoaders), never one per item.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The most ids one batch call takes.
pub const MAX_IDS: usize = 100;

/// `?ids=<uuid>,<uuid>,…`. Unknown ids, and those the caller may not see, are simply absent
/// from the answer (which keeps no particular order).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct IdsQuery {
    /// Comma-separated UUIDs, at most 100 (repeated ones count once).
    #[cfg_attr(
        feature = "openapi",
        param(
            example = "0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b,0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6c"
        )
    )]
    pub ids: String,
}

impl IdsQuery {
    pub fn new(ids: &[Uuid]) -> Self {
        Self {
            ids: ids
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}
