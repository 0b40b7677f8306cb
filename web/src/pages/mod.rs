//! The pages, one module per part of the app; each handler runs its operations and renders
//! its template.

pub mod about;
pub mod attendance;
pub mod console;
pub mod dev_mailbox;
pub mod facilitator;
pub mod for_you;
pub mod home;
pub mod my_sessions;
pub mod open_data;
pub mod registrations;
pub mod roll;
pub mod session_form;
pub mod sessions;
pub mod signin;
pub mod trainings;
pub mod venues;

use crate::{
    Web,
    graph::{self, GraphError},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use graphql_client::GraphQLQuery;

pub fn configure(cfg: &mut web::ServiceConfig) {
    home::configure(cfg);
    for_you::configure(cfg);
    sessions::configure(cfg);
    registrations::configure(cfg);
    trainings::configure(cfg);
    signin::configure(cfg);
    about::configure(cfg);
    // A facilitator's sessions before the rest of `/animateur`.
    session_form::configure(cfg);
    my_sessions::configure(cfg);
    roll::configure(cfg);
    attendance::configure(cfg);
    facilitator::configure(cfg);
    venues::configure(cfg);
    console::configure(cfg);
    open_data::configure(cfg);
    dev_mailbox::configure(cfg);
}

/// Runs `Q` as the visitor.
pub async fn run<Q: GraphQLQuery>(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    variables: Q::Variables,
) -> Result<Q::ResponseData, Vec<GraphError>> {
    graph::run::<Q>(app.graph.as_ref(), req, visitor.bearer(), variables).await
}

#[derive(Template)]
#[template(path = "problem.html")]
pub struct ProblemPage {
    pub layout: Layout,
    pub heading: String,
    pub message: String,
}

/// A page saying what went wrong, with the status that goes with it.
pub fn problem(
    visitor: &Visitor,
    status: StatusCode,
    heading: &str,
    message: &str,
) -> HttpResponse {
    render::html(
        status,
        &ProblemPage {
            layout: Layout::new(visitor, heading, Section::Other),
            heading: heading.into(),
            message: message.into(),
        },
    )
}

/// The page for errors the API gave about the page's own data.
pub fn api_problem(visitor: &Visitor, errors: &[GraphError]) -> HttpResponse {
    let first = errors.first();
    match first.map(|e| e.code.as_str()) {
        Some("NOT_FOUND") => not_found_page(visitor),
        Some("FORBIDDEN") => problem(
            visitor,
            StatusCode::FORBIDDEN,
            "Accès refusé",
            "Vous n'avez pas le droit de voir cette page.",
        ),
        Some("UNAUTHENTICATED") => render::see_other("/connexion"),
        Some("BAD_USER_INPUT") => problem(
            visitor,
            StatusCode::BAD_REQUEST,
            "Adresse incorrecte",
            &first.map(|e| e.message.clone()).unwrap_or_default(),
        ),
        _ => problem(
            visitor,
            StatusCode::SERVICE_UNAVAILABLE,
            "Service momentanément indisponible",
            &first.map(crate::forms::general_message).unwrap_or_default(),
        ),
    }
}

pub fn not_found_page(visitor: &Visitor) -> HttpResponse {
    problem(
        visitor,
        StatusCode::NOT_FOUND,
        "Page introuvable",
        "La page que vous cherchez n'existe pas ou n'existe plus. Vérifiez l'adresse, ou \
         revenez à l'accueil pour trouver un café près de chez vous.",
    )
}

/// A link to `path` with `pairs` as its query string, the empty values left out.
pub fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    let kept: Vec<_> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    match serde_urlencoded::to_string(kept) {
        Ok(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_owned(),
    }
}

/// Unknown paths: an HTML page for browsers, the API's JSON for everyone else.
pub async fn not_found(req: HttpRequest, visitor: Visitor) -> HttpResponse {
    let wants_html = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        not_found_page(&visitor)
    } else {
        actix_web::ResponseError::error_response(&cafeia_platform::AppError::not_found(
            "aucune ressource à cette adresse",
        ))
    }
}

/// A POST whose CSRF token is not the session's: nothing done, the person asked to retry.
pub fn stale_form(visitor: &Visitor) -> HttpResponse {
    problem(
        visitor,
        StatusCode::FORBIDDEN,
        "Formulaire expiré",
        "Ce formulaire a expiré ou ne vient pas de ce site : rien n'a été enregistré. \
         Revenez à la page précédente, rechargez-la et envoyez-le à nouveau.",
    )
}
