//! The web app's settings (section `web`).

use cafeia_platform::config::{Validate, Violations};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WebConfig {
    /// Whether the gateway serves the app beside the API.
    pub enabled: bool,
    /// Signs and encrypts the session cookie: 64 bytes or more, base64 or plain text. Required
    /// outside the embedded run, where one is generated and kept in the data directory.
    pub session_key: Option<SecretString>,
    /// The gateway's GraphQL endpoint, when the app runs on its own (`cafeia serve web`).
    pub gateway_url: String,
    /// The app's own public address, for links in mails and feeds (`https://cafe-ia.gouv.fr`).
    /// With `oidc`, the addresses the identity provider sends people back to are derived from
    /// it: `<public_url>/connexion/retour` and, after signing out, `<public_url>/`.
    pub public_url: Option<String>,
    /// The identity provider people sign in with (section `web.oidc`). Unset: no sign-in,
    /// except the development page of the embedded run.
    pub oidc: Option<OidcConfig>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            session_key: None,
            gateway_url: "http://127.0.0.1:8080/graphql".into(),
            public_url: None,
            oidc: None,
        }
    }
}

/// An OpenID Connect provider (ProConnect, Keycloak…) and this app's client registration at
/// it. The access tokens it issues must pass the API's verifier (`auth.issuer`,
/// `auth.audience`, `auth.jwks_url`), with the `roles` (and staff `territory`) claims.
#[derive(Debug, Clone, Deserialize)]
pub struct OidcConfig {
    /// The issuer, exactly as the provider's discovery document states it; its
    /// `/.well-known/openid-configuration` is read on the first sign-in.
    pub issuer: String,
    pub client_id: String,
    /// The client's secret (sent with HTTP basic authentication). Unset for a public client:
    /// PKCE is used either way.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// The scopes asked for besides `openid`, separated by spaces.
    #[serde(default = "OidcConfig::default_scopes")]
    pub scopes: String,
}

impl OidcConfig {
    fn default_scopes() -> String {
        "profile email".into()
    }
}

/// `http://` is accepted on the loopback interface only (the tests' provider): elsewhere the
/// codes and tokens would cross the network in clear.
fn secure_or_loopback(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

impl Validate for WebConfig {
    fn validate(&self, v: &mut Violations) {
        if let Some(key) = &self.session_key {
            v.check(
                key.expose_secret().len() >= 64,
                "web.session_key",
                "must be at least 64 bytes",
            );
        }
        v.check(
            self.gateway_url.starts_with("http://") || self.gateway_url.starts_with("https://"),
            "web.gateway_url",
            "must be an http:// or https:// URL",
        );
        if let Some(oidc) = &self.oidc {
            v.check(
                secure_or_loopback(&oidc.issuer),
                "web.oidc.issuer",
                "must be an https:// URL (http:// only on the loopback interface)",
            );
            v.check(
                !oidc.client_id.trim().is_empty(),
                "web.oidc.client_id",
                "must not be empty",
            );
            match &self.public_url {
                None => v.add(
                    "web.public_url",
                    "required with web.oidc: the provider sends people back to <public_url>/connexion/retour",
                ),
                Some(url) => v.check(
                    secure_or_loopback(url),
                    "web.public_url",
                    "must be an https:// URL with web.oidc (http:// only on the loopback interface)",
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cafeia_platform::config::{Sources, load_section};

    /// The keys refused when the app signs in with `issuer` and has `public_url`.
    fn refused(issuer: &str, public_url: Option<&str>) -> Vec<String> {
        let mut sources = Sources::default()
            .with("web.oidc.issuer", issuer)
            .with("web.oidc.client_id", "cafeia-web");
        if let Some(url) = public_url {
            sources = sources.with("web.public_url", url);
        }
        match load_section::<WebConfig>(&sources, "web") {
            Ok(config) => {
                assert_eq!(config.oidc.expect("oidc").scopes, "profile email");
                Vec::new()
            }
            Err(e) => e.keys().into_iter().map(str::to_owned).collect(),
        }
    }

    #[test]
    fn an_identity_provider_needs_https_and_the_public_address() {
        let public = Some("https://cafe-ia.gouv.fr");
        assert!(refused("https://auth.example.fr/realms/cafeia", public).is_empty());
        assert!(refused("http://127.0.0.1:4000", Some("http://127.0.0.1:8080")).is_empty());
        assert_eq!(
            refused("http://auth.example.fr", public),
            ["web.oidc.issuer"]
        );
        assert_eq!(
            refused("http://127.0.0.1.example.fr", public),
            ["web.oidc.issuer"]
        );
        assert_eq!(refused("https://auth.example.fr", None), ["web.public_url"]);
        assert_eq!(
            refused("https://auth.example.fr", Some("http://cafe-ia.gouv.fr")),
            ["web.public_url"]
        );
    }
}
