//! schema.org `Course` with one `CourseInstance` per session, as JSON-LD, so search engines and
//! partner sites can list published programmes.

use crate::{
    domain::{Enrolment, Format},
    storage::provider,
    store::Full,
};
use cafeia_platform::territory::Gazetteer;
use serde_json::{Value, json};

fn course_mode(format: Format) -> &'static str {
    match format {
        Format::Online => "online",
        Format::Hybrid => "blended",
        Format::InPerson => "onsite",
    }
}

pub fn course(full: &Full, provider: &provider::Model) -> Value {
    let draft = full.draft();
    let gazetteer = Gazetteer::get();
    let place = |insee: &str| -> Value {
        let commune = gazetteer.commune(insee);
        json!({
            "@type": "Place",
            "address": {
                "@type": "PostalAddress",
                "addressLocality": commune.map(|c| c.name.clone()),
                "postalCode": commune.and_then(|c| c.postcodes.first().cloned()),
                "addressCountry": "FR",
            },
            "geo": commune.map(|c| json!({"@type": "GeoCoordinates", "latitude": c.lat, "longitude": c.lon})),
        })
    };
    let instances: Vec<Value> = draft
        .sessions
        .iter()
        .map(|s| {
            let mut instance = json!({
                "@type": "CourseInstance",
                "courseMode": course_mode(draft.format),
                "startDate": s.start_date.to_string(),
                "endDate": s.end_date.to_string(),
                "eventStatus": if s.enrolment == Enrolment::Suspended {
                    "https://schema.org/EventPostponed"
                } else {
                    "https://schema.org/EventScheduled"
                },
            });
            let insee = s
                .insee
                .clone()
                .or_else(|| draft.places.first().map(|p| p.insee.clone()));
            match (draft.format, insee) {
                (Format::Online, _) | (_, None) => {
                    instance["location"] =
                        json!({"@type": "VirtualLocation", "url": draft.enrolment_url})
                }
                (_, Some(insee)) => instance["location"] = place(&insee),
            }
            instance
        })
        .collect();
    let offer = if draft.is_free {
        json!({"@type": "Offer", "price": 0, "priceCurrency": "EUR", "category": "Free"})
    } else {
        json!({"@type": "Offer", "price": draft.price_cents.map(|c| c as f64 / 100.0), "priceCurrency": "EUR", "category": "Paid"})
    };
    let mut course = json!({
        "@context": "https://schema.org",
        "@type": "Course",
        "@id": format!("urn:cafeia:training:{}", full.training.id),
        "name": draft.title,
        "description": draft.summary,
        "teaches": draft.objectives,
        "educationalLevel": draft.level,
        "inLanguage": draft.languages,
        "isAccessibleForFree": draft.is_free,
        "timeRequired": format!("PT{}H", draft.duration_hours),
        "keywords": draft.topics,
        "audience": draft.audiences.iter().map(|a| json!({"@type": "Audience", "audienceType": a})).collect::<Vec<_>>(),
        "provider": {"@type": "Organization", "name": provider.name, "identifier": {"@type": "PropertyValue", "propertyID": "SIRET", "value": provider.siret}, "url": provider.website},
        "offers": offer,
        "hasCourseInstance": instances,
    });
    if let Some(code) = &draft.certification {
        course["educationalCredentialAwarded"] =
            json!({"@type": "EducationalOccupationalCredential", "identifier": code});
    }
    if let Some(url) = &draft.enrolment_url {
        course["url"] = json!(url);
    }
    if !draft.accessibility.is_empty() {
        course["accessibilityFeature"] = json!(draft.accessibility);
    }
    course
}
