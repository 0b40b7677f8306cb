//! Venues (lieux de médiation numérique) where cafés happen: managed by staff and by the
//! facilitators who created them, listed publicly (public fields of public venues only),
//! imported and exported in the national open-data standard (see `lieux.rs`).

use crate::{
    State,
    domain::{self, Accessibility, Problems},
    lieux,
    messages::{self, VenueRemoved, VenueState},
    proximity::Near,
    storage::{JsonText, unreadable, venue},
};
use actix_web::{HttpRequest, HttpResponse, web};
use cafeia_api::batch::BatchQuery;
use cafeia_facilitators_api::{
    MyVenuesQuery, VenueFileFormat, VenueFileQuery, VenueInput, VenueListQuery, VenueView, paths,
};
use cafeia_platform::paging::{self, Page};
use cafeia_platform::{
    AppError,
    auth::{Caller, MaybeCaller, Role},
    envelope::Envelope,
    errors::AppResult,
    http::{Json, Query},
    outbox,
    territory::Gazetteer,
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// A venue that passed validation, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidVenue {
    pub name: String,
    pub address: String,
    pub postcode: String,
    pub insee: String,
    pub departement: String,
    pub region: String,
    pub lat: f64,
    pub lon: f64,
    pub opening_hours: Option<String>,
    pub accessibility: Vec<Accessibility>,
    pub capacity: Option<i32>,
    pub services: Vec<String>,
    pub publics: Vec<String>,
    pub is_public: bool,
}

/// Checks every field; the postcode and the INSEE code must agree, coordinates must lie in
/// France near the commune.
pub fn validate(
    input: &VenueInput,
) -> Result<ValidVenue, Vec<cafeia_platform::errors::FieldError>> {
    let gazetteer = Gazetteer::get();
    let mut p = Problems::default();
    let name = p.text("name", &input.name, 200);
    let address = p.text("address", &input.address, 300);
    let postcode = input.postcode.trim().to_owned();
    let candidates = gazetteer.by_postcode(&postcode);
    if postcode.len() != 5 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
        p.add("postcode", "un code postal a 5 chiffres");
    } else if candidates.is_empty() {
        p.add("postcode", format!("code postal inconnu : {postcode}"));
    }
    let commune = match input
        .insee
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(code) => match gazetteer.commune(code) {
            Some(c) if candidates.is_empty() || c.postcodes.contains(&postcode) => Some(c),
            Some(c) => {
                p.add(
                    "insee",
                    format!("{} ({code}) n'a pas le code postal {postcode}", c.name),
                );
                None
            }
            None => {
                p.add("insee", format!("code INSEE inconnu : {code:?}"));
                None
            }
        },
        None => {
            let communes: Vec<_> = candidates
                .iter()
                .filter(|c| c.kind == cafeia_platform::territory::CommuneKind::Commune)
                .collect();
            match communes.as_slice() {
                [one] => Some(**one),
                [] => None,
                _ => {
                    p.add("insee", format!("le code postal {postcode} couvre plusieurs communes : précisez le code INSEE"));
                    None
                }
            }
        }
    };
    let (lat, lon) = match (input.latitude, input.longitude, commune) {
        (Some(lat), Some(lon), Some(c)) => {
            domain::venue_position(lat, lon, &c.insee, &mut p);
            (lat, lon)
        }
        (Some(lat), Some(lon), None) => {
            if !cafeia_platform::territory::in_france(lat, lon) {
                p.add(
                    "latitude",
                    "les coordonnées ne sont pas en France (métropole ou outre-mer)",
                );
            }
            (lat, lon)
        }
        (None, None, Some(c)) => (c.lat, c.lon),
        (None, None, None) => (0.0, 0.0),
        _ => {
            p.add("latitude", "latitude et longitude vont ensemble");
            (0.0, 0.0)
        }
    };
    let opening_hours = input
        .opening_hours
        .as_deref()
        .and_then(|h| domain::opening_hours(h, &mut p));
    let accessibility = domain::accessibility(&input.accessibility, &mut p);
    if let Some(c) = input.capacity {
        p.check(
            (1..=10_000).contains(&c),
            "capacity",
            "doit être entre 1 et 10 000",
        );
    }
    let clean = |list: &[String], field: &str, p: &mut Problems| -> Vec<String> {
        if list.len() > 50 {
            p.add(field, "au plus 50 valeurs");
        }
        list.iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty() && s.chars().count() <= 200)
            .collect()
    };
    let services = clean(&input.services, "services", &mut p);
    let publics = clean(&input.publics, "publics", &mut p);
    if !p.0.is_empty() {
        return Err(p.0);
    }
    let commune = commune.or_else(|| candidates.first().copied());
    let Some(commune) = commune else {
        return Err(vec![cafeia_platform::errors::FieldError {
            field: "insee".into(),
            message: "commune introuvable".into(),
        }]);
    };
    Ok(ValidVenue {
        name,
        address,
        postcode,
        insee: commune.insee.clone(),
        departement: commune.departement.clone(),
        region: commune.region.clone(),
        lat,
        lon,
        opening_hours,
        accessibility,
        capacity: input.capacity,
        services,
        publics,
        is_public: input.is_public,
    })
}

