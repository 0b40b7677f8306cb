//! Unmet demand: searches and recommendations that found nothing near a place are counted by
//! département and commune, so staff can see where demand exceeds supply — where the next
//! cafés should open. A person counts once per place and day however often they ask (the
//! figure is people, not requests, so repeating a query does not inflate it); neither their
//! address nor their account is stored, only a digest salted per day, and the salt is deleted
//! once the day is over. Rows are kept [`RETENTION_DAYS`], the days staff see.

use crate::{
    State,
    search::Origin,
    storage::{demand, demand_salt},
};
use actix_web::{HttpRequest, HttpResponse, web};
use cafeia_matching_api::{CommuneDemand, Demand, DemandQuery, client_address, paths};
use cafeia_platform::{
    AppError,
    auth::{Caller, Role, sha256_hex},
    errors::AppResult,
    http::Query,
    runtime::Platform,
    territory::Gazetteer,
    validation::known_departement,
};
use chrono::{Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QuerySelect, sea_query::OnConflict,
};
use tokio::sync::mpsc;

/// Days of demand staff see, and kept: older rows are deleted by the sweep.
pub const RETENTION_DAYS: i64 = 90;
/// Unmet requests waiting for the recorder. Beyond, new ones are dropped: demand is a
/// statistic, and a flood of requests must not hold memory (nor tasks) in proportion.
const QUEUE: usize = 1_024;
/// How often old rows and spent salts are deleted (and once at start).
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3_600);

/// One unmet request, as the recorder receives it.
struct Unmet {
    departement: String,
    insee: Option<String>,
    day: NaiveDate,
    /// `sub:<token subject>` or `ip:<client address>`: hashed before anything is stored.
    caller: String,
}

/// Records unmet requests off the answers' path: a bounded queue drained by one task (started
/// once, with the service), so no request leaves a task or a handle behind.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Unmet>,
}

impl Recorder {
    /// Starts the recorder and the retention sweep (one background task for both).
    pub fn start(platform: &Platform) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        platform.spawn(run(platform.clone(), rx));
        Self { tx }
    }

    /// Counts one unmet request near `origin` by `caller` (see [`caller_of`]).
    pub fn record(&self, origin: &Origin, caller: String) {
        let Some(departement) = departement_of(origin) else {
            return;
        };
        let unmet = Unmet {
            departement,
            insee: origin.insee.clone(),
            day: Utc::now().date_naive(),
            caller,
        };
        if self.tx.try_send(unmet).is_err() {
            tracing::debug!("unmet demand queue full (or stopping): request not counted");
        }
    }
}

/// Who asked, to count each person once per place and day: the subject of a valid token, or
/// else the client's address — the one the gateway forwards sealed with the shared key
/// ([`client_address`]), or the connecting one. A token that does not verify counts as no
/// token, and an address header that does not open as no header (the answer is public
/// either way).
pub async fn caller_of(state: &State, req: &HttpRequest) -> Option<String> {
    if let Ok(Some(caller)) = state.platform.verifier.from_request(req).await {
        return Some(format!("sub:{}", caller.sub));
    }
    let forwarded = state.client_seal.as_ref().and_then(|seal| {
        let value = req.headers().get(client_address::HEADER)?.to_str().ok()?;
        seal.open(value)
    });
    forwarded
        .or_else(|| req.peer_addr().map(|a| a.ip()))
        .map(|ip| format!("ip:{}", ip.to_canonical()))
}

/// The département of the request: the commune's, or for coordinates only the one whose
/// centre is nearest.
fn departement_of(origin: &Origin) -> Option<String> {
    origin.departement.clone().or_else(|| {
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
    })
}

