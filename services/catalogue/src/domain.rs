//! The catalogue's rules: controlled values, the review lifecycle, and the one validation every
//! programme goes through, whether it comes from the API or from an LHEO file.

use cafeia_platform::{
    errors::FieldError,
    territory::Gazetteer,
    validation::{Problems, wire_name},
    vocabulary,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use cafeia_platform::vocabulary::{Audience, Format, Level};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pace {
    SelfPaced,
    Scheduled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Funding {
    Cpf,
    Opco,
    FranceTravail,
    Region,
    Employer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Accessibility {
    DisabledAccess,
    RgaaCompliant,
    SignLanguage,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    University,
    AiCluster,
    School,
    Company,
    Association,
    PublicAgency,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Enrolment {
    Open,
    Closed,
    Suspended,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Submitted,
    Published,
    Rejected,
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Published => "published",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Submitted,
            Status::Published,
            Status::Rejected,
            Status::Withdrawn,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A review decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Review {
    Publish,
    Reject,
    Withdraw,
}

impl Review {
    pub fn as_str(self) -> &'static str {
        match self {
            Review::Publish => "publish",
            Review::Reject => "reject",
            Review::Withdraw => "withdraw",
        }
    }

    pub fn apply(self, from: Status) -> Result<Status, &'static str> {
        match (self, from) {
            (Review::Publish, Status::Submitted) => Ok(Status::Published),
            (Review::Publish, Status::Published) => Err("déjà publié"),
            (Review::Publish, _) => Err("seul un contenu soumis peut être publié"),
            (Review::Reject, Status::Submitted) => Ok(Status::Rejected),
            (Review::Reject, _) => Err("seul un contenu soumis peut être refusé"),
            (Review::Withdraw, Status::Published) => Ok(Status::Withdrawn),
            (Review::Withdraw, _) => Err("seul un contenu publié peut être retiré"),
        }
    }
}

/// A place where a programme is taught.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub insee: String,
    pub departement: String,
    pub region: String,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionInput {
    /// Identifier in the source (LHEO `session/@numero`), if any.
    #[serde(default)]
    pub lheo_id: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub enrolment: Enrolment,
    /// INSEE code of the place, when the programme has several.
    #[serde(default)]
    pub insee: Option<String>,
}

/// What a provider submits (and what an LHEO offer becomes).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingInput {
    /// SIRET of the provider; required on submission (a provider's token must carry it).
    #[serde(default)]
    pub provider_siret: Option<String>,
    pub title: String,
    pub summary: String,
    pub objectives: String,
    #[serde(default)]
    pub content: String,
    pub level: Level,
    pub audiences: Vec<Audience>,
    pub format: Format,
    pub pace: Pace,
    pub duration_hours: i32,
    pub free: bool,
    /// Price in euros when not free.
    #[serde(default)]
    pub price_eur: Option<f64>,
    #[serde(default)]
    pub funding: Vec<Funding>,
    /// RNCP or RS code (e.g. `RNCP37827`, `RS6232`), if certifying.
    #[serde(default)]
    pub certification: Option<String>,
    #[serde(default = "french")]
    pub languages: Vec<String>,
    #[serde(default)]
    pub accessibility: Vec<Accessibility>,
    pub topics: Vec<String>,
    /// Open online to anyone in France.
    #[serde(default)]
    pub online: bool,
    /// INSEE codes of the communes where it is taught.
    #[serde(default)]
    pub places: Vec<String>,
    #[serde(default)]
    pub sessions: Vec<SessionInput>,
    #[serde(default)]
    pub enrolment_url: Option<String>,
    #[serde(default)]
    pub contact_email: Option<String>,
}

fn french() -> Vec<String> {
    vec!["fr".into()]
}

/// A programme that passed validation, normalised (sorted lists) so two drafts compare equal
/// exactly when nothing meaningful differs.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingDraft {
    pub title: String,
    pub summary: String,
    pub objectives: String,
    pub content: String,
    pub level: String,
    pub audiences: Vec<String>,
    pub format: String,
    pub pace: String,
    pub duration_hours: i32,
    pub is_free: bool,
    pub price_cents: Option<i64>,
    pub funding: Vec<String>,
    pub certification: Option<String>,
    pub languages: Vec<String>,
    pub accessibility: Vec<String>,
    pub topics: Vec<String>,
    pub online: bool,
    pub places: Vec<Place>,
    pub sessions: Vec<SessionInput>,
    pub enrolment_url: Option<String>,
    pub contact_email: Option<String>,
}

fn names<T: Serialize + Ord + Copy>(values: &[T]) -> Vec<String> {
    let mut values = values.to_vec();
    values.sort();
    values.dedup();
    values.iter().map(wire_name).collect()
}

fn url(value: Option<&str>, field: &str, p: &mut Problems) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() <= 500
        && !value.chars().any(char::is_whitespace);
    p.check(ok, field, "URL http(s) invalide");
    Some(value.to_owned())
}

