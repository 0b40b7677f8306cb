//! The body of a staff decision that must give its reason.

use serde::{Deserialize, Serialize};

/// Why staff refuse a programme or suspend a facilitator: required, shown to whom it concerns
/// (the same body as an optional reason, with the reason required).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefusalInput {
    /// Why (at most 1,000 characters).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}
