//! Controlled vocabularies shared by the services (catalogue, facilitators, events, matching):
//! topics of AI awareness and training, languages, levels, audiences and formats.

use crate::validation::Problems;

pub use cafeia_api::vocabulary::{Audience, Format, LANGUAGES, LICENCES, Level, TOPICS};

/// One language code (ISO 639-1, plus `lsf`, French Sign Language), trimmed and lower-cased;
/// an unknown one is a problem on `field`.
pub fn language(code: &str, field: &str, problems: &mut Problems) -> Option<String> {
    let code = code.trim().to_lowercase();
    if LANGUAGES.contains(&code.as_str()) {
        Some(code)
    } else {
        problems.add(
            field,
            format!("langue inconnue : {code:?} (ex. fr, en, lsf)"),
        );
        None
    }
}

/// Language codes (see [`language`]), each problem named `languages[i]`; sorted, once each.
pub fn languages(codes: &[String], problems: &mut Problems) -> Vec<String> {
    let mut out: Vec<String> = codes
        .iter()
        .enumerate()
        .filter_map(|(i, code)| language(code, &format!("languages[{i}]"), problems))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether `value` is a topic of the vocabulary; an unknown one is a problem on `field`.
pub fn topic(value: &str, field: &str, problems: &mut Problems) -> bool {
    let known = TOPICS.contains(&value);
    if !known {
        problems.add(
            field,
            format!(
                "thème inconnu : {value:?} (valeurs : {})",
                TOPICS.join(", ")
            ),
        );
    }
    known
}

/// Topics (see [`topic`]), each problem named `field[i]`; sorted, once each.
pub fn topics(values: &[String], field: &str, problems: &mut Problems) -> Vec<String> {
    let mut out: Vec<String> = values
        .iter()
        .enumerate()
        .filter(|(i, t)| topic(t, &format!("{field}[{i}]"), problems))
        .map(|(_, t)| t.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}
