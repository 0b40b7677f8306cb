//! The development mailbox: under `cafeia up` mail is not sent but written to `.eml` files
//! (`mail.url = file://<dir>`, the default); the page `/dev/courriels` reads them back so that
//! a confirmation link can be followed without a mail server. Only with the development
//! sign-in: a production deployment sends real mail and never shows this.

use chrono::{DateTime, Utc};
use std::{
    path::{Path, PathBuf},
    str::FromStr,
    time::SystemTime,
};

/// The newest mails listed: the directory only grows during a run, and each listed one is
/// parsed.
pub const LISTED: usize = 200;

/// The `.eml` directory of a `file://` mail transport.
#[derive(Clone, Debug)]
pub struct DevMailbox {
    dir: PathBuf,
}

/// A mail's name in the mailbox: its file's stem (lettre names them after a UUID). Anything
/// else is refused, so that a path from the address bar never leaves the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailId(String);

impl FromStr for MailId {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let fits = !s.is_empty()
            && s.len() <= 64
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        fits.then(|| Self(s.to_owned())).ok_or(())
    }
}

impl std::fmt::Display for MailId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One mail as the list shows it.
#[derive(Clone, Debug)]
pub struct Summary {
    pub id: MailId,
    pub to: String,
    pub subject: String,
    /// The `Date` header; the file's time when the header is missing.
    pub date: DateTime<Utc>,
}

/// One mail opened: its text part cut into lines of text and links.
#[derive(Clone, Debug)]
pub struct Opened {
    pub summary: Summary,
    pub lines: Vec<Vec<Piece>>,
    /// The names of the attached files.
    pub attachments: Vec<String>,
}

/// A run of a text line: words, or an address the reader can follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Link(String),
}

impl DevMailbox {
    /// The mailbox behind `mail_url` when it names a directory (`file://<dir>`); none for a
    /// real transport.
    pub fn from_mail_url(mail_url: &str) -> Option<Self> {
        let dir = mail_url.strip_prefix("file://")?;
        (!dir.is_empty()).then(|| Self { dir: dir.into() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The newest [`LISTED`] mails, newest first.
    pub fn list(&self) -> Vec<Summary> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut files: Vec<(SystemTime, MailId)> = entries
            .flatten()
            .filter_map(|entry| {
                let path = entry.path();
                if path.extension()? != "eml" {
                    return None;
                }
                let id = path.file_stem()?.to_str()?.parse().ok()?;
                let at = entry.metadata().and_then(|m| m.modified()).ok()?;
                Some((at, id))
            })
            .collect();
        // By the files' times, finer than the `Date` header's seconds.
        files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.0.cmp(&b.1.0)));
        files
            .into_iter()
            .take(LISTED)
            .filter_map(|(_, id)| self.open(&id).map(|m| m.summary))
            .collect()
    }

    /// The mail `id`, when there is one and it parses.
    pub fn open(&self, id: &MailId) -> Option<Opened> {
        let path = self.dir.join(format!("{id}.eml"));
        let raw = std::fs::read(&path).ok()?;
        let written = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        parse(id.clone(), &raw, written)
    }
}

fn parse(id: MailId, raw: &[u8], written: Option<SystemTime>) -> Option<Opened> {
    use mail_parser::MimeHeaders;
    let message = mail_parser::MessageParser::default().parse(raw)?;
    let to = message
        .to()
        .and_then(|to| to.first())
        .and_then(|addr| addr.address())
        .unwrap_or_default()
        .to_owned();
    let date = message
        .date()
        .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0))
        .or_else(|| written.map(DateTime::<Utc>::from))
        .unwrap_or_default();
    let text = message.body_text(0).unwrap_or_default();
    Some(Opened {
        summary: Summary {
            id,
            to,
            subject: message.subject().unwrap_or_default().to_owned(),
            date,
        },
        lines: text.lines().map(pieces).collect(),
        attachments: message
            .attachments()
            .map(|part| part.attachment_name().unwrap_or_default().to_owned())
            .collect(),
    })
}

