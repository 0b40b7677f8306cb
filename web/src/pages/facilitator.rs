//! A facilitator's own space: becoming one (profile, areas served, the structure with its
//! SIRET or RNA) and where they stand with staff (pending, verified, suspended — and what to
//! do next), with the way to their venues and sessions.

use super::{api_problem, problem, run, stale_form};
use crate::{
    Web, format,
    forms::{Choice, FormErrors, Submitted},
    graph::GraphError,
    labels,
    operations::{
        CreateOrganisation, FacilitatorOrganisation, MyFacilitator, OrganisationsIn,
        RegisterAsFacilitator, UpdateMyFacilitatorProfile, create_organisation,
        facilitator_organisation, my_facilitator, organisations_in, register_as_facilitator,
        update_my_facilitator_profile,
    },
    picker::{self, Picked},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use chrono::NaiveDate;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/animateur", web::get().to(space))
        .route("/animateur/inscription", web::get().to(signup_page))
        .route("/animateur/inscription", web::post().to(signup));
}

/// The answer for someone who may not use a facilitator's page: sign in first, or a page
/// saying whom it is for. The API checks every call again; this spares a page of refusals.
pub fn refuse(visitor: &Visitor, back: &str) -> Option<HttpResponse> {
    if visitor.signed_in.is_none() {
        return Some(render::see_other(&super::link(
            "/connexion",
            &[("retour", back)],
        )));
    }
    if !visitor.is("facilitator") {
        return Some(problem(
            visitor,
            StatusCode::FORBIDDEN,
            "Espace réservé aux animateurs et animatrices",
            "Cet espace sert à animer des Cafés IA. Votre compte n'a pas le rôle d'animateur : \
             pour trouver un café et vous y inscrire, revenez à l'accueil.",
        ));
    }
    None
}

/// The signed-in person's facilitator profile; `None` until they register.
pub async fn my_profile(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
) -> Result<Option<my_facilitator::MyFacilitatorMyFacilitatorProfile>, Vec<GraphError>> {
    run::<MyFacilitator>(app, req, visitor, my_facilitator::Variables {})
        .await
        .map(|d| d.my_facilitator_profile)
}

/// Where a facilitator stands with staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Pending,
    Verified,
    Suspended,
}

pub struct Profile {
    pub name: String,
    pub email: String,
    pub kind: String,
    pub standing: Standing,
    pub reason: Option<String>,
    pub organisation: Option<String>,
    pub areas: Vec<String>,
    pub topics: Vec<String>,
    pub languages: Vec<String>,
    pub training: Option<String>,
    pub since: String,
}

#[derive(Template)]
#[template(path = "facilitator_space.html")]
pub struct SpacePage {
    pub layout: Layout,
    pub profile: Option<Profile>,
}

async fn space(app: web::Data<Web>, req: HttpRequest, visitor: Visitor) -> HttpResponse {
    if let Some(refused) = refuse(&visitor, "/animateur") {
        return refused;
    }
    let me = match my_profile(&app, &req, &visitor).await {
        Ok(me) => me,
        Err(e) => return api_problem(&visitor, &e),
    };
    let profile = match me {
        None => None,
        Some(p) => Some(profile(&app, &req, &visitor, p).await),
    };
    render::ok(&SpacePage {
        layout: Layout::new(&visitor, "Mon espace animateur", Section::Facilitators),
        profile,
    })
}

