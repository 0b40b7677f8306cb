//! Demonstration catalogue for the embedded stack, loaded through the LHEO import (so the demo
//! also exercises it): programmes across régions, online and in person, and a dozen modules.

use crate::{
    domain::{Audience, Level, ReviewStatus},
    lheo,
    storage::{module, training},
};
use cafeia_catalogue_api::LheoImportSummary;
use cafeia_platform::{AppError, envelope::Envelope, outbox};
use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait,
};
use std::sync::Arc;
use uuid::Uuid;

struct Programme {
    title: &'static str,
    provider: (&'static str, &'static str),
    topics: &'static str,
    level: &'static str,
    audiences: &'static str,
    format: &'static str,
    hours: u32,
    places: &'static [&'static str],
    free: bool,
}

const PROVIDERS: [(&str, &str); 6] = [
    ("1978004300001", "Université Claude Bernard Lyon 1"),
    ("4412345600001", "Association Numérique Solidaire"),
    ("8123456700001", "Cluster IA Occitanie"),
    ("1300456700001", "Réseau des médiathèques de Marseille"),
    ("2097411000001", "Région Réunion — Maison de la formation"),
    ("5198765400001", "École du numérique de Lille"),
];

const PROGRAMMES: [Programme; 26] = [
    Programme {
        title: "L'IA, c'est quoi ? Premiers pas",
        provider: PROVIDERS[1],
        topics: "what_is_ai",
        level: "discovery",
        audiences: "general_public|seniors",
        format: "in_person",
        hours: 3,
        places: &["69123", "38185"],
        free: true,
    },
    Programme {
        title: "IA générative : écrire, résumer, vérifier",
        provider: PROVIDERS[0],
        topics: "generative_ai|misinformation_deepfakes",
        level: "beginner",
        audiences: "students|employees",
        format: "hybrid",
        hours: 14,
        places: &["69123"],
        free: true,
    },
    Programme {
        title: "L'IA au travail : gagner du temps sans se perdre",
        provider: PROVIDERS[2],
        topics: "ai_at_work",
        level: "beginner",
        audiences: "employees|job_seekers",
        format: "online",
        hours: 10,
        places: &[],
        free: true,
    },
    Programme {
        title: "Métiers et IA : ce qui change",
        provider: PROVIDERS[2],
        topics: "ai_and_jobs|ai_at_work",
        level: "discovery",
        audiences: "job_seekers",
        format: "in_person",
        hours: 6,
        places: &["31555", "34172"],
        free: true,
    },
    Programme {
        title: "Données personnelles et IA",
        provider: PROVIDERS[1],
        topics: "data_and_privacy",
        level: "beginner",
        audiences: "general_public",
        format: "online",
        hours: 4,
        places: &[],
        free: true,
    },
    Programme {
        title: "Démêler le vrai du faux : deepfakes et désinformation",
        provider: PROVIDERS[3],
        topics: "misinformation_deepfakes",
        level: "discovery",
        audiences: "general_public|students",
        format: "in_person",
        hours: 3,
        places: &["13055"],
        free: true,
    },
    Programme {
        title: "L'IA dans les services publics",
        provider: PROVIDERS[4],
        topics: "ai_public_services",
        level: "discovery",
        audiences: "public_agents|general_public",
        format: "in_person",
        hours: 7,
        places: &["97411", "97415"],
        free: true,
    },
    Programme {
        title: "Programmer avec l'IA : initiation Python",
        provider: PROVIDERS[5],
        topics: "programming_ai",
        level: "intermediate",
        audiences: "students|job_seekers",
        format: "hybrid",
        hours: 35,
        places: &["59350"],
        free: true,
    },
    Programme {
        title: "Apprentissage automatique : les bases",
        provider: PROVIDERS[0],
        topics: "programming_ai|what_is_ai",
        level: "intermediate",
        audiences: "students",
        format: "online",
        hours: 40,
        places: &[],
        free: false,
    },
    Programme {
        title: "Enseigner avec l'IA",
        provider: PROVIDERS[0],
        topics: "ai_and_education|generative_ai",
        level: "beginner",
        audiences: "teachers",
        format: "hybrid",
        hours: 12,
        places: &["69123"],
        free: true,
    },
    Programme {
        title: "Seniors et IA : s'informer en confiance",
        provider: PROVIDERS[3],
        topics: "what_is_ai|misinformation_deepfakes",
        level: "discovery",
        audiences: "seniors",
        format: "in_person",
        hours: 4,
        places: &["13055", "83137"],
        free: true,
    },
    Programme {
        title: "Assistant conversationnel au bureau",
        provider: PROVIDERS[5],
        topics: "ai_at_work|generative_ai",
        level: "beginner",
        audiences: "employees",
        format: "in_person",
        hours: 7,
        places: &["59350", "62041"],
        free: false,
    },
    Programme {
        title: "IA et recherche d'emploi",
        provider: PROVIDERS[1],
        topics: "ai_and_jobs",
        level: "beginner",
        audiences: "job_seekers",
        format: "online",
        hours: 6,
        places: &[],
        free: true,
    },
    Programme {
        title: "Comprendre les algorithmes de recommandation",
        provider: PROVIDERS[2],
        topics: "what_is_ai|data_and_privacy",
        level: "beginner",
        audiences: "general_public|students",
        format: "in_person",
        hours: 5,
        places: &["31555"],
        free: true,
    },
    Programme {
        title: "Piloter un projet d'IA dans une collectivité",
        provider: PROVIDERS[4],
        topics: "ai_public_services",
        level: "advanced",
        audiences: "public_agents",
        format: "hybrid",
        hours: 21,
        places: &["97411"],
        free: true,
    },
    Programme {
        title: "Créer des images avec l'IA, sans tromper",
        provider: PROVIDERS[3],
        topics: "generative_ai|misinformation_deepfakes",
        level: "discovery",
        audiences: "general_public|students",
        format: "in_person",
        hours: 3,
        places: &["13055"],
        free: true,
    },
    Programme {
        title: "IA et santé : ce que disent les données",
        provider: PROVIDERS[0],
        topics: "data_and_privacy|what_is_ai",
        level: "beginner",
        audiences: "general_public|professionals",
        format: "online",
        hours: 6,
        places: &[],
        free: true,
    },
    Programme {
        title: "Atelier parents : l'IA à la maison",
        provider: PROVIDERS[1],
        topics: "ai_and_education|what_is_ai",
        level: "discovery",
        audiences: "general_public",
        format: "in_person",
        hours: 2,
        places: &["35238", "29019"],
        free: true,
    },
    Programme {
        title: "IA et agriculture en Occitanie",
        provider: PROVIDERS[2],
        topics: "ai_at_work|ai_and_jobs",
        level: "beginner",
        audiences: "professionals",
        format: "hybrid",
        hours: 14,
        places: &["12202"],
        free: true,
    },
    Programme {
        title: "Bibliothécaires : animer un Café IA",
        provider: PROVIDERS[3],
        topics: "what_is_ai|ai_and_education",
        level: "intermediate",
        audiences: "professionals|public_agents",
        format: "in_person",
        hours: 14,
        places: &["13055", "06088"],
        free: true,
    },
    Programme {
        title: "IA en créole : comprendre et débattre",
        provider: PROVIDERS[4],
        topics: "what_is_ai",
        level: "discovery",
        audiences: "general_public|seniors",
        format: "in_person",
        hours: 3,
        places: &["97422"],
        free: true,
    },
    Programme {
        title: "Data et IA pour les PME",
        provider: PROVIDERS[5],
        topics: "ai_at_work|data_and_privacy",
        level: "intermediate",
        audiences: "employees|professionals",
        format: "online",
        hours: 21,
        places: &[],
        free: false,
    },
    Programme {
        title: "Lycéens : l'IA et l'orientation",
        provider: PROVIDERS[5],
        topics: "ai_and_jobs|ai_and_education",
        level: "discovery",
        audiences: "students",
        format: "in_person",
        hours: 4,
        places: &["59350", "80021"],
        free: true,
    },
    Programme {
        title: "Agents publics : IA et relation usager",
        provider: PROVIDERS[4],
        topics: "ai_public_services|data_and_privacy",
        level: "beginner",
        audiences: "public_agents",
        format: "online",
        hours: 7,
        places: &[],
        free: true,
    },
    Programme {
        title: "Réseaux de neurones sans équations",
        provider: PROVIDERS[0],
        topics: "what_is_ai|programming_ai",
        level: "intermediate",
        audiences: "students|general_public",
        format: "online",
        hours: 12,
        places: &[],
        free: true,
    },
    Programme {
        title: "Cafés IA en Guyane : former les relais",
        provider: PROVIDERS[1],
        topics: "what_is_ai|ai_public_services",
        level: "beginner",
        audiences: "public_agents|general_public",
        format: "in_person",
        hours: 7,
        places: &["97302"],
        free: true,
    },
];

