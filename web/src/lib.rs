//! The web app citizens, facilitators and staff open: server-rendered HTML (askama) in the
//! French State design system (DSFR), over the public GraphQL API only.
//!
//! Every page is a real URL and every action a plain form (POST, redirect, errors shown next to
//! their field), so everything works with JavaScript off; scripts only enhance (live seats).
//! Data comes from typed operations ([`operations`]) checked at compile time against the
//! committed `schema/schema.graphql`, run through a [`Graph`]: in process when the gateway
//! mounts the app, over HTTP when it runs alone (`cafeia serve web`).

pub mod assets;
pub mod config;
pub mod csrf;
pub mod format;
pub mod forms;
pub mod graph;
pub mod hours;
pub mod labels;
pub mod mailbox;
pub mod oidc;
pub mod operations;
pub mod pages;
pub mod picker;
pub mod render;
pub mod session;
pub mod signin;

use actix_session::{
    SessionMiddleware, config::CookieContentSecurity, storage::CookieSessionStore,
};
use actix_web::{cookie::Key, middleware, web};
use std::sync::Arc;

pub use config::WebConfig;
pub use graph::{Graph, HttpGraph, Operation};
pub use signin::SignIn;

/// Everything the pages share: how to reach the graph, how people sign in, the settings.
#[derive(Clone)]
pub struct Web {
    pub graph: Arc<dyn Graph>,
    pub sign_in: Arc<SignIn>,
    pub config: Arc<WebConfig>,
    /// The largest file an import page reads: the API's request size limit
    /// (`http.max_body_bytes`), which the file then has to fit in.
    pub upload_limit: usize,
    /// What the embedded run « sent », shown at `/dev/courriels` ([`Web::with_dev_mailbox`]).
    pub dev_mailbox: Option<Arc<mailbox::DevMailbox>>,
    key: Key,
}

impl Web {
    /// `key` signs and encrypts the session cookie (64 bytes or more).
    pub fn new(graph: Arc<dyn Graph>, sign_in: SignIn, config: WebConfig, key: Key) -> Self {
        Self {
            graph,
            sign_in: Arc::new(sign_in),
            config: Arc::new(config),
            upload_limit: DEFAULT_UPLOAD_LIMIT,
            dev_mailbox: None,
            key,
        }
    }

    /// Files up to `bytes` on the import pages (the API's `http.max_body_bytes`).
    pub fn with_upload_limit(mut self, bytes: usize) -> Self {
        self.upload_limit = bytes;
        self
    }

    /// Shows the mail written to `mail_url` at `/dev/courriels`, only when it is a directory
    /// (`file://`) and people sign in on the development page: with a real transport or a
    /// real identity provider, this is a deployment, whose mail is nobody's to browse.
    pub fn with_dev_mailbox(mut self, mail_url: &str) -> Self {
        self.dev_mailbox = matches!(self.sign_in.as_ref(), SignIn::Development(_))
            .then(|| mailbox::DevMailbox::from_mail_url(mail_url))
            .flatten()
            .map(Arc::new);
        self
    }
}

/// The platform's default `http.max_body_bytes` (1 MiB).
pub const DEFAULT_UPLOAD_LIMIT: usize = 1024 * 1024;

/// Mounts the app: the hashed static files (no session), then every page under one session
/// middleware. Register it after the API's routes: its scope matches every other path.
pub fn configure(cfg: &mut web::ServiceConfig, app: Web) {
    let session = SessionMiddleware::builder(CookieSessionStore::default(), app.key.clone())
        .cookie_name("cafeia_session".into())
        .cookie_http_only(true)
        // Secure on localhost too: browsers treat http://localhost as a secure context.
        .cookie_secure(true)
        .cookie_same_site(actix_web::cookie::SameSite::Lax)
        // Encrypted, not only signed: the cookie carries the person's access token.
        .cookie_content_security(CookieContentSecurity::Private)
        .build();
    // Compressed (brotli or gzip, as the browser accepts): the page weight budget is for
    // what crosses a poor mobile connection, and the DSFR stylesheet is 600 KB raw, 70 KB
    // compressed.
    cfg.app_data(web::Data::new(app.clone())).service(
        web::scope("")
            .wrap(middleware::Compress::default())
            .configure(assets::configure)
            .service(
                web::scope("")
                    .wrap(session)
                    .wrap(middleware::from_fn(oidc::allow_provider_forms))
                    .configure(pages::configure)
                    .default_service(web::to(pages::not_found)),
            ),
    );
}
