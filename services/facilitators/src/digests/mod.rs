//! The digest of a session's registrations, mailed to its lead facilitator the day before
//! ([`crate::config::FacilitatorsConfig::digest_hours`] ahead): how many hold a seat, how many
//! wait, where the roll is.
//!
//! Registrants stay with the events service: this service hears of sessions and their seat
//! counters on the bus ([`replica`]: `events.session.*`, `events.seats.changed`, counts only),
//! and holds the facilitator's address itself, so no address crosses the bus and no service
//! calls another. A sweep ([`sweep`]) claims each session due once (a durable mark, taken by
//! one replica) and queues its mail in the same transaction, keyed `session/<id>/digest`, sent
//! by the platform's mail outbox. Every digest carries a one-click unsubscription
//! (`List-Unsubscribe`, RFC 8058) that the gateway routes to [`stop`]; once used, no more
//! digests go to that facilitator. Erasing a facilitator deletes their tokens ([`forget`]).

pub mod letter;
pub mod replica;
pub mod sweep;

use crate::{State, storage::digests::link};
use actix_web::{HttpResponse, web};
use cafeia_facilitators_api::{UnsubscribeInput, paths};
use cafeia_platform::{
    AppError,
    auth::{is_secret_shaped, sha256_hex},
    errors::AppResult,
    http::Json,
};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

/// The kind of mail (stored, and the metrics label).
pub const DIGEST: &str = "facilitator_digest";

/// How long an unused unsubscription token works: a digest is read within days.
pub const LINK_LIFETIME: chrono::Duration = chrono::Duration::days(60);

/// Turns off the digests of the facilitator `token` was mailed to; `false` for a token
/// unknown (or expired).
pub async fn stop<C: ConnectionTrait>(
    conn: &C,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    if !is_secret_shaped(token) {
        return Ok(false);
    }
    let hash = sha256_hex(&token.to_ascii_lowercase());
    let Some(found) = link::Entity::find_by_id(hash).one(conn).await? else {
        return Ok(false);
    };
    if found.stopped_at.is_none() {
        link::Entity::update_many()
            .col_expr(link::Column::StoppedAt, Expr::value(now))
            .filter(link::Column::TokenHash.eq(found.token_hash))
            .exec(conn)
            .await?;
    }
    Ok(true)
}

/// Whether `facilitator` turned digests off.
pub async fn stopped<C: ConnectionTrait>(conn: &C, facilitator: Uuid) -> Result<bool, DbErr> {
    Ok(link::Entity::find()
        .filter(link::Column::FacilitatorId.eq(facilitator))
        .filter(link::Column::StoppedAt.is_not_null())
        .one(conn)
        .await?
        .is_some())
}

/// Deletes every token of `facilitator` (their erasure).
pub async fn forget<C: ConnectionTrait>(conn: &C, facilitator: Uuid) -> Result<u64, DbErr> {
    Ok(link::Entity::delete_many()
        .filter(link::Column::FacilitatorId.eq(facilitator))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Deletes the unused tokens mailed before `before` (a used one is the facilitator's choice,
/// kept until their erasure).
pub async fn purge_links<C: ConnectionTrait>(
    conn: &C,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(link::Entity::delete_many()
        .filter(link::Column::StoppedAt.is_null())
        .filter(link::Column::CreatedAt.lt(before))
        .exec(conn)
        .await?
        .rows_affected)
}

/// POST /v1/facilitators/digests/stop — a digest's one-click unsubscription (no account: the
/// token is the proof).
#[utoipa::path(post, path = paths::DIGESTS_STOP, tag = "facilitators", request_body = UnsubscribeInput, responses((status = 204), (status = 404, description = "Lien inconnu", body = cafeia_platform::errors::Problem)))]
pub async fn stop_route(
    state: web::Data<State>,
    input: Json<UnsubscribeInput>,
) -> AppResult<HttpResponse> {
    let txn = cafeia_platform::db::begin(&state.platform.db).await?;
    let stopped = stop(&txn, input.0.token.trim(), Utc::now()).await?;
    txn.commit().await?;
    if !stopped {
        return Err(AppError::not_found("lien de désabonnement inconnu"));
    }
    Ok(HttpResponse::NoContent().finish())
}
