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
    pub public_url: Option<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            session_key: None,
            gateway_url: "http://127.0.0.1:8080/graphql".into(),
            public_url: None,
        }
    }
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
    }
}
