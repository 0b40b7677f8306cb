//! A facilitator's venues ("mes lieux"): the list, adding one, editing it, removing it —
//! where it is (the commune picker), when it opens, what makes it accessible.

use super::{
    api_problem,
    facilitator::{commune_choices, refuse},
    not_found_page, run, stale_form,
};
use crate::{
    Web,
    forms::{self, Choice, FormErrors, Submitted},
    hours, labels,
    operations::{
        CreateVenue, MyVenues, PostcodeCommunes, RemoveVenue, UpdateVenue, VenueToEdit,
        create_venue, my_venues, postcode_communes, remove_venue, update_venue, venue_to_edit,
    },
    picker::{self, Picked},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // `nouveau` before `{id}`, which would take it.
    cfg.route("/animateur/lieux", web::get().to(list))
        .route("/animateur/lieux/nouveau", web::get().to(new_page))
        .route("/animateur/lieux/nouveau", web::post().to(create))
        .route("/animateur/lieux/{id}", web::get().to(edit_page))
        .route("/animateur/lieux/{id}", web::post().to(update))
        .route("/animateur/lieux/{id}/retirer", web::get().to(remove_page))
        .route("/animateur/lieux/{id}/retirer", web::post().to(remove));
}

pub struct Item {
    pub url: String,
    pub remove_url: String,
    pub name: String,
    pub address: String,
    pub hours: Option<String>,
    pub access: Vec<(&'static str, &'static str)>,
    pub capacity: Option<i64>,
    pub public: bool,
}

#[derive(Template)]
#[template(path = "venue_list.html")]
pub struct ListPage {
    pub layout: Layout,
    pub items: Vec<Item>,
    pub total: i64,
    pub next: Option<String>,
    /// What was just done, said above the list.
    pub done: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    fait: String,
    #[serde(default)]
    apres: String,
}

async fn list(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    if let Some(refused) = refuse(&visitor, "/animateur/lieux") {
        return refused;
    }
    let data = match run::<MyVenues>(
        &app,
        &req,
        &visitor,
        my_venues::Variables {
            first: Some(50),
            after: (!query.apres.is_empty()).then(|| query.apres.clone()),
        },
    )
    .await
    {
        Ok(data) => data,
        Err(e) => return api_problem(&visitor, &e),
    };
    let page = data.my_venues;
    let items = page
        .nodes
        .into_iter()
        .map(|v| Item {
            url: format!("/animateur/lieux/{}", v.id),
            remove_url: format!("/animateur/lieux/{}/retirer", v.id),
            address: format!("{}, {} {}", v.address, v.postcode, v.commune),
            name: v.name,
            hours: v.opening_hours.as_deref().map(hours::french),
            access: v
                .accessibility
                .iter()
                .map(|a| labels::venue_access(a))
                .collect(),
            capacity: v.capacity,
            public: v.is_public,
        })
        .collect();
    let next = page
        .page_info
        .end_cursor
        .filter(|_| page.page_info.has_next_page)
        .map(|cursor| super::link("/animateur/lieux", &[("apres", &cursor)]));
    render::ok(&ListPage {
        layout: Layout::new(&visitor, "Mes lieux", Section::Facilitators),
        items,
        total: page.total_count,
        next,
        done: match query.fait.as_str() {
            "ajoute" => Some("Le lieu est ajouté."),
            "modifie" => Some("Le lieu est modifié."),
            "retire" => Some("Le lieu est retiré."),
            _ => None,
        },
    })
}

/// The venue form as the person filled it in (every value kept as typed).
#[derive(Debug, Default, Clone)]
pub struct VenueForm {
    pub nom: String,
    pub adresse: String,
    pub code_postal: String,
    pub commune: String,
    /// The homonym chosen among those offered (an INSEE code).
    pub insee: String,
    pub horaires: String,
    pub places: String,
    pub accessibilite: Vec<String>,
    pub public: bool,
    /// Drawn when the form is shown: sent twice, a new venue's form adds it once.
    pub cle: String,
}

