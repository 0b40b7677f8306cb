//! Mail: what a message is ([`Mail`]) and how it leaves ([`Transport`]), chosen by URL like
//! every backend of the platform (`mail.url`, [`MailConfig`]):
//!
//! - `smtp://[user:pass@]host[:port]`: SMTP (port 25 by default), in clear unless
//!   `?tls=required` (STARTTLS, port 587 by default);
//! - `smtps://[user:pass@]host[:port]`: SMTP inside TLS from the first byte (port 465);
//! - `file://<dir>`: one `.eml` file per mail in `<dir>` (created when missing): the default,
//!   under the data directory, so the embedded stack and the tests send nothing anywhere.
//!
//! A service never sends on its request path: it writes the mail in an outbox in the
//! transaction that causes it, and a sender loop hands it to the transport ([`outbox`]: the
//! table's rows and the loop, shared by every service that mails). What a failed
//! sending says ([`SendError`]) names a category and an SMTP code, never an address or a
//! body, so it may be stored and logged.

mod config;
pub mod layout;
pub mod outbox;
mod transport;

pub use config::MailConfig;
pub use transport::{SendError, Transport};

use serde::{Deserialize, Serialize};

/// One message to one person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    pub subject: String,
    /// The plain-text body (every mail has one: some readers show nothing else).
    pub text: String,
    /// The same content in simple HTML, when there is one.
    pub html: Option<String>,
    /// Files joined to the mail (an invitation's `.ics`, for instance).
    pub attachments: Vec<Attachment>,
    /// Where a one-click unsubscription is POSTed (RFC 8058): sent as `List-Unsubscribe` with
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. Only for mail a person may stop
    /// (reminders, digests), never for the answer to something they did.
    #[serde(default)]
    pub list_unsubscribe: Option<String>,
    /// The left part of the `Message-ID` (`<left@domain of mail.from>`): the same for every
    /// attempt at one mail, so a mail sent again after a crash is recognised as the same one.
    /// Unset, the transport makes a new one.
    #[serde(default)]
    pub message_id: Option<String>,
}

/// A text file joined to a mail (UTF-8 content: an iCalendar invitation, a CSV).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The name the reader shows (`cafe-ia.ics`).
    pub filename: String,
    /// Its MIME type, parameters included (`text/calendar; charset=utf-8; method=REQUEST`).
    pub content_type: String,
    pub content: String,
}

/// Metrics of a service's mail sender, on the service's registry: counts per kind of mail,
/// never per address.
#[derive(Clone)]
pub struct MailMetrics {
    /// Mails handed to the transport.
    pub sent: prometheus::IntCounterVec,
    /// Mails refused for now (SMTP 4xx): tried again later.
    pub deferred: prometheus::IntCounterVec,
    /// Mails given up on (SMTP 5xx, a malformed address, too many deferrals): left parked.
    pub parked: prometheus::IntCounterVec,
}

impl MailMetrics {
    /// Registers the mail counters (`cafeia_mail_sent_total`, `cafeia_mail_deferred_total`,
    /// `cafeia_mail_parked_total`, labelled by `kind`) on `metrics`' registry.
    pub fn register(metrics: &crate::metrics::Metrics) -> Self {
        let counter = |name: &str, help: &str| {
            let counter =
                prometheus::IntCounterVec::new(prometheus::Opts::new(name, help), &["kind"])
                    .unwrap_or_else(|e| panic!("invalid metric definition: {e}"));
            // A second sender in the same registry (a restarted service in tests) keeps
            // counting on its own vector; the first one stays exposed.
            let _ = metrics.registry().register(Box::new(counter.clone()));
            counter
        };
        Self {
            sent: counter("mail_sent_total", "Mails handed to the mail transport"),
            deferred: counter(
                "mail_deferred_total",
                "Mails refused for now by the mail server (SMTP 4xx), tried again later",
            ),
            parked: counter(
                "mail_parked_total",
                "Mails given up on (SMTP 5xx, unusable address, too many deferrals)",
            ),
        }
    }
}
