//! Importing an LHEO stream in one transaction, in batches: offers become published
//! programmes, identical ones change nothing.

use super::mapping::{Offer, ProviderDraft, errors_to_problems, interpret};
use crate::{
    domain::{self, ProviderKind, ReviewStatus},
    messages, providers,
    storage::{Rows, provider, training},
    store::{self, Full},
};
use cafeia_catalogue_api::{Editor, LheoImportSummary, LheoProblem};
use cafeia_lheo::{FileError, OfferReader};
use cafeia_platform::{AppError, audit};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter,
};
use std::{
    collections::HashMap,
    sync::{Arc, atomic::AtomicU64},
};
use tokio::io::AsyncBufRead;
use uuid::Uuid;

/// Problems listed in a summary at most; `rejected` counts every refused offer.
const MAX_REPORTED: usize = 1000;

/// Counts a refused offer and lists its problems, up to `MAX_REPORTED` in all.
fn reject(summary: &mut LheoImportSummary, problems: Vec<LheoProblem>) {
    summary.rejected += 1;
    for p in problems {
        if summary.problems.len() < MAX_REPORTED {
            summary.problems.push(p);
        }
    }
}

/// Offers written together: a few statements per table per batch. Per-statement overhead
/// dominates on PostgreSQL (2,000 offers a batch measured 1.5× faster than 500).
const BATCH: usize = 2000;

struct Pending {
    offer: Offer,
    draft: domain::TrainingDraft,
}

/// Imports an LHEO stream in one transaction. Offers become published programmes (the import is
/// staff's review, so `actor` — national staff's subject or an operator's name — is audited in
/// the staff role); an identical offer changes nothing and publishes nothing.
pub async fn import<R: AsyncBufRead + Unpin>(
    db: &DatabaseConnection,
    actor: &str,
    source: R,
    progress: Arc<AtomicU64>,
) -> Result<LheoImportSummary, AppError> {
    let mut reader = OfferReader::new(source, progress);
    let mut summary = LheoImportSummary::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut providers_by_siret: HashMap<String, provider::Model> = HashMap::new();
    let mut batch: Vec<Pending> = Vec::with_capacity(BATCH);
    let txn = cafeia_platform::db::begin(db).await?;
    if cafeia_platform::db::is_postgres(db) {
        // The tables grow a lot within this one transaction: a plan cached while they were
        // small (sequential scans) would make every later batch slower. Plan each time.
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
    }
    loop {
        let next = match reader.next().await {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(FileError(why)) => {
                // The transaction is dropped: nothing from this file is kept.
                return Err(AppError::invalid("file", why));
            }
        };
        summary.offers += 1;
        let position = summary.offers;
        let tree = match next {
            Ok(tree) => tree,
            Err(problem) => {
                reject(&mut summary, vec![problem]);
                continue;
            }
        };
        let offer = match interpret(&tree, position) {
            Ok(offer) => offer,
            Err(problems) => {
                reject(&mut summary, problems);
                continue;
            }
        };
        if let Some(first) = seen.insert(offer.lheo_id.clone(), position) {
            reject(
                &mut summary,
                vec![LheoProblem {
                    offer: Some(offer.lheo_id.clone()),
                    position,
                    element: "formation/@numero".into(),
                    message: format!("identifiant déjà utilisé par l'offre n°{first} du fichier"),
                }],
            );
            continue;
        }
        match domain::validate(&offer.training) {
            Ok(draft) => batch.push(Pending { offer, draft }),
            Err(errors) => reject(
                &mut summary,
                errors_to_problems(errors, &offer.lheo_id, position),
            ),
        }
        if batch.len() >= BATCH {
            write_batch(
                &txn,
                actor,
                std::mem::take(&mut batch),
                &mut providers_by_siret,
                &mut summary,
            )
            .await?;
        }
    }
    write_batch(&txn, actor, batch, &mut providers_by_siret, &mut summary).await?;
    txn.commit().await?;
    Ok(summary)
}

