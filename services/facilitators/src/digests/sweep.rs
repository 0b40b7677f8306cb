//! Queues the digests due: sessions published, starting within
//! [`FacilitatorsConfig::digest_hours`], not yet digested. Each is claimed by setting its
//! `digest_at` where it is still empty (one replica wins; the others' update finds it taken)
//! and its mail queued in the same transaction, so a crash between the two leaves neither.

use super::{DIGEST, letter};
use crate::{
    config::FacilitatorsConfig,
    storage::{
        digests::{link, session},
        facilitator,
        mail_outbox::ABOUT,
    },
};
use cafeia_events_api::SessionStatus;
use cafeia_facilitators_api::paths;
use cafeia_platform::{
    auth::{new_secret, sha256_hex},
    errors::AppResult,
    mail::outbox::{self, NewMail, Waker},
    runtime::Platform,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};

/// Sessions looked at per round; the next round takes the rest.
const BATCH: u64 = 200;

/// Queues digests every [`FacilitatorsConfig::digest_sweep`] until shut down.
pub async fn run(platform: Platform, settings: FacilitatorsConfig, mail: Waker) {
    loop {
        match queue_due(&platform.db, &settings, Utc::now()).await {
            Ok(0) => {}
            Ok(queued) => {
                tracing::info!(queued, "digests queued");
                mail.wake();
            }
            Err(e) => tracing::warn!(error = %e, "digest sweep failed; next sweep retries"),
        }
        tokio::select! {
            _ = platform.shutdown.cancelled() => return,
            _ = tokio::time::sleep(settings.digest_sweep()) => {}
        }
    }
}

/// Claims the sessions due at `now` and queues their digests; returns how many were queued
/// (a session whose facilitator has no address, is erased or opted out is claimed and
/// passed over).
pub async fn queue_due(
    db: &DatabaseConnection,
    settings: &FacilitatorsConfig,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let due = session::Entity::find()
        .filter(session::Column::DigestAt.is_null())
        .filter(session::Column::Status.eq(SessionStatus::Published))
        .filter(session::Column::StartsAt.gt(now))
        .filter(session::Column::StartsAt.lte(now + settings.digest_ahead()))
        .order_by_asc(session::Column::StartsAt)
        .limit(BATCH)
        .all(db)
        .await?;
    let mut queued = 0;
    for s in due {
        let txn = cafeia_platform::db::begin(db).await?;
        let claimed = session::Entity::update_many()
            .col_expr(session::Column::DigestAt, Expr::value(now))
            .filter(session::Column::SessionId.eq(s.session_id))
            .filter(session::Column::DigestAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if claimed && queue(&txn, settings, &s, now).await? {
            queued += 1;
        }
        txn.commit().await?;
    }
    Ok(queued)
}

/// The key of a session's one digest.
pub fn key(s: &session::Model) -> String {
    format!("session/{}/digest", s.session_id)
}

async fn queue(
    txn: &DatabaseTransaction,
    settings: &FacilitatorsConfig,
    s: &session::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let Some(f) = facilitator::Entity::find_by_id(s.facilitator_id)
        .one(txn)
        .await?
        .filter(|f| f.erased_at.is_none())
    else {
        return Ok(false);
    };
    let Some(to) = f.email.as_deref().filter(|e| !e.trim().is_empty()) else {
        return Ok(false);
    };
    if super::stopped(txn, f.id).await? {
        return Ok(false);
    }
    let token = new_secret()?;
    link::ActiveModel {
        token_hash: Set(sha256_hex(&token)),
        facilitator_id: Set(f.id),
        created_at: Set(now),
        stopped_at: Set(None),
    }
    .insert(txn)
    .await?;
    let base = &settings.web_base_url;
    let links = letter::Links {
        roll: format!("{base}/animateur/sessions/{}/inscrits", s.session_id),
        unsubscribe: format!(
            "{base}{}",
            paths::PUBLIC_DIGEST_UNSUBSCRIBE.replace("{token}", &token)
        ),
    };
    let mail = NewMail {
        kind: DIGEST,
        dedupe_key: key(s),
        about_id: Some(f.id),
        mail: letter::digest(to, &f.display_name, s, &links),
    };
    Ok(outbox::queue_once(txn, ABOUT, vec![mail], now).await? == 1)
}
