//! From an offer's tree to a programme (without validating it yet), and from validation
//! errors back to the LHEO elements at fault.

use crate::domain::{
    Accessibility, Audience, Enrolment, Format, Funding, Level, Pace, TrainingInput,
    TrainingSession,
};
use cafeia_api::vocabulary::from_wire;
use cafeia_catalogue_api::LheoProblem;
use cafeia_lheo::Node;
use cafeia_platform::{errors::FieldError, territory::Gazetteer};
use chrono::NaiveDate;

/// An offer read from LHEO, ready to validate.
pub struct Offer {
    pub lheo_id: String,
    pub provider: ProviderDraft,
    pub training: TrainingInput,
}

/// The provider an offer names (`organisme-formation-responsable`), found or created by SIRET.
pub struct ProviderDraft {
    pub siret: String,
    pub name: String,
    pub email: Option<String>,
    pub website: Option<String>,
}

fn extra<'a>(formation: &'a Node, key: &str) -> Option<&'a str> {
    formation
        .children_named("extras")
        .filter(|e| e.attr("info") == Some("cafeia"))
        .flat_map(|e| e.children_named("extra"))
        .find(|x| x.attr("info") == Some(key))
        .map(|x| x.text.trim())
        .filter(|t| !t.is_empty())
}

fn parse_list<T: serde::de::DeserializeOwned>(
    text: Option<&str>,
    element: &str,
    problems: &mut Vec<(String, String)>,
) -> Vec<T> {
    let mut out = Vec::new();
    for value in text
        .unwrap_or_default()
        .split('|')
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        match from_wire(value) {
            Some(v) => out.push(v),
            None => problems.push((element.to_owned(), format!("valeur inconnue : {value:?}"))),
        }
    }
    out
}

fn lheo_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y%m%d").ok()
}

/// The LHEO element an API field comes from, for the report.
fn element_of(field: &str) -> String {
    let base = field.split(['[', '.']).next().unwrap_or(field);
    let index = field
        .split_once('[')
        .and_then(|(_, rest)| rest.split(']').next())
        .unwrap_or("");
    match base {
        "title" => "intitule-formation".into(),
        "objectives" => "objectif-formation".into(),
        "content" => "contenu-formation".into(),
        "duration_hours" => "action/nombre-heures-total".into(),
        "price_eur" => "action/prix-total-TTC".into(),
        "certification" => "certification".into(),
        "contact_email" => "contact-formation/coordonnees/courriel".into(),
        "enrolment_url" => "action/url-action/urlweb".into(),
        "places" => "action/lieu-de-formation".into(),
        "languages" => "action/langue-formation".into(),
        "sessions" => {
            let part = if field.ends_with("end_date") {
                "/periode/fin"
            } else {
                ""
            };
            format!(
                "action/session[{}]{part}",
                index.parse::<usize>().map(|i| i + 1).unwrap_or(1)
            )
        }
        other => format!("extras/extra[@info=\"{other}\"]"),
    }
}

