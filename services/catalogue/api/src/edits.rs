//! What edits changed in a programme, field by field with the values before and after (the
//! audit log names the fields only), and the review queue's page: what staff read to review a
//! corrected programme.

use serde::{Deserialize, Serialize};

/// A field of a programme's content, by its name in the programme's REST view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TrainingField {
    /// Title.
    Title,
    /// Short presentation.
    Summary,
    /// What learners will be able to do.
    Objectives,
    /// Detailed content.
    Content,
    /// Level (a value of `Level`, by its wire name: `beginner`…).
    Level,
    /// Audiences (a list of `Audience` wire names).
    Audiences,
    /// Format (`in_person`, `online`, `hybrid`).
    Format,
    /// Pace (`self_paced`, `scheduled`).
    Pace,
    /// Length in hours.
    DurationHours,
    /// Free of charge (a boolean).
    Free,
    /// Price in euros (a number, or null when free).
    PriceEur,
    /// Who may pay for it (a list of `Funding` wire names).
    Funding,
    /// RNCP or RS code.
    Certification,
    /// Languages (ISO 639-1 codes).
    Languages,
    /// Accessibility (a list of `Accessibility` wire names).
    Accessibility,
    /// Topics of the shared vocabulary.
    Topics,
    /// Open online to anyone in France (a boolean).
    Online,
    /// Places, as INSEE codes of communes.
    Places,
    /// Sessions, as the REST view writes them (`start_date`, `end_date`, `enrolment`,
    /// `insee`).
    Sessions,
    /// Where to enrol.
    EnrolmentUrl,
    /// Who to write to.
    ContactEmail,
}

/// Who made an edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::Enum),
    graphql(name = "TrainingEditor")
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "storage",
    derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum)
)]
#[cfg_attr(
    feature = "storage",
    sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")
)]
#[serde(rename_all = "snake_case")]
pub enum Editor {
    /// The programme's provider.
    Provider,
    /// National staff.
    Staff,
    /// An LHEO import (the offer came again, changed).
    Import,
}

/// One field an edit changed, with its value before and after as JSON in the REST view's
/// shape (enum values by their wire names, `places` as INSEE codes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "TrainingFieldChange")
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    /// The field.
    pub field: TrainingField,
    /// Its value before the edit (null when it had none).
    pub before: Option<serde_json::Value>,
    /// Its value after the edit (null when it has none).
    pub after: Option<serde_json::Value>,
}

/// One edit of a programme: when, by whom, and what it changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainingEdit {
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Who: the provider, national staff or an LHEO import (never which account: the audit
    /// trail says that to staff).
    pub by: Editor,
    /// The fields it changed, in the order of the programme's view.
    pub changes: Vec<FieldChange>,
}

/// A page of a review queue (programmes or modules submitted, oldest first).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(deny_unknown_fields)]
pub struct ReviewQueueQuery {
    /// Where the page starts: the `next_cursor` of the previous page.
    #[cfg_attr(feature = "openapi", param(format = Uuid))]
    pub cursor: Option<String>,
    /// Page size (1 to 100, 20 by default).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u64>,
}
