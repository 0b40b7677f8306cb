//! Controlled vocabularies shared by the services (catalogue, facilitators, events, matching):
//! topics of AI awareness and training, languages, levels, audiences and formats.

use crate::validation::Problems;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
/// How much a person needs to know already.
pub enum Level {
    Discovery,
    Beginner,
    Intermediate,
    Advanced,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
/// Who an offer or a session is meant for.
pub enum Audience {
    Students,
    Employees,
    JobSeekers,
    GeneralPublic,
    Seniors,
    Professionals,
    Teachers,
    PublicAgents,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
/// Where it happens: in a venue, online, or both.
pub enum Format {
    InPerson,
    Online,
    Hybrid,
}

/// Known languages: ISO 639-1 codes plus `lsf` (French Sign Language).
pub fn languages(codes: &[String], problems: &mut Problems) -> Vec<String> {
    const KNOWN: [&str; 16] = [
        "fr", "en", "es", "de", "it", "pt", "ar", "zh", "ru", "tr", "ro", "pl", "uk", "vi", "lsf",
        "oc",
    ];
    let mut out = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let code = code.trim().to_lowercase();
        if KNOWN.contains(&code.as_str()) {
            out.push(code);
        } else {
            problems.add(
                &format!("languages[{i}]"),
                format!("langue inconnue : {code:?} (ex. fr, en, lsf)"),
            );
        }
    }
    out.sort();
    out.dedup();
    out
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

pub fn topics(values: &[String], field: &str, problems: &mut Problems) -> Vec<String> {
    let mut out = Vec::new();
    for (i, t) in values.iter().enumerate() {
        if TOPICS.contains(&t.as_str()) {
            out.push(t.clone());
        } else {
            problems.add(
                &format!("{field}[{i}]"),
                format!("thème inconnu : {t:?} (valeurs : {})", TOPICS.join(", ")),
            );
        }
    }
    out.sort();
    out.dedup();
    out
}
