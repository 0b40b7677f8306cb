//! Signing in and out: through the identity provider (OpenID Connect) in production, or, under
//! `cafeia up`, on a development page that picks a demo person.

use super::{problem, stale_form};
use crate::{
    Web, graph,
    oidc::{CALLBACK_PATH, Callback, Pending, SignInError, Tokens},
    operations::{WhoAmI, who_am_i},
    render::{self, Layout, Section},
    session::{SignedIn, Visitor},
    signin::{DEMO_PEOPLE, DEV_SESSION, SignIn},
};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;

/// The session key of a sign-in under way at the provider.
const PENDING: &str = "oidc";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/connexion", web::get().to(page))
        .route("/connexion", web::post().to(sign_in))
        .route("/connexion/fournisseur", web::get().to(to_provider))
        .route(CALLBACK_PATH, web::get().to(from_provider))
        .route("/deconnexion", web::post().to(sign_out));
}

#[derive(Template)]
#[template(path = "signin.html")]
pub struct Page {
    pub layout: Layout,
    /// The identity provider's sign-in, when there is one.
    pub provider: Option<String>,
    pub people: Vec<(&'static str, &'static str, &'static str)>,
    pub back: String,
}

#[derive(Deserialize)]
pub struct Back {
    #[serde(default)]
    retour: String,
}

/// Only paths of this site: a sign-in never sends anyone elsewhere.
fn safe_back(back: &str) -> String {
    if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') {
        back.to_owned()
    } else {
        "/".to_owned()
    }
}

async fn page(app: web::Data<Web>, visitor: Visitor, back: web::Query<Back>) -> HttpResponse {
    let back = safe_back(&back.retour);
    let (provider, people) = match app.sign_in.as_ref() {
        SignIn::OpenIdConnect(_) => (
            Some(super::link("/connexion/fournisseur", &[("retour", &back)])),
            Vec::new(),
        ),
        SignIn::Development(_) => (
            None,
            DEMO_PEOPLE
                .iter()
                .map(|p| (p.key, p.label, p.description))
                .collect(),
        ),
        SignIn::Unavailable => (None, Vec::new()),
    };
    render::ok(&Page {
        layout: Layout::new(&visitor, "Se connecter", Section::Other),
        provider,
        people,
        back,
    })
}

/// Leaves for the provider. A link, not a form: the page's `form-action 'self'` would stop a
/// form's redirect to another site, and starting a sign-in changes nothing until it returns.
async fn to_provider(
    app: web::Data<Web>,
    visitor: Visitor,
    back: web::Query<Back>,
) -> HttpResponse {
    let SignIn::OpenIdConnect(provider) = app.sign_in.as_ref() else {
        return render::see_other("/connexion");
    };
    match provider.start(safe_back(&back.retour)).await {
        Ok((url, pending)) => {
            if visitor.session.insert(PENDING, pending).is_err() {
                return refused(&visitor, SignInError::Unavailable);
            }
            render::see_other(&url)
        }
        Err(e) => refused(&visitor, e),
    }
}

/// The provider's redirect back: signed in, or a page saying why not.
async fn from_provider(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    answer: web::Query<Callback>,
) -> HttpResponse {
    let SignIn::OpenIdConnect(provider) = app.sign_in.as_ref() else {
        return render::see_other("/connexion");
    };
    // Used once, whatever happens: a replayed answer finds nothing to complete.
    let pending = visitor.session.remove_as::<Pending>(PENDING);
    let Some(Ok(pending)) = pending else {
        return refused(&visitor, SignInError::BadState);
    };
    let back = pending.back.clone();
    let tokens = match provider.finish(pending, answer.into_inner()).await {
        Ok(tokens) => tokens,
        Err(e) => return refused(&visitor, e),
    };
    // The API has the last word on the token: its roles are the ones the pages go by.
    let me = graph::run::<WhoAmI>(
        app.graph.as_ref(),
        &req,
        Some(&tokens.access_token),
        who_am_i::Variables {},
    )
    .await;
    let roles = match me {
        Ok(who_am_i::ResponseData { me: Some(me) }) => me
            .roles
            .iter()
            .map(|r| crate::labels::wire(r).to_lowercase())
            .collect(),
        Ok(_) | Err(_) => {
            tracing::warn!(errors = ?me.err(), "the API does not accept the provider's access token");
            return problem(
                &visitor,
                StatusCode::FORBIDDEN,
                "Compte non reconnu",
                "Le fournisseur d'identité vous a bien connecté·e, mais ce service n'accepte pas \
                 votre compte : vous n'êtes pas connecté·e. Signalez-le à l'équipe du Café IA.",
            );
        }
    };
    let Tokens {
        access_token,
        expires_at,
        id_token,
        label,
    } = tokens;
    visitor.sign_in(SignedIn {
        token: access_token,
        label,
        roles,
        expires_at,
        id_token,
    });
    render::see_other(&back)
}

fn refused(visitor: &Visitor, why: SignInError) -> HttpResponse {
    problem(visitor, why.status(), why.heading(), why.message())
}

#[derive(Deserialize)]
pub struct Choice {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    personne: String,
    #[serde(default)]
    retour: String,
}

async fn sign_in(app: web::Data<Web>, visitor: Visitor, form: web::Form<Choice>) -> HttpResponse {
    if !crate::csrf::valid(&visitor.session, &form.csrf) {
        return stale_form(&visitor);
    }
    let Some(person) = DEMO_PEOPLE.iter().find(|p| p.key == form.personne) else {
        return render::see_other("/connexion");
    };
    let Some(token) = app.sign_in.demo_token(person) else {
        return render::see_other("/connexion");
    };
    visitor.sign_in(SignedIn {
        token,
        label: person.label.to_owned(),
        roles: person.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        expires_at: chrono::Utc::now().timestamp() + DEV_SESSION.as_secs() as i64 - 60,
        id_token: None,
    });
    render::see_other(&safe_back(&form.retour))
}

#[derive(Deserialize)]
pub struct Csrf {
    #[serde(default)]
    csrf: String,
}

/// Signs out here, then at the provider when it offers RP-initiated logout (it sends the
/// person back to the home page).
async fn sign_out(app: web::Data<Web>, visitor: Visitor, form: web::Form<Csrf>) -> HttpResponse {
    if !crate::csrf::valid(&visitor.session, &form.csrf) {
        return stale_form(&visitor);
    }
    let signed_in = visitor.signed_in.clone();
    visitor.sign_out();
    if let (SignIn::OpenIdConnect(provider), Some(who)) = (app.sign_in.as_ref(), signed_in)
        && let Some(url) = provider.sign_out_url(who.id_token.as_deref()).await
    {
        return render::see_other(&url);
    }
    render::see_other("/")
}
