//! Controlled vocabularies shared by the services (catalogue, facilitators, events, matching):
//! levels, audiences and formats of offers and sessions, topics of AI awareness and training.

use serde::{Deserialize, Serialize};

/// How much a person needs to know already.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Découverte: nothing needed.
    Discovery,
    Beginner,
    Intermediate,
    Advanced,
}

/// Who an offer or a session is meant for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Students,
    Employees,
    /// Demandeurs d'emploi.
    JobSeekers,
    /// Grand public.
    GeneralPublic,
    Seniors,
    Professionals,
    Teachers,
    /// Agents publics (civil servants).
    PublicAgents,
}

/// Where it happens: in a venue, online, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Présentiel.
    InPerson,
    /// À distance.
    Online,
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