async fn profile(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    p: my_facilitator::MyFacilitatorMyFacilitatorProfile,
) -> Profile {
    use my_facilitator::FacilitatorStatus;
    let organisation = match p.organisation_id {
        Some(id) => run::<FacilitatorOrganisation>(
            app,
            req,
            visitor,
            facilitator_organisation::Variables { id },
        )
        .await
        .ok()
        .and_then(|d| d.organisation)
        .map(|o| format!("{} ({})", o.name, o.commune)),
        None => None,
    };
    Profile {
        name: p.display_name,
        email: p.email.unwrap_or_default(),
        kind: labels::among(&labels::FACILITATOR_KINDS, &labels::wire(&p.kind)),
        standing: match p.status {
            FacilitatorStatus::VERIFIED => Standing::Verified,
            FacilitatorStatus::SUSPENDED => Standing::Suspended,
            _ => Standing::Pending,
        },
        reason: p.status_reason.filter(|r| !r.trim().is_empty()),
        organisation,
        areas: area_labels(app, req, visitor, &p.territories).await,
        topics: p
            .topics
            .iter()
            .map(|t| labels::among(&labels::TOPICS, t))
            .collect(),
        languages: p
            .languages
            .iter()
            .map(|l| labels::among(&labels::LANGUAGES, l))
            .collect(),
        training: p.training_completed_on.map(|d| format::day(&d)),
        since: format::day(&format::local(p.created_at, "Europe/Paris")),
    }
}

/// The most areas named one by one; beyond, a count (a profile may serve 200).
const NAMED_AREAS: usize = 12;

/// The served areas' names (communes by their code, départements through their communes).
async fn area_labels(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    codes: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    for code in codes.iter().take(NAMED_AREAS) {
        out.push(area_label(app, req, visitor, code).await);
    }
    if codes.len() > NAMED_AREAS {
        out.push(format!("et {} autres", codes.len() - NAMED_AREAS));
    }
    out
}

async fn area_label(app: &Web, req: &HttpRequest, visitor: &Visitor, code: &str) -> String {
    if picker::looks_like_departement(code) {
        return picker::departement_named(app, req, visitor, code).await;
    }
    match picker::commune(app, req, visitor, code).await {
        Ok(Some(c)) => c.label(),
        _ => code.to_owned(),
    }
}

/// The registration form as the person filled it in (every value kept as typed).
#[derive(Debug, Default, Clone)]
pub struct SignupForm {
    pub nom: String,
    pub email: String,
    pub kind: String,
    pub formation: String,
    pub themes: Vec<String>,
    pub langues: Vec<String>,
    /// The areas chosen so far: INSEE code and the words shown for it.
    pub zones: Vec<(String, String)>,
    /// An area being added: a name, a postcode or a département's code.
    pub zone: String,
    pub zone_choice: String,
    pub structure_nom: String,
    pub structure_type: String,
    pub siret: String,
    pub rna: String,
    pub structure_adresse: String,
    pub structure_commune: String,
    pub structure_insee: String,
}

/// A chosen area travels as `code|label` (the label only spares asking for its name again).
fn zone_value(code: &str, label: &str) -> String {
    format!("{code}|{label}")
}

fn zone_of(value: &str) -> Option<(String, String)> {
    let (code, label) = value.split_once('|')?;
    let code = code.trim();
    (!code.is_empty()).then(|| (code.to_owned(), label.trim().to_owned()))
}

impl SignupForm {
    fn read(sent: &Submitted) -> Self {
        let mut zones: Vec<(String, String)> = Vec::new();
        for (code, label) in sent.all("zones").iter().filter_map(|v| zone_of(v)) {
            if !zones.iter().any(|(c, _)| *c == code) {
                zones.push((code, label));
            }
        }
        Self {
            nom: sent.one("nom"),
            email: sent.one("email"),
            kind: sent.one("type"),
            formation: sent.one("formation"),
            themes: sent.all("themes"),
            langues: sent.all("langues"),
            zones,
            zone: sent.one("zone"),
            zone_choice: sent.one("zone_choix"),
            structure_nom: sent.one("structure_nom"),
            structure_type: sent.one("structure_type"),
            siret: sent.one("siret"),
            rna: sent.one("rna"),
            structure_adresse: sent.one("structure_adresse"),
            structure_commune: sent.one("structure_commune"),
            structure_insee: sent.one("structure_insee"),
        }
    }

