//! What the events endpoints take in their query strings.

use crate::enums::SessionStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most sessions a batch look-up by venue or facilitator answers for each id.
pub const UPCOMING_PER_GROUP: usize = 20;

/// Which public sessions to list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// INSEE code of the département (e.g. `69`, `2A`).
    pub departement: Option<String>,
    /// INSEE code of the région (e.g. `84`): its sessions in one list, for a coordinator's
    /// console, rather than one call per département.
    pub region: Option<String>,
    /// `true`: only sessions with no seat left (capacity counted and every seat confirmed);
    /// `false`: only those with a seat left or no seat limit.
    pub full: Option<bool>,
    /// A topic of the shared vocabulary.
    pub topic: Option<String>,
    /// Sessions starting at or after (RFC 3339); default now.
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Sessions of one series.
    pub series_id: Option<Uuid>,
    /// `published` (default), `cancelled` or `completed`.
    pub status: Option<SessionStatus>,
    /// The `next_cursor` of the previous page.
    #[cfg_attr(feature = "openapi", param(format = Uuid))]
    pub cursor: Option<String>,
    /// Page size (1 to 100, default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u64>,
}

/// Which sessions the public calendar feed holds: the list's filters, without its paging (a
/// feed is one document, up to its own bound, that calendars poll whole).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// INSEE code of the département (e.g. `69`, `2A`).
    pub departement: Option<String>,
    /// INSEE code of the région (e.g. `84`).
    pub region: Option<String>,
    /// A topic of the shared vocabulary.
    pub topic: Option<String>,
    /// Sessions starting at or after (RFC 3339); default now.
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Sessions of one series.
    pub series_id: Option<Uuid>,
    /// `published` or `cancelled` alone; both by default.
    pub status: Option<SessionStatus>,
}

impl From<FeedQuery> for ListQuery {
    fn from(feed: FeedQuery) -> Self {
        let FeedQuery {
            departement,
            region,
            topic,
            from,
            to,
            series_id,
            status,
        } = feed;
        ListQuery {
            departement,
            region,
            topic,
            from,
            to,
            series_id,
            status,
            ..ListQuery::default()
        }
    }
}

/// One page of a list that takes no filter ("my sessions", "my registrations", a roll).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page (or the id of any item, to resume after it).
    #[cfg_attr(feature = "openapi", param(format = Uuid))]
    pub cursor: Option<String>,
    /// Page size (1 to 100, default 20).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u64>,
}

/// A new session is a draft, or published straight away with `publish`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct CreateQuery {
    /// Publish at once (verified facilitators only).
    #[serde(default)]
    pub publish: bool,
}
