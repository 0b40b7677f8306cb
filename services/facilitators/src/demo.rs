//! Demonstration network for the embedded stack: facilitators across several régions
//! (overseas included), their structures and venues in real communes. Loaded once, when the
//! database has no facilitator yet, through the same tables and messages as real data.

use crate::{
    domain::{Accessibility, FacilitatorKind, FacilitatorStatus, OrganisationKind},
    facilitators::{announce, write_areas},
    messages,
    storage::{JsonText, facilitator, organisation, venue},
    venues::announce_upsert,
};
use cafeia_platform::{AppError, territory::Gazetteer};
use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait,
};
use uuid::Uuid;

struct Org(
    &'static str,
    OrganisationKind,
    &'static str,
    &'static str,
    &'static str,
);
struct Place(
    &'static str,
    &'static str,
    &'static str,
    (f64, f64),
    &'static str,
    &'static [Accessibility],
    i32,
);
struct Person(
    &'static str,
    &'static str,
    FacilitatorKind,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    FacilitatorStatus,
    usize,
);

const ORGS: [Org; 6] = [
    Org(
        "Médiathèque Jean-Macé",
        OrganisationKind::Mediatheque,
        "69266",
        "2 rue Jean-Jaurès",
        "2136900840001",
    ),
    Org(
        "France Services de Guéret",
        OrganisationKind::FranceServices,
        "23096",
        "1 place Bonnyaud",
        "2123009660001",
    ),
    Org(
        "Association Numérique en Commun Bretagne",
        OrganisationKind::Association,
        "35238",
        "14 rue de Brest",
        "4411223300001",
    ),
    Org(
        "Tiers-lieu La Fabrique",
        OrganisationKind::TiersLieu,
        "59350",
        "58 rue Gambetta",
        "5123456790001",
    ),
    Org(
        "Maison France Services de Saint-Denis",
        OrganisationKind::FranceServices,
        "97411",
        "30 rue de Paris",
        "2197441170001",
    ),
    Org(
        "Cyber-base de Cayenne",
        OrganisationKind::Collectivite,
        "97302",
        "12 avenue du Général-de-Gaulle",
        "2197330290001",
    ),
];

const PLACES: [Place; 10] = [
    Place(
        "Médiathèque Jean-Macé — salle multimédia",
        "2 rue Jean-Jaurès",
        "69266",
        (0.002, -0.003),
        "Tu-Sa 10:00-18:00",
        &[Accessibility::Wheelchair, Accessibility::HearingLoop],
        20,
    ),
    Place(
        "Espace numérique de la Croix-Rousse",
        "12 boulevard de la Croix-Rousse",
        "69384",
        (0.001, 0.002),
        "Mo-Fr 09:00-12:00,14:00-17:30",
        &[Accessibility::Wheelchair],
        12,
    ),
    Place(
        "France Services de Guéret",
        "1 place Bonnyaud",
        "23096",
        (0.001, 0.001),
        "Mo-Fr 08:30-12:30,13:30-17:00",
        &[Accessibility::Wheelchair, Accessibility::EasyRead],
        15,
    ),
    Place(
        "Les Champs Libres — Laboratoire numérique",
        "10 cours des Alliés",
        "35238",
        (-0.004, 0.002),
        "Tu-Fr 12:00-19:00; Sa-Su 14:00-19:00",
        &[
            Accessibility::Wheelchair,
            Accessibility::Lsf,
            Accessibility::HearingLoop,
        ],
        30,
    ),
    Place(
        "La Fabrique — tiers-lieu",
        "58 rue Gambetta",
        "59350",
        (0.003, -0.002),
        "Mo-Sa 09:00-19:00",
        &[Accessibility::Wheelchair],
        25,
    ),
    Place(
        "Bibliothèque de l'Alcazar",
        "58 cours Belsunce",
        "13201",
        (0.0, 0.001),
        "Tu-Sa 11:00-19:00",
        &[Accessibility::Wheelchair, Accessibility::VisualAids],
        40,
    ),
    Place(
        "Maison France Services de Saint-Denis",
        "30 rue de Paris",
        "97411",
        (0.001, 0.0),
        "Mo-Fr 08:00-16:00",
        &[Accessibility::Wheelchair],
        14,
    ),
    Place(
        "Cyber-base de Cayenne",
        "12 avenue du Général-de-Gaulle",
        "97302",
        (0.0, 0.001),
        "Mo-Fr 08:00-12:00,14:00-17:00",
        &[],
        10,
    ),
    Place(
        "Médiathèque d'Ajaccio",
        "50 rue Fesch",
        "2A004",
        (0.001, 0.001),
        "Tu-Sa 09:30-18:00",
        &[Accessibility::Wheelchair],
        18,
    ),
    Place(
        "Espace public numérique de Strasbourg",
        "1 place de l'Étoile",
        "67482",
        (-0.002, 0.003),
        "Mo-Fr 13:30-18:00",
        &[Accessibility::Wheelchair, Accessibility::EasyRead],
        16,
    ),
];