const MODULES: [(&str, &str, i32, Level); 12] = [
    (
        "Qu'est-ce que l'IA ? (atelier d'accueil)",
        "what_is_ai",
        60,
        Level::Discovery,
    ),
    (
        "Parler avec un assistant conversationnel",
        "generative_ai",
        90,
        Level::Discovery,
    ),
    (
        "Repérer une image générée",
        "misinformation_deepfakes",
        60,
        Level::Discovery,
    ),
    (
        "Mes données et l'IA",
        "data_and_privacy",
        75,
        Level::Discovery,
    ),
    ("L'IA dans mon travail", "ai_at_work", 90, Level::Beginner),
    ("Métiers de demain", "ai_and_jobs", 60, Level::Discovery),
    (
        "L'IA et mes démarches",
        "ai_public_services",
        60,
        Level::Discovery,
    ),
    (
        "Écrire de bonnes consignes (prompts)",
        "generative_ai",
        90,
        Level::Beginner,
    ),
    (
        "Vrai ou faux ? Jeu de cartes",
        "misinformation_deepfakes",
        45,
        Level::Discovery,
    ),
    (
        "L'IA à l'école : parents et enfants",
        "ai_and_education",
        75,
        Level::Discovery,
    ),
    (
        "Débat mouvant : l'IA et nous",
        "what_is_ai",
        60,
        Level::Discovery,
    ),
    (
        "Coder une petite IA",
        "programming_ai",
        120,
        Level::Intermediate,
    ),
];