impl VenueForm {
    fn read(sent: &Submitted) -> Self {
        Self {
            nom: sent.one("nom"),
            adresse: sent.one("adresse"),
            code_postal: sent.one("code_postal"),
            commune: sent.one("commune"),
            insee: sent.one("insee"),
            horaires: sent.one("horaires"),
            places: sent.one("places"),
            accessibilite: sent.all("accessibilite"),
            public: sent.one("public") == "oui",
            cle: sent.one("cle"),
        }
    }

    fn of(v: &venue_to_edit::VenueToEditVenue) -> Self {
        Self {
            nom: v.name.clone(),
            adresse: v.address.clone(),
            code_postal: v.postcode.clone(),
            commune: v.commune.clone(),
            insee: v.insee.clone(),
            horaires: v.opening_hours.clone().unwrap_or_default(),
            places: v.capacity.map(|c| c.to_string()).unwrap_or_default(),
            accessibilite: v.accessibility.clone(),
            public: v.is_public,
            cle: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "venue_form.html")]
pub struct FormPage {
    pub layout: Layout,
    pub heading: String,
    pub action: String,
    pub form: VenueForm,
    pub errors: FormErrors,
    pub access: Vec<Choice>,
    /// Communes to choose among, when the name or the postcode gives several.
    pub communes: Vec<Choice>,
    /// Editing: where removing it starts.
    pub remove_url: Option<String>,
}

impl FormPage {
    fn new(
        visitor: &Visitor,
        id: Option<Uuid>,
        form: VenueForm,
        errors: FormErrors,
        communes: Vec<Choice>,
    ) -> Self {
        let heading = match id {
            Some(_) if !form.nom.trim().is_empty() => format!("Modifier « {} »", form.nom.trim()),
            Some(_) => "Modifier le lieu".to_owned(),
            None => "Ajouter un lieu".to_owned(),
        };
        let access = labels::VENUE_ACCESS
            .iter()
            .map(|code| Choice {
                value: (*code).to_owned(),
                label: labels::venue_access(code).1.to_owned(),
                selected: form.accessibilite.iter().any(|a| a == code),
            })
            .collect();
        Self {
            layout: Layout::new(visitor, heading.clone(), Section::Facilitators),
            heading,
            action: match id {
                Some(id) => format!("/animateur/lieux/{id}"),
                None => "/animateur/lieux/nouveau".to_owned(),
            },
            access,
            communes,
            remove_url: id.map(|id| format!("/animateur/lieux/{id}/retirer")),
            form,
            errors,
        }
    }
}

async fn new_page(visitor: Visitor) -> HttpResponse {
    if let Some(refused) = refuse(&visitor, "/animateur/lieux/nouveau") {
        return refused;
    }
    let form = VenueForm {
        public: true,
        cle: crate::csrf::random_token(),
        ..Default::default()
    };
    render::ok(&FormPage::new(
        &visitor,
        None,
        form,
        FormErrors::default(),
        Vec::new(),
    ))
}

/// The venue `id` as its author may edit it: `Err` is the page to answer instead.
async fn editable(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    id: &str,
) -> Result<(Uuid, venue_to_edit::VenueToEditVenue), HttpResponse> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(not_found_page(visitor));
    };
    match run::<VenueToEdit>(app, req, visitor, venue_to_edit::Variables { id }).await {
        Ok(data) => data
            .venue
            .map(|v| (id, v))
            .ok_or_else(|| not_found_page(visitor)),
        Err(e) => Err(api_problem(visitor, &e)),
    }
}

async fn edit_page(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
) -> HttpResponse {
    if let Some(refused) = refuse(&visitor, &format!("/animateur/lieux/{id}")) {
        return refused;
    }
    match editable(&app, &req, &visitor, &id).await {
        Ok((id, venue)) => render::ok(&FormPage::new(
            &visitor,
            Some(id),
            VenueForm::of(&venue),
            FormErrors::default(),
            Vec::new(),
        )),
        Err(page) => page,
    }
}

async fn create(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(refused) = refuse(&visitor, "/animateur/lieux/nouveau") {
        return refused;
    }
    save(&app, &req, &visitor, None, &body).await
}

async fn update(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(refused) = refuse(&visitor, &format!("/animateur/lieux/{id}")) {
        return refused;
    }
    match editable(&app, &req, &visitor, &id).await {
        Ok(stored) => save(&app, &req, &visitor, Some(stored), &body).await,
        Err(page) => page,
    }
}

