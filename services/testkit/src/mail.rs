//! Mail in tests, read as a mail reader would (parsed with `mail-parser`).
//!
//! - What a service under test wrote with the default transport (`mail.url` unset:
//!   `file://<data dir>/mail`, one `.eml` per mail): [`written_to`], [`wait_for_mail`].
//! - A real SMTP server for the sender's tests: [`smtp_url`] (`CAFEIA_TEST_SMTP_URL`, by
//!   default aiosmtpd on `smtp://127.0.0.1:2525`) and what it received in its Maildir
//!   ([`smtp_maildir`], `CAFEIA_TEST_SMTP_MAILDIR`, by default `/tmp/mbox`). When the server
//!   does not answer, [`require_smtp`] fails the test naming the command that starts it:
//!   nothing is skipped.
//! - The token of a mailed link: [`link_token`]; where a service under test sends its mail,
//!   whichever the transport ([`mailbox`]).

use mail_parser::MimeHeaders;
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Mutex,
    time::{Duration, SystemTime},
};

/// The command that starts the test SMTP server (aiosmtpd, writing a Maildir).
pub const SMTP_COMMAND: &str = "pip install aiosmtpd && mkdir -p /tmp/mbox/{tmp,new,cur} && \
     python3 -m aiosmtpd -n -l 127.0.0.1:2525 -c aiosmtpd.handlers.Mailbox /tmp/mbox &";

/// One mail, parsed.
#[derive(Clone, Debug)]
pub struct Received {
    /// The recipient's address (no display name).
    pub to: String,
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body, when the mail has one.
    pub html: Option<String>,
    /// (file name, MIME type) of each attachment.
    pub attachments: Vec<(String, String)>,
    /// The text of each attachment that is text (an `.ics`), in the same order.
    pub attachment_texts: Vec<String>,
    /// `Message-ID`, without its angle brackets.
    pub message_id: Option<String>,
    /// `List-Unsubscribe`, unfolded (`<https://…>`).
    pub list_unsubscribe: Option<String>,
    /// `List-Unsubscribe-Post`.
    pub list_unsubscribe_post: Option<String>,
    /// The raw message.
    pub raw: Vec<u8>,
}

/// A raw header value unfolded and trimmed; inside `<…>` every space goes (RFC 2369: a folded
/// address is the same address).
fn unfolded(raw: &str) -> String {
    let line: String = raw.split(['\r', '\n']).collect::<Vec<_>>().join("");
    let mut out = String::with_capacity(line.len());
    let mut inside = false;
    for c in line.trim().chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            c if inside && c.is_whitespace() => continue,
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Parses one RFC 5322 message; `None` when it is not one.
pub fn parse(raw: &[u8]) -> Option<Received> {
    let message = mail_parser::MessageParser::default().parse(raw)?;
    let to = message.to()?.first()?.address()?.to_owned();
    let has_html = message.html_body_count() > 0;
    Some(Received {
        to,
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0)?.into_owned(),
        html: has_html
            .then(|| message.body_html(0).map(|h| h.into_owned()))
            .flatten(),
        attachments: message
            .attachments()
            .map(|part| {
                let name = part.attachment_name().unwrap_or_default().to_owned();
                let kind = part
                    .content_type()
                    .map(|t| match t.subtype() {
                        Some(sub) => format!("{}/{sub}", t.ctype()),
                        None => t.ctype().to_owned(),
                    })
                    .unwrap_or_default();
                (name, kind)
            })
            .collect(),
        attachment_texts: message
            .attachments()
            .map(|part| part.text_contents().unwrap_or_default().to_owned())
            .collect(),
        message_id: message.message_id().map(str::to_owned),
        list_unsubscribe: message.header_raw("List-Unsubscribe").map(unfolded),
        list_unsubscribe_post: message.header_raw("List-Unsubscribe-Post").map(unfolded),
        raw: raw.to_vec(),
    })
}

/// Where the mail of a service started with `config` arrives: the test SMTP server's Maildir
/// when `mail.url` is an `smtp://` one, else the `.eml` directory of the default transport.
pub fn mailbox(config: &cafeia_platform::config::PlatformConfig) -> PathBuf {
    use secrecy::ExposeSecret;
    match &config.mail.url {
        Some(url) if url.expose_secret().starts_with("smtp") => smtp_maildir(),
        _ => mail_dir(&config.data_dir),
    }
}

