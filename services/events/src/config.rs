//! Settings of the events service, under `[events]` (`CAFEIA_EVENTS__<KEY>` in the environment),
//! read from the same layers as the platform's (`PlatformConfig::section`) and checked before the
//! process starts (`Service::check_config`: a bad value exits 2, naming the key).

/// The section's name.
pub const SECTION: &str = "events";

use cafeia_platform::config::{Validate, Violations};
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsConfig {
    /// Days after a session ends before its registrants' emails and names are erased.
    pub retention_days: u32,
    /// How often the erasure runs, in seconds.
    pub retention_sweep_seconds: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            retention_days: 92,
            retention_sweep_seconds: 3_600,
        }
    }
}

impl Validate for EventsConfig {
    fn validate(&self, v: &mut Violations) {
        v.check(
            (1..=3_650).contains(&self.retention_days),
            "events.retention_days",
            "between 1 and 3650 days",
        );
        v.check(
            (10..=86_400).contains(&self.retention_sweep_seconds),
            "events.retention_sweep_seconds",
            "between 10 and 86400 seconds",
        );
    }
}

impl EventsConfig {
    pub fn sweep_every(&self) -> Duration {
        Duration::from_secs(self.retention_sweep_seconds)
    }
}
