//! The transports behind `mail.url`, and what their failures mean for the mail.

use super::{Mail, MailConfig};
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Mailbox, MultiPart, SinglePart,
        header::{ContentType, HeaderName, HeaderValue},
    },
};
use secrecy::ExposeSecret;
use std::{path::Path, time::Duration};

/// Why a mail did not leave. The reason names a category and, from a server, its SMTP code:
/// never the address, the subject or the body (servers quote the address in their replies),
/// so it may be stored in the outbox and logged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The transport cannot be used right now (server unreachable, TLS, timeout, a directory
    /// that cannot be written): no fault of this mail; try it again once it can.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The server refused this mail for now (SMTP 4xx): try it again later.
    #[error("deferred: {0}")]
    Deferred(String),
    /// The mail can never be sent as it is (SMTP 5xx, an address that does not parse).
    #[error("refused: {0}")]
    Refused(String),
}

/// Where mail goes, from `mail.url`. Cloning shares the SMTP connection pool.
#[derive(Clone)]
pub struct Transport {
    inner: Inner,
    from: Mailbox,
}

#[derive(Clone)]
enum Inner {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: only the kind is shown.
        let kind = match self.inner {
            Inner::Smtp(_) => "smtp",
            Inner::File(_) => "file",
        };
        f.debug_struct("Transport")
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// The transport `config` names (`file://<data_dir>/mail` when it names none). The
    /// error names the key and never repeats the URL (it may hold a password).
    pub fn from_config(config: &MailConfig, data_dir: &Path) -> Result<Self, String> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|_| "mail.from: not an address".to_owned())?;
        let url = config.url_in(data_dir);
        let url = url.expose_secret();
        let inner = if let Some(dir) = url.strip_prefix("file://") {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("mail.url: cannot create the mail directory: {e}"))?;
            Inner::File(AsyncFileTransport::<Tokio1Executor>::new(dir))
        } else if url.starts_with("smtp://") || url.starts_with("smtps://") {
            let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|_| {
                "mail.url: not a usable smtp:// or smtps:// URL (host, port, ?tls=required)"
                    .to_owned()
            })?;
            Inner::Smtp(
                builder
                    .timeout(Some(Duration::from_secs(config.timeout_seconds)))
                    .build(),
            )
        } else {
            return Err("mail.url: must start with smtp://, smtps:// or file://".into());
        };
        Ok(Self { inner, from })
    }

    /// Whether mail is written to files rather than sent.
    pub fn is_file(&self) -> bool {
        matches!(self.inner, Inner::File(_))
    }

    /// Sends `mail`.
    pub async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let message = self.message(mail)?;
        match &self.inner {
            Inner::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(smtp_error),
            Inner::File(file) => file.send(message).await.map(drop).map_err(|e| {
                // An I/O error on the directory: the mail itself is fine.
                SendError::Unavailable(format!("mail directory: {}", io_kind(&e)))
            }),
        }
    }

    /// The MIME message: the text (and the HTML as its alternative), then the attachments.
    fn message(&self, mail: &Mail) -> Result<Message, SendError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| SendError::Refused("recipient address does not parse".into()))?;
        let text = SinglePart::plain(mail.text.clone());
        let message_id = mail
            .message_id
            .as_ref()
            .map(|left| format!("<{left}@{}>", self.from.email.domain()));
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(message_id);
        if let Some(url) = &mail.list_unsubscribe {
            if url.contains(['<', '>', '\r', '\n']) {
                return Err(SendError::Refused(
                    "unsubscribe address does not fit a header".into(),
                ));
            }
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let readable = mail.html.as_ref().map(|html| {
            MultiPart::alternative()
                .singlepart(text.clone())
                .singlepart(SinglePart::html(html.clone()))
        });
        let built = match (readable, mail.attachments.is_empty()) {
            (None, true) => builder.singlepart(text),
            (Some(alternative), true) => builder.multipart(alternative),
            (readable, false) => {
                let mut mixed = match readable {
                    Some(alternative) => MultiPart::mixed().multipart(alternative),
                    None => MultiPart::mixed().singlepart(text),
                };
                for file in &mail.attachments {
                    let content_type = ContentType::parse(&file.content_type).map_err(|_| {
                        SendError::Refused(format!(
                            "attachment content type does not parse: {}",
                            file.content_type
                        ))
                    })?;
                    mixed = mixed.singlepart(
                        lettre::message::Attachment::new(file.filename.clone())
                            .body(file.content.clone(), content_type),
                    );
                }
                builder.multipart(mixed)
            }
        };
        built
            // The builder's errors are fixed phrases ("missing @ in email address").
            .map_err(|e| SendError::Refused(format!("message cannot be built: {e}")))
    }
}

