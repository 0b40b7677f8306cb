//! How people sign in. Production uses the identity provider (OpenID Connect, authorization
//! code with PKCE); the embedded run has a development sign-in page that picks a demo role,
//! with tokens from the development issuer.

use cafeia_platform::auth::{DevIssuer, Role, Territory};
use std::{sync::Arc, time::Duration};

pub enum SignIn {
    /// `cafeia up`: pick a demo person; tokens from the development issuer.
    Development(Arc<DevIssuer>),
    /// No sign-in configured: the citizen pages only.
    Unavailable,
}

/// A demo person of the development sign-in page.
pub struct DemoPerson {
    pub key: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub sub: &'static str,
    pub roles: &'static [Role],
    pub territory: Option<&'static str>,
}

/// The people the demo data knows (see the launcher's demo data).
pub const DEMO_PEOPLE: [DemoPerson; 5] = [
    DemoPerson {
        key: "citoyenne",
        label: "Léa, citoyenne",
        description: "S'inscrit à des cafés et retrouve ses inscriptions.",
        sub: "demo-citoyenne",
        roles: &[Role::Citizen],
        territory: None,
    },
    DemoPerson {
        key: "animatrice",
        label: "Camille Martin, animatrice vérifiée (Lyon)",
        description: "Anime des cafés : lieux, sessions, liste des inscrits, présences.",
        sub: "demo-animatrice",
        roles: &[Role::Facilitator],
        territory: None,
    },
    DemoPerson {
        key: "nouvel-animateur",
        label: "Noé, futur animateur",
        description: "Pas encore inscrit comme animateur : peut le devenir.",
        sub: "demo-nouvel-animateur",
        roles: &[Role::Facilitator],
        territory: None,
    },
    DemoPerson {
        key: "coordination",
        label: "Alex, coordination Auvergne-Rhône-Alpes",
        description: "Suit et vérifie le réseau de sa région.",
        sub: "demo-coordination-ara",
        roles: &[Role::Staff],
        territory: Some("region:84"),
    },
    DemoPerson {
        key: "cnnum",
        label: "Sam, équipe nationale du CNNum",
        description: "Suit l'objectif national, vérifie et modère.",
        sub: "demo-cnnum",
        roles: &[Role::Staff],
        territory: None,
    },
];

/// How long a development sign-in lasts.
pub const DEV_SESSION: Duration = Duration::from_secs(8 * 3600);

impl SignIn {
    pub fn demo_token(&self, person: &DemoPerson) -> Option<String> {
        let SignIn::Development(issuer) = self else {
            return None;
        };
        let territory = person.territory.and_then(|t| t.parse::<Territory>().ok());
        issuer
            .issue(person.sub, person.roles, territory.as_ref(), DEV_SESSION)
            .ok()
    }
}