const PEOPLE: [Person; 10] = [
    Person(
        "demo-animatrice",
        "Camille Martin",
        FacilitatorKind::ConseillerNumerique,
        &["69266", "69123"],
        &["what_is_ai", "generative_ai"],
        &["fr", "en"],
        FacilitatorStatus::Verified,
        0,
    ),
    Person(
        "demo-bibliothecaire-lyon",
        "Yanis Benali",
        FacilitatorKind::Bibliothecaire,
        &["69"],
        &["misinformation_deepfakes", "data_and_privacy"],
        &["fr", "ar"],
        FacilitatorStatus::Verified,
        0,
    ),
    Person(
        "demo-creuse",
        "Hélène Dubreuil",
        FacilitatorKind::AgentPublic,
        &["23"],
        &["ai_public_services", "what_is_ai"],
        &["fr"],
        FacilitatorStatus::Verified,
        1,
    ),
    Person(
        "demo-rennes",
        "Erwan Le Gall",
        FacilitatorKind::MediateurNumerique,
        &["35238", "35"],
        &["ai_at_work", "ai_and_jobs"],
        &["fr", "lsf"],
        FacilitatorStatus::Verified,
        2,
    ),
    Person(
        "demo-lille",
        "Sarah Lefebvre",
        FacilitatorKind::Formateur,
        &["59350"],
        &["programming_ai", "generative_ai"],
        &["fr", "en"],
        FacilitatorStatus::Verified,
        3,
    ),
    Person(
        "demo-marseille",
        "Karim Haddad",
        FacilitatorKind::Benevole,
        &["13055"],
        &["what_is_ai"],
        &["fr", "ar"],
        FacilitatorStatus::Pending,
        0,
    ),
    Person(
        "demo-reunion",
        "Nathalie Payet",
        FacilitatorKind::ConseillerNumerique,
        &["97411", "974"],
        &["what_is_ai", "ai_public_services"],
        &["fr"],
        FacilitatorStatus::Verified,
        4,
    ),
    Person(
        "demo-guyane",
        "Jean-Marc Ho-A-Sim",
        FacilitatorKind::ConseillerNumerique,
        &["97302"],
        &["generative_ai", "data_and_privacy"],
        &["fr", "pt"],
        FacilitatorStatus::Verified,
        5,
    ),
    Person(
        "demo-corse",
        "Letizia Santoni",
        FacilitatorKind::Bibliothecaire,
        &["2A004"],
        &["ai_and_education"],
        &["fr"],
        FacilitatorStatus::Pending,
        0,
    ),
    Person(
        "demo-strasbourg",
        "Thomas Muller",
        FacilitatorKind::MediateurNumerique,
        &["67482"],
        &["ai_at_work"],
        &["fr", "de"],
        FacilitatorStatus::Suspended,
        0,
    ),
];