/// `line` cut at its `http://` and `https://` addresses. An address ends at a space or at
/// what mail text puts around one (`<…>`, quotes); a final full stop, comma or bracket is the
/// sentence's, not the address's.
pub fn pieces(line: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = next_address(rest) {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '«' | '»'))
            .unwrap_or(tail.len());
        let address = tail[..end].trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
        if start > 0 {
            out.push(Piece::Text(rest[..start].to_owned()));
        }
        out.push(Piece::Link(address.to_owned()));
        rest = &tail[address.len()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_owned()));
    }
    out
}

fn next_address(text: &str) -> Option<usize> {
    let found = ["https://", "http://"]
        .iter()
        .filter_map(|scheme| text.find(scheme))
        .min()?;
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_links_without_the_sentence_around_them() {
        assert_eq!(
            pieces("Confirmez : https://x.fr/confirmer?jeton=ab12."),
            [
                Piece::Text("Confirmez : ".into()),
                Piece::Link("https://x.fr/confirmer?jeton=ab12".into()),
                Piece::Text(".".into()),
            ]
        );
        assert_eq!(
            pieces("<http://127.0.0.1:8080/a> et (http://b.fr/c)"),
            [
                Piece::Text("<".into()),
                Piece::Link("http://127.0.0.1:8080/a".into()),
                Piece::Text("> et (".into()),
                Piece::Link("http://b.fr/c".into()),
                Piece::Text(")".into()),
            ]
        );
        assert_eq!(pieces("rien ici"), [Piece::Text("rien ici".into())]);
        assert_eq!(pieces(""), []);
    }

    #[test]
    fn only_a_file_transport_has_a_mailbox_and_names_stay_inside_it() {
        assert!(DevMailbox::from_mail_url("smtp://127.0.0.1:2525").is_none());
        assert!(DevMailbox::from_mail_url("file://").is_none());
        let mailbox = DevMailbox::from_mail_url("file:///tmp/x/mail").expect("file");
        assert_eq!(mailbox.dir(), Path::new("/tmp/x/mail"));
        assert!("0190a1b2-c3d4-7e5f".parse::<MailId>().is_ok());
        for bad in ["", "../secret", "a/b", "a.eml", &"a".repeat(65)] {
            assert!(bad.parse::<MailId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_written_mail_is_listed_newest_first_and_read_back() {
        let dir = std::env::temp_dir().join(format!("cafeia-mailbox-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("dir");
        let mail = |to: &str, subject: &str| {
            format!(
                "From: Café IA <ne-pas-repondre@cafe-ia.localhost>\r\nTo: {to}\r\n\
                 Subject: =?utf-8?q?{subject}?=\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\
                 Content-Transfer-Encoding: quoted-printable\r\n\r\n\
                 Bonjour,=0D=0Aconfirmez : http://127.0.0.1/c?jeton=3Dab.\r\n"
            )
        };
        std::fs::write(dir.join("aaa-1.eml"), mail("lea@example.fr", "Caf=C3=A9_1")).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.join("bbb-2.eml"), mail("noe@example.fr", "Caf=C3=A9_2")).unwrap();
        std::fs::write(dir.join("notes.txt"), "pas un courriel").unwrap();
        let mailbox = DevMailbox::from_mail_url(&format!("file://{}", dir.display())).unwrap();

        let listed = mailbox.list();
        let subjects: Vec<_> = listed.iter().map(|m| m.subject.as_str()).collect();
        assert_eq!(subjects, ["Café 2", "Café 1"]);
        assert_eq!(listed[1].to, "lea@example.fr");
        assert_eq!(listed[1].date.to_rfc3339(), "2026-12-03T10:00:00+00:00");

        let opened = mailbox.open(&"aaa-1".parse().unwrap()).expect("opened");
        assert_eq!(opened.lines.len(), 2);
        assert_eq!(
            opened.lines[1],
            [
                Piece::Text("confirmez : ".into()),
                Piece::Link("http://127.0.0.1/c?jeton=ab".into()),
                Piece::Text(".".into()),
            ]
        );
        assert!(mailbox.open(&"absent".parse().unwrap()).is_none());
        std::fs::remove_dir_all(&dir).ok();
    }
}
