//! What an edit changed, in words: each field of a programme by its French name, its values
//! before and after as a reviewer reads them (labels for codes, communes for INSEE codes,
//! dates in French), never as JSON.

use crate::{format, labels};
use cafeia_platform::territory::Gazetteer;
use serde_json::Value;

/// One changed field as the review page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub field: &'static str,
    pub before: String,
    pub after: String,
}

/// The French name of a field (`DURATION_HOURS`: the API's enum name).
pub fn field_label(code: &str) -> &'static str {
    match code {
        "TITLE" => "Titre",
        "SUMMARY" => "Présentation",
        "OBJECTIVES" => "Objectifs",
        "CONTENT" => "Contenu détaillé",
        "LEVEL" => "Niveau",
        "AUDIENCES" => "Publics",
        "FORMAT" => "Format",
        "PACE" => "Rythme",
        "DURATION_HOURS" => "Durée",
        "FREE" => "Gratuite",
        "PRICE_EUR" => "Prix",
        "FUNDING" => "Financements",
        "CERTIFICATION" => "Certification",
        "LANGUAGES" => "Langues",
        "ACCESSIBILITY" => "Accessibilité",
        "TOPICS" => "Thèmes",
        "ONLINE" => "Ouverte en ligne à toute la France",
        "PLACES" => "Lieux",
        "SESSIONS" => "Sessions",
        "ENROLMENT_URL" => "Adresse d'inscription",
        "CONTACT_EMAIL" => "Adresse de contact",
        _ => "Autre champ",
    }
}

/// Who may pay for a programme (the API's `Funding`, by its enum name).
pub fn funding(code: &str) -> &'static str {
    match code {
        "CPF" => "Compte personnel de formation (CPF)",
        "OPCO" => "Opérateur de compétences (OPCO)",
        "FRANCE_TRAVAIL" => "France Travail",
        "REGION" => "Région",
        "EMPLOYER" => "Employeur",
        _ => "Autre financement",
    }
}

/// A programme's pace (the API's `Pace`).
pub fn pace(code: &str) -> &'static str {
    match code {
        "SELF_PACED" => "À son rythme",
        "SCHEDULED" => "À dates fixes",
        _ => "Rythme non précisé",
    }
}

/// Whether a session of a programme takes enrolments (the API's `Enrolment`).
pub fn enrolment(code: &str) -> &'static str {
    match code {
        "OPEN" => "inscriptions ouvertes",
        "CLOSED" => "inscriptions closes",
        "SUSPENDED" => "inscriptions suspendues",
        _ => "inscriptions : état inconnu",
    }
}

/// A commune by its INSEE code: `Lyon (69123)`, or the code alone when unknown.
pub fn commune(insee: &str) -> String {
    match Gazetteer::get().commune(insee) {
        Some(c) => format!("{} ({insee})", c.name),
        None => insee.to_owned(),
    }
}

/// `2027-02-02` as `02/02/2027`.
fn date(text: &str) -> String {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| text.to_owned())
}

/// The values of the edit's JSON come in the REST view's shape: enum values by their wire
/// names (`job_seekers`), which are the API's enum names in lower case.
fn code(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_uppercase()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn list(value: &Value, each: impl Fn(&Value) -> String) -> String {
    match value.as_array() {
        Some(items) if !items.is_empty() => items.iter().map(each).collect::<Vec<_>>().join(", "),
        Some(_) => "aucun".into(),
        None => text(value),
    }
}

fn session(value: &Value) -> String {
    let part = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or_default();
    let (start, end) = (date(part("start_date")), date(part("end_date")));
    let when = if start == end {
        format!("le {start}")
    } else {
        format!("du {start} au {end}")
    };
    let place = match value.get("insee").and_then(Value::as_str) {
        Some(insee) => format!(" à {}", commune(insee)),
        None => String::new(),
    };
    format!(
        "{when}{place} ({})",
        enrolment(&part("enrolment").to_uppercase())
    )
}

/// A field's value in words; `None` (no value) is said so.
pub fn value(field: &str, value: Option<&Value>) -> String {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return "non renseigné".into();
    };
    match field {
        "LEVEL" => labels::level(&code(value)).into(),
        "FORMAT" => labels::format(&code(value)).into(),
        "PACE" => pace(&code(value)).into(),
        "AUDIENCES" => list(value, |v| labels::audience(&code(v)).into()),
        "FUNDING" => list(value, |v| funding(&code(v)).into()),
        "ACCESSIBILITY" => list(value, |v| labels::training_access(&code(v)).into()),
        "LANGUAGES" => list(value, |v| labels::among(&labels::LANGUAGES, &text(v))),
        "TOPICS" => list(value, |v| labels::among(&labels::TOPICS, &text(v))),
        "PLACES" => list(value, |v| commune(&text(v))),
        "SESSIONS" => match value.as_array() {
            Some(items) if !items.is_empty() => {
                items.iter().map(session).collect::<Vec<_>>().join(" ; ")
            }
            _ => "aucune".into(),
        },
        "FREE" | "ONLINE" => match value.as_bool() {
            Some(true) => "oui".into(),
            Some(false) => "non".into(),
            None => text(value),
        },
        "DURATION_HOURS" => match value.as_i64() {
            Some(1) => "1 heure".into(),
            Some(n) => format!("{} heures", format::number(n)),
            None => text(value),
        },
        "PRICE_EUR" => match value.as_f64() {
            Some(euros) => format!("{} €", format!("{euros:.2}").replace('.', ",")),
            None => text(value),
        },
        _ => text(value),
    }
}

/// One change of the API in words.
pub fn change(field: &str, before: Option<&Value>, after: Option<&Value>) -> Change {
    Change {
        field: field_label(field),
        before: value(field, before),
        after: value(field, after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_as_words() {
        assert_eq!(
            change("DURATION_HOURS", Some(&json!(3)), Some(&json!(4))),
            Change {
                field: "Durée",
                before: "3 heures".into(),
                after: "4 heures".into()
            }
        );
        assert_eq!(
            value("AUDIENCES", Some(&json!(["job_seekers", "employees"]))),
            "Demandeurs d'emploi, Salariés"
        );
        assert_eq!(value("PLACES", Some(&json!(["69123"]))), "Lyon (69123)");
        assert_eq!(value("PRICE_EUR", Some(&json!(12.5))), "12,50 €");
        assert_eq!(value("CERTIFICATION", None), "non renseigné");
        assert_eq!(value("FUNDING", Some(&json!([]))), "aucun");
        assert_eq!(
            value(
                "SESSIONS",
                Some(
                    &json!([{"start_date": "2027-02-02", "end_date": "2027-02-03", "enrolment": "open", "insee": null}])
                )
            ),
            "du 02/02/2027 au 03/02/2027 (inscriptions ouvertes)"
        );
    }
}
