//! `[mail]`: where mail goes and who it comes from.

use crate::config::{Validate, Violations};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MailConfig {
    /// `smtp://[user:pass@]host[:port][?tls=required]`, `smtps://…` or `file://<dir>`; unset
    /// means `file://<data_dir>/mail` (as an unset `database.url` means a SQLite file there).
    /// May hold a password: never logged.
    pub url: Option<SecretString>,
    /// The sender, as mail readers show it: `Café IA <ne-pas-repondre@example.org>`.
    pub from: String,
    /// Seconds an SMTP exchange may take before it counts as the server being unreachable.
    pub timeout_seconds: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            url: None,
            from: "Café IA <ne-pas-repondre@cafe-ia.localhost>".into(),
            timeout_seconds: 30,
        }
    }
}

impl MailConfig {
    /// The address of [`Self::from`] without its name (`ne-pas-repondre@example.org`);
    /// empty when it does not parse (the config check refuses that before start).
    pub fn sender_address(&self) -> String {
        self.from
            .parse::<lettre::message::Mailbox>()
            .map(|m| m.email.to_string())
            .unwrap_or_default()
    }

    /// The transport URL: the configured one, or a directory of `.eml` files in `data_dir`.
    pub fn url_in(&self, data_dir: &Path) -> SecretString {
        match &self.url {
            Some(url) => url.clone(),
            None => SecretString::from(format!("file://{}", data_dir.join("mail").display())),
        }
    }
}

impl Validate for MailConfig {
    fn validate(&self, v: &mut Violations) {
        if let Some(url) = &self.url {
            let url = url.expose_secret();
            v.check(
                url.starts_with("smtp://")
                    || url.starts_with("smtps://")
                    || url.starts_with("file://"),
                "mail.url",
                "must start with smtp://, smtps:// or file://",
            );
        }
        v.check(
            self.from.parse::<lettre::message::Mailbox>().is_ok(),
            "mail.from",
            "must be an address, optionally with a name: `Café IA <ne-pas-repondre@example.org>`",
        );
        v.check(
            (1..=600).contains(&self.timeout_seconds),
            "mail.timeout_seconds",
            "must be between 1 and 600 seconds",
        );
    }
}
