//! Third migration: the outbox keeps no facilitator's name. Messages used to carry
//! `display_name`; the rows already written (pending ones, and sent ones kept 7 days) lose it
//! here, so an erasure leaves no copy of the name in this database. Consumers read the
//! messages with or without it.

use cafeia_platform::outbox::entity as outbox;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use sea_orm_migration::prelude::*;

pub struct NamesOffTheBus;

impl MigrationName for NamesOffTheBus {
    fn name(&self) -> &str {
        "m20261222_000103_facilitator_names_off_the_bus"
    }
}

/// The CloudEvent `payload` without the facilitator's name; `None` when it had none.
pub fn without_name(payload: &str) -> Result<Option<String>, DbErr> {
    let mut event: serde_json::Value = serde_json::from_str(payload)
        .map_err(|e| DbErr::Migration(format!("outbox payload is not JSON: {e}")))?;
    let removed = event
        .get_mut("data")
        .and_then(serde_json::Value::as_object_mut)
        .and_then(|data| data.remove("display_name"));
    match removed {
        Some(_) => serde_json::to_string(&event)
            .map(Some)
            .map_err(|e| DbErr::Migration(format!("cannot encode outbox payload: {e}"))),
        None => Ok(None),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for NamesOffTheBus {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let rows = outbox::Entity::find()
            .filter(outbox::Column::RoutingKey.starts_with("facilitators.facilitator."))
            .all(db)
            .await?;
        for row in rows {
            if let Some(payload) = without_name(&row.payload)? {
                outbox::ActiveModel {
                    id: Set(row.id),
                    payload: Set(payload),
                    ..Default::default()
                }
                .update(db)
                .await?;
            }
        }
        Ok(())
    }
}