async fn run(platform: Platform, mut rx: mpsc::Receiver<Unmet>) {
    let db = &platform.db;
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The salt of the day last seen (read once a day, not once a request).
    let mut salt: Option<(NaiveDate, String)> = None;
    loop {
        tokio::select! {
            _ = platform.shutdown.cancelled() => return,
            _ = sweep.tick() => {
                if let Err(e) = purge(db, Utc::now().date_naive()).await {
                    tracing::warn!(error = %e, "unmet demand sweep failed; next sweep retries");
                }
            }
            unmet = rx.recv() => {
                let Some(unmet) = unmet else { return };
                if let Err(e) = insert(db, &mut salt, unmet).await {
                    tracing::warn!(error = %e, "unmet demand not recorded");
                }
            }
        }
    }
}

async fn insert(
    db: &DatabaseConnection,
    salt: &mut Option<(NaiveDate, String)>,
    unmet: Unmet,
) -> Result<(), DbErr> {
    let day_salt = match salt {
        Some((day, s)) if *day == unmet.day => s.clone(),
        _ => {
            let s = salt_of(db, unmet.day).await?;
            *salt = Some((unmet.day, s.clone()));
            s
        }
    };
    let digest = sha256_hex(&format!(
        "{day_salt}\n{}\n{}\n{}\n{}",
        unmet.caller,
        unmet.departement,
        unmet.insee.as_deref().unwrap_or(""),
        unmet.day
    ));
    // The same person again at the same place that day: counted already.
    demand::Entity::insert(demand::ActiveModel {
        digest: Set(digest),
        departement: Set(unmet.departement),
        insee: Set(unmet.insee),
        day: Set(unmet.day),
    })
    .on_conflict(
        OnConflict::column(demand::Column::Digest)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The salt of `day`, made by whichever replica needs it first.
async fn salt_of(db: &DatabaseConnection, day: NaiveDate) -> Result<String, DbErr> {
    // Eight UUIDv7s carry well over 256 bits drawn from the operating system's generator
    // (their random part); the digest makes one salt of them.
    let fresh = sha256_hex(
        &(0..8)
            .map(|_| uuid::Uuid::now_v7().simple().to_string())
            .collect::<String>(),
    );
    demand_salt::Entity::insert(demand_salt::ActiveModel {
        day: Set(day),
        salt: Set(fresh),
    })
    .on_conflict(
        OnConflict::column(demand_salt::Column::Day)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    demand_salt::Entity::find_by_id(day)
        .one(db)
        .await?
        .map(|s| s.salt)
        .ok_or_else(|| DbErr::RecordNotFound(format!("demand_salt {day} after its insert")))
}

/// Deletes the days staff no longer see and the salts of days over (yesterday's stays: a
/// request made just before midnight may be recorded just after).
pub async fn purge(db: &DatabaseConnection, today: NaiveDate) -> Result<u64, DbErr> {
    let rows = demand::Entity::delete_many()
        .filter(demand::Column::Day.lte(today - Duration::days(RETENTION_DAYS)))
        .exec(db)
        .await?
        .rows_affected;
    demand_salt::Entity::delete_many()
        .filter(demand_salt::Column::Day.lt(today - Duration::days(1)))
        .exec(db)
        .await?;
    if rows > 0 {
        tracing::info!(rows, "unmet demand older than retention deleted");
    }
    Ok(rows)
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
    // People per commune: one row per person, place and day.
    let since = Utc::now().date_naive() - Duration::days(RETENTION_DAYS - 1);
    let counts: Vec<(Option<String>, i64)> = demand::Entity::find()
        .select_only()
        .column(demand::Column::Insee)
        .column_as(demand::Column::Digest.count(), "unmet")
        .filter(demand::Column::Departement.eq(dep.as_str()))
        .filter(demand::Column::Day.gte(since))
        .group_by(demand::Column::Insee)
        .into_tuple()
        .all(&state.platform.db)
        .await?;
    let by_commune: Vec<(Option<String>, u64)> = counts
        .into_iter()
        .map(|(insee, n)| (insee, u64::try_from(n).unwrap_or(0)))
        .collect();
    let unmet = by_commune.iter().map(|(_, n)| n).sum();
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
        unmet,
        sessions_next_30_days: sessions,
        communes,
    }))
}