async fn provider_for(
    txn: &sea_orm::DatabaseTransaction,
    draft: &ProviderDraft,
    cache: &mut HashMap<String, provider::Model>,
) -> Result<provider::Model, AppError> {
    if let Some(p) = cache.get(&draft.siret) {
        return Ok(p.clone());
    }
    let p = match providers::by_siret(txn, &draft.siret).await? {
        Some(p) => p,
        None => {
            let now = Utc::now();
            provider::ActiveModel {
                id: Set(Uuid::now_v7()),
                siret: Set(draft.siret.clone()),
                name: Set(draft.name.clone()),
                kind: Set(ProviderKind::Company),
                email: Set(draft.email.clone()),
                website: Set(draft.website.clone()),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(txn)
            .await?
        }
    };
    cache.insert(p.siret.clone(), p.clone());
    Ok(p)
}

/// Writes a batch: existing programmes are looked up together, new ones inserted together.
async fn write_batch(
    txn: &sea_orm::DatabaseTransaction,
    actor: &str,
    batch: Vec<Pending>,
    providers: &mut HashMap<String, provider::Model>,
    summary: &mut LheoImportSummary,
) -> Result<(), AppError> {
    if batch.is_empty() {
        return Ok(());
    }
    let lheo_ids: Vec<String> = batch.iter().map(|p| p.offer.lheo_id.clone()).collect();
    let mut by_lheo: HashMap<String, training::Model> = training::Entity::find()
        .filter(training::Column::LheoId.is_in(lheo_ids))
        .rows(txn)
        .await?
        .into_iter()
        .filter_map(|t| t.lheo_id.clone().map(|id| (id, t)))
        .collect();
    // Our own exports use our ids as `numero`: a round trip finds the same programmes.
    let own_ids: Vec<Uuid> = batch
        .iter()
        .filter(|p| !by_lheo.contains_key(&p.offer.lheo_id))
        .filter_map(|p| Uuid::parse_str(&p.offer.lheo_id).ok())
        .collect();
    if !own_ids.is_empty() {
        for t in training::Entity::find()
            .filter(training::Column::Id.is_in(own_ids))
            .rows(txn)
            .await?
        {
            by_lheo.insert(t.id.to_string(), t);
        }
    }
    let mut existing: HashMap<Uuid, Full> =
        store::load_many(txn, by_lheo.values().cloned().collect())
            .await?
            .into_iter()
            .map(|f| (f.training.id, f))
            .collect();

    let now = Utc::now();
    let mut new_trainings = Vec::new();
    let mut new_places = Vec::new();
    let mut new_sessions = Vec::new();
    let mut created_ids = Vec::new();
    let mut announcements = Vec::new();
    for Pending { offer, draft } in batch {
        let provider = provider_for(txn, &offer.provider, providers).await?;
        let current = by_lheo
            .get(&offer.lheo_id)
            .and_then(|t| existing.remove(&t.id));
        match current {
            Some(full) => {
                let before = full.draft();
                if before == draft && full.training.provider_id == provider.id {
                    summary.unchanged += 1;
                    continue;
                }
                let changed = store::changed_fields(&before, &draft);
                let changes = store::changes(&before, &draft);
                let published = full.training.status == ReviewStatus::Published;
                let mut model = full.training.into_active_model();
                store::apply(&mut model, &draft);
                model.provider_id = Set(provider.id);
                let model = model.update(txn).await?;
                store::replace_children(txn, model.id, &draft).await?;
                audit::record_change(
                    txn,
                    audit::Actor::staff(actor),
                    "import",
                    "training",
                    model.id,
                    None,
                    Some(&changed.join(",")),
                )
                .await?;
                store::record_edit(txn, model.id, Editor::Import, changes).await?;
                if published {
                    let full = store::load(txn, model).await?;
                    store::announce(
                        txn,
                        messages::TRAINING_UPDATED,
                        full.training.id,
                        full.state(&provider),
                    )
                    .await?;
                }
                summary.updated += 1;
            }
            None => {
                let id = Uuid::now_v7();
                let mut model = training::ActiveModel {
                    id: Set(id),
                    lheo_id: Set(Some(offer.lheo_id.clone())),
                    provider_id: Set(provider.id),
                    status: Set(ReviewStatus::Published),
                    status_reason: Set(None),
                    submitted_by: Set(actor.to_owned()),
                    created_at: Set(now),
                    published_at: Set(Some(now)),
                    ..Default::default()
                };
                store::apply(&mut model, &draft);
                let (places, sessions) = store::children(id, &draft);
                new_places.extend(places);
                new_sessions.extend(sessions);
                let state = store::state_of_draft(id, &provider, &draft);
                announcements.push((
                    messages::TRAINING_PUBLISHED,
                    cafeia_platform::envelope::Envelope::new(
                        messages::TRAINING_PUBLISHED,
                        format!("training/{id}"),
                        state,
                    ),
                ));
                new_trainings.push(model);
                created_ids.push(id);
                summary.created += 1;
            }
        }
    }
    // 28 columns a row: 1,000 rows stay under SQLite's 32,766 bound parameters.
    for chunk in new_trainings.chunks(1000) {
        training::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    store::insert_children(txn, new_places, new_sessions).await?;
    for chunk in created_ids.chunks(2000) {
        audit::record_many(txn, audit::Actor::staff(actor), "import", "training", chunk).await?;
    }
    for chunk in announcements.chunks(2000) {
        cafeia_platform::outbox::enqueue_many(txn, chunk).await?;
    }
    Ok(())
}