pub fn apply(model: &mut venue::ActiveModel, v: &ValidVenue) {
    model.name = Set(v.name.clone());
    model.address = Set(v.address.clone());
    model.postcode = Set(v.postcode.clone());
    model.insee = Set(v.insee.clone());
    model.departement = Set(v.departement.clone());
    model.region = Set(v.region.clone());
    model.lat = Set(v.lat);
    model.lon = Set(v.lon);
    model.opening_hours = Set(v.opening_hours.clone());
    model.accessibility = Set(JsonText(v.accessibility.clone()));
    model.capacity = Set(v.capacity);
    model.services = Set(JsonText(v.services.clone()));
    model.publics = Set(JsonText(v.publics.clone()));
    model.is_public = Set(v.is_public);
    model.updated_at = Set(Utc::now());
}

pub fn stored(model: &venue::Model) -> ValidVenue {
    ValidVenue {
        name: model.name.clone(),
        address: model.address.clone(),
        postcode: model.postcode.clone(),
        insee: model.insee.clone(),
        departement: model.departement.clone(),
        region: model.region.clone(),
        lat: model.lat,
        lon: model.lon,
        opening_hours: model.opening_hours.clone(),
        accessibility: model.accessibility.0.clone(),
        capacity: model.capacity,
        services: model.services.0.clone(),
        publics: model.publics.0.clone(),
        is_public: model.is_public,
    }
}

fn state_of(model: &venue::Model) -> VenueState {
    VenueState {
        id: model.id,
        name: model.name.clone(),
        address: model.address.clone(),
        postcode: model.postcode.clone(),
        insee: model.insee.clone(),
        departement: model.departement.clone(),
        region: model.region.clone(),
        latitude: model.lat,
        longitude: model.lon,
        opening_hours: model.opening_hours.clone(),
        accessibility: Accessibility::names(&model.accessibility.0),
        capacity: model.capacity,
        is_public: model.is_public,
    }
}

pub async fn announce_upsert<C: ConnectionTrait>(conn: &C, model: &venue::Model) -> AppResult<()> {
    let envelope = Envelope::new(
        messages::VENUE_UPSERTED,
        format!("venue/{}", model.id),
        state_of(model),
    );
    outbox::enqueue(conn, messages::VENUE_UPSERTED, &envelope).await?;
    Ok(())
}

/// What anyone allowed to see a stored venue sees (no creator).
pub fn view(model: venue::Model) -> VenueView {
    VenueView {
        commune: Gazetteer::get()
            .commune(&model.insee)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        id: model.id,
        name: model.name,
        address: model.address,
        postcode: model.postcode,
        insee: model.insee,
        departement: model.departement,
        region: model.region,
        latitude: model.lat,
        longitude: model.lon,
        opening_hours: model.opening_hours,
        accessibility: Accessibility::names(&model.accessibility.0),
        capacity: model.capacity,
        services: model.services.0,
        publics: model.publics.0,
        is_public: model.is_public,
        organisation_id: model.organisation_id,
        distance_km: None,
    }
}

/// Staff, or a registered facilitator who is not suspended.
async fn may_manage(state: &State, caller: &Caller) -> AppResult<()> {
    caller.require_any(&[Role::Staff, Role::Facilitator])?;
    if !caller.has(Role::Staff) {
        crate::facilitators::acting(&state.platform.db, caller).await?;
    }
    Ok(())
}

