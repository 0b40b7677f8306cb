//! Signing in and out. Under `cafeia up`, a development page picks a demo person; the
//! identity provider's flow takes its place in production.

use super::stale_form;
use crate::{
    Web,
    render::{self, Layout, Section},
    session::{SignedIn, Visitor},
    signin::{DEMO_PEOPLE, DEV_SESSION, SignIn},
};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/connexion", web::get().to(page))
        .route("/connexion", web::post().to(sign_in))
        .route("/deconnexion", web::post().to(sign_out));
}

#[derive(Template)]
#[template(path = "signin.html")]
pub struct Page {
    pub layout: Layout,
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
    let people = match app.sign_in.as_ref() {
        SignIn::Development(_) => DEMO_PEOPLE
            .iter()
            .map(|p| (p.key, p.label, p.description))
            .collect(),
        SignIn::Unavailable => Vec::new(),
    };
    render::ok(&Page {
        layout: Layout::new(&visitor, "Se connecter", Section::Other),
        people,
        back: safe_back(&back.retour),
    })
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
    });
    render::see_other(&safe_back(&form.retour))
}

#[derive(Deserialize)]
pub struct Csrf {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(visitor: Visitor, form: web::Form<Csrf>) -> HttpResponse {
    if !crate::csrf::valid(&visitor.session, &form.csrf) {
        return stale_form(&visitor);
    }
    visitor.sign_out();
    render::see_other("/")
}
