//! Organisations (structures) facilitators belong to: France Services, médiathèques,
//! associations, collectivités… identified by SIRET or RNA.

use crate::{
    State,
    domain::{self, Problems},
    storage::{organisation, unreadable},
};
use actix_web::{HttpResponse, web};
use cafeia_facilitators_api::{OrganisationInput, OrganisationListQuery, OrganisationView, paths};
use cafeia_platform::paging::{self, Page};
use cafeia_platform::{
    AppError,
    auth::{Caller, Role},
    errors::AppResult,
    http::{Json, Query},
    territory::Gazetteer,
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

fn view(m: organisation::Model) -> OrganisationView {
    OrganisationView {
        commune: Gazetteer::get()
            .commune(&m.insee)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        id: m.id,
        name: m.name,
        siret: m.siret,
        rna: m.rna,
        kind: m.kind,
        address: m.address,
        insee: m.insee,
        departement: m.departement,
        region: m.region,
    }
}

/// POST /v1/organisations — by a facilitator (not suspended) or staff.
#[utoipa::path(post, path = paths::ORGANISATIONS, tag = "organisations", request_body = OrganisationInput, responses((status = 201, body = OrganisationView), (status = 409, description = "SIRET ou RNA déjà connu (ALREADY_EXISTS)", body = cafeia_platform::errors::Problem), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn create(
    state: web::Data<State>,
    caller: Caller,
    input: Json<OrganisationInput>,
) -> AppResult<HttpResponse> {
    caller.require_any(&[Role::Facilitator, Role::Staff])?;
    let db = &state.platform.db;
    if !caller.has(Role::Staff) {
        // A facilitator must be registered and not suspended to add a structure.
        crate::facilitators::acting(db, &caller).await?;
    }
    let input = input.0;
    let mut p = Problems::default();
    let name = p.text("name", &input.name, 200);
    let address = p.text("address", &input.address, 300);
    let siret = input
        .siret
        .map(|s| s.replace(' ', ""))
        .filter(|s| !s.is_empty());
    let rna = input
        .rna
        .map(|s| s.trim().to_uppercase())
        .filter(|s| !s.is_empty());
    if siret.is_none() && rna.is_none() {
        p.add("siret", "un SIRET ou un numéro RNA est requis");
    }
    if let Some(s) = &siret {
        p.check(
            domain::valid_organisation_siret(s),
            "siret",
            "SIRET invalide : vérifiez qu'il a 14 chiffres, recopiés sans erreur",
        );
    }
    if let Some(r) = &rna {
        p.check(
            domain::valid_rna(r),
            "rna",
            "numéro RNA invalide (W suivi de 9 caractères)",
        );
    }
    let commune = Gazetteer::get().commune(input.insee.trim());
    p.check(commune.is_some(), "insee", "code INSEE de commune inconnu");
    p.into_result()?;
    let commune =
        commune.ok_or_else(|| AppError::invalid("insee", "code INSEE de commune inconnu"))?;
    let model = organisation::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        siret: Set(siret),
        rna: Set(rna),
        kind: Set(input.kind),
        address: Set(address),
        insee: Set(commune.insee.clone()),
        departement: Set(commune.departement.clone()),
        region: Set(commune.region.clone()),
        created_by: Set(caller.sub.clone()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map_err(|e| domain::already_exists(e, "une structure avec ce SIRET ou ce RNA existe déjà"))?;
    Ok(HttpResponse::Created().json(view(model)))
}

/// GET /v1/organisations/{id} — public.
#[utoipa::path(get, path = paths::ORGANISATION, tag = "organisations", params(("id" = Uuid, Path, description = "Identifiant")), responses((status = 200, body = OrganisationView), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn get(state: web::Data<State>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let model = organisation::Entity::find_by_id(id.into_inner())
        .one(&state.platform.db)
        .await
        .map_err(unreadable("organisation"))?
        .ok_or_else(|| AppError::not_found("structure introuvable"))?;
    Ok(HttpResponse::Ok().json(view(model)))
}

/// GET /v1/organisations — public directory of structures, in creation order, with the
/// total of the whole list.
#[utoipa::path(get, path = paths::ORGANISATIONS, tag = "organisations", params(OrganisationListQuery), responses((status = 200, body = Page<OrganisationView>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn list(
    state: web::Data<State>,
    query: Query<OrganisationListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let limit = paging::limit(q.limit)?;
    let after = paging::cursor(q.cursor.as_deref())?;
    let mut select = organisation::Entity::find();
    if let Some(d) = q.departement {
        domain::known_departement(&d)?;
        select = select.filter(organisation::Column::Departement.eq(d));
    }
    let txn = cafeia_platform::db::snapshot(&state.platform.db).await?;
    let total = select.clone().count(&txn).await?;
    let mut select = select.order_by_asc(organisation::Column::Id);
    if let Some(after) = after {
        select = select.filter(organisation::Column::Id.gt(after));
    }
    let rows = select
        .limit(limit + 1)
        .all(&txn)
        .await
        .map_err(unreadable("organisation"))?;
    txn.commit().await?;
    let (rows, next_cursor) = paging::split(rows, limit, |m| m.id);
    Ok(HttpResponse::Ok().json(Page {
        items: rows.into_iter().map(view).collect(),
        next_cursor,
        total: Some(total),
    }))
}