/// A coordinator places venues only in their own territory.
fn within_scope(caller: &Caller, v: &ValidVenue) -> AppResult<()> {
    if caller.has(Role::Staff) && !caller.covers(Some(&v.region), Some(&v.departement)) {
        return Err(AppError::forbidden(
            "ce lieu n'est pas dans votre territoire",
        ));
    }
    Ok(())
}

fn invalid(errors: Vec<cafeia_platform::errors::FieldError>) -> AppError {
    AppError::invalid_fields(errors)
}

/// The organisation a venue names must exist (checked in the writing transaction; nothing
/// deletes organisations).
async fn organisation_exists<C: ConnectionTrait>(conn: &C, id: Option<Uuid>) -> AppResult<()> {
    let mut p = Problems::default();
    domain::known_organisation(conn, id, &mut p).await?;
    p.into_result()
}

/// POST /v1/venues
#[utoipa::path(post, path = paths::VENUES, tag = "venues", request_body = VenueInput, responses((status = 201, body = VenueView), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn create(
    state: web::Data<State>,
    caller: Caller,
    input: Json<VenueInput>,
) -> AppResult<HttpResponse> {
    may_manage(&state, &caller).await?;
    let valid = validate(&input.0).map_err(invalid)?;
    within_scope(&caller, &valid)?;
    let txn = cafeia_platform::db::begin(&state.platform.db).await?;
    organisation_exists(&txn, input.0.organisation_id).await?;
    let now = Utc::now();
    let mut model = venue::ActiveModel {
        id: Set(Uuid::now_v7()),
        source_id: Set(None),
        organisation_id: Set(input.0.organisation_id),
        created_by: Set(Some(caller.sub.clone())),
        created_at: Set(now),
        ..Default::default()
    };
    apply(&mut model, &valid);
    let model = model.insert(&txn).await?;
    cafeia_platform::audit::record(
        &txn,
        (&caller).into(),
        "venue_created",
        "venue",
        model.id,
        None,
    )
    .await?;
    announce_upsert(&txn, &model).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Created().json(view(model)))
}

async fn editable(state: &State, caller: &Caller, id: Uuid) -> AppResult<venue::Model> {
    may_manage(state, caller).await?;
    let model = venue::Entity::find_by_id(id)
        .one(&state.platform.db)
        .await
        .map_err(unreadable("venue"))?
        .ok_or_else(|| AppError::not_found("lieu introuvable"))?;
    let own = model.created_by.as_deref() == Some(caller.sub.as_str());
    if !caller.has(Role::Staff) && !own {
        return Err(AppError::forbidden(
            "seul·e son auteur·rice ou l'équipe peut modifier ce lieu",
        ));
    }
    if caller.has(Role::Staff)
        && !own
        && !caller.covers(Some(&model.region), Some(&model.departement))
    {
        return Err(AppError::forbidden(
            "ce lieu n'est pas dans votre territoire",
        ));
    }
    Ok(model)
}

/// PUT /v1/venues/{id}
#[utoipa::path(put, path = paths::VENUE, tag = "venues", params(("id" = Uuid, Path, description = "Identifiant")), request_body = VenueInput, responses((status = 200, body = VenueView), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn update(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Json<VenueInput>,
) -> AppResult<HttpResponse> {
    let current = editable(&state, &caller, id.into_inner()).await?;
    let valid = validate(&input.0).map_err(invalid)?;
    within_scope(&caller, &valid)?;
    let txn = cafeia_platform::db::begin(&state.platform.db).await?;
    organisation_exists(&txn, input.0.organisation_id).await?;
    let mut model = current.into_active_model();
    apply(&mut model, &valid);
    model.organisation_id = Set(input.0.organisation_id);
    let model = model.update(&txn).await?;
    cafeia_platform::audit::record(
        &txn,
        (&caller).into(),
        "venue_updated",
        "venue",
        model.id,
        None,
    )
    .await?;
    announce_upsert(&txn, &model).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(model)))
}