pub fn valid_certification(code: &str) -> bool {
    let digits = code
        .strip_prefix("RNCP")
        .or_else(|| code.strip_prefix("RS"));
    digits.is_some_and(|d| (3..=6).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks every field of a programme; errors name the field (`sessions[1].end_date`).
pub fn validate(input: &TrainingInput) -> Result<TrainingDraft, Vec<FieldError>> {
    let mut p = Problems::default();
    let title = p.text("title", &input.title, 200);
    let summary = p.text("summary", &input.summary, 1000);
    let objectives = p.text("objectives", &input.objectives, 4000);
    let content = input.content.trim().to_owned();
    p.check(
        content.chars().count() <= 20_000,
        "content",
        "au plus 20 000 caractères",
    );
    p.check(
        !input.audiences.is_empty(),
        "audiences",
        "au moins un public",
    );
    p.check(
        (1..=10_000).contains(&input.duration_hours),
        "duration_hours",
        "doit être un nombre d'heures entre 1 et 10 000",
    );
    let price_cents = match (input.free, input.price_eur) {
        (true, None) | (true, Some(0.0)) => None,
        (true, Some(_)) => {
            p.add("price_eur", "une formation gratuite n'a pas de prix");
            None
        }
        (false, Some(price)) if price.is_finite() && price > 0.0 && price <= 100_000.0 => {
            Some((price * 100.0).round() as i64)
        }
        (false, _) => {
            p.add(
                "price_eur",
                "prix requis (en euros, positif) pour une formation payante",
            );
            None
        }
    };
    let certification = input
        .certification
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            p.check(
                valid_certification(c),
                "certification",
                "code RNCP ou RS attendu (ex. RNCP37827, RS6232)",
            );
            c.to_owned()
        });
    let languages = vocabulary::languages(&input.languages, &mut p);
    p.check(
        !input.languages.is_empty(),
        "languages",
        "au moins une langue",
    );
    let topics = vocabulary::topics(&input.topics, "topics", &mut p);
    p.check(!input.topics.is_empty(), "topics", "au moins un thème");
    let gazetteer = Gazetteer::get();
    let mut places = Vec::new();
    for (i, code) in input.places.iter().enumerate() {
        match gazetteer.commune(code.trim()) {
            Some(c) => places.push(Place {
                insee: c.insee.clone(),
                departement: c.departement.clone(),
                region: c.region.clone(),
                lat: c.lat,
                lon: c.lon,
            }),
            None => p.add(
                &format!("places[{i}]"),
                format!("code INSEE de commune inconnu : {code:?}"),
            ),
        }
    }
    places.sort_by(|a, b| a.insee.cmp(&b.insee));
    places.dedup_by(|a, b| a.insee == b.insee);
    if input.format != Format::Online
        && places.is_empty()
        && p.0.iter().all(|e| !e.field.starts_with("places"))
    {
        p.add(
            "places",
            "une formation en présentiel ou hybride a au moins un lieu",
        );
    }
    if input.format == Format::InPerson && input.online {
        p.add(
            "online",
            "une formation en présentiel n'est pas ouverte en ligne",
        );
    }
    p.check(
        input.sessions.len() <= 500,
        "sessions",
        "au plus 500 sessions",
    );
    let mut sessions = Vec::new();
    for (i, s) in input.sessions.iter().enumerate() {
        if s.end_date < s.start_date {
            p.add(
                &format!("sessions[{i}].end_date"),
                "la fin précède le début",
            );
        }
        if s.lheo_id
            .as_ref()
            .is_some_and(|id| id.chars().count() > 255)
        {
            p.add(&format!("sessions[{i}].lheo_id"), "au plus 255 caractères");
        }
        let mut s = s.clone();
        match (&s.insee, places.len()) {
            (Some(insee), _) if !places.iter().any(|pl| &pl.insee == insee) => {
                p.add(
                    &format!("sessions[{i}].insee"),
                    "doit être l'un des lieux de la formation",
                );
            }
            // With a single place, the session's place is implied: stored the same way whatever
            // the source says, so an LHEO round trip compares equal.
            (_, 1) => s.insee = None,
            (None, n) if n > 1 => {
                p.add(
                    &format!("sessions[{i}].insee"),
                    "obligatoire quand la formation a plusieurs lieux",
                );
            }
            _ => {}
        }
        sessions.push(s);
    }
    sessions.sort_by(|a, b| {
        (a.start_date, &a.lheo_id, a.end_date).cmp(&(b.start_date, &b.lheo_id, b.end_date))
    });
    let enrolment_url = url(input.enrolment_url.as_deref(), "enrolment_url", &mut p);
    let contact_email = input
        .contact_email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(|e| cafeia_platform::validation::email(e, &mut p));
    if !p.0.is_empty() {
        return Err(p.0);
    }
    Ok(TrainingDraft {
        title,
        summary,
        objectives,
        content,
        level: wire_name(&input.level),
        audiences: names(&input.audiences),
        format: wire_name(&input.format),
        pace: wire_name(&input.pace),
        duration_hours: input.duration_hours,
        is_free: input.free,
        price_cents,
        funding: names(&input.funding),
        certification,
        languages,
        accessibility: names(&input.accessibility),
        topics,
        online: input.online || input.format == Format::Online,
        places,
        sessions,
        enrolment_url,
        contact_email,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> TrainingInput {
        TrainingInput {
            provider_siret: None,
            title: "Comprendre l'IA générative".into(),
            summary: "Une journée pour découvrir les IA génératives.".into(),
            objectives: "Savoir ce qu'est un grand modèle de langage.".into(),
            content: String::new(),
            level: Level::Discovery,
            audiences: vec![Audience::GeneralPublic, Audience::Seniors],
            format: Format::InPerson,
            pace: Pace::Scheduled,
            duration_hours: 7,
            free: true,
            price_eur: None,
            funding: vec![],
            certification: None,
            languages: vec!["fr".into()],
            accessibility: vec![Accessibility::DisabledAccess],
            topics: vec!["generative_ai".into()],
            online: false,
            places: vec!["69123".into()],
            sessions: vec![SessionInput {
                lheo_id: None,
                start_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
                end_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default(),
                enrolment: Enrolment::Open,
                insee: None,
            }],
            enrolment_url: Some("https://exemple.fr/inscription".into()),
            contact_email: None,
        }
    }

    fn fields(input: &TrainingInput) -> Vec<String> {
        validate(input)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_valid_programme_is_normalised() {
        let draft = validate(&input()).expect("valid");
        assert_eq!(draft.audiences, vec!["general_public", "seniors"]);
        assert_eq!(draft.places[0].departement, "69");
        assert!(!draft.online);
    }

    #[test]
    fn bad_values_name_their_field() {
        let mut i = input();
        i.title = "  ".into();
        i.duration_hours = -3;
        i.sessions[0].end_date = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default();
        i.certification = Some("ABC".into());
        i.free = false;
        assert_eq!(
            fields(&i),
            vec![
                "title",
                "duration_hours",
                "price_eur",
                "certification",
                "sessions[0].end_date"
            ]
        );
        let mut i = input();
        i.places = vec![];
        assert_eq!(fields(&i), vec!["places"]);
        let mut i = input();
        i.topics = vec!["astrologie".into()];
        assert_eq!(fields(&i), vec!["topics[0]"]);
    }

    #[test]
    fn review_transitions() {
        assert_eq!(
            Review::Publish.apply(Status::Submitted),
            Ok(Status::Published)
        );
        assert_eq!(
            Review::Withdraw.apply(Status::Published),
            Ok(Status::Withdrawn)
        );
        assert!(Review::Reject.apply(Status::Published).is_err());
        assert!(Review::Publish.apply(Status::Withdrawn).is_err());
        assert!(valid_certification("RNCP37827"));
        assert!(valid_certification("RS6232"));
        assert!(!valid_certification("RNCP"));
    }
}
