//! Reading an import form (`multipart/form-data`) as it streams in: its short fields, and the
//! file up to a limit. A file over the limit is not kept — the rest of the request is read
//! and dropped, so the browser gets the page saying so rather than a cut connection; past
//! [`DRAIN`] times the limit, reading stops (the connection then closes).
//!
//! multer parses; it wants a `Send` stream and actix's payload is not one, so the payload is
//! fed to the parser through a small channel, both driven by this request's task.

use actix_web::{HttpRequest, http::header, web};
use futures::{SinkExt, StreamExt, channel::mpsc};
use std::collections::HashMap;

/// The form's short fields (the CSRF token, the format) at most this long each.
const SHORT_FIELD: u64 = 1024;

/// How many times the limit is read and dropped before giving up on a file too large.
pub const DRAIN: usize = 16;

/// What was sent.
#[derive(Debug, Default)]
pub struct Upload {
    /// The short fields, by name.
    pub fields: HashMap<String, String>,
    /// The file's name as the browser gave it (empty when no file was chosen).
    pub file_name: String,
    pub file: File,
}

/// The file field's content.
#[derive(Debug, Default, PartialEq, Eq)]
pub enum File {
    /// No file field, or an empty one (no file chosen).
    #[default]
    Missing,
    /// The whole file.
    Read(Vec<u8>),
    /// Larger than the limit: nothing of it kept.
    TooLarge,
}

impl Upload {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

/// Why the form could not be read at all.
#[derive(Debug)]
pub struct Unreadable(pub String);

/// Reads the form: short fields `short`, the file from field `file` up to `limit` bytes.
pub async fn read(
    req: &HttpRequest,
    mut payload: web::Payload,
    short: &[&str],
    file: &str,
    limit: usize,
) -> Result<Upload, Unreadable> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| Unreadable(format!("formulaire illisible : {e}")))?;
    let mut sizes = multer::SizeLimit::new();
    for name in short {
        sizes = sizes.for_field(*name, SHORT_FIELD);
    }
    let mut allowed: Vec<&str> = short.to_vec();
    allowed.push(file);
    let constraints = multer::Constraints::new()
        .allowed_fields(allowed)
        .size_limit(sizes);

    let (mut tx, rx) = mpsc::channel::<Result<web::Bytes, std::io::Error>>(4);
    let feed = async move {
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| std::io::Error::other(e.to_string()));
            if tx.send(chunk).await.is_err() {
                break;
            }
        }
    };
    let parse = async move {
        let mut form = multer::Multipart::with_constraints(rx, boundary, constraints);
        let mut upload = Upload::default();
        while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == file {
                upload.file_name = field.file_name().unwrap_or_default().to_owned();
                let mut kept = Vec::new();
                let (mut seen, mut too_large) = (0usize, false);
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    seen = seen.saturating_add(chunk.len());
                    if seen > limit.saturating_mul(DRAIN) {
                        upload.file = File::TooLarge;
                        return Ok(upload);
                    }
                    if too_large || seen > limit {
                        too_large = true;
                        kept = Vec::new();
                    } else {
                        kept.extend_from_slice(&chunk);
                    }
                }
                upload.file = match (too_large, kept.is_empty()) {
                    (true, _) => File::TooLarge,
                    (false, true) => File::Missing,
                    (false, false) => File::Read(kept),
                };
            } else {
                let text = field.text().await.map_err(unreadable)?;
                upload.fields.insert(name, text);
            }
        }
        Ok::<_, Unreadable>(upload)
    };
    let ((), upload) = futures::join!(feed, parse);
    upload
}

fn unreadable(e: multer::Error) -> Unreadable {
    Unreadable(format!("formulaire illisible : {e}"))
}

/// `1048576` as « 1 Mo », `3145728` as « 3 Mo », `512000` as « 500 ko »: the limit as
/// people read it.
pub fn size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} Mo", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} Mo", bytes as f64 / MIB as f64).replace('.', ",")
    } else {
        format!("{} ko", bytes.div_ceil(KIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_people_say_them() {
        assert_eq!(size(1024 * 1024), "1 Mo");
        assert_eq!(size(3 * 1024 * 1024 / 2), "1,5 Mo");
        assert_eq!(size(500 * 1024), "500 ko");
    }
}