    /// Whether a structure is given: any of its fields filled in.
    fn has_structure(&self) -> bool {
        [
            &self.structure_nom,
            &self.siret,
            &self.rna,
            &self.structure_adresse,
            &self.structure_commune,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }

    fn add_zone(&mut self, code: String, label: String) {
        if !self.zones.iter().any(|(c, _)| *c == code) {
            self.zones.push((code, label));
        }
    }
}

#[derive(Template)]
#[template(path = "facilitator_signup.html")]
pub struct SignupPage {
    pub layout: Layout,
    pub form: SignupForm,
    pub errors: FormErrors,
    pub kinds: Vec<Choice>,
    pub organisation_kinds: Vec<Choice>,
    pub topics: Vec<Choice>,
    pub languages: Vec<Choice>,
    /// The areas chosen so far, as checked checkboxes (unchecking one removes it).
    pub zones: Vec<Choice>,
    /// Homonyms of the area being added, as radios.
    pub zone_choices: Vec<Choice>,
    /// Homonyms of the structure's commune, as radios.
    pub structure_choices: Vec<Choice>,
    /// The profile is recorded already (the structure was refused, or is still to give).
    pub saved: bool,
}

impl SignupPage {
    fn new(
        visitor: &Visitor,
        form: SignupForm,
        errors: FormErrors,
        zone_choices: Vec<Choice>,
        structure_choices: Vec<Choice>,
        saved: bool,
    ) -> Self {
        let f = &form;
        Self {
            layout: Layout::new(visitor, "Devenir animateur·rice", Section::Facilitators),
            kinds: Choice::list(labels::FACILITATOR_KINDS, std::slice::from_ref(&f.kind)),
            organisation_kinds: Choice::list(
                labels::ORGANISATION_KINDS,
                std::slice::from_ref(&f.structure_type),
            ),
            topics: Choice::list(labels::TOPICS, &f.themes),
            languages: Choice::list(labels::LANGUAGES, &f.langues),
            zones: f
                .zones
                .iter()
                .map(|(code, label)| Choice {
                    value: zone_value(code, label),
                    label: label.clone(),
                    selected: true,
                })
                .collect(),
            zone_choices,
            structure_choices,
            saved,
            errors,
            form,
        }
    }
}

/// The form: empty for a newcomer; for someone registered already without a structure, their
/// profile with the structure still to give; for everyone else, their space.
async fn signup_page(app: web::Data<Web>, req: HttpRequest, visitor: Visitor) -> HttpResponse {
    if let Some(refused) = refuse(&visitor, "/animateur/inscription") {
        return refused;
    }
    let me = match my_profile(&app, &req, &visitor).await {
        Ok(me) => me,
        Err(e) => return api_problem(&visitor, &e),
    };
    let (form, saved) = match me {
        None => (
            SignupForm {
                langues: vec!["fr".into()],
                ..Default::default()
            },
            false,
        ),
        Some(p) if p.organisation_id.is_none() => {
            let mut zones = Vec::new();
            for code in &p.territories {
                zones.push((code.clone(), area_label(&app, &req, &visitor, code).await));
            }
            (
                SignupForm {
                    nom: p.display_name,
                    email: p.email.unwrap_or_default(),
                    kind: labels::wire(&p.kind),
                    formation: p
                        .training_completed_on
                        .map(|d| d.format("%Y-%m-%d").to_string())
                        .unwrap_or_default(),
                    themes: p.topics,
                    langues: p.languages,
                    zones,
                    ..Default::default()
                },
                true,
            )
        }
        Some(_) => return render::see_other("/animateur"),
    };
    render::ok(&SignupPage::new(
        &visitor,
        form,
        FormErrors::default(),
        Vec::new(),
        Vec::new(),
        saved,
    ))
}

/// The API's names for the profile's fields, and the form's.
const PROFILE_FIELDS: [(&str, &str); 7] = [
    ("displayName", "nom"),
    ("languages", "langues"),
    ("email", "email"),
    ("kind", "type"),
    ("trainingCompletedOn", "formation"),
    ("territories", "zone"),
    ("topics", "themes"),
];

/// The API's names for the structure's fields, and the form's.
const ORGANISATION_FIELDS: [(&str, &str); 6] = [
    ("name", "structure_nom"),
    ("kind", "structure_type"),
    ("siret", "siret"),
    ("rna", "rna"),
    ("address", "structure_adresse"),
    ("insee", "structure_commune"),
];

/// Registers the person (or, on a second try after a refused structure, updates the profile
/// recorded then), creates the structure, and links them. The API registers before it
/// accepts a structure from a facilitator, so a refused structure leaves the profile
/// recorded: the form comes back with everything typed and says so.
async fn signup(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(refused) = refuse(&visitor, "/animateur/inscription") {
        return refused;
    }
    let sent = Submitted::parse(&body);
    if !crate::csrf::valid(&visitor.session, &sent.one("csrf")) {
        return stale_form(&visitor);
    }
    let mut form = SignupForm::read(&sent);
    let mut errors = FormErrors::default();
    let (mut zone_choices, mut structure_choices) = (Vec::new(), Vec::new());
    let adding = sent.one("action") == "zone";

    // The area being added: a homonym chosen, a département's code, or a name to look up.
    if let Some((code, label)) = zone_of(&form.zone_choice) {
        form.add_zone(code, label);
        form.zone.clear();
    } else if picker::looks_like_departement(&form.zone) {
        let code = form.zone.trim().to_uppercase();
        let label = picker::departement_named(&app, &req, &visitor, &code).await;
        form.add_zone(code, label);
        form.zone.clear();
    } else if !form.zone.trim().is_empty() {
        match picker::pick(&app, &req, &visitor, &form.zone).await {
            Ok(Picked::One(c)) => {
                form.add_zone(c.insee.clone(), c.label());
                form.zone.clear();
            }
            Ok(Picked::Several(found)) => {
                zone_choices = area_choices(&found);
                errors.add(
                    "zone",
                    "Plusieurs communes correspondent : choisissez la vôtre ci-dessous, ou tout son département.",
                );
            }
            Ok(Picked::Unknown) => errors.add(
                "zone",
                "Aucune commune ne porte ce nom. Vérifiez l'orthographe, ou saisissez le code postal ou le numéro du département.",
            ),
            Err(e) => errors
                .general
                .extend(e.iter().map(crate::forms::general_message)),
        }
    }
    // "Ajouter cette zone" adds and shows the form again. With nothing to add it is the
    // form's first button, which Enter presses in any field: then it sends the form.
    let to_add = !sent.one("zone").trim().is_empty() || !sent.one("zone_choix").is_empty();
    if adding && to_add {
        let status = errors.status();
        return render::html(
            status,
            &SignupPage::new(
                &visitor,
                form,
                errors,
                zone_choices,
                structure_choices,
                false,
            ),
        );
    }

    // What the API cannot be sent as typed: a kind not in the list, a date not a date.
    let kind = match labels::FACILITATOR_KINDS
        .iter()
        .find(|(c, _)| *c == form.kind)
    {
        Some((code, _)) => Some(enum_named::<register_as_facilitator::FacilitatorKind>(code)),
        None => {
            errors.add(
                "type",
                "Choisissez ce qui vous décrit le mieux dans la liste.",
            );
            None
        }
    };
    let trained = match form.formation.trim() {
        "" => None,
        text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(day) => Some(day),
            Err(_) => {
                errors.add(
                    "formation",
                    "Saisissez une date au format jj/mm/aaaa, par exemple 14/03/2026.",
                );
                None
            }
        },
    };
    if form.zones.is_empty() && errors.field("zone").is_none() {
        errors.add(
            "zone",
            "Ajoutez au moins une commune ou un département où vous animez.",
        );
    }
    let mut structure = None;
    if form.has_structure() {
        if !labels::ORGANISATION_KINDS
            .iter()
            .any(|(c, _)| *c == form.structure_type)
        {
            errors.add(
                "structure_type",
                "Choisissez le type de la structure dans la liste.",
            );
        }
        if form.structure_commune.trim().is_empty() && form.structure_insee.is_empty() {
            errors.add(
                "structure_commune",
                "Saisissez la commune de la structure, par exemple Villeurbanne.",
            );
        } else {
            match picker::resolve(
                &app,
                &req,
                &visitor,
                &form.structure_commune,
                &form.structure_insee,
            )
            .await
            {
                Ok(Picked::One(c)) => {
                    structure_choices = commune_choices(std::slice::from_ref(&c), &c.insee);
                    structure = Some(c);
                }
                Ok(Picked::Several(found)) => {
                    structure_choices = commune_choices(&found, "");
                    errors.add(
                        "structure_commune",
                        "Plusieurs communes correspondent : choisissez la bonne ci-dessous.",
                    );
                }
                Ok(Picked::Unknown) => errors.add(
                    "structure_commune",
                    "Aucune commune ne porte ce nom. Vérifiez l'orthographe ou saisissez le code postal.",
                ),
                Err(e) => errors
                    .general
                    .extend(e.iter().map(crate::forms::general_message)),
            }
        }
    }
    // A commune found from the text alone needs no radio to confirm it.
    if structure_choices.len() == 1 && form.structure_insee.is_empty() {
        structure_choices.clear();
    }
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        return render::html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignupPage::new(
                &visitor,
                form,
                errors,
                zone_choices,
                structure_choices,
                false,
            ),
        );
    };

    let me = match my_profile(&app, &req, &visitor).await {
        Ok(me) => me,
        Err(e) => return api_problem(&visitor, &e),
    };
    let registered = me.is_some();
    let mut input = register_as_facilitator::FacilitatorProfileInput {
        display_name: form.nom.trim().to_owned(),
        email: form.email.trim().to_owned(),
        kind,
        organisation_id: me.as_ref().and_then(|p| p.organisation_id),
        territories: form.zones.iter().map(|(c, _)| c.clone()).collect(),
        topics: form.themes.clone(),
        languages: if form.langues.is_empty() {
            vec!["fr".into()]
        } else {
            form.langues.clone()
        },
        training_completed_on: trained,
    };
    let refused = |form: SignupForm, errors: FormErrors, saved: bool, choices: Vec<Choice>| {
        render::html(
            errors.status(),
            &SignupPage::new(&visitor, form, errors, Vec::new(), choices, saved),
        )
    };
    if !registered
        && let Err(e) = run::<RegisterAsFacilitator>(
            &app,
            &req,
            &visitor,
            register_as_facilitator::Variables {
                input: input.clone(),
            },
        )
        .await
    {
        let errors = FormErrors::from_api_renamed(&e, &PROFILE_FIELDS);
        return refused(form, errors, false, structure_choices);
    }
    if let Some(commune) = &structure {
        match create_structure(&app, &req, &visitor, &form, commune).await {
            Ok(id) => input.organisation_id = Some(id),
            Err(errors) => return refused(form, errors, true, structure_choices),
        }
    }
    if registered || input.organisation_id.is_some() {
        let update = update_my_facilitator_profile::Variables {
            input: same_input(input),
        };
        if let Err(e) = run::<UpdateMyFacilitatorProfile>(&app, &req, &visitor, update).await {
            let errors = FormErrors::from_api_renamed(&e, &PROFILE_FIELDS);
            return refused(form, errors, true, structure_choices);
        }
    }
    render::see_other("/animateur")
}

