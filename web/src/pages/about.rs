//! The pages every State site has: accessibility statement, personal data (and erasing them).

use super::{run, stale_form};
use crate::{
    Web,
    operations::{EraseMine, erase_mine},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/accessibilite", web::get().to(accessibility))
        .route("/donnees-personnelles", web::get().to(privacy))
        .route("/donnees-personnelles/supprimer", web::post().to(erase));
}

#[derive(Template)]
#[template(path = "accessibility.html")]
pub struct Accessibility {
    pub layout: Layout,
}

async fn accessibility(visitor: Visitor) -> HttpResponse {
    render::ok(&Accessibility {
        layout: Layout::new(&visitor, "Déclaration d'accessibilité", Section::Other),
    })
}

#[derive(Template)]
#[template(path = "privacy.html")]
pub struct Privacy {
    pub layout: Layout,
    pub signed_in: bool,
    pub erased: bool,
}

async fn privacy(visitor: Visitor) -> HttpResponse {
    render::ok(&Privacy {
        layout: Layout::new(&visitor, "Données personnelles", Section::Other),
        signed_in: visitor.signed_in.is_some(),
        erased: false,
    })
}

#[derive(Deserialize)]
pub struct Csrf {
    #[serde(default)]
    csrf: String,
}

async fn erase(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<Csrf>,
) -> HttpResponse {
    if !crate::csrf::valid(&visitor.session, &form.csrf) {
        return stale_form(&visitor);
    }
    if visitor.signed_in.is_none() {
        return render::see_other("/connexion?retour=/donnees-personnelles");
    }
    if let Err(e) = run::<EraseMine>(&app, &req, &visitor, erase_mine::Variables {}).await {
        return super::api_problem(&visitor, &e);
    }
    render::ok(&Privacy {
        layout: Layout::new(&visitor, "Données supprimées", Section::Other),
        signed_in: true,
        erased: true,
    })
}
