//! Organisations (structures) facilitators belong to: France Services, médiathèques,
//! associations, collectivités… identified by SIRET or RNA.

use crate::{
    State,
    domain::{self, OrganisationKind, Problems},
    storage::organisation,
};
use actix_web::{HttpResponse, web};
use cafeia_platform::paging;
use cafeia_platform::{
    AppError,
    auth::{Caller, Role},
    errors::AppResult,
    http::Json,
    territory::Gazetteer,
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    pub name: String,
    #[serde(default)]
    pub siret: Option<String>,
    #[serde(default)]
    pub rna: Option<String>,
    pub kind: OrganisationKind,
    pub address: String,
    pub insee: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganisationView {
    pub id: Uuid,
    pub name: String,
    pub siret: Option<String>,
    pub rna: Option<String>,
    pub kind: String,
    pub address: String,
    pub insee: String,
    pub commune: String,
    pub departement: String,
    pub region: String,
}

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
#[utoipa::path(post, path = "/v1/organisations", tag = "organisations", request_body = OrganisationInput, responses((status = 201, body = OrganisationView), (status = 409, body = cafeia_platform::errors::Problem), (status = 400, description = "Donnée invalide", body = cafeia_platform::errors::Problem), (status = 401, description = "Non authentifié", body = cafeia_platform::errors::Problem), (status = 403, description = "Interdit", body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
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
            domain::valid_siret(s),
            "siret",
            "SIRET invalide (14 chiffres, clé de contrôle Luhn)",
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
        kind: Set(domain::wire_name(&input.kind)),
        address: Set(address),
        insee: Set(commune.insee.clone()),
        departement: Set(commune.departement.clone()),
        region: Set(commune.region.clone()),
        created_by: Set(caller.sub.clone()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map_err(|e| match AppError::from(e) {
        err if err.code == cafeia_platform::ErrorCode::Conflict => {
            AppError::conflict("une structure avec ce SIRET ou ce RNA existe déjà")
        }
        err => err,
    })?;
    Ok(HttpResponse::Created().json(view(model)))
}

/// GET /v1/organisations/{id} — public.
#[utoipa::path(get, path = "/v1/organisations/{id}", tag = "organisations", params(("id" = Uuid, Path, description = "Identifiant")), responses((status = 200, body = OrganisationView), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn get(state: web::Data<State>, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
    let model = organisation::Entity::find_by_id(id.into_inner())
        .one(&state.platform.db)
        .await?
        .ok_or_else(|| AppError::not_found("structure introuvable"))?;
    Ok(HttpResponse::Ok().json(view(model)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub departement: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

/// GET /v1/organisations — public directory of structures.
#[utoipa::path(get, path = "/v1/organisations", tag = "organisations", params(ListQuery), responses((status = 200, body = cafeia_platform::paging::Page<OrganisationView>), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn list(
    state: web::Data<State>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let limit = paging::limit(q.limit)?;
    let mut select = organisation::Entity::find();
    if let Some(d) = q.departement {
        domain::known_departement(&d)?;
        select = select.filter(organisation::Column::Departement.eq(d));
    }
    if let Some(after) = paging::cursor(q.cursor.as_deref())? {
        select = select.filter(organisation::Column::Id.gt(after));
    }
    let rows = select
        .order_by_asc(organisation::Column::Id)
        .limit(limit + 1)
        .all(&state.platform.db)
        .await?;
    Ok(HttpResponse::Ok().json(paging::page(rows, limit, |m| m.id, view)))
}