/// Where a service started with `data_dir` writes its mail by default.
pub fn mail_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("mail")
}

/// The mail to `to` (case-insensitive) among the messages in `dir` (`.eml` files, or a
/// Maildir's `new` and `cur`), oldest first.
pub fn written_to(dir: &Path, to: &str) -> Vec<Received> {
    let mut found: Vec<(SystemTime, Received)> = Vec::new();
    let dirs = [dir.to_path_buf(), dir.join("new"), dir.join("cur")];
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if let Some((at, mail)) = addressed(&path, to) {
                found.push((at, mail));
            }
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, mail)| mail).collect()
}

/// The headers of each mail file seen so far (in lower case), and when it came. A test polls
/// the shared Maildir, which holds every test's mail (thousands of files): each file's headers
/// are read once per process, and only the files whose headers name the address asked for
/// are read and parsed again. Headers, once complete, do not change: the SMTP sink moves a
/// whole file from `tmp` to `new`, and the file transport writes a message's headers before
/// its body (a body still being written is read again on the next poll, as before).
type Seen = HashMap<PathBuf, (String, SystemTime)>;
static SEEN: std::sync::LazyLock<Mutex<Seen>> = std::sync::LazyLock::new(Mutex::default);

/// The mail in `path` when it is to `to`, with when it came.
fn addressed(path: &Path, to: &str) -> Option<(SystemTime, Received)> {
    let wanted = to.to_lowercase();
    let known = SEEN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(path)
        .map(|(head, at)| (head.contains(&wanted), *at));
    let (raw, at) = match known {
        Some((false, _)) => return None,
        Some((true, at)) => (std::fs::read(path).ok()?, at),
        None => {
            if !path.is_file() {
                return None;
            }
            let raw = std::fs::read(path).ok()?;
            // Headers end at the first blank line; a file without one is still being
            // written, and is read again next time.
            let end = raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))?;
            let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
            let at = std::fs::metadata(path)
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let named = head.contains(&wanted);
            SEEN.lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(path.to_path_buf(), (head, at));
            if !named {
                return None;
            }
            (raw, at)
        }
    };
    let mail = parse(&raw)?;
    mail.to.eq_ignore_ascii_case(to).then_some((at, mail))
}

