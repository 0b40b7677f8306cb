//! Controlled vocabularies shared by the services (catalogue, facilitators, events, matching):
//! levels, audiences and formats of offers and sessions, topics of AI awareness and training.

use serde::{Deserialize, Serialize};

/// How much a person needs to know already.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
pub enum Level {
    /// Découverte: nothing needed.
    Discovery,
    /// Débutant: knows a little, wants the basics.
    Beginner,
    /// Intermédiaire: uses AI tools already.
    Intermediate,
    /// Avancé: builds or configures AI systems.
    Advanced,
}

/// Who an offer or a session is meant for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
pub enum Audience {
    /// Étudiants and pupils.
    Students,
    /// Salariés (employees).
    Employees,
    /// Demandeurs d'emploi.
    JobSeekers,
    /// Grand public.
    GeneralPublic,
    /// Older people (seniors).
    Seniors,
    /// Independent professionals and business owners.
    Professionals,
    /// Enseignants (teachers and trainers).
    Teachers,
    /// Agents publics (civil servants).
    PublicAgents,
}

/// Where it happens: in a venue, online, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
pub enum Format {
    /// Présentiel.
    InPerson,
    /// À distance.
    Online,
    /// In a venue with some people joining online.
    Hybrid,
}

/// Topics of the shared controlled vocabulary.
pub const TOPICS: [&str; 9] = [
    "what_is_ai",
    "generative_ai",
    "ai_at_work",
    "ai_and_jobs",
    "data_and_privacy",
    "misinformation_deepfakes",
    "ai_public_services",
    "programming_ai",
    "ai_and_education",
];

/// The open licences a module may be published under.
pub const LICENCES: [&str; 5] = [
    "CC BY 4.0",
    "CC BY-SA 4.0",
    "CC0 1.0",
    "Licence Ouverte 2.0",
    "CC BY-NC-SA 4.0",
];

/// Known languages: ISO 639-1 codes plus `lsf` (French Sign Language) and `oc` (Occitan).
pub const LANGUAGES: [&str; 16] = [
    "fr", "en", "es", "de", "it", "pt", "ar", "zh", "ru", "tr", "ro", "pl", "uk", "vi", "lsf", "oc",
];

/// The text an enum travels as (its serde name), e.g. `in_person`.
pub fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The enum value a wire name stands for, or `None` for an unknown one.
pub fn from_wire<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_unknown_names_are_refused() {
        assert_eq!(wire_name(&Format::InPerson), "in_person");
        assert_eq!(from_wire::<Format>("in_person"), Some(Format::InPerson));
        assert_eq!(from_wire::<Format>("IN_PERSON"), None);
        assert_eq!(from_wire::<Audience>("martians"), None);
    }
}