/// Homonyms of an area being added: each commune, then each of their départements.
fn area_choices(found: &[picker::Commune]) -> Vec<Choice> {
    let mut out: Vec<Choice> = found
        .iter()
        .map(|c| Choice {
            value: zone_value(&c.insee, &c.label()),
            label: c.label(),
            selected: false,
        })
        .collect();
    let mut seen = Vec::new();
    for c in found {
        if !seen.contains(&c.departement) {
            seen.push(c.departement.clone());
            out.push(Choice {
                value: zone_value(&c.departement, &c.departement_label()),
                label: c.departement_label(),
                selected: false,
            });
        }
    }
    if let Some(first) = out.first_mut() {
        first.selected = true;
    }
    out
}

/// Communes to choose among, as radios with INSEE codes; `chosen` checked (else the first).
pub fn commune_choices(found: &[picker::Commune], chosen: &str) -> Vec<Choice> {
    let mut out: Vec<Choice> = found
        .iter()
        .map(|c| Choice {
            value: c.insee.clone(),
            label: c.label(),
            selected: c.insee == chosen,
        })
        .collect();
    if !out.iter().any(|o| o.selected)
        && let Some(first) = out.first_mut()
    {
        first.selected = true;
    }
    out
}

/// Creates the structure, or finds it when its SIRET or RNA is known already (a colleague
/// registered it): its id, or the errors to show on the form.
async fn create_structure(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    form: &SignupForm,
    commune: &picker::Commune,
) -> Result<Uuid, FormErrors> {
    let nonempty = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    };
    let input = create_organisation::OrganisationInput {
        name: form.structure_nom.trim().to_owned(),
        siret: nonempty(&form.siret),
        rna: nonempty(&form.rna),
        kind: enum_named(&form.structure_type),
        address: form.structure_adresse.trim().to_owned(),
        insee: commune.insee.clone(),
    };
    let variables = create_organisation::Variables {
        input: input.clone(),
    };
    match run::<CreateOrganisation>(app, req, visitor, variables).await {
        Ok(data) => Ok(data.create_organisation.id),
        Err(e) if e.iter().any(|e| e.is("ALREADY_EXISTS")) => {
            match known_structure(app, req, visitor, &input, &commune.departement).await {
                Some(id) => Ok(id),
                None => {
                    let mut errors = FormErrors::default();
                    let field = if input.siret.is_some() {
                        "siret"
                    } else {
                        "rna"
                    };
                    errors.add(
                        field,
                        "Une structure avec ce numéro existe déjà dans une autre commune : vérifiez le numéro et la commune.",
                    );
                    Err(errors)
                }
            }
        }
        Err(e) => Err(FormErrors::from_api_renamed(&e, &ORGANISATION_FIELDS)),
    }
}

