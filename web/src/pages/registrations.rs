//! Registering, the page after it, cancelling by the private link, and "mes inscriptions".

use super::{
    problem, run,
    sessions::{self, RegisterForm},
    stale_form,
};
use crate::{
    Web, format,
    forms::FormErrors,
    labels,
    operations::{
        CancelByToken, ConfirmRegistration, CreatePrivateCalendar, EraseWithToken, MyRegistrations,
        Register, cancel_by_token, confirm_registration, create_private_calendar, erase_with_token,
        my_registrations, register,
    },
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // `confirmer` before `{cle}`, which would take it.
    cfg.route("/sessions/{id}/inscription", web::post().to(submit))
        .route("/inscriptions/confirmer", web::get().to(confirm_page))
        .route("/inscriptions/confirmer", web::post().to(confirm))
        .route("/inscriptions/{cle}", web::get().to(done))
        .route("/annuler", web::get().to(cancel_page))
        .route("/annuler", web::post().to(cancel))
        .route("/supprimer-mes-donnees", web::post().to(erase))
        .route("/mes-inscriptions", web::get().to(mine))
        .route("/mes-inscriptions/agenda", web::post().to(private_calendar));
}

/// What the page after registering shows, kept in the session under the form's key so a
/// reload shows it again and a double submit registers once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub session_id: Uuid,
    /// Anonymous: what the API said to do next (check the mailbox); no seat yet.
    pub pending: Option<String>,
    pub status: String,
    pub position: Option<i64>,
    pub token: Option<String>,
}

const OUTCOMES: &str = "registrations";
/// The last outcomes kept (the session cookie must stay small).
const KEPT: usize = 3;

fn outcomes(visitor: &Visitor) -> Vec<(String, Outcome)> {
    visitor
        .session
        .get(OUTCOMES)
        .ok()
        .flatten()
        .unwrap_or_default()
}

async fn submit(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
    form: web::Form<RegisterForm>,
) -> HttpResponse {
    let Ok(session_id) = Uuid::parse_str(&id) else {
        return super::not_found_page(&visitor);
    };
    let form = form.into_inner();
    if !crate::csrf::valid(&visitor.session, &form.csrf) {
        return stale_form(&visitor);
    }
    let key: String = form
        .cle
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(64)
        .collect();
    if key.len() == 64 && outcomes(&visitor).iter().any(|(k, _)| *k == key) {
        return render::see_other(&format!("/inscriptions/{key}"));
    }
    let mut errors = FormErrors::default();
    let signed_in = visitor.signed_in.is_some();
    let email = form.email.trim().to_owned();
    if !signed_in {
        if email.is_empty() {
            errors.add(
                "email",
                "Saisissez votre adresse électronique, par exemple nom@domaine.fr.",
            );
        } else if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
            errors.add(
                "email",
                "Cette adresse n'est pas valide : elle doit ressembler à nom@domaine.fr.",
            );
        }
        if form.consentement != "oui" {
            errors.add("consent", "Cochez la case pour accepter la conservation de votre adresse, ou inscrivez-vous sur place.");
        }
    }
    if !errors.is_empty() {
        return sessions::show(&app, &req, &visitor, session_id, form, errors).await;
    }
    let variables = register::Variables {
        session_id,
        email: (!signed_in).then(|| email.clone()),
        name: (!signed_in && !form.nom.trim().is_empty()).then(|| form.nom.trim().to_owned()),
        // Signed in, the box asks for mail at the account's verified address (the API keeps
        // it only then); without an account it accepts keeping the address typed.
        consent: form.consentement == "oui",
    };
    match run::<Register>(&app, &req, &visitor, variables).await {
        Ok(data) => {
            let outcome = match data.register {
                register::RegisterRegister::Registration(r) => Outcome {
                    session_id,
                    pending: None,
                    status: labels::wire(&r.status),
                    position: r.waitlist_position,
                    token: r.cancellation_token,
                },
                register::RegisterRegister::RegistrationPending(p) => Outcome {
                    session_id,
                    pending: Some(p.message),
                    status: String::new(),
                    position: None,
                    token: None,
                },
            };
            remember(&visitor, &key, outcome);
            render::see_other(&format!("/inscriptions/{key}"))
        }
        Err(e) => {
            let mut errors = FormErrors::from_api(&e);
            errors.keep_only(&["email", "name", "consent"]);
            sessions::show(&app, &req, &visitor, session_id, form, errors).await
        }
    }
}

fn remember(visitor: &Visitor, key: &str, outcome: Outcome) {
    let mut kept = outcomes(visitor);
    kept.retain(|(k, _)| k != key);
    kept.push((key.to_owned(), outcome));
    if kept.len() > KEPT {
        kept.remove(0);
    }
    let _ = visitor.session.insert(OUTCOMES, kept);
}

#[derive(Template)]
#[template(path = "registered.html")]
pub struct Registered {
    pub layout: Layout,
    pub session_id: Uuid,
    pub pending: Option<String>,
    pub confirmed: bool,
    pub position: Option<i64>,
    pub cancel_url: Option<String>,
}