/// DELETE /v1/venues/{id}
#[utoipa::path(delete, path = paths::VENUE, tag = "venues", params(("id" = Uuid, Path, description = "Identifiant")), responses((status = 204, description = "Lieu retiré"), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn remove(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let current = editable(&state, &caller, id.into_inner()).await?;
    let txn = cafeia_platform::db::begin(&state.platform.db).await?;
    venue::Entity::delete_by_id(current.id).exec(&txn).await?;
    cafeia_platform::audit::record(
        &txn,
        (&caller).into(),
        "venue_removed",
        "venue",
        current.id,
        None,
    )
    .await?;
    let envelope = Envelope::new(
        messages::VENUE_REMOVED,
        format!("venue/{}", current.id),
        VenueRemoved { id: current.id },
    );
    outbox::enqueue(&txn, messages::VENUE_REMOVED, &envelope).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::NoContent().finish())
}

/// Who may see a venue: anyone a public one; a private one, staff and its author.
fn visible(caller: &MaybeCaller, model: &venue::Model) -> bool {
    model.is_public
        || caller.0.as_ref().is_some_and(|c| {
            c.has(Role::Staff) || model.created_by.as_deref() == Some(c.sub.as_str())
        })
}

/// GET /v1/venues/{id} — public venues to everyone; private ones to staff and their author.
#[utoipa::path(get, path = paths::VENUE, tag = "venues", params(("id" = Uuid, Path, description = "Identifiant")), responses((status = 200, body = VenueView), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn get(
    state: web::Data<State>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let model = venue::Entity::find_by_id(id.into_inner())
        .one(&state.platform.db)
        .await
        .map_err(unreadable("venue"))?
        .filter(|v| visible(&caller, v))
        .ok_or_else(|| AppError::not_found("lieu introuvable"))?;
    Ok(HttpResponse::Ok().json(view(model)))
}

/// GET /v1/venues/batch?ids=… — venues by ids, each visible as `GET /v1/venues/{id}` shows
/// it; unknown and invisible ones are absent.
#[utoipa::path(get, path = paths::VENUES_BATCH, tag = "venues", params(BatchQuery), responses((status = 200, body = [VenueView]), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem)))]
pub async fn batch(
    state: web::Data<State>,
    caller: MaybeCaller,
    query: Query<BatchQuery>,
) -> AppResult<HttpResponse> {
    let ids = paging::batch(&query)?;
    let rows = if ids.is_empty() {
        Vec::new()
    } else {
        venue::Entity::find()
            .filter(venue::Column::Id.is_in(ids))
            .order_by_asc(venue::Column::Id)
            .all(&state.platform.db)
            .await
            .map_err(unreadable("venue"))?
    };
    let venues: Vec<VenueView> = rows
        .into_iter()
        .filter(|v| visible(&caller, v))
        .map(view)
        .collect();
    Ok(HttpResponse::Ok().json(venues))
}

