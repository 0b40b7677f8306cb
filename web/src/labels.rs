//! The words people read for the API's codes, in one place (French today; another language
//! would be another table here).

/// A generated enum's wire name (`IN_PERSON`), whatever operation module it comes from.
pub fn wire<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub fn format(code: &str) -> &'static str {
    match code {
        "IN_PERSON" => "En présentiel",
        "ONLINE" => "À distance",
        "HYBRID" => "Hybride",
        _ => "Autre format",
    }
}

pub fn level(code: &str) -> &'static str {
    match code {
        "DISCOVERY" => "Découverte, sans prérequis",
        "BEGINNER" => "Débutant",
        "INTERMEDIATE" => "Intermédiaire",
        "ADVANCED" => "Avancé",
        _ => "Tous niveaux",
    }
}

pub fn audience(code: &str) -> &'static str {
    match code {
        "STUDENTS" => "Élèves et étudiants",
        "EMPLOYEES" => "Salariés",
        "JOB_SEEKERS" => "Demandeurs d'emploi",
        "GENERAL_PUBLIC" => "Grand public",
        "SENIORS" => "Seniors",
        "PROFESSIONALS" => "Professionnels",
        "TEACHERS" => "Enseignants",
        "PUBLIC_AGENTS" => "Agents publics",
        _ => "Autre public",
    }
}

/// An accessibility feature of a session: its icon and the words that say it.
pub fn session_access(code: &str) -> (&'static str, &'static str) {
    match code {
        "WHEELCHAIR" => ("fr-icon-wheelchair-fill", "Accessible en fauteuil roulant"),
        "LSF" => (
            "fr-icon-team-line",
            "Interprétation en langue des signes (LSF)",
        ),
        "HEARING_LOOP" => ("fr-icon-information-line", "Boucle magnétique"),
        "EASY_READ" => (
            "fr-icon-book-2-line",
            "Supports faciles à lire et à comprendre (FALC)",
        ),
        _ => ("fr-icon-information-line", "Autre aménagement"),
    }
}

/// An accessibility feature of a training programme.
pub fn training_access(code: &str) -> &'static str {
    match code {
        "DISABLED_ACCESS" => "Accessible aux personnes handicapées",
        "RGAA_COMPLIANT" => "Plateforme en ligne accessible (RGAA)",
        "SIGN_LANGUAGE" => "En langue des signes",
        _ => "Autre aménagement",
    }
}

pub fn registration_status(code: &str) -> &'static str {
    match code {
        "CONFIRMED" => "Inscription confirmée",
        "WAITLISTED" => "Sur liste d'attente",
        "CANCELLED" => "Annulée",
        "ATTENDED" => "Présent·e",
        "NO_SHOW" => "Absent·e",
        "UNCONFIRMED" => "En attente de votre confirmation",
        _ => "Inconnu",
    }
}

pub fn pace(code: &str) -> &'static str {
    match code {
        "FULL_TIME" => "À temps plein",
        "PART_TIME" => "À temps partiel",
        "SELF_PACED" => "À votre rythme",
        _ => "Rythme variable",
    }
}