/// The SIRET of the demo provider whose development token `cafeia up` prints.
pub fn demo_provider_siret() -> String {
    cafeia_platform::validation::complete_siret(PROVIDERS[1].0)
}

/// The demo programmes as an LHEO document.
pub fn lheo_document() -> String {
    let today = Utc::now().date_naive();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lheo xmlns=\"http://www.lheo.org/2.2\"><offres>\n",
    );
    for (i, p) in PROGRAMMES.iter().enumerate() {
        out.push_str(&format!(
            "<formation numero=\"DEMO-{:03}\"><intitule-formation>{}</intitule-formation>",
            i + 1,
            p.title.replace('&', "&amp;")
        ));
        out.push_str(&format!("<objectif-formation>À l'issue de la formation, comprendre et utiliser : {}.</objectif-formation>", p.title.to_lowercase().replace('&', "&amp;")));
        let modalites = match p.format {
            "online" => "2",
            "hybrid" => "1",
            _ => "0",
        };
        let actions: Vec<Option<&str>> = if p.places.is_empty() {
            vec![None]
        } else {
            p.places.iter().map(|x| Some(*x)).collect()
        };
        for (a, place) in actions.iter().enumerate() {
            out.push_str(&format!("<action numero=\"DEMO-{:03}-{}\"><modalites-enseignement>{modalites}</modalites-enseignement>", i + 1, a + 1));
            if let Some(insee) = place {
                out.push_str(&format!("<lieu-de-formation><coordonnees><adresse><code-INSEE-commune>{insee}</code-INSEE-commune></adresse></coordonnees></lieu-de-formation>"));
            }
            out.push_str(&format!("<nombre-heures-total>{}</nombre-heures-total><langue-formation>fr</langue-formation>", p.hours));
            if !p.free {
                out.push_str("<prix-total-TTC>290.00</prix-total-TTC>");
            }
            out.push_str(&format!("<url-action><urlweb>https://formations.exemple.fr/demo-{:03}</urlweb></url-action>", i + 1));
            for k in 0..2i64 {
                let start = today + Duration::days(14 + 21 * k + (i as i64 % 5) * 3);
                let end = start + Duration::days(i64::from(p.hours / 7));
                out.push_str(&format!(
                    "<session numero=\"DEMO-{:03}-{}-{k}\"><periode><debut>{}</debut><fin>{}</fin></periode><etat-recrutement>1</etat-recrutement></session>",
                    i + 1, a + 1, start.format("%Y%m%d"), end.format("%Y%m%d")
                ));
            }
            out.push_str("</action>");
        }
        out.push_str(&format!(
            "<organisme-formation-responsable><SIRET-organisme-formation><SIRET>{}</SIRET></SIRET-organisme-formation><nom-organisme>{}</nom-organisme></organisme-formation-responsable>",
            cafeia_platform::validation::complete_siret(p.provider.0), p.provider.1
        ));
        out.push_str(&format!(
            "<extras info=\"cafeia\"><extra info=\"level\">{}</extra><extra info=\"audiences\">{}</extra><extra info=\"topics\">{}</extra><extra info=\"format\">{}</extra><extra info=\"accessibility\">disabled_access</extra>{}</extras></formation>\n",
            p.level, p.audiences, p.topics, p.format,
            if p.free { "<extra info=\"funding\"></extra>" } else { "<extra info=\"funding\">cpf</extra>" }
        ));
    }
    out.push_str("</offres></lheo>\n");
    out
}

