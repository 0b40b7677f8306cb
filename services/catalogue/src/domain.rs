//! The catalogue's rules: controlled values, the review lifecycle, and the one validation every
//! programme goes through, whether it comes from the API or from an LHEO file.

use cafeia_platform::{errors::FieldError, territory::Gazetteer, validation::Problems, vocabulary};

pub use cafeia_catalogue_api::{
    Accessibility, Audience, Enrolment, Format, Funding, Level, Pace, Place, ProviderKind,
    ReviewDecision, ReviewStatus, TrainingInput, TrainingSession,
};

/// Where a review decision takes an item in `from`, or why it cannot.
pub fn decide(decision: ReviewDecision, from: ReviewStatus) -> Result<ReviewStatus, &'static str> {
    use ReviewDecision::{Publish, Reject, Withdraw};
    use ReviewStatus::{Published, Rejected, Submitted, Withdrawn};
    match (decision, from) {
        (Publish, Submitted) => Ok(Published),
        (Publish, Published) => Err("déjà publié"),
        (Publish, _) => Err("seul un contenu soumis peut être publié"),
        (Reject, Submitted) => Ok(Rejected),
        (Reject, _) => Err("seul un contenu soumis peut être refusé"),
        (Withdraw, Published) => Ok(Withdrawn),
        (Withdraw, _) => Err("seul un contenu publié peut être retiré"),
    }
}

/// A programme that passed validation, normalised (sorted lists) so two drafts compare equal
/// exactly when nothing meaningful differs.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingDraft {
    pub title: String,
    pub summary: String,
    pub objectives: String,
    pub content: String,
    pub level: Level,
    pub audiences: Vec<Audience>,
    pub format: Format,
    pub pace: Pace,
    pub duration_hours: i32,
    pub is_free: bool,
    pub price_cents: Option<i64>,
    pub funding: Vec<Funding>,
    pub certification: Option<String>,
    pub languages: Vec<String>,
    pub accessibility: Vec<Accessibility>,
    pub topics: Vec<String>,
    pub online: bool,
    pub places: Vec<Place>,
    pub sessions: Vec<TrainingSession>,
    pub enrolment_url: Option<String>,
    pub contact_email: Option<String>,
}

/// A set of controlled values in their one order, so that equal sets compare equal.
pub fn sorted<T: Ord + Copy>(values: &[T]) -> Vec<T> {
    let mut values = values.to_vec();
    values.sort();
    values.dedup();
    values
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
                latitude: c.lat,
                longitude: c.lon,
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
        level: input.level,
        audiences: sorted(&input.audiences),
        format: input.format,
        pace: input.pace,
        duration_hours: input.duration_hours,
        is_free: input.free,
        price_cents,
        funding: sorted(&input.funding),
        certification,
        languages,
        accessibility: sorted(&input.accessibility),
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
    use chrono::NaiveDate;

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
            sessions: vec![TrainingSession {
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
        assert_eq!(
            draft.audiences,
            vec![Audience::GeneralPublic, Audience::Seniors]
        );
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
        use ReviewDecision::{Publish, Reject, Withdraw};
        use ReviewStatus::{Published, Submitted, Withdrawn};
        assert_eq!(decide(Publish, Submitted), Ok(Published));
        assert_eq!(decide(Withdraw, Published), Ok(Withdrawn));
        assert!(decide(Reject, Published).is_err());
        assert!(decide(Publish, Withdrawn).is_err());
        assert!(valid_certification("RNCP37827"));
        assert!(valid_certification("RS6232"));
        assert!(!valid_certification("RNCP"));
    }
}
