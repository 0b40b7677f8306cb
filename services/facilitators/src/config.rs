//! Settings of the facilitators service, under `[facilitators]` (`CAFEIA_FACILITATORS__<KEY>` in
//! the environment), read from the platform's layers and checked before the process starts (a
//! bad value exits 2, naming the key). Where mail goes is the platform's `[mail]`.

use cafeia_platform::config::{Validate, Violations};
use serde::Deserialize;
use std::time::Duration;

/// The section's name.
pub const SECTION: &str = "facilitators";

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FacilitatorsConfig {
    /// Where the web pages are, as people open them (`https://cafe-ia.example.org`): the
    /// digest links to the session's roll there. `cafeia up` sets the gateway's address.
    pub web_base_url: String,
    /// Hours before a session its lead facilitator gets the digest of its registrations.
    pub digest_hours: u32,
    /// How often digests due are queued, in seconds.
    pub digest_sweep_seconds: u64,
}

impl Default for FacilitatorsConfig {
    fn default() -> Self {
        Self {
            web_base_url: "http://127.0.0.1:8080".into(),
            digest_hours: 24,
            digest_sweep_seconds: 300,
        }
    }
}

impl FacilitatorsConfig {
    pub fn digest_ahead(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.digest_hours))
    }

    pub fn digest_sweep(&self) -> Duration {
        Duration::from_secs(self.digest_sweep_seconds)
    }
}

impl Validate for FacilitatorsConfig {
    fn validate(&self, v: &mut Violations) {
        v.check_site_url("facilitators.web_base_url", &self.web_base_url);
        v.check(
            (1..=168).contains(&self.digest_hours),
            "facilitators.digest_hours",
            "between 1 and 168 hours",
        );
        v.check(
            (1..=86_400).contains(&self.digest_sweep_seconds),
            "facilitators.digest_sweep_seconds",
            "between 1 and 86400 seconds",
        );
    }
}