/// What an SMTP failure means for the mail, in words free of personal data.
fn smtp_error(e: lettre::transport::smtp::Error) -> SendError {
    match e.status() {
        Some(code) if e.is_transient() => SendError::Deferred(format!("smtp {code}")),
        Some(code) => SendError::Refused(format!("smtp {code}")),
        None if e.is_timeout() => SendError::Unavailable("smtp timeout".into()),
        None if e.is_tls() => SendError::Unavailable("smtp tls".into()),
        None if e.is_client() => SendError::Refused("smtp client refused the message".into()),
        // Connection, I/O, a reply that does not parse, a pool shutting down.
        None => SendError::Unavailable("smtp connection".into()),
    }
}

fn io_kind(e: &lettre::transport::file::Error) -> String {
    use std::error::Error as _;
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io.kind().to_string();
        }
        source = err.source();
    }
    "i/o".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> Mail {
        Mail {
            to: "Ana <ana@example.org>".into(),
            subject: "Confirmez votre inscription".into(),
            text: "Bonjour,\nCliquez : https://example.org/x?jeton=ab".into(),
            html: Some("<p>Bonjour</p>".into()),
            attachments: vec![super::super::Attachment {
                filename: "cafe-ia.ics".into(),
                content_type: "text/calendar; charset=utf-8; method=REQUEST".into(),
                content: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into(),
            }],
            list_unsubscribe: None,
            message_id: None,
        }
    }

    // The SMTP pool starts its clean-up task on the runtime.
    #[tokio::test]
    async fn the_url_picks_the_transport_and_a_bad_one_names_the_key_not_the_password() {
        let dir = std::env::temp_dir().join(format!("cafeia-mail-{}", uuid::Uuid::now_v7()));
        let config = |url: Option<&str>| MailConfig {
            url: url.map(|u| secrecy::SecretString::from(u.to_owned())),
            ..MailConfig::default()
        };
        assert!(
            Transport::from_config(&config(None), &dir)
                .expect("file")
                .is_file()
        );
        assert!(dir.join("mail").is_dir());
        let smtp = Transport::from_config(&config(Some("smtp://u:p@127.0.0.1:2525")), &dir);
        assert!(!smtp.expect("smtp").is_file());
        assert!(Transport::from_config(&config(Some("smtps://mail.example.org")), &dir).is_ok());
        let bad = Transport::from_config(&config(Some("smtp://u:hunter2@/?tls=maybe")), &dir)
            .expect_err("refused");
        assert!(
            bad.starts_with("mail.url") && !bad.contains("hunter2"),
            "{bad}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_mail_is_text_with_its_html_alternative_then_its_attachments() {
        let dir = std::env::temp_dir();
        let transport = Transport::from_config(&MailConfig::default(), &dir).expect("file");
        let formatted = String::from_utf8(transport.message(&mail()).expect("message").formatted())
            .expect("utf-8");
        assert!(formatted.contains("multipart/mixed"), "{formatted}");
        assert!(formatted.contains("multipart/alternative"), "{formatted}");
        assert!(formatted.contains("text/calendar"), "{formatted}");
        assert!(!formatted.contains("List-Unsubscribe"), "{formatted}");
        let mut reminder = mail();
        reminder.list_unsubscribe = Some("https://cafe-ia.example.org/mail/unsubscribe/ab".into());
        reminder.message_id = Some("0193a5b2.1".into());
        let formatted =
            String::from_utf8(transport.message(&reminder).expect("message").formatted())
                .expect("utf-8");
        assert!(
            formatted.contains(
                "List-Unsubscribe: <https://cafe-ia.example.org/mail/unsubscribe/ab>\r\n"
            ),
            "{formatted}"
        );
        assert!(
            formatted.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
            "{formatted}"
        );
        assert!(
            formatted.contains("Message-ID: <0193a5b2.1@cafe-ia.localhost>\r\n"),
            "{formatted}"
        );
        let mut bad = mail();
        bad.to = "pas une adresse".into();
        assert!(matches!(
            transport.message(&bad),
            Err(SendError::Refused(why)) if !why.contains("pas une adresse")
        ));
    }
}
