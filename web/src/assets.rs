//! Static files embedded in the binary, served under a prefix that hashes them all
//! (`/static/<hash>/…`): a new build is a new URL, so browsers may keep every file forever.

use actix_web::{HttpResponse, http::header, web};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "*.md"]
#[exclude = "*/LICENSE*"]
// axe-core is for the browser tests, which read it from the repository.
#[exclude = "vendor/axe/*"]
struct Files;

/// The hash of every embedded file's name and content: the prefix of their URLs.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut names: Vec<_> = Files::iter().collect();
    names.sort();
    let mut hash = Sha256::new();
    for name in names {
        hash.update(name.as_bytes());
        if let Some(file) = Files::get(&name) {
            hash.update(file.metadata.sha256_hash());
        }
    }
    hash.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
});

/// The URL of an embedded file (`vendor/dsfr/dsfr.css`).
pub fn url(path: &str) -> String {
    format!("/static/{}/{path}", *VERSION)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{version}/{path:.*}", web::get().to(serve));
}

async fn serve(path: web::Path<(String, String)>) -> HttpResponse {
    let (version, path) = path.into_inner();
    let Some(file) = Files::get(&path) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("fichier introuvable");
    };
    let mime = mime_of(&path);
    // An old page may ask for an old version: serve today's file, but let it be revalidated.
    let cache = if version == *VERSION {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(file.data.into_owned())
}

fn mime_of(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "woff2" => "font/woff2",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "webmanifest" => "application/json",
        _ => "application/octet-stream",
    }
}