/// The API's names for a venue's fields, and the form's.
const VENUE_FIELDS: [(&str, &str); 10] = [
    ("name", "nom"),
    ("address", "adresse"),
    ("postcode", "code_postal"),
    ("insee", "commune"),
    // Coordinates are not asked for: kept from before or the commune's centre.
    ("latitude", "commune"),
    ("longitude", "commune"),
    ("openingHours", "horaires"),
    ("capacity", "places"),
    ("accessibility", "accessibilite"),
    ("isPublic", "public"),
];

/// Where a session remembers the new venues' forms already sent.
const SENT: &str = "venues_created";

/// Adds (`stored` none) or replaces a venue with the form sent, or shows the form again with
/// what was wrong next to each field.
async fn save(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    stored: Option<(Uuid, venue_to_edit::VenueToEditVenue)>,
    body: &[u8],
) -> HttpResponse {
    let sent = Submitted::parse(body);
    if !crate::csrf::valid(&visitor.session, &sent.one("csrf")) {
        return stale_form(visitor);
    }
    let id = stored.as_ref().map(|(id, _)| *id);
    let form = VenueForm::read(&sent);
    if id.is_none() && forms::sent_before(&visitor.session, SENT, &form.cle) {
        return render::see_other(&super::link("/animateur/lieux", &[("fait", "ajoute")]));
    }
    let mut errors = FormErrors::default();
    let mut communes = Vec::new();
    let postcode = form.code_postal.trim().to_owned();
    let capacity = match form.places.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(
                    "places",
                    "Saisissez un nombre de places en chiffres, par exemple 20.",
                );
                None
            }
        },
    };
    // The commune: the homonym chosen, or the name typed (within the postcode's communes);
    // with neither, the API finds it from the postcode when it serves only one.
    let mut insee = None;
    if !form.commune.trim().is_empty() || !form.insee.is_empty() {
        match picker::resolve(app, req, visitor, &form.commune, &form.insee).await {
            Ok(Picked::One(c)) => insee = Some(c.insee),
            Ok(Picked::Several(found)) => {
                let here: Vec<_> = found
                    .iter()
                    .filter(|c| c.postcodes.contains(&postcode))
                    .cloned()
                    .collect();
                match here.as_slice() {
                    [one] => insee = Some(one.insee.clone()),
                    [] => {
                        communes = commune_choices(&found, "");
                        errors.add(
                            "commune",
                            "Plusieurs communes portent ce nom : choisissez la bonne ci-dessous.",
                        );
                    }
                    several => {
                        communes = commune_choices(several, "");
                        errors.add(
                            "commune",
                            "Plusieurs communes portent ce nom : choisissez la bonne ci-dessous.",
                        );
                    }
                }
            }
            Ok(Picked::Unknown) => errors.add(
                "commune",
                "Aucune commune ne porte ce nom. Vérifiez l'orthographe, ou laissez ce champ vide si le code postal ne dessert qu'une commune.",
            ),
            Err(e) => errors
                .general
                .extend(e.iter().map(crate::forms::general_message)),
        }
    }
    if !errors.is_empty() {
        return render::html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &FormPage::new(visitor, id, form, errors, communes),
        );
    }
    let before = stored.as_ref().map(|(_, v)| v);
    // The position is kept while the venue stays in its commune; a venue moved to another
    // commune is placed at its centre (the API refuses a point far from the commune).
    let same_place = before.is_some_and(|v| {
        v.postcode == postcode && insee.as_deref().is_none_or(|code| code == v.insee)
    });
    let nonempty = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    };
    let input = create_venue::VenueInput {
        name: form.nom.trim().to_owned(),
        address: form.adresse.trim().to_owned(),
        postcode: postcode.clone(),
        insee,
        latitude: before.filter(|_| same_place).map(|v| v.latitude),
        longitude: before.filter(|_| same_place).map(|v| v.longitude),
        opening_hours: nonempty(&form.horaires),
        accessibility: form.accessibilite.clone(),
        capacity,
        // What this form does not show stays as it was.
        services: before.map(|v| v.services.clone()).unwrap_or_default(),
        publics: before.map(|v| v.publics.clone()).unwrap_or_default(),
        is_public: form.public,
        organisation_id: before.and_then(|v| v.organisation_id),
    };
    let (answer, done) = match id {
        None => (
            run::<CreateVenue>(app, req, visitor, create_venue::Variables { input })
                .await
                .map(|_| ()),
            "ajoute",
        ),
        Some(id) => (
            run::<UpdateVenue>(
                app,
                req,
                visitor,
                update_venue::Variables {
                    id,
                    input: same_input(input),
                },
            )
            .await
            .map(|_| ()),
            "modifie",
        ),
    };
    match answer {
        Ok(()) => {
            if id.is_none() {
                forms::mark_sent(&visitor.session, SENT, &form.cle);
            }
            render::see_other(&super::link("/animateur/lieux", &[("fait", done)]))
        }
        Err(e) => {
            let mut errors = FormErrors::from_api_renamed(&e, &VENUE_FIELDS);
            // A postcode serving several communes: offer them (the API asks for a code).
            if errors.field("commune").is_some() && communes.is_empty() && postcode.len() == 5 {
                let found = run::<PostcodeCommunes>(
                    app,
                    req,
                    visitor,
                    postcode_communes::Variables {
                        postcode: postcode.clone(),
                    },
                )
                .await
                .map(|d| d.communes_by_postcode)
                .unwrap_or_default();
                if found.len() > 1 {
                    let found: Vec<_> = found
                        .into_iter()
                        .map(|c| picker::Commune {
                            insee: c.insee,
                            name: c.name,
                            departement: c.departement,
                            departement_name: c.departement_name,
                            postcodes: c.postcodes,
                        })
                        .collect();
                    communes = commune_choices(&found, "");
                    let mut asked = FormErrors::default();
                    asked.add(
                        "commune",
                        "Ce code postal dessert plusieurs communes : choisissez la vôtre ci-dessous.",
                    );
                    asked.merge(errors);
                    errors = asked;
                }
            }
            render::html(
                errors.status(),
                &FormPage::new(visitor, id, form, errors, communes),
            )
        }
    }
}