pub async fn seed(db: &DatabaseConnection) -> Result<bool, AppError> {
    if facilitator::Entity::find().count(db).await? > 0 {
        return Ok(false);
    }
    let gazetteer = Gazetteer::get();
    let txn = cafeia_platform::db::begin(db).await?;
    let now = Utc::now();
    let mut org_ids = Vec::new();
    for o in &ORGS {
        let c = gazetteer.commune(o.2).ok_or_else(|| {
            AppError::internal(std::io::Error::other(format!("demo commune {}", o.2)))
        })?;
        let id = Uuid::now_v7();
        organisation::ActiveModel {
            id: Set(id),
            name: Set(o.0.into()),
            siret: Set(Some(cafeia_platform::validation::complete_siret(o.4))),
            rna: Set(None),
            kind: Set(o.1),
            address: Set(o.3.into()),
            insee: Set(c.insee.clone()),
            departement: Set(c.departement.clone()),
            region: Set(c.region.clone()),
            created_by: Set("demo".into()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        org_ids.push(id);
    }
    for p in &PLACES {
        let c = gazetteer.commune(p.2).ok_or_else(|| {
            AppError::internal(std::io::Error::other(format!("demo commune {}", p.2)))
        })?;
        let model = venue::ActiveModel {
            id: Set(Uuid::now_v7()),
            source_id: Set(None),
            name: Set(p.0.into()),
            address: Set(p.1.into()),
            postcode: Set(c.postcodes.first().cloned().unwrap_or_default()),
            insee: Set(c.insee.clone()),
            departement: Set(c.departement.clone()),
            region: Set(c.region.clone()),
            lat: Set(c.lat + p.3.0),
            lon: Set(c.lon + p.3.1),
            opening_hours: Set(Some(p.4.into())),
            accessibility: Set(JsonText(p.5.to_vec())),
            capacity: Set(Some(p.6)),
            services: Set(JsonText(vec![
                "Prendre en main un ordinateur".to_owned(),
                "Comprendre l'intelligence artificielle".to_owned(),
            ])),
            publics: Set(JsonText(vec!["Tout public".to_owned()])),
            is_public: Set(true),
            organisation_id: Set(None),
            created_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        announce_upsert(&txn, &model).await?;
    }
    for p in &PEOPLE {
        let territories: Vec<String> = p.3.iter().map(|s| (*s).to_owned()).collect();
        let areas: Vec<_> = territories
            .iter()
            .filter_map(|t| gazetteer.area(t))
            .collect();
        let point = territories.first().and_then(|t| gazetteer.point(t));
        let model = facilitator::ActiveModel {
            id: Set(Uuid::now_v7()),
            sub: Set(p.0.into()),
            display_name: Set(p.1.into()),
            email: Set(Some(format!("{}@exemple.fr", p.0))),
            kind: Set(p.2),
            organisation_id: Set(org_ids.get(p.7).copied()),
            territories: Set(JsonText(territories)),
            topics: Set(JsonText(p.4.iter().map(|s| (*s).to_owned()).collect())),
            languages: Set(JsonText(p.5.iter().map(|s| (*s).to_owned()).collect())),
            training_completed_on: Set(NaiveDate::from_ymd_opt(2026, 3, 12)),
            status: Set(p.6),
            status_reason: Set((p.6 == FacilitatorStatus::Suspended)
                .then(|| "Signalement en cours d'instruction".to_owned())),
            lat: Set(point.map(|x| x.0)),
            lon: Set(point.map(|x| x.1)),
            created_at: Set(now),
            updated_at: Set(now),
            erased_at: Set(None),
        }
        .insert(&txn)
        .await?;
        write_areas(&txn, model.id, &areas).await?;
        announce(&txn, messages::FACILITATOR_REGISTERED, &model).await?;
        match p.6 {
            FacilitatorStatus::Verified => {
                announce(&txn, messages::FACILITATOR_VERIFIED, &model).await?
            }
            FacilitatorStatus::Suspended => {
                announce(&txn, messages::FACILITATOR_SUSPENDED, &model).await?
            }
            FacilitatorStatus::Pending => {}
        }
    }
    txn.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_identifiers_are_valid() {
        for o in &ORGS {
            assert!(
                crate::domain::valid_organisation_siret(
                    &cafeia_platform::validation::complete_siret(o.4)
                ),
                "{}",
                o.0
            );
        }
        let g = Gazetteer::get();
        for p in &PLACES {
            let c = g.commune(p.2).expect("demo commune exists");
            assert!(
                cafeia_platform::territory::in_france(c.lat + p.3.0, c.lon + p.3.1),
                "{}",
                p.0
            );
        }
        for p in &PEOPLE {
            for t in p.3 {
                assert!(g.area(t).is_some(), "{t}");
            }
        }
    }
}