/// Loads the demo catalogue when there is no programme yet.
pub async fn seed(db: &DatabaseConnection) -> Result<Option<LheoImportSummary>, AppError> {
    if training::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let document = lheo_document();
    let summary = lheo::import(
        db,
        "demo",
        tokio::io::BufReader::new(document.as_bytes()),
        Arc::default(),
    )
    .await?;
    let txn = cafeia_platform::db::begin(db).await?;
    let now = Utc::now();
    for (title, topic, minutes, level) in MODULES {
        let model = module::ActiveModel {
            id: Set(Uuid::now_v7()),
            title: Set(title.into()),
            summary: Set(format!(
                "Module d'animation Café IA : {}.",
                title.to_lowercase()
            )),
            duration_minutes: Set(minutes),
            level: Set(level),
            audiences: Set(vec![Audience::GeneralPublic].into()),
            topics: Set(vec![topic.to_owned()].into()),
            licence: Set("CC BY-SA 4.0".into()),
            resources: Set(vec![format!("https://ressources.exemple.fr/cafe-ia/{topic}")].into()),
            version: Set("1.0".into()),
            status: Set(ReviewStatus::Published),
            status_reason: Set(None),
            submitted_by: Set("demo".into()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let state = crate::modules::state_of(&model);
        let envelope = Envelope::new(
            crate::messages::MODULE_PUBLISHED,
            format!("module/{}", model.id),
            state,
        );
        outbox::enqueue(&txn, crate::messages::MODULE_PUBLISHED, &envelope).await?;
    }
    txn.commit().await?;
    Ok(Some(summary))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_demo_document_is_valid_lheo() {
        let offers = crate::lheo::read_all(super::lheo_document().as_bytes())
            .await
            .expect("well-formed");
        assert_eq!(offers.len(), super::PROGRAMMES.len());
        for (i, offer) in offers.iter().enumerate() {
            let tree = offer.as_ref().expect("readable");
            let parsed = crate::lheo::interpret(tree, i + 1).unwrap_or_else(|e| panic!("{e:?}"));
            crate::domain::validate(&parsed.training)
                .unwrap_or_else(|e| panic!("offer {}: {e:?}", i + 1));
        }
    }
}
