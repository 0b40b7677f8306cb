//! The catalogue's controlled values, as they travel (snake_case) and as the GraphQL schema
//! names them. Levels, audiences and formats are the shared vocabulary
//! (`cafeia_api::vocabulary`).
//!
//! With feature `storage` (enabled by the service only), the enums stored in a column derive
//! sea-orm's `DeriveActiveEnum`, stored as their serde names (the text written before).

use serde::{Deserialize, Serialize};

pub use cafeia_api::vocabulary::{Audience, Format, Level};

/// How a programme is followed: at one's own pace, or on scheduled dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
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
pub enum Pace {
    /// Whenever the learner wants (e.g. an online course open all year).
    SelfPaced,
    /// On the dates of its sessions.
    Scheduled,
}

/// Who may pay for a programme that is not free.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Funding {
    /// Compte personnel de formation (the personal training account).
    Cpf,
    /// Opérateur de compétences (the sector's training fund).
    Opco,
    /// France Travail (the public employment service).
    FranceTravail,
    /// The région.
    Region,
    /// The learner's employer.
    Employer,
}

/// What a programme offers for accessibility.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "graphql", graphql(name = "TrainingAccessibility"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Accessibility {
    /// Its places are accessible to people with reduced mobility.
    DisabledAccess,
    /// Its online material follows the RGAA (the French web accessibility standard).
    RgaaCompliant,
    /// Taught in, or interpreted into, French Sign Language (LSF).
    SignLanguage,
}

/// What kind of organisation a training provider (organisme de formation) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
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
pub enum ProviderKind {
    /// A university.
    University,
    /// A cluster of the national AI strategy.
    AiCluster,
    /// A school (grande école, engineering or business school…).
    School,
    /// A company.
    Company,
    /// A non-profit association (loi 1901).
    Association,
    /// A public body (opérateur public).
    PublicAgency,
}

/// Whether a session takes enrolments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
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
pub enum Enrolment {
    /// Taking enrolments.
    Open,
    /// Not taking enrolments (full, or enrolment is over).
    Closed,
    /// Temporarily not taking enrolments (the session may be postponed).
    Suspended,
}

/// Where a programme or a module is in its review: submitted → published or rejected;
/// published → withdrawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
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
pub enum ReviewStatus {
    /// Waiting for staff's review; visible to staff and its author only.
    Submitted,
    /// Public.
    Published,
    /// Refused by staff, with a reason; a corrected version goes back to review.
    Rejected,
    /// No longer offered; not public any more and no longer editable.
    Withdrawn,
}

impl ReviewStatus {
    /// The status as it travels and is stored (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Submitted => "submitted",
            ReviewStatus::Published => "published",
            ReviewStatus::Rejected => "rejected",
            ReviewStatus::Withdrawn => "withdrawn",
        }
    }
}

/// A review decision on a programme or a module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// Make a submitted item public (staff).
    Publish,
    /// Refuse a submitted item, with a reason (staff).
    Reject,
    /// Take a published item down (staff, or a programme's provider).
    Withdraw,
}

impl ReviewDecision {
    /// The decision as it travels (its serde name), also the verb of the programme's review
    /// routes and of the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewDecision::Publish => "publish",
            ReviewDecision::Reject => "reject",
            ReviewDecision::Withdraw => "withdraw",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cafeia_api::vocabulary::wire_name;

    #[test]
    fn names_are_the_serde_names() {
        for s in [
            ReviewStatus::Submitted,
            ReviewStatus::Published,
            ReviewStatus::Rejected,
            ReviewStatus::Withdrawn,
        ] {
            assert_eq!(s.as_str(), wire_name(&s));
        }
        for d in [
            ReviewDecision::Publish,
            ReviewDecision::Reject,
            ReviewDecision::Withdraw,
        ] {
            assert_eq!(d.as_str(), wire_name(&d));
        }
        assert_eq!(wire_name(&Accessibility::RgaaCompliant), "rgaa_compliant");
        assert_eq!(wire_name(&Funding::FranceTravail), "france_travail");
    }
}
