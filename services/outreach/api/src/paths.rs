//! The outreach service's routes, full paths: the service registers exactly these, the client
//! fills them.

/// GET: progress toward the goal (staff).
pub const HEADLINE: &str = "/v1/outreach/headline";
/// GET: figures split by one dimension (staff).
pub const BREAKDOWN: &str = "/v1/outreach/breakdown";
/// GET: people reached per 10,000 inhabitants, per département (staff).
pub const REACH: &str = "/v1/outreach/reach";
/// GET: coverage gaps, where the next cafés should open (staff).
pub const GAPS: &str = "/v1/outreach/gaps";
/// GET: the weekly series beside the straight line to the goal (staff).
pub const WEEKLY: &str = "/v1/outreach/weekly";
/// GET: every figure of the staff dashboard at once, computed in one pass (staff).
pub const DASHBOARD: &str = "/v1/outreach/dashboard";
/// GET: the monthly table per département, CSV or JSON (staff).
pub const EXPORT: &str = "/v1/outreach/export";
/// POST: recomputes every figure from the history (national staff).
pub const REBUILD: &str = "/v1/outreach/rebuild";
/// GET: the public open data, CSV or JSON, small counts hidden.
pub const OPEN_DATA_REACH: &str = "/v1/open-data/reach";

/// Every route above, so tests can check the OpenAPI document lists each of them.
pub const ALL: [&str; 9] = [
    HEADLINE,
    BREAKDOWN,
    REACH,
    GAPS,
    WEEKLY,
    DASHBOARD,
    EXPORT,
    REBUILD,
    OPEN_DATA_REACH,
];
