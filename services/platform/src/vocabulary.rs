//! Controlled vocabularies shared by the services (catalogue, facilitators, events, matching):
//! topics of AI awareness and training, languages, levels, audiences and formats.

use crate::validation::Problems;

pub use cafeia_api::vocabulary::{Audience, Format, LANGUAGES, LICENCES, Level, TOPICS};

/// Known languages: ISO 639-1 codes plus `lsf` (French Sign Language).
pub fn languages(codes: &[String], problems: &mut Problems) -> Vec<String> {
    let mut out = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let code = code.trim().to_lowercase();
        if LANGUAGES.contains(&code.as_str()) {
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