async fn done(app: web::Data<Web>, visitor: Visitor, key: web::Path<String>) -> HttpResponse {
    let Some((_, outcome)) = outcomes(&visitor).into_iter().find(|(k, _)| *k == *key) else {
        return problem(
            &visitor,
            StatusCode::NOT_FOUND,
            "Inscription introuvable",
            "Cette page n'est plus disponible. Votre inscription, si elle a été faite, reste valable : \
             retrouvez-la grâce au lien reçu par courriel.",
        );
    };
    let base = app.config.public_url.clone().unwrap_or_default();
    let confirmed = outcome.status == "CONFIRMED";
    let title = match (&outcome.pending, confirmed) {
        (Some(_), _) => "Confirmez votre inscription",
        (None, true) => "Inscription confirmée",
        (None, false) => "Inscription sur liste d'attente",
    };
    render::ok(&Registered {
        layout: Layout::new(&visitor, title, Section::Cafes),
        session_id: outcome.session_id,
        pending: outcome.pending,
        confirmed,
        position: outcome.position,
        cancel_url: outcome
            .token
            .map(|t| format!("{base}{}", super::link("/annuler", &[("jeton", &t)]))),
    })
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    jeton: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Template)]
#[template(path = "cancel.html")]
pub struct CancelPage {
    pub layout: Layout,
    pub token: String,
    pub done: bool,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "erased.html")]
pub struct ErasedPage {
    pub layout: Layout,
}

