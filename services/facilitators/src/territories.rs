//! Gazetteer look-ups over REST: a commune by INSEE code, the communes of a postcode.

use actix_web::{HttpResponse, web};
use cafeia_facilitators_api::{Commune, CommuneSearch, paths};
use cafeia_platform::{
    AppError,
    errors::AppResult,
    http::Query,
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

#[utoipa::path(get, path = paths::COMMUNES, tag = "territories", params(CommuneSearch), responses((status = 200, body = [Commune]), (status = 400, body = cafeia_platform::errors::Problem)))]
pub async fn search(query: Query<CommuneSearch>) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let length = query.search.trim().chars().count();
    if !(1..=100).contains(&length) {
        return Err(AppError::invalid("search", "de 1 à 100 caractères"));
    }
    let limit = match query.limit {
        None => 8,
        Some(n @ 1..=50) => n as usize,
        Some(_) => return Err(AppError::invalid("limit", "entre 1 et 50")),
    };
    let found = Gazetteer::get().search(&query.search, limit);
    Ok(HttpResponse::Ok().json(found.into_iter().map(view).collect::<Vec<_>>()))
}

#[utoipa::path(get, path = paths::COMMUNE, tag = "territories", params(("insee" = String, Path, description = "Code INSEE", pattern = "^[0-9][0-9AB][0-9]{3}$")), responses((status = 200, body = Commune), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn commune(insee: web::Path<String>) -> AppResult<HttpResponse> {
    let insee = insee.into_inner();
    let commune = Gazetteer::get()
        .commune(&insee)
        .ok_or_else(|| AppError::not_found(format!("aucune commune de code INSEE {insee:?}")))?;
    Ok(HttpResponse::Ok().json(view(commune)))
}

#[utoipa::path(get, path = paths::POSTCODE, tag = "territories", params(("postcode" = String, Path, description = "Code postal", pattern = "^[0-9]{5}$")), responses((status = 200, body = [Commune]), (status = 400, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem)))]
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
