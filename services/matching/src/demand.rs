//! Unmet demand: searches and recommendations that found nothing near a place are counted by
//! département and commune, so staff can see where demand exceeds supply — where the next
//! cafés should open.

use crate::{State, search::Origin, storage::demand};
use actix_web::{HttpResponse, web};
use cafeia_matching_api::{CommuneDemand, Demand, DemandQuery, paths};
use cafeia_platform::{
    AppError,
    auth::{Caller, Role},
    errors::AppResult,
    http::Query,
    runtime::Platform,
    territory::Gazetteer,
    validation::known_departement,
};
use chrono::{Duration, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use std::collections::BTreeMap;

/// Records one unmet request, off the answer's path.
pub fn record(platform: &Platform, origin: &Origin) {
    let departement = origin.departement.clone().or_else(|| {
        // Coordinates only: the département whose centre is nearest.
        Gazetteer::get()
            .departements()
            .min_by(|a, b| {
                let da = cafeia_platform::territory::distance_km(
                    (origin.lat, origin.lon),
                    (a.lat, a.lon),
                );
                let db = cafeia_platform::territory::distance_km(
                    (origin.lat, origin.lon),
                    (b.lat, b.lon),
                );
                da.total_cmp(&db)
            })
            .map(|d| d.code.clone())
    });
    let Some(departement) = departement else {
        return;
    };
    let (db, insee) = (platform.db.clone(), origin.insee.clone());
    platform.spawn(async move {
        let row = demand::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            departement: Set(departement),
            insee: Set(insee),
            at: Set(Utc::now()),
        };
        if let Err(e) = demand::Entity::insert(row)
            .exec_without_returning(&db)
            .await
        {
            tracing::warn!(error = %e, "unmet demand not recorded");
        }
    });
}

/// GET /v1/matching/demand?departement=23 — staff covering the département.
#[utoipa::path(get, path = paths::DEMAND, tag = "matching", params(DemandQuery), responses((status = 200, body = Demand), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn view(
    state: web::Data<State>,
    caller: Caller,
    query: Query<DemandQuery>,
) -> AppResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let dep = query.departement.trim().to_owned();
    known_departement(&dep)?;
    let region = Gazetteer::get().departement(&dep).map(|d| d.region.clone());
    if !caller.covers(region.as_deref(), Some(&dep)) {
        return Err(AppError::forbidden(
            "ce département est hors de votre périmètre",
        ));
    }
    let since = Utc::now() - Duration::days(90);
    let rows = demand::Entity::find()
        .filter(demand::Column::Departement.eq(dep.as_str()))
        .filter(demand::Column::At.gte(since))
        .all(&state.platform.db)
        .await?;
    let mut by_commune: BTreeMap<Option<String>, u64> = BTreeMap::new();
    for r in &rows {
        *by_commune.entry(r.insee.clone()).or_default() += 1;
    }
    state.engine.refresh(&state.platform.db).await?;
    let now = Utc::now();
    let soon = now + Duration::days(30);
    let sessions = state.engine.read(|s| {
        s.items
            .values()
            .filter(|i| {
                i.kind == crate::model::OfferKind::Session
                    && i.offerable(now)
                    && i.starts_at.is_some_and(|t| t <= soon)
                    && i.places.iter().any(|p| p.departement == dep)
            })
            .count() as u64
    });
    let g = Gazetteer::get();
    let mut communes: Vec<CommuneDemand> = by_commune
        .into_iter()
        .map(|(insee, unmet)| CommuneDemand {
            name: insee
                .as_deref()
                .and_then(|c| g.commune(c))
                .map(|c| c.name.clone()),
            insee,
            unmet,
        })
        .collect();
    communes.sort_by_key(|c| std::cmp::Reverse(c.unmet));
    Ok(HttpResponse::Ok().json(Demand {
        departement: dep,
        unmet: rows.len() as u64,
        sessions_next_30_days: sessions,
        communes,
    }))
}