/// GET /v1/facilitators/me/venues — the venues the signed-in facilitator created, public or
/// not, in creation order, with their total.
#[utoipa::path(get, path = paths::MY_VENUES, tag = "venues", params(MyVenuesQuery), responses((status = 200, body = Page<VenueView>), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn mine(
    state: web::Data<State>,
    caller: Caller,
    query: Query<MyVenuesQuery>,
) -> AppResult<HttpResponse> {
    caller.require(Role::Facilitator)?;
    let q = query.into_inner();
    let limit = paging::limit(q.limit)?;
    let after = paging::cursor(q.cursor.as_deref())?;
    let select = venue::Entity::find().filter(venue::Column::CreatedBy.eq(caller.sub.as_str()));
    let txn = cafeia_platform::db::snapshot(&state.platform.db).await?;
    let page = id_page(select, after, limit, &txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One page of `select` in id (creation) order after `after`, with the count of the whole
/// selection, read from `txn` (a snapshot, so that both agree).
async fn id_page(
    select: sea_orm::Select<venue::Entity>,
    after: Option<Uuid>,
    limit: u64,
    txn: &sea_orm::DatabaseTransaction,
) -> AppResult<Page<VenueView>> {
    let total = select.clone().count(txn).await?;
    let mut select = select.order_by_asc(venue::Column::Id);
    if let Some(after) = after {
        select = select.filter(venue::Column::Id.gt(after));
    }
    let rows = select
        .limit(limit + 1)
        .all(txn)
        .await
        .map_err(unreadable("venue"))?;
    Ok(Page {
        total: Some(total),
        ..paging::page(rows, limit, |m| m.id, view)
    })
}

/// GET /v1/venues — public list of public venues, in creation order or nearest first, with
/// the total of the whole list.
#[utoipa::path(get, path = paths::VENUES, tag = "venues", params(VenueListQuery), responses((status = 200, body = Page<VenueView>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn list(
    state: web::Data<State>,
    query: Query<VenueListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let limit = paging::limit(q.limit)?;
    let after = paging::cursor(q.cursor.as_deref())?;
    let gazetteer = Gazetteer::get();
    let mut select = venue::Entity::find().filter(venue::Column::IsPublic.eq(true));
    if let Some(c) = &q.commune {
        if gazetteer.commune(c).is_none() {
            return Err(AppError::invalid(
                "commune",
                format!("code INSEE inconnu : {c:?}"),
            ));
        }
        select = select.filter(venue::Column::Insee.eq(c.as_str()));
    }
    if let Some(d) = &q.departement {
        domain::known_departement(d)?;
        select = select.filter(venue::Column::Departement.eq(d.as_str()));
    }
    let near = Near::parse(q.near.as_deref(), q.radius_km)?;
    let txn = cafeia_platform::db::snapshot(&state.platform.db).await?;
    let page = match near {
        Some(near) => {
            let (lat_min, lat_max, lon_min, lon_max) = near.bounds();
            let rows = select
                .filter(venue::Column::Lat.between(lat_min, lat_max))
                .filter(venue::Column::Lon.between(lon_min, lon_max))
                .order_by_asc(venue::Column::Id)
                .all(&txn)
                .await
                .map_err(unreadable("venue"))?;
            let ranked = near.page(rows, |m| Some((m.lat, m.lon)), |m| m.id, after, limit)?;
            Page {
                items: ranked
                    .hits
                    .into_iter()
                    .map(|(d, m)| VenueView {
                        distance_km: Some(d),
                        ..view(m)
                    })
                    .collect(),
                next_cursor: ranked.next_cursor,
                total: Some(ranked.total),
            }
        }
        None => id_page(select, after, limit, &txn).await?,
    };
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The format asked for, or the one the content type says (JSON unless it says CSV).
fn format_of(query: &VenueFileQuery, req: &HttpRequest) -> VenueFileFormat {
    query.format.unwrap_or_else(|| {
        let ct = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if ct.contains("csv") {
            VenueFileFormat::Csv
        } else {
            VenueFileFormat::Json
        }
    })
}

/// POST /v1/venues/import?format=csv|json — national staff; idempotent by source id.
#[utoipa::path(post, path = paths::VENUES_IMPORT, tag = "venues", params(VenueFileQuery), request_body(content = String, description = "Fichier au standard des lieux de médiation numérique", content_type = "text/csv"), responses((status = 200, body = cafeia_facilitators_api::VenueImportReport), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn import(
    state: web::Data<State>,
    caller: Caller,
    req: HttpRequest,
    query: Query<VenueFileQuery>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    if !caller.is_national_staff() {
        return Err(AppError::forbidden(
            "l'import national des lieux est réservé à l'équipe nationale",
        ));
    }
    let format = format_of(&query, &req);
    let report = lieux::import(&state.platform.db, &caller.sub, format, &body).await?;
    if report.created + report.updated > 0 {
        state.platform.outbox.wake();
    }
    Ok(HttpResponse::Ok().json(report))
}

/// GET /v1/venues/export?format=csv|json — public venues in the national standard.
#[utoipa::path(get, path = paths::VENUES_EXPORT, tag = "venues", params(VenueFileQuery), responses((status = 200, description = "Lieux publics au standard national (CSV ou JSON)")))]
pub async fn export(
    state: web::Data<State>,
    query: Query<VenueFileQuery>,
) -> AppResult<HttpResponse> {
    let format = query.format.unwrap_or(VenueFileFormat::Json);
    let rows = venue::Entity::find()
        .filter(venue::Column::IsPublic.eq(true))
        .order_by_asc(venue::Column::Id)
        .all(&state.platform.db)
        .await
        .map_err(unreadable("venue"))?;
    let (content_type, body) = lieux::export(format, &rows).map_err(AppError::internal)?;
    Ok(HttpResponse::Ok().content_type(content_type).body(body))
}