/// "Supprimer mes données" from the private link of a registration made without an account:
/// the email and name are erased everywhere the registry keeps them (cancelled first if the
/// café is still to come).
async fn erase(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    if !crate::csrf::valid(&visitor.session, &form.csrf) {
        return stale_form(&visitor);
    }
    let token = form.jeton.trim().to_owned();
    match run::<EraseWithToken>(
        &app,
        &req,
        &visitor,
        erase_with_token::Variables {
            token: token.clone(),
        },
    )
    .await
    {
        Ok(_) => render::ok(&ErasedPage {
            layout: Layout::new(&visitor, "Données supprimées", Section::Cafes),
        }),
        Err(e) => {
            let message = match e.first().map(|e| e.code.as_str()) {
                Some("NOT_FOUND") | Some("BAD_USER_INPUT") => "Ce lien n'est pas valide, ou vos données sont déjà supprimées : vérifiez qu'il est complet, tel que reçu par courriel.".to_owned(),
                _ => e.first().map(crate::forms::general_message).unwrap_or_default(),
            };
            render::html(
                crate::forms::status_of(&e),
                &CancelPage {
                    layout: Layout::new(&visitor, "Annuler mon inscription", Section::Cafes),
                    token,
                    done: false,
                    error: Some(message),
                },
            )
        }
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub layout: Layout,
    pub token: String,
    pub error: Option<String>,
}

/// The link of the confirmation mail opens this page; its button confirms (a mail scanner
/// following the link confirms nothing).
async fn confirm_page(visitor: Visitor, query: web::Query<TokenForm>) -> HttpResponse {
    render::ok(&ConfirmPage {
        layout: Layout::new(&visitor, "Confirmer mon inscription", Section::Cafes),
        token: query.jeton.clone(),
        error: None,
    })
}

async fn confirm(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    if !crate::csrf::valid(&visitor.session, &form.csrf) {
        return stale_form(&visitor);
    }
    let token = form.jeton.trim().to_owned();
    // Confirming twice shows the same page: the outcome is kept under the token's digest.
    let key: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    if outcomes(&visitor).iter().any(|(k, _)| *k == key) {
        return render::see_other(&format!("/inscriptions/{key}"));
    }
    match run::<ConfirmRegistration>(
        &app,
        &req,
        &visitor,
        confirm_registration::Variables {
            token: token.clone(),
        },
    )
    .await
    {
        Ok(data) => {
            let r = data.confirm_registration;
            remember(
                &visitor,
                &key,
                Outcome {
                    session_id: r.session_id,
                    pending: None,
                    status: labels::wire(&r.status),
                    position: r.waitlist_position,
                    token: r.cancellation_token,
                },
            );
            render::see_other(&format!("/inscriptions/{key}"))
        }
        Err(e) => {
            let message = match e.first().map(|e| e.code.as_str()) {
                Some("NOT_FOUND") | Some("BAD_USER_INPUT") => {
                    "Ce lien de confirmation n'est pas valide ou a expiré. Inscrivez-vous à nouveau depuis la page du café.".to_owned()
                }
                Some("SESSION_FULL") => "Le café est complet : il n'y a plus de place ni de liste d'attente.".to_owned(),
                _ => e.first().map(crate::forms::general_message).unwrap_or_default(),
            };
            render::html(
                crate::forms::status_of(&e),
                &ConfirmPage {
                    layout: Layout::new(&visitor, "Confirmer mon inscription", Section::Cafes),
                    token,
                    error: Some(message),
                },
            )
        }
    }
}

/// The private link opens a page with a button: following a link (or a mail scanner
/// prefetching it) changes nothing.
async fn cancel_page(visitor: Visitor, query: web::Query<TokenForm>) -> HttpResponse {
    render::ok(&CancelPage {
        layout: Layout::new(&visitor, "Annuler mon inscription", Section::Cafes),
        token: query.jeton.clone(),
        done: false,
        error: None,
    })
}

async fn cancel(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<TokenForm>,
) -> HttpResponse {
    if !crate::csrf::valid(&visitor.session, &form.csrf) {
        return stale_form(&visitor);
    }
    let token = form.jeton.trim().to_owned();
    let answer = run::<CancelByToken>(
        &app,
        &req,
        &visitor,
        cancel_by_token::Variables {
            token: token.clone(),
        },
    )
    .await;
    let (done, error, status) = match answer {
        Ok(_) => (true, None, StatusCode::OK),
        Err(e) => {
            let message = match e.first().map(|e| e.code.as_str()) {
                Some("NOT_FOUND") | Some("BAD_USER_INPUT") => {
                    "Ce lien d'annulation n'est pas valide : vérifiez qu'il est complet, tel que reçu par courriel.".to_owned()
                }
                Some("REGISTRATION_NOT_ACTIVE") => "Cette inscription est déjà annulée.".to_owned(),
                Some("SESSION_STARTED") => "Le café a commencé : l'inscription ne peut plus être annulée.".to_owned(),
                _ => e.first().map(crate::forms::general_message).unwrap_or_default(),
            };
            (false, Some(message), crate::forms::status_of(&e))
        }
    };
    render::html(
        status,
        &CancelPage {
            layout: Layout::new(
                &visitor,
                if done {
                    "Inscription annulée"
                } else {
                    "Annuler mon inscription"
                },
                Section::Cafes,
            ),
            token,
            done,
            error,
        },
    )
}

pub struct Mine {
    pub url: String,
    pub title: String,
    pub when: String,
    pub place: String,
    pub status: &'static str,
    pub position: Option<i64>,
}

#[derive(Template)]
#[template(path = "mine.html")]
pub struct MinePage {
    pub layout: Layout,
    pub items: Vec<Mine>,
    pub total: i64,
    /// The private calendar feed just created: shown once, on the answer to the form.
    pub feed: Option<String>,
    /// The feed's field never has an error (it is read-only); the input macro asks for one.
    pub feed_error: Option<String>,
}

async fn mine(app: web::Data<Web>, req: HttpRequest, visitor: Visitor) -> HttpResponse {
    show_mine(&app, &req, &visitor, None).await
}

#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// Creates the private feed and shows its address on the answer itself, not after a redirect:
/// anyone holding the address reads the person's cafés, so it stays out of URLs and history.
async fn private_calendar(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    form: web::Form<CsrfOnly>,
) -> HttpResponse {
    if !crate::csrf::valid(&visitor.session, &form.csrf) {
        return stale_form(&visitor);
    }
    if visitor.signed_in.is_none() {
        return render::see_other("/connexion?retour=/mes-inscriptions");
    }
    match run::<CreatePrivateCalendar>(&app, &req, &visitor, create_private_calendar::Variables)
        .await
    {
        Ok(data) => {
            let base = app.config.public_url.clone().unwrap_or_else(|| {
                let info = req.connection_info();
                format!("{}://{}", info.scheme(), info.host())
            });
            let feed = format!(
                "{}{}",
                base.trim_end_matches('/'),
                data.create_private_calendar.path
            );
            show_mine(&app, &req, &visitor, Some(feed)).await
        }
        Err(e) => super::api_problem(&visitor, &e),
    }
}

async fn show_mine(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    feed: Option<String>,
) -> HttpResponse {
    if visitor.signed_in.is_none() {
        return render::see_other("/connexion?retour=/mes-inscriptions");
    }
    let data = match run::<MyRegistrations>(
        app,
        req,
        visitor,
        my_registrations::Variables {
            first: Some(50),
            after: None,
        },
    )
    .await
    {
        Ok(data) => data,
        Err(e) => return super::api_problem(visitor, &e),
    };
    let items = data
        .my_registrations
        .nodes
        .into_iter()
        .map(|n| Mine {
            url: format!("/sessions/{}", n.session.id),
            title: n.session.title,
            when: format::when(n.session.starts_at, &n.session.timezone),
            place: n
                .session
                .place
                .map(|p| p.name)
                .unwrap_or_else(|| "En ligne".into()),
            status: labels::registration_status(&labels::wire(&n.registration.status)),
            position: n.registration.waitlist_position,
        })
        .collect();
    render::ok(&MinePage {
        layout: Layout::new(visitor, "Mes inscriptions", Section::Mine),
        items,
        total: data.my_registrations.total_count,
        feed,
        feed_error: None,
    })
}