/// The structure of the département with the SIRET or RNA given (the API compares them
/// without spaces, in capitals).
async fn known_structure(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    input: &create_organisation::OrganisationInput,
    departement: &str,
) -> Option<Uuid> {
    let siret = input.siret.as_ref().map(|s| s.replace(' ', ""));
    let rna = input.rna.as_ref().map(|r| r.trim().to_uppercase());
    let mut after = None;
    // A département holds a few hundred structures at most: a few pages.
    for _ in 0..20 {
        let data = run::<OrganisationsIn>(
            app,
            req,
            visitor,
            organisations_in::Variables {
                departement: Some(departement.to_owned()),
                after: after.clone(),
            },
        )
        .await
        .ok()?;
        let page = data.organisations;
        if let Some(found) = page
            .nodes
            .iter()
            .find(|o| (siret.is_some() && o.siret == siret) || (rna.is_some() && o.rna == rna))
        {
            return Some(found.id);
        }
        if !page.page_info.has_next_page {
            return None;
        }
        after = page.page_info.end_cursor;
    }
    None
}

/// A generated enum from its wire name (the form's lists hold only known names).
fn enum_named<T: serde::de::DeserializeOwned>(code: &str) -> T {
    serde_json::from_value(serde_json::Value::String(code.to_owned()))
        .unwrap_or_else(|_| unreachable!("generated enums read any name"))
}

/// The registration input as the update's (two operations, two generated types).
fn same_input(
    i: register_as_facilitator::FacilitatorProfileInput,
) -> update_my_facilitator_profile::FacilitatorProfileInput {
    update_my_facilitator_profile::FacilitatorProfileInput {
        display_name: i.display_name,
        email: i.email,
        kind: enum_named(&labels::wire(&i.kind)),
        organisation_id: i.organisation_id,
        territories: i.territories,
        topics: i.topics,
        languages: i.languages,
        training_completed_on: i.training_completed_on,
    }
}
