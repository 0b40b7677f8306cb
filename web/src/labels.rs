//! The words people read for the API's codes, in one place (French today; another language
//! would be another table here).

/// A generated enum's wire name (`IN_PERSON`), whatever operation module it comes from.
pub fn wire<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The generated enum of any operation module a wire name (`IN_PERSON`) stands for.
pub fn from_wire<T: serde::de::DeserializeOwned>(code: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
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

pub fn session_status(code: &str) -> &'static str {
    match code {
        "DRAFT" => "Brouillon",
        "PUBLISHED" => "Publiée",
        "CANCELLED" => "Annulée",
        "COMPLETED" => "Terminée",
        _ => "État inconnu",
    }
}

/// The topics of the shared vocabulary, in the order a form lists them.
pub const TOPICS: [(&str, &str); 9] = [
    ("what_is_ai", "Qu'est-ce que l'IA ?"),
    ("generative_ai", "L'IA générative"),
    ("ai_at_work", "L'IA au travail"),
    ("ai_and_jobs", "L'IA et les métiers"),
    ("data_and_privacy", "Données personnelles et vie privée"),
    (
        "misinformation_deepfakes",
        "Désinformation et hypertrucages",
    ),
    ("ai_public_services", "L'IA dans les services publics"),
    ("programming_ai", "Programmer avec l'IA"),
    ("ai_and_education", "L'IA et l'éducation"),
];

/// When in the week a person is free, by the API's enum names.
pub const AVAILABILITY: [(&str, &str); 3] = [
    ("WEEKDAY_DAYTIME", "En semaine, en journée (avant 17 h)"),
    (
        "WEEKDAY_EVENING",
        "En semaine, en soirée (à partir de 17 h)",
    ),
    ("WEEKEND", "Le week-end"),
];

/// Age bands of the anonymous attendance counts.
pub const AGE_BANDS: [(&str, &str); 6] = [
    ("under_18", "Moins de 18 ans"),
    ("18_24", "18 à 24 ans"),
    ("25_39", "25 à 39 ans"),
    ("40_59", "40 à 59 ans"),
    ("60_74", "60 à 74 ans"),
    ("75_plus", "75 ans et plus"),
];

/// Occupations of the anonymous attendance counts.
pub const OCCUPATIONS: [(&str, &str); 5] = [
    ("student", "Élèves et étudiant·es"),
    ("employee", "Salarié·es"),
    ("job_seeker", "Demandeur·ses d'emploi"),
    ("retired", "Retraité·es"),
    ("other", "Autre situation"),
];

/// The time zones a session may be held in (metropolitan France first, then overseas).
pub const ZONES: [(&str, &str); 12] = [
    ("Europe/Paris", "France métropolitaine et Corse"),
    ("America/Guadeloupe", "Guadeloupe"),
    ("America/Martinique", "Martinique"),
    ("America/Cayenne", "Guyane"),
    ("Indian/Reunion", "La Réunion"),
    ("Indian/Mayotte", "Mayotte"),
    ("America/Miquelon", "Saint-Pierre-et-Miquelon"),
    ("America/St_Barthelemy", "Saint-Barthélemy"),
    ("America/Marigot", "Saint-Martin"),
    ("Pacific/Noumea", "Nouvelle-Calédonie"),
    ("Pacific/Tahiti", "Polynésie française"),
    ("Pacific/Wallis", "Wallis-et-Futuna"),
];

/// What kind of facilitator a person is, by the API's enum names, in the order a form lists them.
pub const FACILITATOR_KINDS: [(&str, &str); 6] = [
    (
        "CONSEILLER_NUMERIQUE",
        "Conseiller ou conseillère numérique",
    ),
    ("MEDIATEUR_NUMERIQUE", "Médiateur ou médiatrice numérique"),
    ("BIBLIOTHECAIRE", "Bibliothécaire"),
    ("FORMATEUR", "Formateur ou formatrice"),
    ("AGENT_PUBLIC", "Agent ou agente public"),
    ("BENEVOLE", "Bénévole"),
];

/// What kind of structure an organisation is, by the API's enum names.
pub const ORGANISATION_KINDS: [(&str, &str); 8] = [
    ("FRANCE_SERVICES", "Espace France Services"),
    ("MEDIATHEQUE", "Médiathèque ou bibliothèque"),
    ("ASSOCIATION", "Association"),
    ("COLLECTIVITE", "Collectivité territoriale"),
    ("TIERS_LIEU", "Tiers-lieu"),
    ("ETABLISSEMENT_SCOLAIRE", "Établissement scolaire"),
    ("ENTREPRISE", "Entreprise"),
    ("AUTRE_STRUCTURE_PUBLIQUE", "Autre structure publique"),
];

/// The languages a facilitator may run cafés in (ISO 639-1, `lsf`, `oc`).
pub const LANGUAGES: [(&str, &str); 16] = [
    ("fr", "Français"),
    ("lsf", "Langue des signes française (LSF)"),
    ("en", "Anglais"),
    ("es", "Espagnol"),
    ("de", "Allemand"),
    ("it", "Italien"),
    ("pt", "Portugais"),
    ("ar", "Arabe"),
    ("zh", "Chinois"),
    ("ru", "Russe"),
    ("tr", "Turc"),
    ("ro", "Roumain"),
    ("pl", "Polonais"),
    ("uk", "Ukrainien"),
    ("vi", "Vietnamien"),
    ("oc", "Occitan"),
];

/// A venue's accessibility features by their wire names (`wheelchair`), in the order a form
/// lists them; the words are the sessions' where both have the feature.
pub const VENUE_ACCESS: [&str; 6] = [
    "wheelchair",
    "hearing_loop",
    "lsf",
    "easy_read",
    "adapted_toilets",
    "visual_aids",
];

/// A venue's accessibility feature: its icon and the words that say it.
pub fn venue_access(code: &str) -> (&'static str, &'static str) {
    match code {
        "adapted_toilets" => ("fr-icon-information-line", "Toilettes adaptées"),
        "visual_aids" => (
            "fr-icon-information-line",
            "Aides visuelles (loupes, grands caractères)",
        ),
        other => session_access(&other.to_uppercase()),
    }
}

/// The label of `code` in one of the lists above, or the code itself.
pub fn among(list: &[(&'static str, &'static str)], code: &str) -> String {
    list.iter()
        .find(|(c, _)| *c == code)
        .map(|(_, label)| (*label).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

/// What a session may offer for accessibility, by wire name ([`session_access`] says them).
pub const SESSION_ACCESS: [&str; 4] = ["WHEELCHAIR", "LSF", "HEARING_LOOP", "EASY_READ"];

pub fn registration_mode(code: &str) -> &'static str {
    match code {
        "OPEN" => "Inscription en ligne, places comptées",
        "ON_SITE_ONLY" => "Sans inscription : on vient directement",
        _ => "Autre mode",
    }
}

/// Where a facilitator stands with staff, by the API's enum names, in the order a filter
/// lists them.
pub const FACILITATOR_STATUSES: [(&str, &str); 3] = [
    ("PENDING", "En attente de vérification"),
    ("VERIFIED", "Vérifié·e"),
    ("SUSPENDED", "Suspendu·e"),
];

/// A line of a facilitator's audit trail (`facilitatorAudit`'s `action`).
pub fn facilitator_action(action: &str) -> String {
    match action {
        "verify" => "Vérification".into(),
        "suspend" => "Suspension".into(),
        "reinstate" => "Réintégration".into(),
        other => other.replace('_', " "),
    }
}