/// Waits (10 s at most, then fails) until `dir` holds at least `count` mails to `to`;
/// returns them, oldest first.
pub async fn wait_for_mail(dir: &Path, to: &str, count: usize) -> Vec<Received> {
    for _ in 0..200 {
        let found = written_to(dir, to);
        if found.len() >= count {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let found = written_to(dir, to);
    panic!(
        "expected {count} mail(s) to {to} in {}, found {}",
        dir.display(),
        found.len()
    );
}

/// The token (`jeton`) of the first link in `text` to a path ending with `path`
/// (`/inscriptions/confirmer`).
pub fn link_token(text: &str, path: &str) -> Option<String> {
    let marker = format!("{path}?jeton=");
    let start = text.find(&marker)? + marker.len();
    let token: String = text[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    (!token.is_empty()).then_some(token)
}

/// The test SMTP server's URL.
pub fn smtp_url() -> String {
    std::env::var("CAFEIA_TEST_SMTP_URL").unwrap_or_else(|_| "smtp://127.0.0.1:2525".into())
}

/// The Maildir the test SMTP server writes to.
pub fn smtp_maildir() -> PathBuf {
    std::env::var_os("CAFEIA_TEST_SMTP_MAILDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/mbox"))
}

/// Fails the test unless the SMTP server of [`smtp_url`] accepts connections; the message
/// says how to start it.
pub async fn require_smtp() -> String {
    let url = smtp_url();
    let address = url
        .split("://")
        .nth(1)
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .to_owned();
    let reachable = tokio::time::timeout(
        Duration::from_secs(3),
        tokio::net::TcpStream::connect(address.as_str()),
    )
    .await
    .is_ok_and(|c| c.is_ok());
    assert!(
        reachable,
        "no SMTP server at {url} (CAFEIA_TEST_SMTP_URL): start one with\n  {SMTP_COMMAND}"
    );
    url
}

/// The path of the page a confirmation link opens.
pub const CONFIRM_PATH: &str = "/inscriptions/confirmer";

/// How the subject of a confirmation-link mail begins (the seat, reminder and "already
/// registered" mails that go to the same address begin otherwise).
pub const CONFIRMATION_SUBJECT: &str = "Confirmez votre inscription";

/// The `Message-ID`s of the mails to `to` in `dir` so far: what [`wait_for_new_confirmation`]
/// is not to take.
pub fn message_ids(dir: &Path, to: &str) -> std::collections::HashSet<String> {
    written_to(dir, to)
        .into_iter()
        .filter_map(|m| m.message_id)
        .collect()
}

/// Waits (10 s at most, then fails) for a confirmation-link mail to `to` in `dir` that is not
/// one of `known`; returns its token. Picked by its subject and link, not by arrival: the seat
/// mail of an earlier confirmation may arrive after it, or between it and the look.
pub async fn wait_for_new_confirmation(
    dir: &Path,
    to: &str,
    known: &std::collections::HashSet<String>,
) -> String {
    let pick = || {
        written_to(dir, to).into_iter().rev().find_map(|m| {
            let new = m.message_id.as_ref().is_none_or(|id| !known.contains(id));
            (new && m.subject.starts_with(CONFIRMATION_SUBJECT))
                .then(|| link_token(&m.text, CONFIRM_PATH))
                .flatten()
        })
    };
    for _ in 0..200 {
        if let Some(token) = pick() {
            return token;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let found = written_to(dir, to);
    panic!(
        "no new confirmation mail to {to} in {} (mails there: {:?})",
        dir.display(),
        found.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
}

/// The token of every confirmation mail in `dir`, by recipient (lower-cased; the latest mail
/// to an address wins).
pub fn confirmation_tokens(dir: &Path) -> std::collections::HashMap<String, String> {
    let mut mails: Vec<(SystemTime, Received)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let at = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            if let Some(mail) = std::fs::read(entry.path()).ok().as_deref().and_then(parse) {
                mails.push((at, mail));
            }
        }
    }
    mails.sort_by_key(|(at, _)| *at);
    mails
        .into_iter()
        .filter_map(|(_, mail)| {
            let token = link_token(&mail.text, CONFIRM_PATH)?;
            Some((mail.to.to_lowercase(), token))
        })
        .collect()
}

/// Waits (30 s at most, then fails) until `dir` holds a confirmation mail to each of
/// `recipients`; returns their tokens by recipient (lower-cased).
pub async fn wait_for_confirmations(
    dir: &Path,
    recipients: &[String],
) -> std::collections::HashMap<String, String> {
    for _ in 0..300 {
        let tokens = confirmation_tokens(dir);
        if recipients
            .iter()
            .all(|r| tokens.contains_key(&r.to_lowercase()))
        {
            return tokens;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tokens = confirmation_tokens(dir);
    let missing = recipients
        .iter()
        .filter(|r| !tokens.contains_key(&r.to_lowercase()))
        .count();
    panic!(
        "{missing} of {} confirmation mails never arrived in {}",
        recipients.len(),
        dir.display()
    );
}

/// Registers `email` to `session` without an account through the real path, on a service
/// under test started with the default mail transport: the request (202, checked), the
/// confirmation mail the service wrote, the POST of its link's token. Returns what the
/// confirmation answers.
pub async fn register_by_mail(
    h: &crate::service::ServiceHarness,
    session: &str,
    email: &str,
) -> (reqwest::StatusCode, serde_json::Value) {
    let dir = mailbox(&h.env.config);
    let before = message_ids(&dir, email);
    let (status, body) = h
        .call(
            reqwest::Method::POST,
            &format!("/v1/sessions/{session}/registrations"),
            None,
            Some(serde_json::json!({"email": email, "consent": true})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED, "{body}");
    let token = wait_for_new_confirmation(&dir, email, &before).await;
    h.call(
        reqwest::Method::POST,
        "/v1/registrations/confirm",
        None,
        Some(serde_json::json!({ "token": token })),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::{link_token, unfolded};

    #[test]
    fn a_folded_list_unsubscribe_is_read_whole() {
        assert_eq!(
            unfolded(" <https://x.org/mail/\r\n unsubscribe/ab>\r\n"),
            "<https://x.org/mail/unsubscribe/ab>"
        );
    }

    #[test]
    fn a_link_token_is_read_up_to_the_end_of_the_token() {
        let text = "Ouvrez : https://x.org/inscriptions/confirmer?jeton=ab12cd\nMerci";
        assert_eq!(
            link_token(text, "/inscriptions/confirmer").as_deref(),
            Some("ab12cd")
        );
        assert_eq!(link_token(text, "/annuler"), None);
    }
}
