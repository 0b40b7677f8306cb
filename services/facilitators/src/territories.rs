//! Gazetteer look-ups over REST: a commune by INSEE code, the communes of a postcode.

use actix_web::{HttpResponse, web};
use cafeia_facilitators_api::{Commune, paths};
use cafeia_platform::{
    AppError,
    errors::AppResult,
    territory::{self, CommuneKind, Gazetteer},
};

/// A commune of the gazetteer as the API shows it.
pub fn view(c: &territory::Commune) -> Commune {
    let g = Gazetteer::get();
    Commune {
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

#[utoipa::path(get, path = paths::COMMUNE, tag = "territories", params(("insee" = String, Path, description = "Code INSEE")), responses((status = 200, body = Commune), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn commune(insee: web::Path<String>) -> AppResult<HttpResponse> {
    let insee = insee.into_inner();
    let commune = Gazetteer::get()
        .commune(&insee)
        .ok_or_else(|| AppError::not_found(format!("aucune commune de code INSEE {insee:?}")))?;
    Ok(HttpResponse::Ok().json(view(commune)))
}

#[utoipa::path(get, path = paths::POSTCODE, tag = "territories", params(("postcode" = String, Path, description = "Code postal")), responses((status = 200, body = [Commune]), (status = 400, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem)))]
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
