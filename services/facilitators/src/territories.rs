//! Gazetteer look-ups over REST: a commune by INSEE code, the communes of a postcode.

use actix_web::{HttpResponse, web};
use cafeia_platform::{
    AppError,
    errors::AppResult,
    territory::{Commune, CommuneKind, Gazetteer},
};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommuneView {
    pub insee: String,
    pub name: String,
    pub postcodes: Vec<String>,
    pub departement: String,
    pub departement_name: String,
    pub region: String,
    pub region_name: String,
    pub population: u64,
    pub latitude: f64,
    pub longitude: f64,
    pub arrondissement: bool,
}

pub fn view(c: &Commune) -> CommuneView {
    let g = Gazetteer::get();
    CommuneView {
        insee: c.insee.clone(),
        name: c.name.clone(),
        postcodes: c.postcodes.clone(),
        departement_name: g
            .departement(&c.departement)
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        departement: c.departement.clone(),
        region_name: g
            .region(&c.region)
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        region: c.region.clone(),
        population: c.population,
        latitude: c.lat,
        longitude: c.lon,
        arrondissement: c.kind == CommuneKind::Arrondissement,
    }
}

#[utoipa::path(get, path = "/v1/territories/communes/{insee}", tag = "territories", params(("insee" = String, Path, description = "Code INSEE")), responses((status = 200, body = CommuneView), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn commune(insee: web::Path<String>) -> AppResult<HttpResponse> {
    let insee = insee.into_inner();
    let commune = Gazetteer::get()
        .commune(&insee)
        .ok_or_else(|| AppError::not_found(format!("aucune commune de code INSEE {insee:?}")))?;
    Ok(HttpResponse::Ok().json(view(commune)))
}

#[utoipa::path(get, path = "/v1/territories/postcodes/{postcode}", tag = "territories", params(("postcode" = String, Path, description = "Code postal")), responses((status = 200, body = [CommuneView]), (status = 400, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn postcode(postcode: web::Path<String>) -> AppResult<HttpResponse> {
    let postcode = postcode.into_inner();
    if postcode.len() != 5 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::invalid("postcode", "un code postal a 5 chiffres"));
    }
    let communes = Gazetteer::get().by_postcode(&postcode);
    if communes.is_empty() {
        return Err(AppError::not_found(format!(
            "code postal inconnu : {postcode}"
        )));
    }
    Ok(HttpResponse::Ok().json(communes.into_iter().map(view).collect::<Vec<_>>()))
}
