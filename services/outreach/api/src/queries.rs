//! What the outreach endpoints take in their query strings: the territory and period of the
//! figures, the dimension of a breakdown, the file format of an export.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Which territory and period the figures cover. Without a territory, staff see France and a
/// coordinator sees their own territory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Région (INSEE code, e.g. `84`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Département (INSEE code, e.g. `69`, `2A`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departement: Option<String>,
    /// First day included (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(20[2-9][0-9]|2100)-"))]
    pub from: Option<NaiveDate>,
    /// Last day included (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(20[2-9][0-9]|2100)-"))]
    pub to: Option<NaiveDate>,
    /// Figures as they stood at the end of this day (default today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(20[2-9][0-9]|2100)-"))]
    pub as_of: Option<NaiveDate>,
}

/// How to split the figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Per région (online sessions under `online`).
    Region,
    /// Per département (online sessions under `online`).
    Departement,
    /// Per calendar month (`YYYY-MM`).
    Month,
    /// Per ISO week, keyed by its Monday.
    Week,
    /// Per audience; a session for several audiences counts in each.
    Audience,
    /// Per age band of the participants (no people reached: first-timers are not split by age).
    AgeBand,
    /// Per occupation of the participants (no people reached either).
    Occupation,
    /// In person, online or hybrid.
    Format,
    /// Per topic; a session on several topics counts in each.
    Topic,
    /// Per kind of facilitator (`unknown` when the report does not say).
    FacilitatorKind,
}

/// A breakdown: the dimension and the same territory and period as [`Filter`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct BreakdownQuery {
    /// How to split the figures.
    pub by: Dimension,
    /// Région (INSEE code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Département (INSEE code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departement: Option<String>,
    /// First day included (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(20[2-9][0-9]|2100)-"))]
    pub from: Option<NaiveDate>,
    /// Last day included (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(20[2-9][0-9]|2100)-"))]
    pub to: Option<NaiveDate>,
    /// Figures as they stood at the end of this day (default today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(20[2-9][0-9]|2100)-"))]
    pub as_of: Option<NaiveDate>,
}

/// How many coverage gaps to list when the caller does not say.
pub fn default_gaps_limit() -> u32 {
    10
}

/// Coverage gaps: how many, within which territory, as of which day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct GapsQuery {
    /// How many départements to list: 1 to 200, 10 by default.
    #[serde(default = "default_gaps_limit")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: u32,
    /// Région (INSEE code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Département (INSEE code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departement: Option<String>,
    /// Figures as they stood at the end of this day (default today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(20[2-9][0-9]|2100)-"))]
    pub as_of: Option<NaiveDate>,
}

impl Default for GapsQuery {
    fn default() -> Self {
        Self {
            limit: default_gaps_limit(),
            region: None,
            departement: None,
            as_of: None,
        }
    }
}

/// The staff dashboard: one territory; progress, the weekly curve, reach and the coverage gaps
/// as of a day, the breakdowns over a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    /// Région (INSEE code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Département (INSEE code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departement: Option<String>,
    /// Progress, weekly curve, reach and gaps as they stood at the end of this day (default
    /// today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(20[2-9][0-9]|2100)-"))]
    pub as_of: Option<NaiveDate>,
    /// First day of the breakdowns (YYYY-MM-DD; default: since the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(20[2-9][0-9]|2100)-"))]
    pub from: Option<NaiveDate>,
    /// Last day of the breakdowns (YYYY-MM-DD; default: `as_of`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(20[2-9][0-9]|2100)-"))]
    pub to: Option<NaiveDate>,
    /// How many coverage gaps to list: 1 to 200, 10 by default.
    #[serde(default = "default_gaps_limit")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub gaps_limit: u32,
}

impl Default for DashboardQuery {
    fn default() -> Self {
        Self {
            region: None,
            departement: None,
            as_of: None,
            from: None,
            to: None,
            gaps_limit: default_gaps_limit(),
        }
    }
}

/// The file format of an export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// Comma-separated values with a header row (the default).
    #[default]
    Csv,
    /// A JSON array of the same rows.
    Json,
}

/// The staff export: file format, territory and period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// CSV (default) or JSON.
    #[serde(default)]
    pub format: FileFormat,
    /// Région (INSEE code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Département (INSEE code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departement: Option<String>,
    /// First day included (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(20[2-9][0-9]|2100)-"))]
    pub from: Option<NaiveDate>,
    /// Last day included (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", param(pattern = "^(20[2-9][0-9]|2100)-"))]
    pub to: Option<NaiveDate>,
}

/// The public open data: only the file format.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct OpenDataQuery {
    /// CSV (default) or JSON.
    #[serde(default)]
    pub format: FileFormat,
}
