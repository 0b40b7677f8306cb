//! Settings of the events service, under `[events]` (`CAFEIA_EVENTS__<KEY>` in the environment),
//! read from the same layers as the platform's (`PlatformConfig::section`) and checked before the
//! process starts (`Service::check_config`: a bad value exits 2, naming the key). Where mail
//! goes is the platform's `[mail]` (`mail.url`, `mail.from`); where the facilitators service is
//! (for names, [`crate::names`]) is `services.facilitators`, the key the gateway reads too.

/// The section's name.
pub const SECTION: &str = "events";
/// The section naming the services' addresses, shared with the gateway.
pub const SERVICES: &str = "services";

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
    /// Where the web pages are, as people open them (`https://cafe-ia.example.org`): mailed
    /// links point there (`/inscriptions/confirmer?jeton=…`, `/annuler?jeton=…`). `cafeia up`
    /// sets the gateway's address.
    pub web_base_url: String,
    /// Hours a registration made with an email waits for its owner to confirm before it is
    /// erased (never later than the session's start).
    pub confirmation_hours: u32,
    /// Least minutes between two mails about one registration (asking again sooner sends
    /// nothing more).
    pub mail_resend_minutes: u32,
    /// Days sent or parked mail rows are kept (their content is blanked once sent).
    pub mail_retention_days: u32,
    /// How often the mail sender looks for due mail when nothing wakes it, in milliseconds.
    pub mail_poll_ms: u64,
    /// Minutes a « session changed » mail waits before it goes: edits within them make one
    /// mail (each edit replaces its content and waits again, at most four times as long).
    pub mail_coalesce_minutes: u32,
    /// Hours before a session its reminder is mailed to the people holding a seat (those who
    /// registered later had everything in their confirmation).
    pub reminder_hours: u32,
    /// How often reminders due are queued, in seconds.
    pub reminder_sweep_seconds: u64,
    /// The sender's address (`mail.from`), the `ORGANIZER` of the mailed `.ics`: set at start,
    /// not read from this section.
    #[serde(skip)]
    pub organizer: String,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            retention_days: 92,
            retention_sweep_seconds: 3_600,
            web_base_url: "http://127.0.0.1:8080".into(),
            confirmation_hours: 24,
            mail_resend_minutes: 10,
            mail_retention_days: 7,
            mail_poll_ms: 1_000,
            mail_coalesce_minutes: 5,
            reminder_hours: 24,
            reminder_sweep_seconds: 300,
            organizer: String::new(),
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
        v.check_site_url("events.web_base_url", &self.web_base_url);
        v.check(
            (1..=168).contains(&self.confirmation_hours),
            "events.confirmation_hours",
            "between 1 and 168 hours",
        );
        v.check(
            (1..=1_440).contains(&self.mail_resend_minutes),
            "events.mail_resend_minutes",
            "between 1 and 1440 minutes",
        );
        v.check(
            (1..=365).contains(&self.mail_retention_days),
            "events.mail_retention_days",
            "between 1 and 365 days",
        );
        v.check(
            (10..=60_000).contains(&self.mail_poll_ms),
            "events.mail_poll_ms",
            "between 10 and 60000 milliseconds",
        );
        v.check(
            self.mail_coalesce_minutes <= 60,
            "events.mail_coalesce_minutes",
            "between 0 and 60 minutes",
        );
        v.check(
            (1..=168).contains(&self.reminder_hours),
            "events.reminder_hours",
            "between 1 and 168 hours",
        );
        v.check(
            (10..=86_400).contains(&self.reminder_sweep_seconds),
            "events.reminder_sweep_seconds",
            "between 10 and 86400 seconds",
        );
        // A reminder's row must outlive the time it may still be due: purged sooner, the
        // sweep would meet its registration again with nothing saying it was reminded (the
        // sweep also reads the reminder's links, which the purge keeps — this is the second
        // guard, and it says what was meant).
        v.check(
            u64::from(self.mail_retention_days) * 24 > u64::from(self.reminder_hours),
            "events.mail_retention_days",
            "must keep mail longer than events.reminder_hours (mail_retention_days × 24 > reminder_hours)",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::EventsConfig;
    use cafeia_platform::config::{Validate, Violations};

    #[test]
    fn mail_must_be_kept_longer_than_the_reminder_lead() {
        let issues = |days: u32, hours: u32| {
            let settings = EventsConfig {
                mail_retention_days: days,
                reminder_hours: hours,
                ..EventsConfig::default()
            };
            let mut v = Violations::default();
            settings.validate(&mut v);
            format!("{v:?}")
        };
        let refused = issues(1, 48);
        assert!(
            refused.contains("events.mail_retention_days")
                && refused.contains("events.reminder_hours"),
            "{refused}"
        );
        assert!(issues(1, 24).contains("events.reminder_hours"));
        assert!(
            !issues(2, 24).contains("events.mail_retention_days"),
            "{}",
            issues(2, 24)
        );
    }
}

/// The services events calls, under `[services]` (`CAFEIA_SERVICES__FACILITATORS`). The
/// section holds the gateway's other addresses too: only this one is read here.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServiceUrls {
    /// The facilitators service's base URL (`http://facilitators:8080`); `cafeia up` sets the
    /// address it started it on.
    pub facilitators: String,
}

impl Default for ServiceUrls {
    fn default() -> Self {
        Self {
            facilitators: "http://127.0.0.1:8082".into(),
        }
    }
}

impl Validate for ServiceUrls {
    fn validate(&self, v: &mut Violations) {
        let url = self.facilitators.as_str();
        v.check(
            url.starts_with("http://") || url.starts_with("https://"),
            "services.facilitators",
            "must be an http(s) URL",
        );
    }
}

impl EventsConfig {
    pub fn sweep_every(&self) -> Duration {
        Duration::from_secs(self.retention_sweep_seconds)
    }

    /// How long an unconfirmed registration may wait.
    pub fn confirmation_window(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.confirmation_hours))
    }

    /// The least time between two mails about one registration.
    pub fn resend_after(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.mail_resend_minutes))
    }

    /// How long sent and parked mail rows are kept.
    pub fn mail_retention(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.mail_retention_days))
    }

    /// How long a « session changed » mail waits for more edits.
    pub fn coalesce_window(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.mail_coalesce_minutes))
    }

    /// How long before a session its reminder goes.
    pub fn reminder_lead(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.reminder_hours))
    }

    pub fn reminder_every(&self) -> Duration {
        Duration::from_secs(self.reminder_sweep_seconds)
    }
}
