//! How people sign in. Production uses the identity provider (OpenID Connect, authorization
//! code with PKCE); the embedded run has a development sign-in page that picks a demo role,
//! with tokens from the development issuer.

use crate::{WebConfig, oidc::OpenIdConnect};
use cafeia_platform::auth::{DevIssuer, Role, Territory};
use std::{sync::Arc, time::Duration};

pub enum SignIn {
    /// The identity provider (`web.oidc`): authorization code with PKCE.
    OpenIdConnect(Arc<OpenIdConnect>),
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
    /// The address the identity provider would have verified (the token's `email` claim,
    /// `email_verified`): a signed-in person's mail goes there, when they ask for it.
    pub email: Option<&'static str>,
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
        email: Some("lea.citoyenne@example.org"),
    },
    DemoPerson {
        key: "animatrice",
        label: "Camille Martin, animatrice vérifiée (Lyon)",
        description: "Anime des cafés : lieux, sessions, liste des inscrits, présences.",
        sub: "demo-animatrice",
        roles: &[Role::Facilitator],
        territory: None,
        email: None,
    },
    DemoPerson {
        key: "nouvel-animateur",
        label: "Noé, futur animateur",
        description: "Pas encore inscrit comme animateur : peut le devenir.",
        sub: "demo-nouvel-animateur",
        roles: &[Role::Facilitator],
        territory: None,
        email: None,
    },
    DemoPerson {
        key: "coordination",
        label: "Alex, coordination Auvergne-Rhône-Alpes",
        description: "Suit et vérifie le réseau de sa région.",
        sub: "demo-coordination-ara",
        roles: &[Role::Staff],
        territory: Some("region:84"),
        email: None,
    },
    DemoPerson {
        key: "cnnum",
        label: "Sam, équipe nationale du CNNum",
        description: "Suit l'objectif national, vérifie et modère.",
        sub: "demo-cnnum",
        roles: &[Role::Staff],
        territory: None,
        email: None,
    },
];

/// How long a development sign-in lasts.
pub const DEV_SESSION: Duration = Duration::from_secs(8 * 3600);

impl SignIn {
    /// The identity provider when `web.oidc` names one, else the development page where the
    /// development issuer runs, else none.
    pub fn from_config(
        config: &WebConfig,
        dev_issuer: Option<Arc<DevIssuer>>,
    ) -> Result<Self, String> {
        match (&config.oidc, dev_issuer) {
            (Some(_), Some(_)) => Err(
                "web.oidc: the API verifies tokens with the development issuer (auth.dev_issuer), \
                 so it would refuse the identity provider's: set auth.jwks_url to the provider's keys"
                    .into(),
            ),
            (Some(oidc), None) => {
                let public_url = config.public_url.as_deref().ok_or(
                    "web.public_url: required with web.oidc (the provider's redirect address)",
                )?;
                Ok(SignIn::OpenIdConnect(Arc::new(OpenIdConnect::new(oidc, public_url)?)))
            }
            (None, Some(issuer)) => Ok(SignIn::Development(issuer)),
            (None, None) => Ok(SignIn::Unavailable),
        }
    }

    pub fn demo_token(&self, person: &DemoPerson) -> Option<String> {
        let SignIn::Development(issuer) = self else {
            return None;
        };
        let territory = person.territory.and_then(|t| t.parse::<Territory>().ok());
        match (person.email, &territory) {
            (Some(email), None) => issuer
                .issue_with_email(person.sub, person.roles, email, DEV_SESSION)
                .ok(),
            _ => issuer
                .issue(person.sub, person.roles, territory.as_ref(), DEV_SESSION)
                .ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OidcConfig;

    #[test]
    fn the_identity_provider_cannot_sign_in_where_the_api_trusts_the_development_issuer() {
        let dir = std::env::temp_dir().join(format!("cafeia-signin-{}", uuid::Uuid::now_v7()));
        let issuer = DevIssuer::load_or_create(&dir, &Default::default()).expect("dev issuer");
        let config = WebConfig {
            public_url: Some("https://cafe-ia.gouv.fr".into()),
            oidc: Some(OidcConfig {
                issuer: "https://auth.example.fr".into(),
                client_id: "cafeia-web".into(),
                client_secret: None,
                scopes: "profile".into(),
            }),
            ..WebConfig::default()
        };
        let refused = SignIn::from_config(&config, Some(Arc::new(issuer)));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(matches!(refused, Err(e) if e.contains("auth.jwks_url")));
        assert!(matches!(
            SignIn::from_config(&config, None),
            Ok(SignIn::OpenIdConnect(_))
        ));
        assert!(matches!(
            SignIn::from_config(&WebConfig::default(), None),
            Ok(SignIn::Unavailable)
        ));
    }
}