/// Reads our programme out of an offer's tree (without validating it yet).
pub fn interpret(formation: &Node, position: usize) -> Result<Offer, Vec<LheoProblem>> {
    let lheo_id = formation
        .attr("numero")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    let mut problems: Vec<(String, String)> = Vec::new();
    if lheo_id.is_none() {
        problems.push((
            "formation/@numero".into(),
            "identifiant d'offre obligatoire".into(),
        ));
    }
    if lheo_id.as_ref().is_some_and(|id| id.chars().count() > 255) {
        problems.push((
            "formation/@numero".into(),
            "identifiant de plus de 255 caractères".into(),
        ));
    }
    let organisme = formation
        .child("organisme-formation-responsable")
        .or_else(|| {
            formation
                .children_named("action")
                .find_map(|a| a.child("organisme-formation-responsable"))
        });
    let provider = match organisme {
        Some(o) => {
            let siret = o
                .text_at("SIRET-organisme-formation/SIRET")
                .or_else(|| o.find("SIRET").map(|n| n.text.trim()))
                .unwrap_or_default()
                .replace(' ', "");
            if !cafeia_platform::validation::valid_siret(&siret) {
                problems.push((
                    "organisme-formation-responsable/SIRET-organisme-formation/SIRET".into(),
                    "SIRET invalide (14 chiffres, clé Luhn)".into(),
                ));
            }
            let name = o
                .text_at("nom-organisme")
                .or_else(|| o.text_at("raison-sociale"))
                .unwrap_or_default()
                .to_owned();
            if name.is_empty() {
                problems.push((
                    "organisme-formation-responsable/nom-organisme".into(),
                    "obligatoire".into(),
                ));
            }
            ProviderDraft {
                siret,
                name,
                email: o
                    .find("courriel")
                    .map(|n| n.text.trim().to_owned())
                    .filter(|s| !s.is_empty()),
                website: o
                    .find("urlweb")
                    .map(|n| n.text.trim().to_owned())
                    .filter(|s| !s.is_empty()),
            }
        }
        None => {
            problems.push((
                "organisme-formation-responsable".into(),
                "organisme responsable obligatoire".into(),
            ));
            ProviderDraft {
                siret: String::new(),
                name: String::new(),
                email: None,
                website: None,
            }
        }
    };
    let actions: Vec<&Node> = formation.children_named("action").collect();
    if actions.is_empty() {
        problems.push(("action".into(), "au moins une action de formation".into()));
    }
    let modalites = actions
        .first()
        .and_then(|a| a.text_at("modalites-enseignement"));
    let lheo_format = match modalites {
        Some("0") | None => Format::InPerson,
        Some("1") => Format::Hybrid,
        Some("2") => Format::Online,
        Some(other) => {
            problems.push((
                "action/modalites-enseignement".into(),
                format!("valeur inconnue : {other:?} (0, 1 ou 2)"),
            ));
            Format::InPerson
        }
    };
    let format = extra(formation, "format")
        .and_then(from_wire)
        .unwrap_or(lheo_format);
    let gazetteer = Gazetteer::get();
    let mut places = Vec::new();
    let mut sessions = Vec::new();
    let mut duration = None;
    let mut price = None;
    let mut enrolment_url = None;
    let mut lheo_language = None;
    for (a, action) in actions.iter().enumerate() {
        let insee = action.child("lieu-de-formation").and_then(|lieu| {
            lieu.find("code-INSEE-commune")
                .map(|n| n.text.trim().to_owned())
                .filter(|s| !s.is_empty())
                .or_else(|| {
                    let postcode = lieu.find("codepostal")?.text.trim().to_owned();
                    let communes: Vec<_> = gazetteer
                        .by_postcode(&postcode)
                        .into_iter()
                        .filter(|c| c.kind == cafeia_platform::territory::CommuneKind::Commune)
                        .collect();
                    (communes.len() == 1).then(|| communes[0].insee.clone())
                })
        });
        if action.child("lieu-de-formation").is_some() && insee.is_none() {
            problems.push((
                format!("action[{}]/lieu-de-formation", a + 1),
                "commune introuvable (code INSEE ou code postal non ambigu attendu)".into(),
            ));
        }
        if let Some(code) = &insee {
            places.push(code.clone());
        }
        if duration.is_none() {
            duration = action
                .text_at("nombre-heures-total")
                .or_else(|| action.text_at("duree-indicative"))
                .map(str::to_owned);
        }
        if price.is_none() {
            price = action.text_at("prix-total-TTC").map(str::to_owned);
        }
        if enrolment_url.is_none() {
            enrolment_url = action.text_at("url-action/urlweb").map(str::to_owned);
        }
        if lheo_language.is_none() {
            lheo_language = action.text_at("langue-formation").map(str::to_owned);
        }
        for (s, session) in action.children_named("session").enumerate() {
            let element = format!("action[{}]/session[{}]", a + 1, s + 1);
            let start = session.text_at("periode/debut").and_then(lheo_date);
            let end = session.text_at("periode/fin").and_then(lheo_date);
            let (Some(start), Some(end)) = (start, end) else {
                problems.push((
                    format!("{element}/periode"),
                    "dates AAAAMMJJ attendues (debut, fin)".into(),
                ));
                continue;
            };
            let enrolment = match session.text_at("etat-recrutement") {
                Some("1") | None => Enrolment::Open,
                Some("2") => Enrolment::Closed,
                Some("3") => Enrolment::Suspended,
                Some(other) => {
                    problems.push((
                        format!("{element}/etat-recrutement"),
                        format!("valeur inconnue : {other:?} (1, 2 ou 3)"),
                    ));
                    continue;
                }
            };
            sessions.push(TrainingSession {
                lheo_id: session.attr("numero").map(str::to_owned),
                start_date: start,
                end_date: end,
                enrolment,
                insee: insee.clone(),
            });
        }
    }
    let duration_hours = match duration
        .as_deref()
        .map(|d| d.replace(',', ".").parse::<f64>())
    {
        Some(Ok(h)) if h.is_finite() => h.round() as i32,
        Some(_) => {
            problems.push((
                "action/nombre-heures-total".into(),
                "nombre d'heures illisible".into(),
            ));
            0
        }
        None => {
            problems.push((
                "action/nombre-heures-total".into(),
                "durée obligatoire".into(),
            ));
            0
        }
    };
    let price_eur = match price.as_deref().map(|p| p.replace(',', ".").parse::<f64>()) {
        Some(Ok(p)) if p.is_finite() => Some(p),
        Some(_) => {
            problems.push(("action/prix-total-TTC".into(), "prix illisible".into()));
            None
        }
        None => None,
    };
    let free = match extra(formation, "free") {
        Some(v) => v == "1" || v == "true",
        None => price_eur.is_none_or(|p| p == 0.0),
    };
    let certification = formation
        .text_at("certification/code-RNCP")
        .map(|c| format!("RNCP{}", c.trim_start_matches("RNCP")))
        .or_else(|| {
            formation
                .text_at("certification/code-RS")
                .map(|c| format!("RS{}", c.trim_start_matches("RS")))
        });
    let languages: Vec<String> = match extra(formation, "languages") {
        Some(list) => list.split('|').map(str::to_owned).collect(),
        None => vec![lheo_language.unwrap_or_else(|| "fr".into())],
    };
    let objectives = formation
        .text_at("objectif-formation")
        .unwrap_or_default()
        .to_owned();
    let summary = extra(formation, "summary")
        .map(str::to_owned)
        .unwrap_or_else(|| objectives.chars().take(300).collect());
    let level = match extra(formation, "level") {
        Some(v) => from_wire(v).unwrap_or_else(|| {
            problems.push((
                "extras/extra[@info=\"level\"]".into(),
                format!("valeur inconnue : {v:?}"),
            ));
            Level::Beginner
        }),
        None => Level::Beginner,
    };
    let pace = match extra(formation, "pace") {
        Some(v) => from_wire(v).unwrap_or_else(|| {
            problems.push((
                "extras/extra[@info=\"pace\"]".into(),
                format!("valeur inconnue : {v:?}"),
            ));
            Pace::Scheduled
        }),
        None if sessions.is_empty() => Pace::SelfPaced,
        None => Pace::Scheduled,
    };
    let mut audiences: Vec<Audience> = parse_list(
        extra(formation, "audiences"),
        "extras/extra[@info=\"audiences\"]",
        &mut problems,
    );
    if extra(formation, "audiences").is_none() {
        audiences.push(Audience::GeneralPublic);
    }
    let topics: Vec<String> = match extra(formation, "topics") {
        Some(list) => list
            .split('|')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        None => vec!["what_is_ai".into()],
    };
    let accessibility: Vec<Accessibility> = parse_list(
        extra(formation, "accessibility"),
        "extras/extra[@info=\"accessibility\"]",
        &mut problems,
    );
    let funding: Vec<Funding> = parse_list(
        extra(formation, "funding"),
        "extras/extra[@info=\"funding\"]",
        &mut problems,
    );
    let online = extra(formation, "online")
        .map(|v| v == "1" || v == "true")
        .unwrap_or(format == Format::Online);
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|(element, message)| LheoProblem {
                offer: lheo_id.clone(),
                position,
                element,
                message,
            })
            .collect());
    }
    Ok(Offer {
        lheo_id: lheo_id.unwrap_or_default(),
        provider,
        training: TrainingInput {
            provider_siret: None,
            title: formation
                .text_at("intitule-formation")
                .unwrap_or_default()
                .to_owned(),
            summary,
            objectives,
            content: formation
                .text_at("contenu-formation")
                .unwrap_or_default()
                .to_owned(),
            level,
            audiences,
            format,
            pace,
            duration_hours,
            free,
            price_eur: if free { None } else { price_eur },
            funding,
            certification,
            languages,
            accessibility,
            topics,
            online,
            places,
            sessions,
            enrolment_url,
            contact_email: formation
                .text_at("contact-formation/coordonnees/courriel")
                .map(str::to_owned),
        },
    })
}

/// Validation errors of an offer's programme, as problems naming LHEO elements.
pub(super) fn errors_to_problems(
    errors: Vec<FieldError>,
    lheo_id: &str,
    position: usize,
) -> Vec<LheoProblem> {
    errors
        .into_iter()
        .map(|e| LheoProblem {
            offer: Some(lheo_id.to_owned()),
            position,
            element: element_of(&e.field),
            message: e.message,
        })
        .collect()
}