/// The create input as the update's (two operations, two generated types).
fn same_input(i: create_venue::VenueInput) -> update_venue::VenueInput {
    update_venue::VenueInput {
        name: i.name,
        address: i.address,
        postcode: i.postcode,
        insee: i.insee,
        latitude: i.latitude,
        longitude: i.longitude,
        opening_hours: i.opening_hours,
        accessibility: i.accessibility,
        capacity: i.capacity,
        services: i.services,
        publics: i.publics,
        is_public: i.is_public,
        organisation_id: i.organisation_id,
    }
}

#[derive(Template)]
#[template(path = "venue_remove.html")]
pub struct RemovePage {
    pub layout: Layout,
    pub name: String,
    pub action: String,
    pub back: String,
}

/// Removing asks first: a link followed by mistake removes nothing.
async fn remove_page(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
) -> HttpResponse {
    if let Some(refused) = refuse(&visitor, &format!("/animateur/lieux/{id}/retirer")) {
        return refused;
    }
    match editable(&app, &req, &visitor, &id).await {
        Ok((id, venue)) => render::ok(&RemovePage {
            layout: Layout::new(&visitor, "Retirer un lieu", Section::Facilitators),
            name: venue.name,
            action: format!("/animateur/lieux/{id}/retirer"),
            back: format!("/animateur/lieux/{id}"),
        }),
        Err(page) => page,
    }
}

#[derive(Deserialize)]
pub struct Csrf {
    #[serde(default)]
    csrf: String,
}

async fn remove(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    id: web::Path<String>,
    form: web::Form<Csrf>,
) -> HttpResponse {
    if let Some(refused) = refuse(&visitor, "/animateur/lieux") {
        return refused;
    }
    if !crate::csrf::valid(&visitor.session, &form.csrf) {
        return stale_form(&visitor);
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found_page(&visitor);
    };
    match run::<RemoveVenue>(&app, &req, &visitor, remove_venue::Variables { id }).await {
        Ok(_) => render::see_other(&super::link("/animateur/lieux", &[("fait", "retire")])),
        Err(e) => api_problem(&visitor, &e),
    }
}
