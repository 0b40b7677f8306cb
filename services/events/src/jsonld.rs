//! schema.org `EducationEvent` as JSON-LD, so search engines and partner sites can list
//! sessions with their live seat count. The `organizer` is the facilitator's current public
//! name ([`crate::names`]), left out when there is none to show.

use crate::{
    State,
    domain::SessionStatus,
    sessions::{self, local, seats_left},
    storage::session,
};
use actix_web::{HttpResponse, web};
use cafeia_events_api::paths;
use cafeia_platform::{AppError, errors::AppResult, territory::Gazetteer, vocabulary::Format};
use serde_json::{Value, json};
use uuid::Uuid;

/// The document of `model`; `organizer` is its lead facilitator's public name, when known.
pub fn event(model: &session::Model, organizer: Option<&str>) -> AppResult<Value> {
    let mode = match model.format {
        Format::Online => "https://schema.org/OnlineEventAttendanceMode",
        Format::Hybrid => "https://schema.org/MixedEventAttendanceMode",
        Format::InPerson => "https://schema.org/OfflineEventAttendanceMode",
    };
    let status = match model.status {
        SessionStatus::Cancelled => "https://schema.org/EventCancelled",
        SessionStatus::Draft | SessionStatus::Published | SessionStatus::Completed => {
            "https://schema.org/EventScheduled"
        }
    };
    let mut locations = Vec::new();
    if let Some(place) = sessions::place(model)? {
        let commune = Gazetteer::get().commune(&place.insee);
        locations.push(json!({
            "@type": "Place",
            "name": place.name,
            "address": {
                "@type": "PostalAddress",
                "streetAddress": place.address,
                "addressLocality": commune.map(|c| c.name.clone()),
                "addressCountry": "FR",
            },
            "geo": {"@type": "GeoCoordinates", "latitude": place.latitude, "longitude": place.longitude},
        }));
    }
    if model.format != Format::InPerson {
        locations.push(
            json!({"@type": "VirtualLocation", "name": "En ligne (lien envoyé aux inscrit·es)"}),
        );
    }
    let mut doc = json!({
        "@context": "https://schema.org",
        "@type": ["Event", "EducationEvent"],
        "@id": format!("urn:uuid:{}", model.id),
        "name": model.title,
        "description": model.description,
        "startDate": local(model, model.starts_at).to_rfc3339(),
        "endDate": local(model, model.ends_at).to_rfc3339(),
        "eventAttendanceMode": mode,
        "eventStatus": status,
        "isAccessibleForFree": true,
        "inLanguage": model.languages.0,
        "educationalLevel": model.level,
        "audience": model.audiences.0
            .iter()
            .map(|a| json!({"@type": "Audience", "audienceType": a}))
            .collect::<Vec<_>>(),
        "location": locations,
        "offers": {"@type": "Offer", "price": 0, "priceCurrency": "EUR"},
    });
    if let Some(capacity) = model.capacity {
        doc["maximumAttendeeCapacity"] = json!(capacity);
        doc["remainingAttendeeCapacity"] = json!(seats_left(model));
    }
    if let Some(name) = organizer {
        doc["organizer"] = json!({"@type": "Person", "name": name});
    }
    Ok(doc)
}

/// GET /v1/sessions/{id}/jsonld
#[utoipa::path(get, path = paths::SESSION_JSONLD, tag = "sessions", responses((status = 200, description = "schema.org Event/EducationEvent (application/ld+json)"), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn get(state: web::Data<State>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let model = sessions::find(db, *id).await?;
    if model.status == SessionStatus::Draft {
        return Err(AppError::not_found("session inconnue"));
    }
    let organizer = state.names.name(model.facilitator_id).await;
    Ok(HttpResponse::Ok()
        .content_type("application/ld+json")
        .json(event(&model, organizer.as_deref())?))
}
