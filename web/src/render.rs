//! Turning a page into a response: the layout every page shares and the headers that go
//! with HTML (no caching of personal pages, a strict content security policy).

use crate::{assets, session::Visitor};
use actix_web::{HttpResponse, http::StatusCode, http::header};
use askama::Template;

/// What the layout (header, navigation, footer) needs on every page.
pub struct Layout {
    /// The page's own title; the layout adds the service name.
    pub title: String,
    /// The signed-in person's label, if any.
    pub person: Option<String>,
    pub facilitator: bool,
    pub staff: bool,
    pub csrf: String,
    /// Which navigation entry is the current page.
    pub section: Section,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Cafes,
    ForYou,
    Trainings,
    Facilitators,
    Mine,
    /// The staff console (`/pilotage`).
    Console,
    Other,
}

impl Layout {
    pub fn new(visitor: &Visitor, title: impl Into<String>, section: Section) -> Self {
        Self {
            title: title.into(),
            person: visitor.signed_in.as_ref().map(|s| s.label.clone()),
            facilitator: visitor.is("facilitator"),
            staff: visitor.is("staff"),
            csrf: visitor.csrf(),
            section,
        }
    }

    pub fn asset(&self, path: &str) -> String {
        assets::url(path)
    }

    /// `aria-current="page"` for the current navigation entry.
    pub fn current(&self, section: Section) -> &'static str {
        if section == self.section {
            "page"
        } else {
            "false"
        }
    }
}

/// The pages' content security policy: nothing from elsewhere; forms may lead to this site
/// and to `form_targets` (the identity provider's origin when sign-out goes through it).
pub fn content_security_policy(form_targets: &str) -> String {
    format!(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         connect-src 'self'; font-src 'self'; frame-ancestors 'none'; \
         form-action 'self'{}{form_targets}; base-uri 'none'",
        if form_targets.is_empty() { "" } else { " " }
    )
}

/// Renders `page` with `status`.
pub fn html<T: Template>(status: StatusCode, page: &T) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            // Pages can show personal data (a roll, my registrations): never kept by a cache.
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::CONTENT_SECURITY_POLICY, content_security_policy("")))
            .insert_header(("x-content-type-options", "nosniff"))
            .insert_header(("referrer-policy", "same-origin"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "page failed to render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("La page n'a pas pu être affichée.")
        }
    }
}

pub fn ok<T: Template>(page: &T) -> HttpResponse {
    html(StatusCode::OK, page)
}

/// After a form: back to a page with GET (post/redirect/get).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
